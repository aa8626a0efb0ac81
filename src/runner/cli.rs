//! The top level of `conform run`: validate everything given on the command line, then load,
//! resolve, execute (events → sinks), summarise, and map the outcome to an exit code.

use super::args::{self, RunArgs, Settings};
use crate::exit;
use crate::mock;
use crate::report::sinks::{ExchangeSink, ProgressSink, ReportSink};
use crate::run::Sink;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

/// Run `conform run`; returns the exit code.
pub(crate) fn run_cli(a: &RunArgs) -> i32 {
    exit::block_on(run(a))
}

/// Resolves when SIGINT or SIGTERM arrives, noting which in `signal` (the exit code to use).
async fn interrupted(signal: Arc<AtomicI32>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal as on};
        let (Ok(mut int), Ok(mut term)) =
            (on(SignalKind::interrupt()), on(SignalKind::terminate()))
        else {
            return std::future::pending().await;
        };
        let code = tokio::select! {
            _ = int.recv() => exit::SIGINT,
            _ = term.recv() => exit::SIGTERM,
        };
        signal.store(code, Ordering::SeqCst);
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        signal.store(exit::SIGINT, Ordering::SeqCst);
    }
}

/// Check that reports can be written to `dir` before anything is sent.
fn check_report_dir(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .and_then(|_| tempfile::NamedTempFile::new_in(dir).map(drop))
        .map_err(|e| format!("--report-dir {}: not writable: {e}", dir.display()))
}

async fn run(a: &RunArgs) -> i32 {
    // The response validators compile on a core of their own while the scenarios load.
    let _ = std::thread::Builder::new()
        .name("schema-warm-up".into())
        .spawn(crate::protocol::anthropic::schema::warm_up);
    // Everything given on the command line is validated before the first request.
    let baseline = match a
        .baseline
        .as_deref()
        .map(crate::report::model::BaselineInput::read)
    {
        Some(Err(e)) => {
            eprintln!("error: --baseline: {e}");
            return exit::USAGE;
        }
        Some(Ok(b)) => Some(b),
        None => None,
    };
    if let Err(e) = check_report_dir(&a.report_dir) {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    if a.base_url.is_some() && !a.targets.is_empty() {
        eprintln!("error: --target and --base-url name different targets: give one or the other");
        return exit::USAGE;
    }
    let mut targets = match args::resolve_targets(a) {
        Ok((t, line)) => {
            eprintln!("{line}");
            t
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let (scenarios, mut file_errors, source) = match args::load_scenarios(a) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    // Scenario files from disk are linted as `conform lint` does (request bodies too), and a
    // run with a broken file sends nothing: every error is listed, then exit 2.
    if let crate::scenario::library::Source::Dir(dir)
    | crate::scenario::library::Source::BuiltinPlus { dir, .. } = &source
    {
        let bodies = crate::scenario::bodies_under(
            dir,
            &scenarios,
            &crate::protocol::anthropic::wire::lint_request_body,
        );
        for d in &bodies {
            eprintln!("{d}");
        }
        file_errors += bodies.iter().filter(|d| d.is_error()).count();
    }
    if file_errors > 0 {
        eprintln!(
            "error: {file_errors} scenario file error(s) in {source}: nothing was sent (`conform lint` checks files without running)"
        );
        return exit::USAGE;
    }
    if !a.quiet {
        eprintln!("scenarios: {source} ({} loaded)", scenarios.len());
    }
    let mut faults = Vec::new();
    for name in &a.mock_faults {
        match name.parse::<mock::Fault>() {
            Ok(f) => faults.push(f),
            Err(e) => {
                eprintln!("error: --mock-fault: {e}");
                return exit::USAGE;
            }
        }
    }
    let mut settings = Settings::from_args(a);
    if let Some(bin) = &a.claude_bin
        && !a.clients.is_empty()
        && !bin.is_file()
    {
        eprintln!("error: --claude-bin {}: no such file", bin.display());
        return exit::USAGE;
    }
    let client_selected = a.clients.iter().any(|&k| {
        crate::clients::prompts(k)
            .iter()
            .any(|p| settings.selects(p.id))
    });
    if !client_selected && !scenarios.iter().any(|s| settings.selects(s.id())) {
        eprintln!(
            "error: no scenario matches --filter {} ({} loaded; `conform list` shows them)",
            a.filter.join(" --filter "),
            scenarios.len()
        );
        return exit::USAGE;
    }
    let mut _embedded = None;
    if targets.is_empty() {
        match super::embedded::start(faults).await {
            Ok((handle, target)) => {
                _embedded = Some(handle);
                targets.push(target);
            }
            Err(e) => {
                eprintln!("error: cannot start the reference server: {e}");
                return exit::INFRA;
            }
        }
    }
    for t in &mut targets {
        t.override_limits(a.timeout.map(std::time::Duration::from_secs), a.retries);
    }
    settings.redactor = crate::target::redactor(&targets);
    if let Some(b) = &baseline {
        settings.expected_ms = b.durations();
    }
    settings.baseline = baseline;
    let redactor = settings.redactor.clone();
    let signal = Arc::new(AtomicI32::new(0));
    let mut progress = ProgressSink::new(a.quiet, std::time::Duration::from_secs(a.progress_every));
    let mut exchanges = ExchangeSink::new(&a.report_dir);
    let mut reports = ReportSink::new(&a.report_dir, redactor.clone());
    let mut sinks: [&mut dyn Sink; 3] = [&mut progress, &mut exchanges, &mut reports];
    let outcome = match super::execute(
        scenarios,
        targets,
        &settings,
        &mut sinks,
        interrupted(signal.clone()),
    )
    .await
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::text::visible(&redactor.redact(&e.to_string()))
            );
            return match e {
                super::RunError::Replay(_) => exit::USAGE,
                super::RunError::Client { .. } => exit::INFRA,
                // An output that cannot be written stops the run: what it would say is lost.
                super::RunError::Sink(_) => exit::INFRA,
            };
        }
    };
    for why in &outcome.report.stopped {
        eprintln!("error: {}", crate::text::visible(&redactor.redact(why)));
    }
    for why in &outcome.report.paused {
        eprintln!("note: {}", crate::text::visible(&redactor.redact(why)));
    }
    let opts = crate::report::terminal::TerminalOptions::detect(a.quiet);
    crate::report::terminal::print_summary(&outcome.report, Some(&a.report_dir), opts, &redactor);
    if let (Some(b), Some(path)) = (&outcome.report.baseline, &a.baseline) {
        let c = &b.comparison;
        eprintln!(
            "baseline {}: {} regression(s), {} fix(es){}",
            path.display(),
            c.regressions.len(),
            c.fixes.len(),
            if c.has_regressions() {
                format!(
                    " — the run fails on a regression, as `conform diff` does (`conform diff {} {}` groups them by cause)",
                    path.display(),
                    a.report_dir.join("report.json").display()
                )
            } else {
                String::new()
            }
        );
    }
    let code = if a.strict_docs {
        let mut strict = outcome.report.clone();
        strict.results.iter_mut().for_each(|r| r.documented = false);
        strict.exit_code(a.strict)
    } else {
        outcome.report.exit_code(a.strict)
    };
    let sig = signal.load(Ordering::SeqCst);
    if sig != 0 {
        eprintln!(
            "interrupted: partial reports written to {}",
            a.report_dir.display()
        );
        return sig;
    }
    code
}
