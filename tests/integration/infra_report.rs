//! The report sinks on a two-target run: the markdown matrix (features × targets), the
//! non-pass section, timings and snapshot diffs; `report.json` fields; `junit.xml` agreeing
//! with `report.json`; and a canary secret that never reaches any written file.

use conform::Finding;
use conform::Redactor;
use conform::ResultRecord;
use conform::RunReport;
use conform::SnapshotInfo;
use conform::SnapshotStatus;
use conform::TargetInfo;
use conform::Timing;
use conform::Verdict;
use conform::catalogue::ids;
use conform::reports;
use quick_junit::{NonSuccessKind, TestCaseStatus};

const CANARY: &str = "sk-canary-7f3e9a1b2c";

fn result(
    target: &str,
    scenario: &str,
    feature: &str,
    mode: &str,
    verdict: Verdict,
) -> ResultRecord {
    ResultRecord {
        title: format!("{scenario} title"),
        timing: Timing {
            ttfb_ms: Some(10.0),
            ttft_ms: Some(20.0),
            total_ms: Some(100.0),
        },
        ..ResultRecord::new(target, scenario, feature, mode.parse().unwrap(), verdict)
    }
}

fn sample() -> RunReport {
    let targets = vec![
        TargetInfo {
            name: "alpha".into(),
            base_url: "http://127.0.0.1:1".into(),
            model: "m1".into(),
        },
        TargetInfo {
            name: "beta".into(),
            base_url: "http://127.0.0.1:2".into(),
            model: "m2".into(),
        },
    ];
    let mut r = RunReport::started_at("2026-11-25T04:00:00Z".into(), targets);
    for mode in ["sync", "stream"] {
        r.push(result("alpha", "basic/hello", "basic", mode, Verdict::Pass));
        r.push(result(
            "alpha",
            "stop/sequence",
            "stop-sequences",
            mode,
            Verdict::Pass,
        ));
        r.push(result("beta", "basic/hello", "basic", mode, Verdict::Pass));
    }
    let mut fail = result(
        "beta",
        "stop/sequence",
        "stop-sequences",
        "sync",
        Verdict::Fail,
    );
    fail.findings = vec![
        Finding::new(
            ids::IMPLIED_STOP_SEQUENCE,
            "$.content[0].text",
            format!("echoed key {CANARY}"),
        )
        .expected("text without \"END\"")
        .actual(format!("...END {CANARY}"))
        .reference("Messages API; stop_sequences"),
        Finding::new(ids::HEADERS_REQUEST_ID, "request-id", "missing"),
    ];
    fail.attempts = 2;
    fail.timing = Timing {
        ttfb_ms: Some(30.0),
        ttft_ms: None,
        total_ms: Some(300.0),
    };
    r.push(fail);
    let mut ignored = result(
        "beta",
        "stop/sequence",
        "stop-sequences",
        "stream",
        Verdict::Ignored,
    );
    ignored.findings = vec![Finding::new(
        ids::EFFECT_STOP_SEQUENCES,
        "$.stop_reason",
        "not honoured",
    )];
    ignored.snapshot = Some(SnapshotInfo {
        status: SnapshotStatus::Changed,
        diff: Some(format!(
            "--- old\n+++ new\n-\"stop_reason\": \"stop_sequence\"\n+\"stop_reason\": \"end_turn\" {CANARY}\n"
        )),
    });
    r.push(ignored);
    let mut error = result("beta", "video/basic", "video", "sync", Verdict::Error);
    error.error = Some(format!("connect error: refused (key {CANARY})"));
    error.timing = Timing::default();
    r.push(error);
    let mut expected = result(
        "alpha",
        "video/basic",
        "video",
        "sync",
        Verdict::Unsupported,
    );
    expected.expected = true;
    r.push(expected);
    r.push(result(
        "alpha",
        "video/basic",
        "video",
        "stream",
        Verdict::Skip,
    ));
    r.finish(std::time::Duration::from_millis(1234), false);
    r
}

