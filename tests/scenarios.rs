//! Every scenario × mode as a test (libtest-mimic), so `cargo test` and `cargo nextest run`
//! check an endpoint with the usual test output.
//!
//! By default the tests run against the built-in reference server; set `CONFORM_TARGET=NAME`
//! to run them against a target of `conform.toml` (`CONFORM_CONFIG` for another file). Each
//! test also compares the result's normalised shape with `snapshots/<target>/…` and honours
//! `INSTA_UPDATE` and `CI` like insta does (no `.snap.new` files in CI).
//!
//! A `CONFORM_TARGET` that cannot be reached (a name that does not resolve, a port that
//! refuses) stops the harness before any test, with the cause and exit code 3, as `conform
//! run` does — instead of every test retrying its way to an error.

use conform::Client;
use conform::Config;
use conform::Mode;
use conform::Snapshots;
use conform::Target;
use conform::Transport;
use conform::Verdict;
use conform::judge::Profile;
use conform::run_case;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::PathBuf;
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target of this test run and, for the embedded one, the server that must stay alive.
fn target(
    rt: &tokio::runtime::Runtime,
) -> Result<(Target, Option<conform::reference_server::MockHandle>), String> {
    match std::env::var("CONFORM_TARGET") {
        Ok(name) => {
            let file = std::env::var_os("CONFORM_CONFIG")
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("conform.toml"));
            let config = Config::load(&file).map_err(|e| e.to_string())?;
            let mut targets = config.resolve(&name).map_err(|e| e.to_string())?;
            Ok((targets.remove(0), None))
        }
        Err(_) => {
            let (handle, target) = rt
                .block_on(conform::reference_server::start(Vec::new()))
                .map_err(|e| e.to_string())?;
            Ok((target, Some(handle)))
        }
    }
}

fn main() {
    let args = Arguments::from_args();
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let (scenarios, diagnostics) = conform::load_dir(&root().join("scenarios"));
    let mut trials = Vec::new();
    for d in diagnostics.iter().filter(|d| d.is_error()) {
        let message = d.to_string();
        trials.push(
            Trial::test(format!("scenario-file {}", d.location()), move || {
                Err(Failed::from(message))
            })
            .with_kind("lint"),
        );
    }
    if std::env::var_os("CONFORM_TARGET").is_none() {
        trials.push(
            Trial::test(
                "harness: an unreachable CONFORM_TARGET stops before any test",
                unreachable_target_stops_the_harness,
            )
            .with_kind("harness"),
        );
    }
    let (target, _server) = match target(&rt) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if let Err(cause) = rt.block_on(conform::reachable(&target.base_url)) {
        eprintln!(
            "error: target {} at {} cannot be reached: {cause}; no scenario was sent",
            target.name, target.base_url
        );
        std::process::exit(3);
    }
    let client = Transport::Http {
        client: Arc::new(
            Client::for_base_url(&target.base_url, &target.timeouts).expect("HTTP client"),
        ),
        max_body: conform::DEFAULT_MAX_BODY,
    };
    let target = Arc::new(target);
    let snapshots = Arc::new(Snapshots::new(root().join("snapshots"), false));
    for scenario in scenarios {
        let scenario = Arc::new(scenario);
        for &mode in scenario.modes() {
            let (rt, client, target, scenario, snapshots) = (
                rt.clone(),
                client.clone(),
                target.clone(),
                scenario.clone(),
                snapshots.clone(),
            );
            let name = format!("{}@{}", scenario.id(), mode.as_str());
            trials.push(
                Trial::test(name, move || {
                    run_trial(&rt, &client, &target, &scenario, mode, &snapshots)
                })
                .with_kind("scenario"),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn run_trial(
    rt: &tokio::runtime::Runtime,
    client: &Transport,
    target: &Target,
    scenario: &conform::Scenario,
    mode: Mode,
    snapshots: &Snapshots,
) -> Result<(), Failed> {
    let redactor = conform::redactor(std::slice::from_ref(target));
    let run = rt.block_on(run_case(
        scenario,
        target,
        mode,
        client,
        Profile::Strict,
        &redactor,
    ));
    let expected = target.expects_unsupported(scenario.id(), scenario.feature().as_str());
    let mut problems = Vec::new();
    let v = run.verdict();
    if conform::is_failure(v, expected, false) || v == Verdict::Error {
        problems.push(format!(
            "verdict {}{}",
            v,
            run.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
        problems.extend(
            run.findings
                .iter()
                .filter(|f| f.severity() != conform::Severity::Info)
                .map(|f| format!("  {f}")),
        );
    }
    if let Some((_, Some(f))) = snapshots.compare(scenario, target, mode, &run)
        && (f.severity() != conform::Severity::Info
            || f.check == conform::catalogue::ids::SNAPSHOT_NEW && std::env::var_os("CI").is_some())
    {
        problems.push(format!(
            "{}: {}\n{}\n(accept with `conform run --update-snapshots` or \
             `INSTA_UPDATE=always cargo test --test scenarios`)",
            f.check,
            f.message,
            f.actual.unwrap_or_default()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failed::from(format!(
            "{} ({})\n{}",
            scenario.id(),
            file_of(scenario),
            problems.join("\n")
        )))
    }
}

fn file_of(s: &conform::Scenario) -> String {
    s.file()
        .strip_prefix(root())
        .unwrap_or(s.file())
        .display()
        .to_string()
}

/// Issue 24, point 11: this harness run again with `CONFORM_TARGET` naming a target whose port
/// refuses: it exits 3 with the cause before any test, instead of every test retrying (it used
/// to take 105 s per case, labelled "rate limited"). The time is not asserted (no timed tests):
/// the output must show that no test ran.
fn unreachable_target_stops_the_harness() -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    // A port that was free a moment ago: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let config = dir.path().join("conform.toml");
    std::fs::write(
        &config,
        format!("[targets.gone]\nbase_url = \"http://127.0.0.1:{port}\"\nmodel = \"m\"\n"),
    )
    .map_err(|e| e.to_string())?;
    let out = std::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .env("CONFORM_TARGET", "gone")
        .env("CONFORM_CONFIG", &config)
        .env("CONFORM_API_KEY", "k")
        .arg("--test-threads=1")
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!(
        "error: target gone at http://127.0.0.1:{port} cannot be reached: cannot connect to 127.0.0.1:{port}"
    );
    if out.status.code() != Some(3) || !stderr.contains(&expected) || stdout.contains("test ") {
        return Err(Failed::from(format!(
            "expected exit 3, `{expected}…` and no test run; got {:?}\nstderr: {stderr}\nstdout: {stdout}",
            out.status.code()
        )));
    }
    Ok(())
}
