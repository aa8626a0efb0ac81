//! `conform scenarios capture`: a small curl client run through the proxy in front of the
//! built-in reference server becomes scenario files that lint clean, carry no key, no literal
//! model and no tool id, and pass `conform run --scenarios` against the reference server.

use super::support::BIN;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A key in conform's environment that must reach no file (the client gets a stand-in).
const CANARY: &str = "sk-ant-capture-canary-4242";

/// The client: a plain prompt (sent twice, with another text: one shape), a forced tool call,
/// and that call passed back with its result.
const CLIENT: &str = r#"#!/bin/sh
set -e
post() {
  curl -sS -X POST "$ANTHROPIC_BASE_URL/v1/messages" -H "x-api-key: $ANTHROPIC_API_KEY" \
    -H 'anthropic-version: 2023-06-01' -H 'anthropic-beta: capture-test-2026-01-01' \
    -H 'content-type: application/json' -H 'user-agent: capture-test/1.0' \
    -H 'x-stainless-retry-count: 0' -d "$1"
}
post '{"model":"claude-sonnet-4-5","max_tokens":64,"metadata":{"user_id":"user-42"},"messages":[{"role":"user","content":"Say hello from '"$PWD"'"}]}' >/dev/null
post '{"model":"claude-sonnet-4-5","max_tokens":32,"metadata":{"user_id":"user-43"},"messages":[{"role":"user","content":"Say hi"}]}' >/dev/null
TOOLS='"tools":[{"name":"get_weather","description":"Weather of a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]'
ASK='{"role":"user","content":"What is the weather in Paris?"}'
ID=$(post '{"model":"claude-sonnet-4-5","max_tokens":256,"stream":true,'"$TOOLS"',"tool_choice":{"type":"tool","name":"get_weather"},"messages":['"$ASK"']}' | grep -o 'toolu_[A-Za-z0-9]*' | head -n 1)
test -n "$ID"
post '{"model":"claude-sonnet-4-5","max_tokens":256,'"$TOOLS"',"messages":['"$ASK"',{"role":"assistant","content":[{"type":"tool_use","id":"'"$ID"'","name":"get_weather","input":{"city":"Paris"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"'"$ID"'","content":"Sunny, 21 C"}]}]}' >/dev/null
"#;

fn capture(cwd: &Path, out: &Path, extra: &[&str], command: &[&str]) -> Output {
    Command::new(BIN)
        .args(["scenarios", "capture", "--out"])
        .arg(out)
        .args(extra)
        .arg("--")
        .args(command)
        .current_dir(cwd)
        .env("ANTHROPIC_API_KEY", CANARY)
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .expect("conform runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_curl_client_becomes_templated_scenarios_that_lint_clean_and_pass() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("client.sh"), CLIENT).unwrap();
    let out = work.path().join("captured");
    let o = capture(work.path(), &out, &[], &["sh", "client.sh"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "CAPTURE.md",
            "turn-1-tools.yaml",
            "turn-1.yaml",
            "turn-2-tools.yaml"
        ],
        "{}",
        text(&o)
    );
    let work_path = work.path().to_string_lossy().into_owned();
    let literal_id = regex::Regex::new("toolu_[A-Za-z0-9]{6,}").unwrap();
    for name in names.iter().filter(|n| n.ends_with(".yaml")) {
        let file = std::fs::read_to_string(out.join(name)).unwrap();
        for leak in [
            CANARY,
            "sk-ant-conform-capture",
            "claude-sonnet-4-5",
            "user-42",
            &work_path,
        ] {
            assert!(!file.contains(leak), "{name} holds {leak}:\n{file}");
        }
        assert!(
            !literal_id.is_match(&file),
            "{name} holds a tool id:\n{file}"
        );
        assert!(file.contains("\"model\":\"{{ target.model }}\""), "{file}");
        assert!(
            file.contains("capture-test-2026-01-01"),
            "the beta is kept: {file}"
        );
        assert!(!file.contains("x-stainless"), "{file}");
    }
    let loop_ = std::fs::read_to_string(out.join("turn-2-tools.yaml")).unwrap();
    assert!(
        loop_.contains("\"tool_use_id\":\"{{ steps.turn1.tool_1 }}\""),
        "{loop_}"
    );
    assert!(
        loop_.contains("modes: [sync]") && loop_.contains("stream: true"),
        "{loop_}"
    );
    let record = std::fs::read_to_string(out.join("CAPTURE.md")).unwrap();
    assert!(record.contains("**capture-test/1.0**"), "{record}");
    assert!(
        record.contains("exchange 2: the same request shape"),
        "{record}"
    );
    assert!(
        record.contains("conform scenarios capture --out DIR --force -- sh client.sh"),
        "{record}"
    );

    let lint = Command::new(BIN).arg("lint").arg(&out).output().unwrap();
    assert_eq!(lint.status.code(), Some(0), "{}", text(&lint));
    assert!(
        text(&lint).contains("0 error(s), 0 warning(s)"),
        "{}",
        text(&lint)
    );
    let run = Command::new(BIN)
        .args(["run", "--no-builtin", "--scenarios"])
        .arg(&out)
        .arg("--report-dir")
        .arg(work.path().join("reports"))
        .arg("--snapshots")
        .arg(work.path().join("snapshots"))
        .current_dir(work.path())
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(text(&run).contains("pass 3"), "{}", text(&run));
}

#[test]
fn a_client_out_of_time_is_killed_with_what_it_started_and_what_it_sent_is_kept() {
    let work = tempfile::tempdir().unwrap();
    let pidfile = work.path().join("sleeper.pid");
    let script = format!(
        "curl -sS -o /dev/null -X POST \"$ANTHROPIC_BASE_URL/v1/messages\" -H \"x-api-key: $ANTHROPIC_API_KEY\" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' -d '{{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":8,\"messages\":[{{\"role\":\"user\",\"content\":\"hi\"}}]}}'; sleep 600 & echo $! > {}; wait",
        pidfile.display()
    );
    let out = work.path().join("out");
    let o = capture(
        work.path(),
        &out,
        &["--timeout", "3"],
        &["sh", "-c", &script],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("--timeout 3"), "{}", text(&o));
    assert!(out.join("turn-1.yaml").is_file(), "{}", text(&o));
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    // Gone, or at most a zombie its killed parent left to init for a moment.
    let stat = Path::new("/proc").join(pid.trim()).join("stat");
    let alive = || {
        std::fs::read_to_string(&stat).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(), "the client's child {} still runs", pid.trim());
}

#[test]
fn a_directory_with_scenarios_needs_force_and_the_command_does_not_run() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("mine.yaml"), "id: x\n").unwrap();
    let marker = work.path().join("ran");
    let o = capture(work.path(), &out, &[], &["touch", marker.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
    assert!(!marker.exists(), "the command ran");
}