fn redactor() -> Redactor {
    Redactor::new(vec![CANARY.to_string()])
}

#[test]
fn markdown_has_a_features_by_targets_matrix_and_details() {
    let dir = tempfile::tempdir().unwrap();
    reports::write_all(&sample(), dir.path(), &redactor(), &Default::default()).unwrap();
    let path = dir.path().join("report.md");
    let md = std::fs::read_to_string(path).unwrap();
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| *l != "## Compatibility matrix")
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(
        table,
        vec![
            "| feature | alpha sync | alpha stream | beta sync | beta stream |",
            "|---|---|---|---|---|",
            "| basic | ✅ 1/1 | ✅ 1/1 | ✅ 1/1 | ✅ 1/1 |",
            "| stop-sequences | ✅ 1/1 | ✅ 1/1 | ❌ 0/1 | 🚫 0/1 |",
            "| video | ⛔ 0/1 (expected) | ⏭ 0/1 | 💥 0/1 | — |",
        ]
    );
    assert!(md.contains("- 🚫 **ignored**: accepted, but the feature had no effect"));
    // Ranked causes first: the must findings, then the should one.
    let fix_first: Vec<&str> = md
        .lines()
        .skip_while(|l| *l != "## What to fix first")
        .filter(|l| l.starts_with("| [D"))
        .collect();
    assert_eq!(fix_first.len(), 3, "{md}");
    // Among the musts, an unmeasured check ranks before one the clients are measured to cope
    // with (effect.stop-sequences is must by its documented contract).
    assert!(
        fix_first[0].contains("| must | `implied.stop-sequence`"),
        "{md}"
    );
    assert!(
        fix_first[1].contains("| must | `effect.stop-sequences`"),
        "{md}"
    );
    assert!(
        md.contains("- Client impact: the official clients cope, but the feature's documented contract is broken (see conform explain effect.stop-sequences)"),
        "{md}"
    );
    assert!(fix_first[2].contains("`headers.request-id`"), "{md}");
    assert!(md.contains(
        "- First seen: `stop/sequence@sync` at `$.content[0].text`: echoed key [REDACTED]; expected `text without \"END\"`; actual `...END [REDACTED]`"
    ), "{md}");
    assert!(
        md.contains("- ❌ fail · beta · `stop/sequence@sync`"),
        "{md}"
    );
    assert!(
        md.contains("  - error: `connect error: refused (key [REDACTED])`"),
        "{md}"
    );
    assert!(
        md.contains("- ⛔ unsupported (expected) · alpha · `video/basic@sync`"),
        "{md}"
    );
    assert!(
        md.contains("- ✅ pass · alpha · `basic/hello@sync`"),
        "passes are listed in the appendix"
    );
    assert!(!md.contains("Attempts:"), "steps are not retries");
    // alpha: ttft all 20, total all 100 (the skip and the unsupported count too); beta: 4 ttft of 20.
    assert!(md.contains("| alpha | 6 | 20 | 20 | 100 | 100 |"), "{md}");
    assert!(md.contains("| beta | 5 | 20 | 20 | 100 | 300 |"), "{md}");
    assert!(md.contains(
        "## Appendix C — changed since snapshot\n\n### beta · stop/sequence@stream\n\n```diff\n--- old\n"
    ));
}

