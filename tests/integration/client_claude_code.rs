//! `conform run --client claude-code`: Claude Code itself driven through the in-process proxy
//! against the built-in reference server. Clean, its cases pass and every exchange it made is
//! judged and recorded; with a fault that breaks it, its cases fail with the exchanges'
//! findings and its stderr as evidence. Without Claude Code the cases are `skip` (the `clients`
//! harness, tests/clients.rs, reports those two tests as ignored, a failure under CI); stand-in clients check the timeout (`error`,
//! killed by PID) and a client that fails on its own.

use crate::support::claude::installed;
use crate::support::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `conform run ARGS` in `dir` (reports in `dir/rep`), killed by PID after `limit`.
fn run_bounded(dir: &Path, args: &[&str], path_env: Option<&Path>, limit: Duration) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("CONFORM_CLAUDE_BIN")
        .env_remove("ANTHROPIC_BASE_URL")
        .args(["run", "--quiet", "--no-snapshots", "--report-dir", "rep"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = path_env {
        cmd.env("PATH", p);
    }
    let mut child = cmd.spawn().expect("conform starts");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("conform run did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&read(&dir.join("rep/report.json"))).expect("report.json")
}

/// The results of the live-client feature.
fn live(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["feature"] == conform::claude_code::FEATURE)
        .cloned()
        .collect()
}

fn claude_args(bin: &Path) -> Vec<String> {
    [
        "--client",
        "claude-code",
        "--filter",
        "claude-code-live",
        "--claude-bin",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([bin.display().to_string()])
    .collect()
}

pub(crate) fn claude_code_against_the_clean_mock_passes_and_its_exchanges_are_judged() {
    let bin = installed();
    let dir = tempfile::tempdir().unwrap();
    let args = claude_args(&bin);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_bounded(dir.path(), &args, None, Duration::from_secs(300));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report = report(dir.path());
    let results = live(&report);
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["scenario"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = conform::claude_code::PROMPTS.iter().map(|p| p.id).collect();
    assert_eq!(ids, expected, "one result per prompt");
    for r in &results {
        assert_eq!(r["verdict"], "pass", "{r}");
        assert!(r["timing"]["total_ms"].as_f64().unwrap() > 0.0, "{r}");
    }
    // Every exchange went through the judge into the run's recording, labelled by prompt.
    let recording = read(&dir.path().join("rep/exchanges/reference.ndjson"));
    for p in conform::claude_code::PROMPTS {
        assert!(
            recording.contains(&format!("\"label\":\"{}/0001 POST /v1/messages", p.id)),
            "{}: no exchange recorded",
            p.id
        );
    }
    // The read-only tool round trip: a second request carries the tool result back.
    assert!(
        recording.contains("claude-code-live/read-file/0002 POST"),
        "no tool-result turn"
    );
    assert!(recording.contains("tool_result"), "no tool result sent");
    // conform check of the recording judges the same exchanges and finds nothing wrong.
    let check = Command::new(BIN)
        .args(["check", "--format", "json"])
        .arg(dir.path().join("rep/exchanges/reference.ndjson"))
        .output()
        .unwrap();
    let checked: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let live_checked: Vec<&serde_json::Value> = checked
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["file"].as_str().unwrap().contains("claude-code-live/"))
        .collect();
    assert!(live_checked.len() >= 4, "{live_checked:?}");
    for c in live_checked {
        let musts = c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "must")
            .count();
        assert_eq!(musts, 0, "{c}");
    }
    // The reference server's key never reached an output.
    for (path, text) in all_files(&dir.path().join("rep")) {
        assert!(
            !text.contains(
                conform::reference_server::MockConfig::default()
                    .api_key
                    .as_str()
            ),
            "the key leaked into {}",
            path.display()
        );
    }
}

pub(crate) fn claude_code_against_a_truncated_stream_fails_with_evidence() {
    let bin = installed();
    let dir = tempfile::tempdir().unwrap();
    let bin = bin.display().to_string();
    let args = [
        "--client",
        "claude-code",
        "--filter",
        "claude-code-live/hello",
        "--claude-bin",
        &bin,
        "--mock-fault",
        "truncated-stream",
    ];
    let out = run_bounded(dir.path(), &args, None, Duration::from_secs(300));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a failure: {stderr}");
    let results = live(&report(dir.path()));
    assert_eq!(results.len(), 1, "{results:?}");
    let r = &results[0];
    assert_eq!(r["verdict"], "fail", "{r}");
    let findings = r["findings"].as_array().unwrap();
    let checks: Vec<&str> = findings
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    // The exchanges' own findings, located in their exchange...
    assert!(
        checks.contains(&"stream.grammar.truncated") || checks.contains(&"transport.incomplete"),
        "{checks:?}"
    );
    assert!(
        findings.iter().any(|f| f["location"]
            .as_str()
            .unwrap()
            .starts_with("exchange 1 (POST /v1/messages")),
        "{findings:?}"
    );
    // ...and Claude Code's own failure, with what it printed.
    let exit = findings
        .iter()
        .find(|f| f["check"] == "client.exit")
        .expect("a client.exit finding");
    assert!(
        exit["actual"]
            .as_str()
            .unwrap()
            .contains("Connection lost mid-response"),
        "{exit}"
    );
}

pub(crate) fn without_claude_code_the_cases_are_skipped_with_a_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = run_bounded(
        dir.path(),
        &["--client", "claude-code", "--filter", "claude-code-live"],
        Some(empty.path()),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "a skip is no failure: {stderr}");
    assert!(
        stderr.contains("skip: --client claude-code: Claude Code is not installed"),
        "{stderr}"
    );
    let results = live(&report(dir.path()));
    assert_eq!(results.len(), conform::claude_code::PROMPTS.len());
    for r in &results {
        assert_eq!(r["verdict"], "skip", "{r}");
    }
}

