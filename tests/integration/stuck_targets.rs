//! Targets that are wrong everywhere (a stray `/v1` in the base URL, an endpoint that accepts
//! connections and never answers) are stopped within seconds with one line saying what is
//! likely wrong, exit 3, and a run without a terminal says how it is going.

use crate::support::{BIN, CANARY, Mock, read, without_proxy_env};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `conform run` against `base_url` with the built-in library, stderr not a terminal.
fn run_against(dir: &std::path::Path, base_url: &str, extra: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = without_proxy_env(&mut Command::new(BIN))
        .current_dir(dir)
        .env("CONFORM_TEST_KEY", CANARY)
        .env("CONFORM_PROGRESS_EVERY", "1")
        .env_remove("CI")
        .args(["run", "--no-snapshots", "--report-dir", "rep"])
        .args(["--base-url", base_url, "--model", "conform-mock"])
        .args(["--api-key-env", "CONFORM_TEST_KEY"])
        .args(extra)
        .output()
        .expect("run conform");
    (out, start.elapsed())
}

/// The report's stop reason; every result is `error` (nothing was judged).
fn stopped_and_unjudged(dir: &std::path::Path) -> String {
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.join("rep/report.json"))).unwrap();
    let results = report["results"].as_array().unwrap();
    assert!(
        results.len() < 20,
        "the target was not stopped early: {}",
        results.len()
    );
    for r in results {
        assert_eq!(r["verdict"], "error", "{r}");
    }
    report["stopped"][0]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_stray_v1_in_the_base_url_stops_the_target_with_the_fix() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let base = format!("{}/v1", mock.base_url);
    let (out, took) = run_against(dir.path(), &base, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let why = stopped_and_unjudged(dir.path());
    let expected = format!("every request got 404 at {}/v1/v1/messages", mock.base_url);
    assert!(why.contains(&expected), "{why}");
    assert!(
        why.contains("conform appends /v1/messages to the base URL; drop the trailing /v1"),
        "{why}"
    );
    assert!(err.contains(&expected), "the terminal names it too: {err}");
}

#[test]
fn an_endpoint_that_never_answers_stops_within_seconds_and_is_no_rate_limit() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Accept every connection and hold it open without a byte of answer.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let (out, took) = run_against(dir.path(), &base, &["--timeout", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let why = stopped_and_unjudged(dir.path());
    assert!(
        why.contains("accepts connections but does not answer"),
        "{why}"
    );
    assert!(why.contains("raise --timeout"), "{why}");
    let everything = format!("{err}{}", read(&dir.path().join("rep/report.md")));
    assert!(!everything.contains("rate limited"), "{everything}");
    // No terminal: a plain progress line (every second here; 30 s by default).
    assert!(
        err.lines()
            .any(|l| l.starts_with("progress: ") && l.contains(" results, ")),
        "{err}"
    );
}
