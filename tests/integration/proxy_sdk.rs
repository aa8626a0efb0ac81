//! The official SDKs through `conform proxy` (run by the `clients` harness, tests/clients.rs,
//! which reports a test whose SDK is missing as ignored): the Python SDK runs through the proxy
//! to the reference server with a fault; the SDK's output is unchanged, the proxy's findings
//! show the fault and equal `conform check` of the exchanges it recorded; the seed examples of
//! each SDK pass through the proxy.

use crate::support::*;
use std::process::Command;

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

pub(crate) fn the_python_sdk_through_the_proxy_is_judged_like_conform_check() {
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
        .arg(crate::mock_sdk::python())
        .args(["-c", SCRIPT])
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

/// The seed provider's examples, run by an official SDK (tests/sdk) through the proxy to the
/// clean reference server: the script passes as it does without the proxy, nothing fails, and
/// `conform check` of the recording gives every exchange's findings again.
fn seed_examples_through_the_proxy(prog: &str, script: &str) {
    let mock = Mock::start(&[]);
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
    let mut from_check: Vec<String> = check_recording(dir.path())
        .iter()
        .map(|c| c["findings"].to_string())
        .collect();
    let mut from_proxy: Vec<String> = results.iter().map(|r| r["findings"].to_string()).collect();
    from_check.sort();
    from_proxy.sort();
    assert_eq!(from_check, from_proxy, "{prog}");
}

pub(crate) fn the_python_sdk_seed_examples_through_the_proxy() {
    seed_examples_through_the_proxy(&crate::mock_sdk::python(), "tests/sdk/check_python.py");
}

pub(crate) fn the_typescript_sdk_seed_examples_through_the_proxy() {
    seed_examples_through_the_proxy("node", "tests/sdk/check_ts.mjs");
}
