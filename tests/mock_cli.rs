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
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let rest = line
        .trim()
        .strip_prefix("listening on ")
        .expect("first line announces the address");
    let url = rest.split_whitespace().next().unwrap().to_string();
    assert!(
        rest.contains("API key: conform-test-key") && rest.contains("claude-*"),
        "the first line names the accepted key and models: {rest}"
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
fn list_faults_prints_name_tab_description() {
    let out = Command::new(BIN)
        .args(["mock", "--list-faults"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), conform::mock::fault_catalogue().len());
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
