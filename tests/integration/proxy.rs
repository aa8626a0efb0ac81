//! `conform proxy`: the official Python SDK runs through the proxy to the reference server
//! with a fault; the SDK's output is unchanged, the proxy's findings show the fault and equal
//! `conform check` of the exchanges it recorded; a dead upstream gets an Anthropic-shaped 502.

use crate::support::*;
use std::process::Command;
use std::time::Instant;

const SCRIPT: &str = r#"
import anthropic
c = anthropic.Anthropic(max_retries=0)
m = c.messages.create(model="conform-mock", max_tokens=64,
    messages=[{"role": "user", "content": "Say hello."}])
print("sync:", m.content[0].type, m.stop_reason)
with c.messages.stream(model="conform-mock", max_tokens=256, stop_sequences=["17"],
        messages=[{"role": "user", "content": "Count from 1 to 30, as digits separated by commas and spaces."}]) as s:
    f = s.get_final_message()
print("stream:", f.content[0].type, f.stop_reason, "17" in f.content[0].text)
"#;

fn python_sdk() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import anthropic"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "CI installs the Python SDK"
    );
    ok
}

/// `conform check --format json` of the proxy's recording in `dir/rep`: one entry per exchange.
fn check_recording(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let check = Command::new(BIN)
        .current_dir(dir)
        .args(["check", "--format", "json", "rep/exchanges/proxy.ndjson"])
        .output()
        .unwrap();
    let checked: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    checked.as_array().unwrap().clone()
}

