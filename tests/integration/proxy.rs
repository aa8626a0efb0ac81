//! `conform proxy`: a dead upstream gets an Anthropic-shaped 502; the reports are refreshed
//! while the proxy runs; the latency bench. The official SDKs through the proxy are in
//! proxy_sdk.rs (run by the `clients` harness, tests/clients.rs).

use crate::support::*;
use std::process::Command;
use std::time::Instant;

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
        .args(["-H", "content-type: application/json"])
        .args(["-H", "anthropic-version: 2023-06-01", "-H"])
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
