//! The tests that run a real client — the official Python and TypeScript SDKs, Claude Code,
//! headless Chromium, LiteLLM's proxy — as a libtest-mimic harness (`harness = false`), so that a test whose
//! client is missing is reported as **ignored, with its reason**, in the test output and in the
//! summary count, instead of passing without having checked anything:
//!
//! ```text
//! test mock_sdk::python_sdk_runs_the_seed_examples ... ignored (the Python SDK is missing: run `pip install anthropic`)
//! test result: ok. 9 passed; 0 failed; 13 ignored; 0 measured; 0 filtered out
//! not checked: 13 tests, their client is missing: …
//! ```
//!
//! With `CI` set (`.ci/run`, which installs every client) a missing client fails its test.
//! The modules stay in `tests/integration/` beside the helpers they share with that binary.

#[path = "integration/mock_support/mod.rs"]
mod mock_support;
#[path = "integration/support/mod.rs"]
mod support;

#[path = "integration/calibration/mod.rs"]
mod calibration;
#[path = "integration/capture_claude_code.rs"]
mod capture_claude_code;
#[path = "integration/client_claude_code.rs"]
mod client_claude_code;
#[path = "integration/compare_browser.rs"]
mod compare_browser;
#[path = "integration/mock_claude_code.rs"]
mod mock_claude_code;
#[path = "integration/mock_sdk.rs"]
mod mock_sdk;
#[path = "integration/proxy_sdk.rs"]
mod proxy_sdk;
#[path = "integration/report_browser.rs"]
mod report_browser;
#[path = "integration/third_party.rs"]
mod third_party;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::process::Command;

/// A client a test runs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Client {
    /// The newest Python SDK (`python3`, or `CONFORM_PYTHON`).
    PythonSdk,
    /// The newest 0.x Python SDK, in the venv tests/sdk/.venv0.
    PythonSdk0x,
    /// The newest TypeScript SDK (`@anthropic-ai/sdk` in tests/sdk) and node.
    TypeScriptSdk,
    /// The newest 0.x TypeScript SDK (`anthropic-sdk-0x` in tests/sdk) and node.
    TypeScriptSdk0x,
    /// Claude Code (tests/clients, or `CONFORM_CLAUDE`).
    ClaudeCode,
    /// Debian's headless Chromium.
    Chromium,
    /// LiteLLM's proxy, in the venv tests/thirdparty/.venv.
    LiteLlm,
}

impl Client {
    /// Why the client is missing and how to install it, or `None` when it is there.
    fn missing(self) -> Option<&'static str> {
        let present = match self {
            Client::PythonSdk => python_imports_anthropic(&mock_sdk::python()),
            Client::PythonSdk0x => python_imports_anthropic(&mock_sdk::python_0x()),
            Client::TypeScriptSdk => node_module("@anthropic-ai/sdk"),
            Client::TypeScriptSdk0x => node_module("anthropic-sdk-0x"),
            Client::ClaudeCode => support::claude::claude().is_some(),
            Client::Chromium => Path::new(report_browser::CHROMIUM).exists(),
            Client::LiteLlm => third_party::litellm().exists(),
        };
        (!present).then_some(match self {
            Client::PythonSdk => "the Python SDK is missing: run `pip install anthropic`",
            Client::PythonSdk0x => {
                "the 0.x Python SDK is missing: run `python3 -m venv tests/sdk/.venv0 && tests/sdk/.venv0/bin/pip install 'anthropic<1'`"
            }
            Client::TypeScriptSdk | Client::TypeScriptSdk0x => {
                "the TypeScript SDK is missing: run `npm install --prefix tests/sdk` (needs node)"
            }
            Client::ClaudeCode => {
                "Claude Code is missing: run `npm install --prefix tests/clients`"
            }
            Client::Chromium => "/usr/bin/chromium is missing: run `apt-get install chromium`",
            Client::LiteLlm => {
                "LiteLLM is missing: run `python3 -m venv tests/thirdparty/.venv && tests/thirdparty/.venv/bin/pip install 'litellm[proxy]'` (.ci/run pins the version)"
            }
        })
    }
}