#[test]
fn the_python_sdk_through_the_proxy_is_judged_like_conform_check() {
    if !python_sdk() {
        println!("SKIP: the Python SDK is not installed (`pip install anthropic`)");
        return;
    }
    let mock = Mock::start(&["--fault", "stop-sequence-ignored"]);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("ANTHROPIC_API_KEY", CANARY)
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .args([
            "proxy",
            "--upstream",
            &mock.base_url,
            "--report-dir",
            "rep",
            "--",
        ])
        .args(["python3", "-c", SCRIPT])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    // The client saw the upstream's answers, unchanged (the fault runs through "17").
    assert!(stdout.contains("sync: text end_turn"), "{stdout}");
    assert!(stdout.contains("stream: text end_turn True"), "{stdout}");
    assert!(stderr.contains("2 exchange(s) judged"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{results:?}");
    let stream = results.iter().find(|r| r["mode"] == "stream").unwrap();
    assert_eq!(stream["verdict"], "ignored", "{stream}");
    // conform check of the recorded exchanges gives the same findings, exchange by exchange.
    let checked = check_recording(dir.path());
    assert_eq!(checked.len(), 2);
    for r in results {
        let label_no = &r["scenario"].as_str().unwrap()[6..10];
        let same = checked
            .iter()
            .find(|c| {
                c["file"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("proxy/{label_no}"))
            })
            .unwrap();
        assert_eq!(same["findings"], r["findings"], "{r}");
    }
    // The key never reached an output.
    for (path, text) in all_files(&dir.path().join("rep")) {
        assert!(
            !text.contains(CANARY),
            "the key leaked into {}",
            path.display()
        );
    }
}

#[test]
fn a_dead_upstream_gets_an_anthropic_shaped_502_and_an_error_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["proxy", "--upstream", "http://127.0.0.1:1", "--report-dir", "rep", "--"])
        .args([
            "sh",
            "-c",
            "curl -s -X POST \"$ANTHROPIC_BASE_URL/v1/messages\" -H 'content-type: application/json' -d '{}'",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON error body");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "api_error");
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
    assert_eq!(report["results"][0]["verdict"], "error");
}

/// The seed provider's examples, run by the official SDKs (tests/sdk) through the proxy to the
/// clean reference server: the scripts pass as they do without the proxy, nothing fails, and
/// `conform check` of the recording gives every exchange's findings again.
#[test]
fn the_sdks_seed_examples_through_the_proxy() {
    let ts_sdk = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk/node_modules/@anthropic-ai/sdk")
        .is_dir();
    assert!(
        ts_sdk || std::env::var_os("CI").is_none(),
        "CI installs the TypeScript SDK"
    );
    let scripts: Vec<(&str, &str)> = [
        ("python3", "tests/sdk/check_python.py"),
        ("node", "tests/sdk/check_ts.mjs"),
    ]
    .into_iter()
    .filter(|(prog, _)| {
        if *prog == "node" {
            ts_sdk
        } else {
            python_sdk()
        }
    })
    .collect();
    if scripts.is_empty() {
        println!("SKIP: neither official SDK is installed");
        return;
    }
    let mock = Mock::start(&[]);
    for (prog, script) in scripts {
        let dir = tempfile::tempdir().unwrap();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
        let out = Command::new(BIN)
            .current_dir(dir.path())
            .env("CONFORM_API_KEY", CANARY)
            .env("CONFORM_MODEL", "conform-mock")
            .args([
                "proxy",
                "--upstream",
                &mock.base_url,
                "--report-dir",
                "rep",
                "--",
            ])
            .args([
                "sh",
                "-c",
                &format!(
                    "CONFORM_BASE_URL=\"$ANTHROPIC_BASE_URL\" {prog} {}",
                    script.display()
                ),
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{prog}: {stderr}");
        let report: serde_json::Value =
            serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
        let results = report["results"].as_array().unwrap();
        assert!(results.len() >= 5, "{prog}: {} exchanges", results.len());
        for r in results {
            assert_ne!(r["verdict"], "fail", "{prog}: {r}");
        }
        let check = Command::new(BIN)
            .current_dir(dir.path())
            .args(["check", "--format", "json", "rep/exchanges/proxy.ndjson"])
            .output()
            .unwrap();
        let checked: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
        let mut from_check: Vec<String> = checked
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["findings"].to_string())
            .collect();
        let mut from_proxy: Vec<String> =
            results.iter().map(|r| r["findings"].to_string()).collect();
        from_check.sort();
        from_proxy.sort();
        assert_eq!(from_check, from_proxy, "{prog}");
    }
}

/// `conform bench proxy` runs and prints its figures and the goal (a tiny stream: the figures
/// themselves are measured by hand, never asserted).
#[test]
fn the_proxy_latency_bench_prints_its_figures() {
    let out = Command::new(BIN)
        .args([
            "bench",
            "proxy",
            "--events",
            "20",
            "--interval-us",
            "0",
            "--rounds",
            "1",
        ])
        .output()
        .unwrap();
    let stdout = success_stdout(&out);
    for line in ["direct ", "through proxy ", "added by proxy "] {
        let row = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(line.trim_end()))
            .unwrap_or_else(|| panic!("no {line:?} row: {stdout}"));
        assert!(
            row.contains("p50 ") && row.contains("p99 ") && row.contains("max "),
            "{row}"
        );
    }
    assert!(
        stdout.contains("stream: 26 events (20 text deltas)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("proxy judged 2 exchange(s) on the way (0 finding(s))"),
        "{stdout}"
    );
    assert!(
        stdout.contains("goal: added p50 < 1 ms, p99 < 5 ms: "),
        "{stdout}"
    );
}

/// Without a command the proxy runs until Ctrl-C: its report is there from the start and
/// refreshed after every exchange while it runs, then written once more on exit.
#[test]
fn the_reports_are_refreshed_while_the_proxy_runs() {
    use std::io::{BufRead as _, BufReader};
    use std::time::Duration;
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args(["proxy", "--upstream", &mock.base_url, "--report-dir", "rep"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let base = line
        .strip_prefix("proxy listening on ")
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let report_path = dir.path().join("rep/report.json");
    let results = |p: &std::path::Path| -> Option<usize> {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
        v["results"].as_array().map(Vec::len)
    };
    assert_eq!(results(&report_path), Some(0), "a report from the start");
    let curl = Command::new("curl")
        .args(["-s", "-X", "POST", &format!("{base}/v1/messages")])
        .args(["-H", "content-type: application/json", "-H"])
        .arg(format!("x-api-key: {CANARY}"))
        .args([
            "-d",
            r#"{"model":"conform-mock","max_tokens":32,"messages":[{"role":"user","content":"Say hello."}]}"#,
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&curl.stdout).contains("\"type\":\"message\""),
        "{curl:?}"
    );
    // The proxy is still running, and its report already holds the exchange.
    let start = Instant::now();
    while results(&report_path) != Some(1) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the report was not refreshed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(child.try_wait().unwrap().is_none(), "still running");
    // Ctrl-C (SIGINT to its PID): the last write and the summary line.
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("1 exchange(s) judged"), "{rest}");
    assert_eq!(results(&report_path), Some(1));
}

/// Many exchanges in a burst: the reports are rewritten at most about once a second (and at
/// the start and the end), never once per exchange; the report holds every exchange, as
/// `conform check` of the recording does.
#[test]
fn a_burst_of_exchanges_rewrites_the_reports_a_bounded_number_of_times() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    const N: usize = 30;
    let script = format!(
        r#"for i in $(seq 1 {N}); do curl -s -o /dev/null -X POST "$ANTHROPIC_BASE_URL/v1/messages" -H 'content-type: application/json' -H 'x-api-key: {CANARY}' -d '{{"model":"conform-mock","max_tokens":16,"messages":[{{"role":"user","content":"Say hello."}}]}}'; done"#
    );
    let started = Instant::now();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["proxy", "--upstream", &mock.base_url, "--report-dir", "rep"])
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("{N} exchange(s) judged")),
        "{stderr}"
    );
    let writes: usize = stderr
        .split("reports written ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    // The start, one per second that had exchanges, the end.
    assert!(
        writes <= secs.ceil() as usize + 2,
        "{writes} writes in {secs:.1} s"
    );
    assert!(writes < N, "{writes}");
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
    assert_eq!(report["results"].as_array().unwrap().len(), N);
    assert_eq!(check_recording(dir.path()).len(), N);
    assert!(!read(&dir.path().join("rep/report.md")).contains(CANARY));
}
