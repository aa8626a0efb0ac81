//! The runner: `conform run`. Loads scenario files, resolves targets (or starts the reference
//! server in-process when none is given), runs every scenario × target × mode with bounded
//! concurrency, judges each case, compares snapshots, and writes the reports.
//!
//! The runner only produces results; the report sinks under [`crate::report`] turn them into
//! files, and the terminal summary is one more sink.

pub mod args;
pub mod case;
mod cli;
pub mod embedded;
pub mod request;
pub mod snapshots;

pub use args::RunArgs;
pub use cli::run_cli;

use crate::exchange::Exchange;
use crate::http::client::Client;
use crate::report::model::{ResultRecord, RunReport, TargetInfo};
use crate::scenario::Scenario;
use crate::scenario::model::Mode;
use crate::target::Target;
use crate::verdict::{self, Verdict};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

/// One unit of work: a scenario against a target in a mode.
#[derive(Clone)]
struct Case {
    scenario: Arc<Scenario>,
    target: Arc<Target>,
    mode: Mode,
}

/// What the run produced, for the CLI and for tests.
pub struct RunOutcome {
    pub report: RunReport,
    pub exchanges: BTreeMap<String, Vec<Exchange>>,
    pub interrupted: bool,
}

/// Run `cases` with at most `jobs` at once, each repeated `repeat` times; stops early (keeping
/// what finished) when `stop` resolves.
async fn run_cases(
    cases: Vec<Case>,
    settings: &args::Settings,
    snapshots: Option<&snapshots::Snapshots>,
    progress: &indicatif::ProgressBar,
    stop: impl std::future::Future<Output = ()>,
) -> (Vec<(ResultRecord, Vec<Exchange>)>, bool) {
    let semaphore = Arc::new(Semaphore::new(settings.jobs.max(1)));
    let mut clients: BTreeMap<String, Result<Arc<Client>, String>> = BTreeMap::new();
    let mut set = tokio::task::JoinSet::new();
    let mut done: Vec<(usize, ResultRecord, Vec<Exchange>)> = Vec::new();
    for (order, case) in cases.into_iter().enumerate() {
        let client = clients
            .entry(case.target.name.clone())
            .or_insert_with(|| {
                Client::for_base_url(&case.target.base_url, &case.target.timeouts)
                    .map(Arc::new)
                    .map_err(|e| format!("cannot create the HTTP client: {e}"))
            })
            .clone();
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                let run = case::CaseRun::infra_error(e);
                let (record, xs) = finish_case(&case, vec![run], None);
                progress.inc(1);
                done.push((order, record, xs));
                continue;
            }
        };
        let semaphore = semaphore.clone();
        let profile = settings.profile;
        let repeat = settings.repeat.max(1);
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let mut runs = Vec::new();
            for _ in 0..repeat {
                runs.push(
                    case::run_case(&case.scenario, &case.target, case.mode, &client, profile).await,
                );
            }
            (order, case, runs)
        });
    }
    tokio::pin!(stop);
    let mut interrupted = false;
    loop {
        tokio::select! {
            next = set.join_next() => {
                let Some(joined) = next else { break };
                let Ok((order, case, runs)) = joined else { continue };
                let (record, exchanges) = finish_case(&case, runs, snapshots);
                progress.inc(1);
                done.push((order, record, exchanges));
            }
            _ = &mut stop => {
                interrupted = true;
                set.abort_all();
                break;
            }
        }
    }
    done.sort_by_key(|(order, _, _)| *order);
    (
        done.into_iter().map(|(_, r, x)| (r, x)).collect(),
        interrupted,
    )
}

