//! The official SDKs run the seed provider's examples against the mock: Python `anthropic`
//! (tests/sdk/check_python.py) and TypeScript `@anthropic-ai/sdk` (tests/sdk/check_ts.mjs,
//! installed by `npm install --prefix tests/sdk`), each in its newest 2.x/1.x and its newest
//! 0.x (Python from the venv tests/sdk/.venv0; TypeScript aliased `anthropic-sdk-0x`). Run by
//! the `clients` harness (tests/clients.rs), which reports a test whose SDK is not installed as
//! ignored with the reason (a failure under CI, which installs them all: .ci/run). Set
//! CONFORM_PYTHON to use another interpreter for the newest SDK.

use crate::mock_support;
use std::process::Command;

use conform::reference_server::MockConfig;

/// An SDK script run against the mock at `base`, with no proxy in the way of loopback.
fn sdk_command(program: &str, base: &str) -> Command {
    let mut c = Command::new(program);
    c.env("CONFORM_BASE_URL", base)
        .env("CONFORM_API_KEY", mock_support::KEY)
        .env("CONFORM_MODEL", "qwen3.7-plus");
    crate::support::without_proxy_env(&mut c);
    c
}

pub(crate) fn python() -> String {
    std::env::var("CONFORM_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// The interpreter of the venv holding the newest 0.x Python SDK (.ci/run creates it).
pub(crate) fn python_0x() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/.venv0/bin/python").to_string()
}

/// Runs the script tests/sdk/`script` with `py` against a fresh mock; it must print `done`.
async fn run_python_script(test: &str, py: String, script: &str, done: &str) {
    let m = mock_support::start(MockConfig {
        models: vec![
            "conform-mock".into(),
            "qwen3.7-plus".into(),
            "deepseek-v4-pro".into(),
        ],
        ..MockConfig::default()
    })
    .await;
    let base = m.base_url();
    let script = format!("{}/tests/sdk/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::task::spawn_blocking(move || sdk_command(&py, &base).arg(script).output())
        .await
        .expect("join")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{test}: SDK checks failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(done), "{stdout}");
}

/// Runs tests/sdk/check_python.py with `py` against a fresh mock.
async fn run_python_checks(test: &str, py: String) {
    run_python_script(test, py, "check_python.py", "checks passed").await;
}

pub(crate) async fn python_sdk_runs_the_seed_examples() {
    run_python_checks("python_sdk_runs_the_seed_examples", python()).await;
}

/// The newest 0.x Python SDK (x-api-key auth, anthropic-version 2023-06-01), from the venv
/// tests/sdk/.venv0 that .ci/run creates.
pub(crate) async fn python_sdk_0x_runs_the_seed_examples() {
    run_python_checks("python_sdk_0x_runs_the_seed_examples", python_0x()).await;
}

/// Runs tests/sdk/check_ts.mjs with the package `module` (installed in tests/sdk).
async fn run_ts_checks(test: &str, module: &'static str) {
    run_ts_script(test, module, "check_ts.mjs").await;
}

/// Runs the script tests/sdk/`script` with the package `module` against a fresh mock.
async fn run_ts_script(test: &str, module: &'static str, script: &'static str) {
    let sdk_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk");
    let m = mock_support::start(MockConfig {
        models: vec!["conform-mock".into(), "qwen3.7-plus".into()],
        ..MockConfig::default()
    })
    .await;
    let base = m.base_url();
    let out = tokio::task::spawn_blocking(move || {
        sdk_command("node", &base)
            .env("CONFORM_SDK_PATH", module)
            .arg(script)
            .current_dir(sdk_dir)
            .output()
    })
    .await
    .expect("join")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{test}: TypeScript SDK checks failed:\n{stdout}\n{stderr}"
    );
}

pub(crate) async fn typescript_sdk_runs_the_seed_examples() {
    run_ts_checks("typescript_sdk_runs_the_seed_examples", "@anthropic-ai/sdk").await;
}

/// The newest 0.x TypeScript SDK, installed beside 1.x under the alias `anthropic-sdk-0x`
/// (tests/sdk/package.json).
pub(crate) async fn typescript_sdk_0x_runs_the_seed_examples() {
    run_ts_checks(
        "typescript_sdk_0x_runs_the_seed_examples",
        "anthropic-sdk-0x",
    )
    .await;
}

/// Issue 25: the newest Python SDK parses every block type of today's API the reference server
/// answers with (thinking, redacted_thinking, server tool calls and results, every citation
/// location, pause_turn, a refusal's stop_details) and passes each answer back as the next
/// turn, which is accepted (tests/sdk/roundtrip_python.py over tests/sdk/roundtrip_cases.json).
pub(crate) async fn python_sdk_round_trips_every_block_type() {
    run_python_script(
        "python_sdk_round_trips_every_block_type",
        python(),
        "roundtrip_python.py",
        "round trips passed",
    )
    .await;
}

/// The same round trips with the newest TypeScript SDK (tests/sdk/roundtrip_ts.mjs).
pub(crate) async fn typescript_sdk_round_trips_every_block_type() {
    run_ts_script(
        "typescript_sdk_round_trips_every_block_type",
        "@anthropic-ai/sdk",
        "roundtrip_ts.mjs",
    )
    .await;
}

/// The embedded request schema (the one `conform lint` and the mock use) accepts every field of
/// the Python SDK's request `*Param` types: tests/sdk/param_samples.py builds bodies that fill
/// every key of every TypedDict reachable from `MessageCreateParams` (and the beta one).
pub(crate) fn request_schema_accepts_every_sdk_param_field() {
    use conform::Severity;
    use conform::judge::Shape;
    use conform::judge::validate;
    let py = python();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/param_samples.py");
    let out = Command::new(&py).arg(script).output().expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let requests = doc["requests"].as_array().unwrap();
    assert!(doc["types"].as_u64().unwrap() > 50, "{}", doc["types"]);
    let mut failures = Vec::new();
    for r in requests {
        for f in validate(Shape::Request, &r["body"]) {
            if f.severity() == Severity::Must {
                failures.push(format!("{}: {} {}", r["name"], f.location, f.message));
            }
        }
    }
    println!(
        "anthropic {}: {} request bodies over {} Param types",
        doc["sdk"],
        requests.len(),
        doc["types"]
    );
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} rejections:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
