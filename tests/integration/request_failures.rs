//! Answers that look like infrastructure but are about one request (issue 22, points 1 and 2):
//! the whole library against the reference server with one fault, and what comes out.
//!
//! * `bearer-rejected`: the target's own style is Bearer (today's SDKs'); the access preflight
//!   meets the 401, finds x-api-key accepted and reports `auth.style-rejected` on its result
//!   (`headers/preflight`); the run goes on with x-api-key, so the target is not stopped and
//!   every result of the library is in. The step of `headers/auth-styles` that sends Bearer
//!   on purpose is then a finding on that step too.
//! * `5xx-on-block-content`: a 500 on every attempt of the requests with block content, while
//!   the target answers the others, fails those results under `http.server-error`; nothing is
//!   `error` and every other result passes.
//! * An endpoint that answers 500 to everything is infrastructure: every result `error`.

use crate::support::*;
use conform::AdHoc;
use conform::ResultRecord;
use conform::RunReport;
use conform::Target;
use conform::Verdict;
use conform::load_dir;
use conform::reference_server::Fault;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The whole library against a reference server with `fault`: the report, and how many
/// results the library plans (both modes).
async fn run_library(fault: &str) -> (RunReport, usize) {
    let scenarios = library();
    let planned = scenarios.iter().map(|s| s.modes().len()).sum();
    let fault: Fault = fault.parse().expect("a catalogue fault");
    let report = run_reference(scenarios, vec![fault], 4).await;
    let mut counts = std::collections::BTreeMap::new();
    for r in &report.results {
        *counts.entry(r.verdict.to_string()).or_insert(0) += 1;
    }
    eprintln!(
        "{fault}: {} of {planned} results: {counts:?}; stopped: {:?}",
        report.results.len(),
        report.stopped
    );
    (report, planned)
}

fn has(r: &ResultRecord, check: &str) -> bool {
    r.findings.iter().any(|f| f.check.as_str() == check)
}

fn describe(r: &ResultRecord) -> String {
    let checks: Vec<&str> = r.findings.iter().map(|f| f.check.as_str()).collect();
    format!(
        "{}@{} {} {checks:?} {}",
        r.scenario,
        r.mode,
        r.verdict,
        r.error.as_deref().unwrap_or("")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_bearer_key_is_a_finding_and_the_run_goes_on() {
    let (report, planned) = run_library("bearer-rejected").await;
    assert!(report.stopped.is_empty(), "stopped: {:?}", report.stopped);
    assert_eq!(
        report.results.len(),
        planned + 1,
        "every result is in, and the preflight's"
    );
    let preflight: Vec<&ResultRecord> = report
        .results
        .iter()
        .filter(|r| r.scenario == "headers/preflight")
        .collect();
    assert_eq!(preflight.len(), 1);
    assert!(
        preflight[0].verdict == Verdict::Fail && has(preflight[0], "auth.style-rejected"),
        "{}",
        describe(preflight[0])
    );
    let styles: Vec<&ResultRecord> = report
        .results
        .iter()
        .filter(|r| r.scenario == "headers/auth-styles")
        .collect();
    assert_eq!(styles.len(), 2, "both modes");
    for r in styles {
        assert!(
            r.verdict == Verdict::Fail && has(r, "auth.style-rejected"),
            "{}",
            describe(r)
        );
    }
    let others: Vec<String> = report
        .results
        .iter()
        .filter(|r| {
            !matches!(
                r.scenario.as_str(),
                "headers/auth-styles" | "headers/preflight"
            ) && r.verdict != Verdict::Pass
        })
        .map(describe)
        .collect();
    assert!(others.is_empty(), "not pass:\n{}", others.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_on_some_requests_fails_them_instead_of_error() {
    let (report, planned) = run_library("5xx-on-block-content").await;
    assert_eq!(report.results.len(), planned);
    let unexpected: Vec<String> = report
        .results
        .iter()
        .filter(|r| match r.verdict {
            Verdict::Pass => false,
            Verdict::Fail => !has(r, "http.server-error"),
            _ => true,
        })
        .map(describe)
        .collect();
    assert!(
        unexpected.is_empty(),
        "neither pass nor fail under http.server-error:\n{}",
        unexpected.join("\n")
    );
    let failed: Vec<&str> = report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.scenario.as_str())
        .collect();
    eprintln!(
        "5xx-on-block-content: {} of {} results fail under http.server-error",
        failed.len(),
        planned
    );
    // The requests with block content fail (the first step, or a later one after a string
    // first step); those with string content only pass.
    for id in [
        "basic/content-blocks",
        "image/base64-png",
        "tools/round-trip",
    ] {
        assert!(failed.contains(&id), "{id} should fail: {failed:?}");
    }
    for id in ["basic/seed-call", "headers/auth-styles"] {
        assert!(!failed.contains(&id), "{id} should pass");
    }
    assert!(failed.len() >= 30, "{} failed: {failed:?}", failed.len());
}

/// A loopback server that answers every request with `500 Internal Server Error` (text/plain);
/// its base URL.
async fn always_500() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Read the head and the declared body, then answer and close.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = conn.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let declared = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + declared {
                            break;
                        }
                    }
                }
                let body = "Internal Server Error";
                let resp = format!(
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(resp.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_fails_everything_is_infrastructure() {
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("t");
    std::fs::create_dir_all(&scen).unwrap();
    for (id, content) in [
        ("string", "\"Say hello.\""),
        ("blocks", "[{type: text, text: \"Say hello.\"}]"),
    ] {
        std::fs::write(
            scen.join(format!("{id}.yaml")),
            format!("id: t/{id}\nfeature: basic\ntitle: a plain call\nreference: \"Messages API\"\nmodes: [sync, stream]\nsteps:\n  - id: ask\n    request:\n      body:\n        model: \"{{{{ target.model }}}}\"\n        max_tokens: 64\n        messages: [{{role: user, content: {content}}}]\n"),
        )
        .unwrap();
    }
    let (scenarios, diags) = load_dir(dir.path());
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    assert_eq!(scenarios.len(), 2);
    let mut target = Target::ad_hoc_with(
        AdHoc {
            name: Some("down".into()),
            base_url: always_500().await,
            model: "m".into(),
            api_key_env: Some("DOWN_KEY".into()),
            auth: None,
            headers: Vec::new(),
        },
        &|v| (v == "DOWN_KEY").then(|| "sk-down".to_string()),
    )
    .unwrap();
    target.retries = 1;
    let report = run_against(scenarios, target, &in_process(2)).await;
    let results = &report.results;
    assert_eq!(results.len(), 4);
    for r in results {
        assert!(
            r.verdict == Verdict::Error
                && !has(r, "http.server-error")
                && r.error.as_deref().is_some_and(|e| e.contains("HTTP 500")),
            "{}",
            describe(r)
        );
    }
}
