//! Both API versions, today's first (issue 25, point 0), and the access preflight (issue 22,
//! auth):
//!
//! * a run with no flags talks like today's SDKs: `anthropic-version: 2026-10-21` and the key
//!   as `Authorization: Bearer`, on the wire and in the recorded exchanges;
//! * `--api-version both` runs every case under each version, as targets `NAME@VERSION`, and
//!   the clean reference server passes all of them;
//! * an endpoint that rejects Bearer or 2026-10-21 but accepts the older way gets its finding
//!   under its own check, and every other result is judged (and passes); only an endpoint
//!   that accepts the key in no style stops the target (exit 3).

use crate::support::*;
use conform::reference_server::Fault;
use conform::{AdHoc, ApiVersions, ResultRecord, Target, Verdict};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// A loopback HTTP server that answers every request with a minimal message and keeps the
/// request heads (lowercase). Serves `limit` connections on a thread of its own.
fn capturing_server(limit: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(limit) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&lower);
            }
            if head.is_empty() {
                // A connection opened and closed without a request (the reachability check).
                continue;
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            seen.lock().unwrap().push(head);
            let answer = r#"{"id":"msg_01","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":2}}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nrequest-id: req_01\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, heads)
}

#[test]
fn a_run_with_no_flags_sends_todays_version_and_bearer() {
    // On the wire: an ad-hoc target from the SDKs' variables, no --auth, no --api-version.
    let (url, heads) = capturing_server(64);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    without_proxy_env(&mut cmd)
        .args([
            "run",
            "--filter",
            "basic/hello",
            "--mode",
            "sync",
            "--no-snapshots",
            "-q",
        ])
        .arg("--report-dir")
        .arg(dir.path().join("wire"))
        .env("ANTHROPIC_BASE_URL", &url)
        .env("ANTHROPIC_API_KEY", CANARY)
        .env("ANTHROPIC_MODEL", "m")
        .env_remove("ANTHROPIC_AUTH_TOKEN");
    let out = cmd.output().unwrap();
    assert!(out.status.code().is_some(), "{out:?}");
    let heads = heads.lock().unwrap().clone();
    assert!(!heads.is_empty(), "no request reached the server");
    for head in &heads {
        assert!(
            head.contains("anthropic-version: 2026-10-21\r\n"),
            "not today's version:\n{head}"
        );
        let bearer = format!("authorization: bearer {}\r\n", CANARY.to_ascii_lowercase());
        assert!(head.contains(&bearer), "not Bearer:\n{head}");
        assert!(!head.contains("x-api-key"), "x-api-key sent:\n{head}");
    }
    // In the recorded exchanges of a run against the built-in reference server.
    let report = dir.path().join("reference");
    let out = Command::new(BIN)
        .args(["run", "--filter", "basic/hello", "--no-snapshots", "-q"])
        .arg("--report-dir")
        .arg(&report)
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let recorded = std::fs::read_to_string(report.join("exchanges/reference.ndjson")).unwrap();
    let mut begins = 0;
    for line in recorded.lines() {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        if rec["rec"] != "begin" {
            continue;
        }
        begins += 1;
        let headers: Vec<(String, String)> =
            serde_json::from_value(rec["request"]["headers"].clone()).unwrap();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("anthropic-version"), Some("2026-10-21"), "{rec}");
        assert!(get("authorization").is_some(), "{rec}");
        assert_eq!(get("x-api-key"), None, "{rec}");
    }
    assert_eq!(begins, 2, "basic/hello in both modes");
}