#[test]
fn json_has_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    reports::write_all(&sample(), dir.path(), &redactor(), &Default::default()).unwrap();
    let path = dir.path().join("report.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["conform_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["started_at"], "2026-11-25T04:00:00Z");
    assert_eq!(v["duration_ms"], 1234.0);
    assert_eq!(
        v["targets"][1],
        serde_json::json!({"name": "beta", "base_url": "http://127.0.0.1:2", "model": "m2"})
    );
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 11);
    let fail = results.iter().find(|r| r["verdict"] == "fail").unwrap();
    for key in [
        "target", "scenario", "feature", "mode", "verdict", "findings", "timing", "attempts",
    ] {
        assert!(fail.get(key).is_some(), "missing {key}");
    }
    assert_eq!(fail["attempts"], 2);
    assert_eq!(
        fail["timing"],
        serde_json::json!({"ttfb_ms": 30.0, "ttft_ms": null, "total_ms": 300.0})
    );
    let f = &fail["findings"][0];
    for key in ["severity", "check", "location", "message", "reference"] {
        assert!(f.get(key).is_some(), "finding misses {key}");
    }
    assert_eq!(f["severity"], "must");
    assert_eq!(
        v["summary"]["beta"],
        serde_json::json!({"pass": 2, "fail": 1, "ignored": 1, "error": 1})
    );
    assert_eq!(v["summary"]["alpha"]["unsupported"], 1);
    let back = reports::read_report(&path).unwrap();
    assert_eq!(back.results.len(), 11);
    assert_eq!(back.exit_code(false), conform::exit::FAILURES);
}

#[test]
fn junit_agrees_with_json() {
    let dir = tempfile::tempdir().unwrap();
    let paths =
        reports::write_all(&sample(), dir.path(), &redactor(), &Default::default()).unwrap();
    assert_eq!(paths.len(), 5, "md, html, json, junit, badge");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let suites: Vec<&str> = junit.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(suites, vec!["alpha", "beta"]);
    let cases: Vec<_> = junit
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .collect();
    assert_eq!(cases.len(), json["results"].as_array().unwrap().len());
    let count =
        |pred: &dyn Fn(&TestCaseStatus) -> bool| cases.iter().filter(|c| pred(&c.status)).count();
    let failures = count(&|s| {
        matches!(
            s,
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                ..
            }
        )
    });
    let errors = count(&|s| {
        matches!(
            s,
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Error,
                ..
            }
        )
    });
    let skipped = count(&|s| matches!(s, TestCaseStatus::Skipped { .. }));
    assert_eq!(
        (failures, errors, skipped),
        (2, 1, 2),
        "fail+ignored; error; skip+expected"
    );
    let beta = &junit.test_suites[1];
    let fail = beta
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "stop/sequence@sync")
        .unwrap();
    assert_eq!(
        fail.classname.as_ref().map(|c| c.as_str()),
        Some("stop-sequences")
    );
    match &fail.status {
        TestCaseStatus::NonSuccess {
            description: Some(d),
            ty: Some(t),
            ..
        } => {
            assert_eq!(t.as_str(), "fail");
            assert!(
                d.as_str()
                    .contains("must [implied.stop-sequence] $.content[0].text"),
                "{}",
                d.as_str()
            );
        }
        other => panic!("unexpected status {other:?}"),
    }
}

#[test]
fn a_canary_secret_never_reaches_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = sample();
    r.baseline = Some(conform::Baseline {
        file: format!("old/{CANARY}/report.json"),
        comparison: Default::default(),
    });
    reports::write_all(&r, dir.path(), &redactor(), &Default::default()).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(CANARY));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("badge") {
            assert!(text.contains("[REDACTED]"), "{}", path.display());
        }
        checked += 1;
    }
    assert_eq!(
        checked, 7,
        "the five reports and a badge per target, no temp files left"
    );
}

#[test]
fn an_interrupted_run_still_writes_what_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let targets = vec![TargetInfo {
        name: "alpha".into(),
        base_url: "http://h".into(),
        model: "m".into(),
    }];
    let mut r = RunReport::new(targets);
    reports::write_all(&r, dir.path(), &redactor(), &Default::default()).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("No results."));
    r.push(result(
        "alpha",
        "basic/hello",
        "basic",
        "sync",
        Verdict::Pass,
    ));
    r.finish(std::time::Duration::from_millis(5), true);
    reports::write_all(&r, dir.path(), &redactor(), &Default::default()).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("interrupted: partial results"));
    assert!(md.contains("| basic | ✅ 1/1 |"), "{md}");
    let json = reports::read_report(&dir.path().join("report.json")).unwrap();
    assert!(json.interrupted);
    assert_eq!(json.results.len(), 1);
    assert_eq!(json.exit_code(false), conform::exit::OK);
}
