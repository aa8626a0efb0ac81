//! Helpers shared by the end-to-end tests: `conform mock` processes, scenario files, runs.
#![allow(dead_code)]

pub mod claude;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_conform");
pub const CANARY: &str = "sk-canary-7f3a9c2e51d4";

/// A `conform mock` process on a free loopback port, killed on drop.
pub struct Mock {
    child: Child,
    pub base_url: String,
}

impl Mock {
    pub fn start(extra: &[&str]) -> Mock {
        let mut child = Command::new(BIN)
            .args(["mock", "--addr", "127.0.0.1:0", "--api-key", CANARY])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start conform mock");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening line")
            .to_string();
        Mock { child, base_url }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Scenarios written for these tests (independent of the library under scenarios/).
/// Remove the proxy variables from a child's environment, so its requests to a loopback server
/// go straight there.
pub fn without_proxy_env(cmd: &mut Command) -> &mut Command {
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

pub fn scenario_dir(dir: &Path) -> PathBuf {
    let s = dir.join("scenarios");
    std::fs::create_dir_all(s.join("t")).unwrap();
    std::fs::write(
        s.join("t/hello.yaml"),
        r#"id: t/hello
feature: basic
title: a plain call
reference: "https://platform.claude.com/docs/en/api/messages"
modes: [sync, stream]
steps:
  - id: ask
    request:
      body:
        model: "{{ target.model }}"
        max_tokens: 64
        messages: [{role: user, content: "Say hello."}]
    expect:
      assert:
        - {path: "$.stop_reason", equals: end_turn}
"#,
    )
    .unwrap();
    std::fs::write(
        s.join("t/stop.yaml"),
        r#"id: t/stop-sequence
feature: stop-sequences
title: a stop sequence stops generation
reference: "https://platform.claude.com/docs/en/api/messages"
modes: [sync, stream]
steps:
  - id: ask
    request:
      body:
        model: "{{ target.model }}"
        max_tokens: 128
        stop_sequences: ["STOP-HERE"]
        messages: [{role: user, content: "Count to ten, then write STOP-HERE."}]
    expect:
      assert:
        - {path: "$.stop_reason", equals: stop_sequence, effect: true}
"#,
    )
    .unwrap();
    s
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env("CONFORM_TEST_KEY", CANARY)
        .env_remove("CI")
        .args(["run", "--quiet", "--no-snapshots"])
        .args(args)
        .output()
        .expect("run conform")
}

/// The stdout of a command that must have exited 0 (both streams shown when it did not).
pub fn success_stdout(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every file under `dir`, read as text.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push((
                p.clone(),
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            ));
        }
    }
    out
}

/// A byte string cut at arbitrary points (each cut taken modulo the length).
pub fn chunked(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut prev = 0;
    for c in cuts {
        out.push(bytes[prev..c].to_vec());
        prev = c;
    }
    out.push(bytes[prev..].to_vec());
    out
}

/// The scenario library under `scenarios/`: every file loads without error.
pub fn library() -> Vec<conform::Scenario> {
    let (scenarios, diagnostics) = conform::load_dir(Path::new("scenarios"));
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "scenario files with errors:\n{}",
        errors.join("\n")
    );
    assert!(
        scenarios.len() >= 50,
        "the library has {} scenarios",
        scenarios.len()
    );
    scenarios
}

/// Settings of an in-process run: `jobs` cases at once, one repeat, quiet, the default body
/// limit.
pub fn in_process(jobs: usize) -> conform::Settings {
    conform::Settings {
        jobs,
        repeat: 1,
        quiet: true,
        max_body: conform::DEFAULT_MAX_BODY,
        ..conform::Settings::default()
    }
}

/// Run `scenarios` against `target` with `settings` and no sink; the report.
pub async fn run_against(
    scenarios: Vec<conform::Scenario>,
    target: conform::Target,
    settings: &conform::Settings,
) -> conform::RunReport {
    conform::execute(
        scenarios,
        vec![target],
        settings,
        &mut [],
        std::future::pending(),
    )
    .await
    .expect("the run starts")
    .report
}

/// Run `scenarios` against a fresh in-process reference server with `faults`, `jobs` cases at
/// once; the report.
pub async fn run_reference(
    scenarios: Vec<conform::Scenario>,
    faults: Vec<conform::reference_server::Fault>,
    jobs: usize,
) -> conform::RunReport {
    let (_server, target) = conform::reference_server::start(faults)
        .await
        .expect("the reference server starts");
    run_against(scenarios, target, &in_process(jobs)).await
}

/// `conform check --format json` of the proxy's recording in `dir/rep`: one entry per exchange.
pub fn check_recording(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let check = Command::new(BIN)
        .current_dir(dir)
        .args(["check", "--format", "json", "rep/exchanges/proxy.ndjson"])
        .output()
        .unwrap();
    let checked: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    checked.as_array().unwrap().clone()
}

/// The arguments of a `conform compare` run against in-process reference servers.
pub fn compare_args(
    reference: &str,
    targets: &[&str],
    samples: usize,
    out: &Path,
) -> conform::comparison::CompareArgs {
    conform::comparison::CompareArgs {
        reference: reference.to_string(),
        targets: targets.iter().map(|t| t.to_string()).collect(),
        config: PathBuf::from("conform.toml"),
        samples,
        budget_requests: None,
        budget_tokens: None,
        seed: 11,
        out: Some(out.to_path_buf()),
        replay: None,
        jobs: 4,
        repeats: 1,
        rpm: Vec::new(),
    }
}

pub fn compare(a: &conform::comparison::CompareArgs) -> conform::comparison::Comparison {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(conform::comparison::run(a))
        .expect("the comparison runs")
}