/// A stand-in `claude`: a shell script (it sends nothing).
fn stand_in(dir: &Path, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let p = dir.join("claude");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// `conform run --client claude-code` of the hello prompt with `bin` as Claude Code and a
/// client timeout of 1 s.
fn run_hello_killed_after_1s(dir: &Path, bin: &Path) -> Output {
    run_bounded(
        dir,
        &[
            "--client",
            "claude-code",
            "--filter",
            "claude-code-live/hello",
            "--client-timeout",
            "1",
            "--claude-bin",
            bin.to_str().unwrap(),
        ],
        None,
        Duration::from_secs(60),
    )
}

pub(crate) fn a_client_that_does_not_finish_is_killed_and_its_case_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bin = stand_in(dir.path(), "exec sleep 60");
    let started = Instant::now();
    let out = run_hello_killed_after_1s(dir.path(), &bin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // An error, not a conformance failure: exit 3.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "not killed");
    let results = live(&report(dir.path()));
    assert_eq!(results[0]["verdict"], "error", "{}", results[0]);
    assert!(
        results[0]["error"].as_str().unwrap().contains("killed"),
        "{}",
        results[0]
    );
}

pub(crate) fn what_a_killed_client_started_is_killed_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("helper.pid");
    // A helper in the background (as an MCP server or a shell tool would be), then a hang.
    let bin = stand_in(
        dir.path(),
        &format!(
            "sleep 300 &\necho $! > {}\nexec sleep 60",
            pid_file.display()
        ),
    );
    let out = run_hello_killed_after_1s(dir.path(), &bin);
    assert_eq!(out.status.code(), Some(3));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let proc_dir = Path::new("/proc").join(pid.trim());
    // Gone, or at most a zombie its (reaped) parent left to init for a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let alive = || {
        std::fs::read_to_string(proc_dir.join("stat")).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    };
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !alive(),
        "the helper {} outlived the killed client",
        pid.trim()
    );
}

pub(crate) fn a_client_that_fails_on_its_own_fails_its_case_with_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let bin = stand_in(
        dir.path(),
        "echo \"key=$ANTHROPIC_API_KEY home=$HOME\" >&2; echo 'API Error: 400 bad thing' >&2; exit 2",
    );
    let out = run_bounded(
        dir.path(),
        &[
            "--client",
            "claude-code",
            "--filter",
            "claude-code-live/hello",
            "--claude-bin",
            bin.to_str().unwrap(),
        ],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = &live(&report(dir.path()))[0];
    assert_eq!(r["verdict"], "fail", "{r}");
    let actual = r["findings"][0]["actual"].as_str().unwrap();
    assert!(actual.contains("API Error: 400 bad thing"), "{actual}");
    // The key reached the client only: its echo is redacted in the report.
    assert!(actual.contains("key=[REDACTED]"), "{actual}");
    // HOME was a throw-away directory, not the user's.
    assert!(actual.contains("home=/"), "{actual}");
    // Named after conform's PID (`conform-claude-PID-home-…`), so a later run can sweep it.
    assert!(
        actual.contains("/conform-claude-") && actual.contains("-home-"),
        "{actual}"
    );
}