fn python_imports_anthropic(py: &str) -> bool {
    Command::new(py)
        .args(["-c", "import anthropic"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn node_module(module: &str) -> bool {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk/node_modules")
        .join(module)
        .is_dir()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Runs an async test body on a runtime of its own (as `#[tokio::test]` would).
fn block_on<F: Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(f)
}

/// One test: its name, the clients it runs, and its body (which panics on failure).
struct Test {
    name: &'static str,
    needs: &'static [Client],
    body: fn(),
}

const fn test(name: &'static str, needs: &'static [Client], body: fn()) -> Test {
    Test { name, needs, body }
}

use Client::*;

/// The calibration runs all three official clients.
const CALIBRATION_CLIENTS: &[Client] = &[PythonSdk, TypeScriptSdk, ClaudeCode];

fn tests() -> Vec<Test> {
    vec![
        test("mock_sdk::python_sdk_runs_the_seed_examples", &[PythonSdk], || {
            block_on(mock_sdk::python_sdk_runs_the_seed_examples())
        }),
        test("mock_sdk::python_sdk_0x_runs_the_seed_examples", &[PythonSdk0x], || {
            block_on(mock_sdk::python_sdk_0x_runs_the_seed_examples())
        }),
        test("mock_sdk::typescript_sdk_runs_the_seed_examples", &[TypeScriptSdk], || {
            block_on(mock_sdk::typescript_sdk_runs_the_seed_examples())
        }),
        test("mock_sdk::typescript_sdk_0x_runs_the_seed_examples", &[TypeScriptSdk0x], || {
            block_on(mock_sdk::typescript_sdk_0x_runs_the_seed_examples())
        }),
        test(
            "mock_sdk::python_sdk_round_trips_every_block_type",
            &[PythonSdk],
            || block_on(mock_sdk::python_sdk_round_trips_every_block_type()),
        ),
        test(
            "mock_sdk::typescript_sdk_round_trips_every_block_type",
            &[TypeScriptSdk],
            || block_on(mock_sdk::typescript_sdk_round_trips_every_block_type()),
        ),
        test(
            "mock_sdk::request_schema_accepts_every_sdk_param_field",
            &[PythonSdk],
            mock_sdk::request_schema_accepts_every_sdk_param_field,
        ),
        test(
            "proxy_sdk::the_python_sdk_through_the_proxy_is_judged_like_conform_check",
            &[PythonSdk],
            proxy_sdk::the_python_sdk_through_the_proxy_is_judged_like_conform_check,
        ),
        test(
            "proxy_sdk::the_python_sdk_seed_examples_through_the_proxy",
            &[PythonSdk],
            proxy_sdk::the_python_sdk_seed_examples_through_the_proxy,
        ),
        test(
            "proxy_sdk::the_typescript_sdk_seed_examples_through_the_proxy",
            &[TypeScriptSdk],
            proxy_sdk::the_typescript_sdk_seed_examples_through_the_proxy,
        ),
        test("mock_claude_code::claude_code_says_hello_to_the_clean_mock", &[ClaudeCode], || {
            block_on(mock_claude_code::claude_code_says_hello_to_the_clean_mock())
        }),
        test("mock_claude_code::claude_code_through_the_proxy_is_judged", &[ClaudeCode], || {
            block_on(mock_claude_code::claude_code_through_the_proxy_is_judged())
        }),
        test(
            "capture_claude_code::claude_code_captured_lints_clean_and_passes",
            &[ClaudeCode],
            capture_claude_code::claude_code_captured_lints_clean_and_passes,
        ),
        test(
            "client_claude_code::claude_code_against_the_clean_mock_passes_and_its_exchanges_are_judged",
            &[ClaudeCode],
            client_claude_code::claude_code_against_the_clean_mock_passes_and_its_exchanges_are_judged,
        ),
        test(
            "client_claude_code::claude_code_against_a_truncated_stream_fails_with_evidence",
            &[ClaudeCode],
            client_claude_code::claude_code_against_a_truncated_stream_fails_with_evidence,
        ),
        test(
            "client_claude_code::without_claude_code_the_cases_are_skipped_with_a_clear_line",
            &[],
            client_claude_code::without_claude_code_the_cases_are_skipped_with_a_clear_line,
        ),
        test(
            "client_claude_code::a_client_that_does_not_finish_is_killed_and_its_case_is_an_error",
            &[],
            client_claude_code::a_client_that_does_not_finish_is_killed_and_its_case_is_an_error,
        ),
        test(
            "client_claude_code::what_a_killed_client_started_is_killed_with_it",
            &[],
            client_claude_code::what_a_killed_client_started_is_killed_with_it,
        ),
        test(
            "client_claude_code::a_client_that_fails_on_its_own_fails_its_case_with_its_stderr",
            &[],
            client_claude_code::a_client_that_fails_on_its_own_fails_its_case_with_its_stderr,
        ),
        test(
            "calibration::calibration_matches_the_committed_impact",
            CALIBRATION_CLIENTS,
            || block_on(calibration::calibration_matches_the_committed_impact()),
        ),
        test(
            "calibration::severities_agree_with_the_measured_impact",
            &[],
            calibration::severities_agree_with_the_measured_impact,
        ),
        test(
            "third_party::a_real_gateway_gets_verdicts_and_its_deviations_by_name",
            &[LiteLlm],
            third_party::a_real_gateway_gets_verdicts_and_its_deviations_by_name,
        ),
        test(
            "compare_browser::the_html_leaderboard_renders_in_a_headless_browser",
            &[Chromium],
            compare_browser::the_html_leaderboard_renders_in_a_headless_browser,
        ),
        test(
            "report_browser::report_html_in_a_headless_browser",
            &[Chromium],
            report_browser::report_html_in_a_headless_browser,
        ),
    ]
}

/// What a missing client means here: ignored with its reason, or (under `CI`) a failure.
fn missing_reason(
    needs: &[Client],
    missing: &BTreeMap<Client, Option<&'static str>>,
) -> Option<String> {
    let reasons: Vec<&str> = needs.iter().filter_map(|c| missing[c]).collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

fn main() {
    let args = Arguments::from_args();
    let ci = std::env::var_os("CI").is_some();
    let tests = tests();
    // Each client is looked for once, before any test runs.
    let mut missing: BTreeMap<Client, Option<&'static str>> = BTreeMap::new();
    for t in &tests {
        for c in t.needs {
            missing.entry(*c).or_insert_with(|| c.missing());
        }
    }
    let mut not_checked: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    let mut trials = Vec::new();
    for t in tests {
        let reason = missing_reason(t.needs, &missing);
        let selected = args.filter.as_deref().is_none_or(|f| {
            if args.exact {
                t.name == f
            } else {
                t.name.contains(f)
            }
        });
        for c in t.needs.iter().filter(|_| selected) {
            if let Some(Some(why)) = missing.get(c) {
                not_checked.entry(why).or_default().push(t.name);
            }
        }
        let body = t.body;
        trials.push(Trial::ignorable_test(t.name, move || match reason {
            Some(r) if ci => Err(Failed::from(format!(
                "{r} (CI is set, so every client must be installed: .ci/run installs them)"
            ))),
            Some(r) => Ok(Completion::ignored_with(r)),
            None => {
                body();
                Ok(Completion::Completed)
            }
        }));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if !ci && !args.list && !not_checked.is_empty() {
        println!("not checked (client missing; with CI set this is a failure):");
        for (why, names) in &not_checked {
            println!("  {} test(s): {why}", names.len());
        }
        println!();
    }
    conclusion.exit();
}
