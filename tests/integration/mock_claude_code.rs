//! Claude Code as a client of the reference server: `claude -p` against the clean mock answers
//! with text and exits 0, and through `conform proxy` every exchange it makes is judged. What
//! Claude Code does under each fault and hand-made violation is measured by the calibration
//! test (tests/integration/calibration, docs/client-impact.md).
//!
//! The sandbox (throw-away HOME and working directory, cleared environment, no tool that
//! writes or executes, a hard timeout) is `support::claude`.

use crate::mock_support;
use crate::support::claude::{installed, run_claude, sandboxed};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conform::reference_server::MockConfig;

pub(crate) async fn claude_code_says_hello_to_the_clean_mock() {
    let bin = installed();
    let m = mock_support::start(MockConfig::default()).await;
    let base = m.base_url();
    let o = tokio::task::spawn_blocking(move || {
        run_claude(&bin, &base, mock_support::KEY, Duration::from_secs(90))
    })
    .await
    .unwrap();
    println!("{o:?}");
    assert!(!o.hung, "claude -p did not finish in 90 s");
    assert_eq!(o.exit, Some(0), "stderr: {}", o.stderr);
    // The deterministic answer to "Say hello": text about the prompt, no tool call.
    assert!(
        o.stdout.contains("Here is a short answer about hello."),
        "{}",
        o.stdout
    );
}

/// Claude Code through `conform proxy` to the clean reference server: its output is the
/// same as without the proxy, every exchange it made is judged, `conform check` of the
/// recording agrees, and the recording shows Claude Code's request shapes.
pub(crate) async fn claude_code_through_the_proxy_is_judged() {
    let bin = installed();
    let m = mock_support::start(MockConfig::default()).await;
    let base = m.base_url();
    let conform = env!("CARGO_BIN_EXE_conform");
    let dir = tempfile::tempdir().expect("temp dir");
    let rep = dir.path().join("rep");
    let home = tempfile::tempdir().expect("temp HOME");
    let rep2 = rep.clone();
    let out = tokio::task::spawn_blocking(move || {
        // The sandboxed command line and environment, run behind the proxy.
        let inner = sandboxed(&bin, home.path(), home.path(), mock_support::KEY);
        let mut child = Command::new(conform)
            .args(["proxy", "--upstream", &base, "--report-dir"])
            .arg(&rep2)
            .arg("--")
            .arg(inner.get_program())
            .args(inner.get_args())
            .env_clear()
            .envs(inner.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
            .current_dir(home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the proxy starts");
        let start = Instant::now();
        loop {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            if start.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().expect("output")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Here is a short answer about hello."),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rep.join("report.json")).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert_ne!(r["verdict"], "fail", "the clean mock fails nothing: {r}");
    }
    let recording = std::fs::read_to_string(rep.join("exchanges/proxy.ndjson")).unwrap();
    // What Claude Code really sends (the shapes the claude-code scenarios need).
    assert!(
        recording.contains("/v1/messages?beta=true"),
        "no ?beta=true request"
    );
    assert!(recording.contains("anthropic-beta"), "no beta header");
    assert!(
        !recording.contains(mock_support::KEY),
        "the key is redacted"
    );
    let check = Command::new(conform)
        .args(["check", "--format", "json"])
        .arg(rep.join("exchanges/proxy.ndjson"))
        .output()
        .unwrap();
    let checked: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(checked.as_array().unwrap().len(), results.len());
}
