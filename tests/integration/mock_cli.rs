//! The `conform mock` command line: first stdout line, `--list-faults`, bad fault names.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_conform");

#[test]
fn prints_listening_line_first_and_serves() {
    let mut child = Command::new(BIN)
        .args([
            "mock",
            "--addr",
            "127.0.0.1:0",
            "--model",
            "qwen3.7-plus",
            "--seed",
            "3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("conform mock starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("first line announces the address")
        .to_string();
    let mut second = String::new();
    out.read_line(&mut second).unwrap();
    assert!(
        second.starts_with("API key: conform-test-key")
            && second.contains("claude-*, qwen3.7-plus"),
        "the second line names the accepted key and models: {second}"
    );
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        c.get(format!("{url}/v1/models/qwen3.7-plus"))
            .header("x-api-key", "conform-test-key")
            .header("anthropic-version", "2023-06-01")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
}

#[test]
fn any_key_is_announced_and_accepted() {
    let mut child = Command::new(BIN)
        .args(["mock", "--addr", "127.0.0.1:0", "--api-key", "any"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("conform mock starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let statuses = rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut out = Vec::new();
        for key in [Some("whatever"), None] {
            let mut r = c
                .get(format!("{url}/v1/models"))
                .header("anthropic-version", "2023-06-01");
            if let Some(k) = key {
                r = r.header("x-api-key", k);
            }
            out.push(r.send().await.unwrap().status().as_u16());
        }
        out
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(second.starts_with("any API key is accepted"), "{second}");
    assert_eq!(statuses, [200, 401]);
}

#[test]
fn help_shows_the_default_key_and_what_ttft_delays() {
    let out = Command::new(BIN).args(["mock", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("[default: conform-test-key]"), "{help}");
    assert!(help.contains("first byte of the response body"), "{help}");
}

#[test]
fn list_faults_prints_name_tab_description() {
    let out = Command::new(BIN)
        .args(["mock", "--list-faults"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        conform::reference_server::fault_catalogue().len()
    );
    for l in &lines {
        let (name, desc) = l.split_once('\t').expect("NAME<TAB>description");
        assert!(!name.is_empty() && desc.contains("seen in"), "{l}");
    }
    assert!(lines.iter().any(|l| l.starts_with("truncated-stream\t")));
}

#[test]
fn unknown_fault_is_a_usage_error_listing_known_names() {
    let out = Command::new(BIN)
        .args(["mock", "--addr", "127.0.0.1:0", "--fault", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(conform::exit::USAGE));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nope") && err.contains("done-sentinel"),
        "{err}"
    );
}