/// Turn the runs of a case into its result record: repeats combined, snapshot compared.
fn finish_case(
    case: &Case,
    mut runs: Vec<case::CaseRun>,
    snapshots: Option<&snapshots::Snapshots>,
) -> (ResultRecord, Vec<Exchange>) {
    let mut first = runs.remove(0);
    let mut snapshot = None;
    if let Some(store) = snapshots
        && let Some((info, finding)) =
            store.compare(&case.scenario, &case.target, case.mode, &first)
    {
        first.findings.extend(finding);
        snapshot = Some(info);
    }
    let verdicts: Vec<Verdict> = std::iter::once(&first)
        .chain(&runs)
        .map(case::CaseRun::verdict)
        .collect();
    let verdict = verdict::combine_repeats(&verdicts);
    let exchanges: Vec<Exchange> = std::iter::once(&mut first)
        .chain(&mut runs)
        .flat_map(|r| r.steps.drain(..).map(|s| s.exchange))
        .collect();
    let scenario = &case.scenario;
    let record = ResultRecord {
        target: case.target.name.clone(),
        scenario: scenario.id().to_string(),
        feature: scenario.feature().as_str().to_string(),
        title: scenario.title().to_string(),
        mode: case.mode.as_str().to_string(),
        verdict,
        expected: case
            .target
            .expects_unsupported(scenario.id(), scenario.feature().as_str())
            && verdict != Verdict::Pass,
        findings: first.findings,
        timing: first.timing,
        attempts: first.attempts,
        snapshot,
        error: first.error,
    };
    (record, exchanges)
}

/// Plan the cases: every selected scenario, in each of its modes (optionally one mode only),
/// against every target.
fn plan(
    scenarios: &[Arc<Scenario>],
    targets: &[Arc<Target>],
    settings: &args::Settings,
) -> Vec<Case> {
    let mut cases = Vec::new();
    for target in targets {
        for s in scenarios {
            if !settings.selects(s.id()) {
                continue;
            }
            for &mode in s.modes() {
                if settings.mode.is_some_and(|m| m != mode) {
                    continue;
                }
                cases.push(Case {
                    scenario: s.clone(),
                    target: target.clone(),
                    mode,
                });
            }
        }
    }
    cases
}

/// Run scenarios against targets and build the report (no files written).
pub async fn execute(
    scenarios: Vec<Scenario>,
    targets: Vec<Target>,
    settings: &args::Settings,
    stop: impl std::future::Future<Output = ()>,
) -> RunOutcome {
    let started = Instant::now();
    let scenarios: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    let targets: Vec<Arc<Target>> = targets.into_iter().map(Arc::new).collect();
    let mut report = RunReport::new(
        targets
            .iter()
            .map(|t| TargetInfo::from(t.as_ref()))
            .collect(),
    );
    let cases = plan(&scenarios, &targets, settings);
    let progress = crate::report::terminal::progress_bar(cases.len() as u64, settings.quiet);
    let store = settings
        .snapshots_dir
        .as_ref()
        .map(|dir| snapshots::Snapshots::new(dir.clone(), settings.update_snapshots));
    let (results, interrupted) = run_cases(cases, settings, store.as_ref(), &progress, stop).await;
    progress.finish_and_clear();
    let mut exchanges: BTreeMap<String, Vec<Exchange>> = BTreeMap::new();
    for (record, xs) in results {
        exchanges
            .entry(record.target.clone())
            .or_default()
            .extend(xs);
        report.push(record);
    }
    report.finish(started.elapsed(), interrupted);
    RunOutcome {
        report,
        exchanges,
        interrupted,
    }
}

/// Where the run writes its files.
pub fn exchange_file(report_dir: &std::path::Path, target: &str) -> PathBuf {
    let safe = crate::fsutil::safe_name(target, "._-");
    report_dir.join("exchanges").join(format!("{safe}.ndjson"))
}

/// Request-body validation for `conform lint`: a scenario's body must be a valid request for
/// its path (the protocol's request schema), except for `video` blocks, the seed provider's
/// extension that scenarios send on purpose.
pub fn lint_request_body(path: &str, body: &serde_json::Value) -> Vec<crate::check::Finding> {
    use crate::protocol::anthropic::schema::{self, Shape};
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    let shape = if path.ends_with("/v1/messages/count_tokens") {
        Shape::CountTokensRequest
    } else if path.ends_with("/v1/messages") {
        Shape::Request
    } else {
        return Vec::new();
    };
    let mut body = body.clone();
    if let Some(messages) = body
        .get_mut("messages")
        .and_then(serde_json::Value::as_array_mut)
    {
        for m in messages {
            if let Some(blocks) = m
                .get_mut("content")
                .and_then(serde_json::Value::as_array_mut)
            {
                blocks
                    .retain(|b| b.get("type").and_then(serde_json::Value::as_str) != Some("video"));
            }
        }
    }
    schema::validate(shape, &body)
}
