//! A real third-party gateway, offline: LiteLLM's proxy (`litellm[proxy]`, pinned in .ci/run,
//! installed into tests/thirdparty/.venv) serves `/v1/messages` in two ways real deployments
//! use — passing Anthropic traffic through to an Anthropic upstream (here the reference
//! server), and translating to an OpenAI-style backend (here LiteLLM's own `mock_response`,
//! an echo-style backend as gateways' test setups use). conform runs the whole library against
//! each: at least 90% of the results get a verdict other than `error`/`skip` (issue 22), and
//! the gateway's known deviations come out under their own names. Run by the `clients` harness
//! (tests/clients.rs): ignored with the reason when LiteLLM is not installed, a failure under CI.

use crate::support::{BIN, CANARY, Mock, without_proxy_env};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The gateway's own key (LiteLLM's master key), as a client sends it.
const GATEWAY_KEY: &str = "sk-gateway-4c1d8e";
/// LiteLLM starts in ~10–40 s on a busy 2-core machine; give it a bounded while.
const START_WITHIN: Duration = Duration::from_secs(180);

pub(crate) fn litellm() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/thirdparty/.venv/bin/litellm")
}

/// A LiteLLM proxy process on a free loopback port, killed by its PID on drop.
struct Gateway {
    child: Child,
    base_url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Start LiteLLM with a model passed through to `upstream` (the reference server) and a model
/// translated from LiteLLM's OpenAI mock backend; wait until it answers.
fn start_gateway(upstream: &str) -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "model_list:\n  - model_name: claude-sonnet-4-5\n    litellm_params:\n      model: anthropic/claude-sonnet-4-5\n      api_base: {upstream}\n      api_key: {CANARY}\n  - model_name: gpt-translated\n    litellm_params:\n      model: openai/gpt-4o-mini\n      api_base: http://127.0.0.1:9/v1\n      api_key: sk-unused\n      mock_response: \"alpha bravo charlie delta echo foxtrot\"\ngeneral_settings:\n  master_key: {GATEWAY_KEY}\n"
    );
    std::fs::write(dir.path().join("config.yaml"), config).unwrap();
    let port = free_port();
    let mut cmd = Command::new(litellm());
    cmd.current_dir(dir.path())
        .args(["--config", "config.yaml", "--host", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        // The model cost map from the package, not the network.
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("HOME", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    without_proxy_env(&mut cmd);
    let child = cmd.spawn().expect("start litellm");
    let gateway = Gateway {
        child,
        base_url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let started = Instant::now();
    while started.elapsed() < START_WITHIN {
        let probe = std::net::TcpStream::connect(("127.0.0.1", port));
        if probe.is_ok() {
            return gateway;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("litellm did not listen on port {port} within {START_WITHIN:?}");
}

/// Run the library against the gateway's `model`; the report.
fn run(gateway: &Gateway, model: &str, out: &Path) -> Value {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--quiet", "--no-snapshots", "--jobs", "4"])
        .args(["--base-url", &gateway.base_url, "--model", model])
        .args(["--api-key-env", "CONFORM_GATEWAY_KEY"])
        .arg("--report-dir")
        .arg(out)
        .env("CONFORM_GATEWAY_KEY", GATEWAY_KEY)
        .env_remove("CI");
    without_proxy_env(&mut cmd);
    let output = cmd.output().expect("run conform");
    let report = std::fs::read_to_string(out.join("report.json")).unwrap_or_else(|e| {
        panic!(
            "no report.json ({e}); exit {:?}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    serde_json::from_str(&report).unwrap()
}

/// The share of results judged (not `error`, not `skip`), and the results that were not.
fn judged(report: &Value) -> (f64, Vec<String>) {
    let results = report["results"].as_array().unwrap();
    let unjudged: Vec<String> = results
        .iter()
        .filter(|r| matches!(r["verdict"].as_str(), Some("error" | "skip")))
        .map(|r| format!("{}@{} {}", r["scenario"], r["mode"], r["verdict"]))
        .collect();
    let share = 1.0 - unjudged.len() as f64 / results.len().max(1) as f64;
    (share, unjudged)
}

fn checks(report: &Value) -> BTreeSet<String> {
    report["deviations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["check"].as_str().map(str::to_string))
        .collect()
}

pub(crate) fn a_real_gateway_gets_verdicts_and_its_deviations_by_name() {
    let upstream = Mock::start(&[]);
    let gateway = start_gateway(&upstream.base_url);
    let dir = tempfile::tempdir().unwrap();

    // Passed through to an Anthropic upstream.
    let through = run(&gateway, "claude-sonnet-4-5", &dir.path().join("through"));
    let (share, unjudged) = judged(&through);
    assert!(
        share >= 0.9,
        "pass-through: {:.0}% judged; not judged: {unjudged:?}",
        share * 100.0
    );
    let found = checks(&through);
    for want in [
        // count_tokens answers carry LiteLLM's own `litellm_count_source`.
        "schema.unknown-field",
        // A request without a key is answered 500 (text), not 401.
        "http.server-error",
        // GET /v1/models/{id} answers an object without `type`.
        "schema.model",
    ] {
        assert!(
            found.contains(want),
            "pass-through: {want} missing in {found:?}"
        );
    }

    // Translated from an OpenAI-style echo backend.
    let translated = run(&gateway, "gpt-translated", &dir.path().join("translated"));
    let (share, unjudged) = judged(&translated);
    assert!(
        share >= 0.9,
        "translated: {:.0}% judged; not judged: {unjudged:?}",
        share * 100.0
    );
    let found = checks(&translated);
    for want in [
        // The mock backend answers every request with one fixed id.
        "message.id-reused",
        // The translated usage lacks the cache counts Anthropic always sends.
        "schema.missing-field",
        // Forced tools and enabled thinking have no effect on an echo backend.
        "effect.tool-choice",
        "effect.thinking",
    ] {
        assert!(
            found.contains(want),
            "translated: {want} missing in {found:?}"
        );
    }
    eprintln!(
        "pass-through: {} results, translated: {} results",
        through["results"].as_array().unwrap().len(),
        translated["results"].as_array().unwrap().len()
    );
}
