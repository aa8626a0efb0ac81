//! `conform diff BASE.json NEW.json`: exit 1 on a regression (named in the output), 0 for
//! identical or improved runs, 2 on unreadable input.

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

fn result(scenario: &str, mode: &str, verdict: &str, findings: Value, ttft: f64) -> Value {
    json!({"target": "reference", "scenario": scenario, "feature": "stop", "title": "t",
        "mode": mode, "verdict": verdict, "expected": false, "findings": findings,
        "timing": {"ttfb_ms": 1.0, "ttft_ms": ttft, "total_ms": ttft * 2.0}, "attempts": 1})
}

fn report(results: Vec<Value>) -> Value {
    json!({"conform_version": "0.1.0", "started_at": "2026-11-25T05:00:00Z", "duration_ms": 10,
        "targets": [{"name": "reference", "base_url": "http://127.0.0.1:1", "model": "m"}],
        "results": results, "summary": {}})
}

fn clean() -> Value {
    report(vec![
        result("basic/hello", "sync", "pass", json!([]), 100.0),
        result("stop/sequence", "stream", "pass", json!([]), 120.0),
    ])
}

fn broken() -> Value {
    report(vec![
        result("basic/hello", "sync", "pass", json!([]), 100.0),
        result(
            "stop/sequence",
            "stream",
            "fail",
            json!([{"severity": "must", "check": "implied.stop-sequence", "location": "message",
                "message": "stop_sequence was requested but ignored", "reference": "x"}]),
            300.0,
        ),
    ])
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("diff")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

fn write(dir: &Path, name: &str, v: &Value) {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

#[test]
fn regression_exits_1_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.json", &clean());
    write(dir.path(), "new.json", &broken());
    let (code, md) = run(dir.path(), &["base.json", "new.json"]);
    assert_eq!(code, 1, "{md}");
    assert!(md.contains("#### Regressions (1), 1 cause"), "{md}");
    assert!(md.contains("`stop/sequence`"), "{md}");
    assert!(md.contains("`implied.stop-sequence`"), "{md}");
    assert!(
        md.contains("| reference | 110 ms | 200 ms | ×1.82 |"),
        "TTFT median 110 → 200 ms: {md}"
    );

    let (code, js) = run(dir.path(), &["base.json", "new.json", "--format", "json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&js).unwrap();
    assert_eq!(v["regressions"][0]["scenario"], "stop/sequence");
    assert_eq!(v["regressions"][0]["before"], "pass");

    // The other way round it is a fix, not a regression.
    let (code, text) = run(dir.path(), &["new.json", "base.json", "--format", "text"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Fixes (1), 1 cause:"), "{text}");
}

#[test]
fn identical_reports_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.json", &clean());
    write(dir.path(), "b.json", &clean());
    let (code, md) = run(dir.path(), &["a.json", "b.json"]);
    assert_eq!(code, 0, "{md}");
    assert!(md.contains("no regressions"), "{md}");
    assert!(md.contains("2 unchanged"), "{md}");
}

#[test]
fn unreadable_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.json", &clean());
    std::fs::write(dir.path().join("junk.json"), "not json").unwrap();
    write(dir.path(), "other.json", &json!({"hello": 1}));
    assert_eq!(run(dir.path(), &["ok.json", "missing.json"]).0, 2);
    assert_eq!(run(dir.path(), &["junk.json", "ok.json"]).0, 2);
    assert_eq!(run(dir.path(), &["ok.json", "other.json"]).0, 2);
}
