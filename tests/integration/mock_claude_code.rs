//! Claude Code as a client of the reference server: `claude -p` against the clean mock answers
//! with text and exits 0; against faulty mocks, what it does (exit code, first stderr line, hang)
//! is recorded — the source of `docs/client-impact-claude-code.md`.
//!
//! Safety, always: a throw-away HOME and working directory, an environment cleared down to
//! PATH, `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`, every tool that writes, executes or
//! reaches the network disallowed, no permission-skipping flag, and a hard timeout after which
//! the process is killed by PID. The mock only calls a tool when the prompt names it, and these
//! prompts name none.
//!
//! Claude Code comes from npm (`npm install --prefix tests/clients`, done by `.ci/run`); set
//! CONFORM_CLAUDE to use another binary. Without it the tests print a SKIP line, except under
//! CI, where a missing install fails. `CONFORM_CLIENT_IMPACT=all` runs every fault of the
//! catalogue and rewrites the table (by default a few representative faults run and are only
//! printed).

use crate::mock_support;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conform::mock::{Fault, MockConfig, fault_catalogue};

const MODEL: &str = "claude-sonnet-4-5";
const PROMPT: &str = "Say hello";
/// Tools that write, execute, spawn agents or reach the network (the list `conform run
/// --client claude-code` uses).
const DISALLOWED: &[&str] = conform::clients::claude_code::DISALLOWED_TOOLS;
/// Startup notices that say nothing about the answer.
const NOTICES: &[&str] = &["Permission deny rule", "⚠ Claude Sonnet 4.5 was retired"];

fn claude() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CONFORM_CLAUDE") {
        return Some(PathBuf::from(p));
    }
    let local =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/node_modules/.bin/claude");
    local.is_file().then_some(local)
}

/// The binary, or None after printing a SKIP line (a failure under CI).
pub(crate) fn claude_or_skip(test: &str) -> Option<PathBuf> {
    let found = claude();
    assert!(
        found.is_some() || std::env::var_os("CI").is_none(),
        "Claude Code is not installed (`npm install --prefix tests/clients`); CI must run {test}"
    );
    if found.is_none() {
        println!(
            "SKIP {test}: Claude Code is not installed; run `npm install --prefix tests/clients` to enable"
        );
    }
    found
}

/// What one `claude -p` run did.
#[derive(Debug)]
struct Outcome {
    exit: Option<i32>,
    hung: bool,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Outcome {
    fn first_line(text: &str) -> String {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !NOTICES.iter().any(|n| l.starts_with(n)))
            .unwrap_or("")
            .chars()
            .take(120)
            .collect()
    }
}

/// Runs `claude -p PROMPT` against `base`, sandboxed, killed after `limit`.
fn run_claude(bin: &PathBuf, base: &str, limit: Duration) -> Outcome {
    let home = tempfile::tempdir().expect("temp HOME");
    let cwd = tempfile::tempdir().expect("temp cwd");
    let out_path = cwd.path().join(".out");
    let err_path = cwd.path().join(".err");
    let mut child = Command::new(bin)
        .args(["-p", PROMPT, "--model", MODEL, "--disallowedTools"])
        .args(DISALLOWED)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home.path())
        .env("ANTHROPIC_BASE_URL", base)
        .env("ANTHROPIC_API_KEY", mock_support::KEY)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("claude starts");
    let start = Instant::now();
    let (exit, hung) = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break (status.code(), false);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Outcome {
        exit,
        hung,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_says_hello_to_the_clean_mock() {
    let Some(bin) = claude_or_skip("claude_code_says_hello_to_the_clean_mock") else {
        return;
    };
    let m = mock_support::start(MockConfig::default()).await;
    let base = m.base_url();
    let o = tokio::task::spawn_blocking(move || run_claude(&bin, &base, Duration::from_secs(90)))
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

/// Faults run by default: one per layer (event grammar, framing, errors, thinking, transport).
const DEFAULT_FAULTS: &[Fault] = &[
    Fault::NoMessageStop,
    Fault::DataOnlyEvents,
    Fault::WrongDeltaType,
    Fault::NoSignature,
    Fault::TruncatedStream,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_under_faults_is_recorded() {
    let Some(bin) = claude_or_skip("claude_code_under_faults_is_recorded") else {
        return;
    };
    let all = std::env::var("CONFORM_CLIENT_IMPACT").is_ok_and(|v| v == "all");
    let faults: Vec<Fault> = if all {
        fault_catalogue().iter().map(|i| i.fault).collect()
    } else {
        DEFAULT_FAULTS.to_vec()
    };
    let limit = Duration::from_secs(if all { 45 } else { 30 });
    let mut rows = Vec::new();
    // Three at a time: each run is a process of its own against its own mock.
    for group in faults.chunks(3) {
        let mut runs = Vec::new();
        for &fault in group {
            let m = mock_support::start_with(&[fault]).await;
            let base = m.base_url();
            let bin = bin.clone();
            runs.push((
                fault,
                m,
                tokio::task::spawn_blocking(move || run_claude(&bin, &base, limit)),
            ));
        }
        for (fault, m, run) in runs {
            let o = run.await.unwrap();
            drop(m);
            assert!(
                o.elapsed < limit + Duration::from_secs(10),
                "{fault}: not stopped"
            );
            rows.push((fault, o));
        }
    }
    let mut table = String::from(
        "| fault | exit | hang | stdout (first line) | stderr (first line) |\n|---|---|---|---|---|\n",
    );
    for (fault, o) in &rows {
        let cell = |s: String| s.replace('|', "\\|");
        table.push_str(&format!(
            "| `{fault}` | {} | {} | {} | {} |\n",
            o.exit.map_or("killed".to_string(), |c| c.to_string()),
            if o.hung {
                format!("yes (killed after {} s)", limit.as_secs())
            } else {
                format!("no ({:.1} s)", o.elapsed.as_secs_f64())
            },
            cell(Outcome::first_line(&o.stdout)),
            cell(Outcome::first_line(&o.stderr)),
        ));
    }
    println!("{table}");
    if all {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/client-impact-claude-code.md");
        let doc = std::fs::read_to_string(&path).unwrap_or_default();
        let marker = "<!-- table: written by tests/mock_claude_code.rs -->";
        let head = doc.split(marker).next().unwrap_or_default();
        std::fs::write(&path, format!("{head}{marker}\n{table}")).expect("write the table");
    }
}

/// Claude Code through `conform proxy` to the clean reference server: its output is the
/// same as without the proxy, every exchange it made is judged, `conform check` of the
/// recording agrees, and the recording shows Claude Code's request shapes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_through_the_proxy_is_judged() {
    let Some(bin) = claude_or_skip("claude_code_through_the_proxy_is_judged") else {
        return;
    };
    let m = mock_support::start(MockConfig::default()).await;
    let base = m.base_url();
    let conform = env!("CARGO_BIN_EXE_conform");
    let dir = tempfile::tempdir().expect("temp dir");
    let rep = dir.path().join("rep");
    let home = tempfile::tempdir().expect("temp HOME");
    let rep2 = rep.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(conform)
            .args(["proxy", "--upstream", &base, "--report-dir"])
            .arg(&rep2)
            .arg("--")
            .arg(&bin)
            .args(["-p", PROMPT, "--model", MODEL, "--disallowedTools"])
            .args(DISALLOWED)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", home.path())
            .env("ANTHROPIC_API_KEY", mock_support::KEY)
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_AUTOUPDATER", "1")
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