fn summary(r: &ResultRecord) -> String {
    let checks: Vec<&str> = r.findings.iter().map(|f| f.check.as_str()).collect();
    format!(
        "{} {}@{} {} {checks:?}",
        r.target, r.scenario, r.mode, r.verdict
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_versions_run_every_case_and_the_clean_server_passes_them_all() {
    let scenarios = library();
    let planned: usize = scenarios.iter().map(|s| s.modes().len()).sum();
    let (_server, target) = conform::reference_server::start(vec![])
        .await
        .expect("the reference server starts");
    let settings = conform::Settings {
        api_versions: Some(ApiVersions::Both),
        ..in_process(8)
    };
    let report = run_against(scenarios, target, &settings).await;
    let names: Vec<&str> = report.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["reference@2023-06-01", "reference@2026-10-21"]);
    assert_eq!(
        report.results.len(),
        2 * planned,
        "every case under each version"
    );
    for name in &names {
        let mine = report.results.iter().filter(|r| r.target == *name).count();
        assert_eq!(mine, planned, "{name}");
    }
    let not_passing: Vec<String> = report
        .results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(summary)
        .collect();
    assert!(
        not_passing.is_empty(),
        "not pass:\n{}",
        not_passing.join("\n")
    );
    // The version scenarios ran the step of their version (their 400 and 200 both pass).
    for r in report
        .results
        .iter()
        .filter(|r| r.scenario == "sampling/new-version-rejects")
    {
        assert_eq!(r.verdict, Verdict::Pass, "{}", summary(r));
    }
}

/// The results of the preflight, and the others that do not pass.
fn split(report: &conform::RunReport) -> (Vec<&ResultRecord>, Vec<String>) {
    let preflight = report
        .results
        .iter()
        .filter(|r| r.scenario == "headers/preflight")
        .collect();
    let others = report
        .results
        .iter()
        .filter(|r| {
            r.scenario != "headers/preflight"
                && r.scenario != "headers/auth-styles"
                && r.verdict != Verdict::Pass
        })
        .map(summary)
        .collect();
    (preflight, others)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_accepting_only_the_old_way_is_a_finding_and_everything_else_is_judged() {
    let scenarios = library();
    let planned: usize = scenarios.iter().map(|s| s.modes().len()).sum();
    let report = run_reference(
        scenarios,
        vec![Fault::BearerRejected, Fault::NewVersionRejected],
        8,
    )
    .await;
    assert!(report.stopped.is_empty(), "stopped: {:?}", report.stopped);
    assert_eq!(
        report.results.len(),
        planned + 1,
        "the library and the preflight"
    );
    let (preflight, others) = split(&report);
    assert_eq!(preflight.len(), 1);
    let checks: Vec<&str> = preflight[0]
        .findings
        .iter()
        .map(|f| f.check.as_str())
        .collect();
    assert_eq!(checks, ["auth.style-rejected", "version.current-rejected"]);
    assert_eq!(preflight[0].verdict, Verdict::Fail);
    assert_eq!(
        report.results[0].scenario, "headers/preflight",
        "the preflight is reported first"
    );
    assert!(others.is_empty(), "not pass:\n{}", others.join("\n"));
    // Both causes come first, each once (the auth one covers the preflight and the step of
    // headers/auth-styles that sends Bearer on purpose), nothing generic above them.
    let (deviations, _) = conform::reports::analyse(&report);
    let mut first: Vec<&str> = deviations
        .iter()
        .take(2)
        .map(|d| d.check.as_str())
        .collect();
    first.sort_unstable();
    assert_eq!(
        first,
        ["auth.style-rejected", "version.current-rejected"],
        "first causes: {:?}",
        deviations.iter().map(|d| &d.check).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_both_versions_each_target_finds_what_it_meets() {
    let scenarios: Vec<conform::Scenario> = library()
        .into_iter()
        .filter(|s| s.id().starts_with("basic/") || s.id() == "sampling/new-version-rejects")
        .collect();
    let (_server, target) = conform::reference_server::start(vec![Fault::NewVersionRejected])
        .await
        .expect("the reference server starts");
    let settings = conform::Settings {
        api_versions: Some(ApiVersions::Both),
        ..in_process(4)
    };
    let report = run_against(scenarios, target, &settings).await;
    let (preflight, others) = split(&report);
    // Only the target that sends 2026-10-21 meets the rejection; it goes on with 2023-06-01.
    let targets: Vec<&str> = preflight.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["reference@2026-10-21"]);
    assert!(others.is_empty(), "not pass:\n{}", others.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rejected_in_every_style_stops_the_target() {
    let (_server, good) = conform::reference_server::start(vec![])
        .await
        .expect("the reference server starts");
    let wrong = Target::ad_hoc_with(
        AdHoc {
            name: Some("wrong-key".into()),
            base_url: good.base_url.clone(),
            model: good.model.clone(),
            api_key_env: Some("KEY".into()),
            ..AdHoc::default()
        },
        &|_| Some("sk-not-the-key".into()),
    )
    .unwrap();
    let scenarios: Vec<conform::Scenario> = library()
        .into_iter()
        .filter(|s| s.id().starts_with("basic/"))
        .collect();
    let report = run_against(scenarios, wrong, &in_process(4)).await;
    // One `error` result (the preflight's), no verdict about any feature.
    assert_eq!(report.results.len(), 1, "{:?}", report.results);
    assert_eq!(report.results[0].scenario, "headers/preflight");
    assert_eq!(report.results[0].verdict, Verdict::Error);
    assert_eq!(report.stopped.len(), 1, "{:?}", report.stopped);
    assert!(
        report.stopped[0].contains("rejected the credentials"),
        "{}",
        report.stopped[0]
    );
    assert_eq!(report.exit_code(false), 3);
}
