//! The top level of `conform run`: load, resolve, execute, write, summarise, exit code.

use super::args::{self, RunArgs, Settings};
use crate::exit;
use crate::mock;

/// Run `conform run`; returns the exit code.
pub fn run_cli(a: &RunArgs) -> i32 {
    exit::block_on(run(a))
}

async fn run(a: &RunArgs) -> i32 {
    let (scenarios, file_errors) = match args::load_scenarios(&a.scenarios) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
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
    let mut targets = match args::resolve_targets(a) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
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
    let redactor = crate::target::redactor(&targets);
    let settings = Settings::from_args(a);
    let stop = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let mut outcome = super::execute(scenarios, targets, &settings, stop).await;
    if let Some(base) = &a.baseline {
        match crate::diff::read_report(base) {
            Ok(base_json) => {
                let new_json = serde_json::to_value(&outcome.report).unwrap_or_default();
                let cmp = crate::diff::compare_reports(&base_json, &new_json);
                outcome.report.baseline = Some(serde_json::json!({
                    "file": base.display().to_string(),
                    "markdown": crate::diff::render(&cmp, crate::diff::Format::Md),
                    "regressions": cmp.regressions.len(),
                }));
            }
            Err(e) => {
                eprintln!("error: --baseline {}: {e}", base.display());
                return exit::USAGE;
            }
        }
    }
    let mut write_failed = false;
    if let Err(e) = crate::report::write_all(&outcome.report, &a.report_dir, &redactor) {
        eprintln!("error: writing reports to {}: {e}", a.report_dir.display());
        write_failed = true;
    }
    for (target, xs) in &outcome.exchanges {
        let path = super::exchange_file(&a.report_dir, target);
        if let Err(e) = crate::exchange::write_ndjson(&path, xs, &redactor) {
            eprintln!("error: writing {}: {e}", path.display());
            write_failed = true;
        }
    }
    let opts = crate::report::terminal::TerminalOptions::detect(a.quiet);
    crate::report::terminal::print_summary(&outcome.report, Some(&a.report_dir), opts, &redactor);
    let code = outcome.report.exit_code(a.strict);
    if file_errors > 0 {
        eprintln!("error: {file_errors} scenario file error(s); those scenarios did not run");
        return exit::USAGE;
    }
    if write_failed && code == exit::OK {
        return exit::INFRA;
    }
    code
}
