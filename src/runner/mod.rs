//! The runner: `conform run`. Loads scenario files, resolves targets (or starts the reference
//! server in-process when none is given), runs every scenario × target × mode with bounded
//! concurrency, judges each case, compares snapshots, and writes the reports.
//!
//! The runner only produces results; the report sinks under [`crate::report`] turn them into
//! files, and the terminal summary is one more sink.

pub mod args;
pub(crate) mod bench;
pub mod case;
mod cli;
pub mod embedded;
mod live;
mod mode_agreement;
mod preflight;
pub mod request;
mod reused_ids;
pub mod snapshots;
mod transport;

pub use args::RunArgs;
pub use cli::run_cli;
pub(crate) use preflight::reachable;
pub use transport::{ReplayError, Replayer, Transport};

use crate::exchange::Recorder;
use crate::exchange::spool::Spool;
use crate::http::client::Client;
use crate::report::events::{RunEvent, Sink};
use crate::report::model::{ResultRecord, RunReport, TargetInfo};
use crate::scenario::Scenario;
use crate::scenario::model::Mode;
use crate::target::Target;
use crate::verdict::{self, Verdict};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Semaphore, mpsc};

/// One unit of work: a scenario against a target in a mode.
#[derive(Clone)]
struct Case {
    scenario: Arc<Scenario>,
    target: Arc<Target>,
    mode: Mode,
}

impl Case {
    fn name(&self) -> String {
        format!("{}@{}", self.scenario.id(), self.mode.as_str())
    }

    /// Steps that run in this case's mode: the scheduling weight.
    fn steps(&self) -> usize {
        self.scenario
            .doc
            .steps
            .iter()
            .filter(|s| s.value.runs_in(self.mode))
            .count()
    }
}

/// What the run produced: the final report and the errors of sinks that failed.
pub struct RunOutcome {
    pub report: RunReport,
    pub sink_errors: Vec<String>,
}

/// Feeds events to every sink; a failing sink is reported once and then left out.
struct Sinks<'a, 'b> {
    sinks: &'a mut [&'b mut dyn Sink],
    failed: Vec<Option<String>>,
}

impl Sinks<'_, '_> {
    fn emit(&mut self, e: &RunEvent<'_>) {
        for (i, s) in self.sinks.iter_mut().enumerate() {
            if self.failed[i].is_none()
                && let Err(err) = s.event(e)
            {
                self.failed[i] = Some(err.to_string());
            }
        }
    }
}

/// A finished case task: its runs and its recorded exchanges.
type CaseDone = (Vec<case::CaseRun>, Option<Spool>);

/// Run one case (`repeat` times), recording its exchanges into a spool of its own.
async fn run_one(case: &Case, transport: &Transport, settings: &args::Settings) -> CaseDone {
    let mut recorder = Recorder::to_writer(BufWriter::new(Spool::new()), &settings.redactor);
    let mut runs = Vec::new();
    for _ in 0..settings.repeat.max(1) {
        runs.push(
            case::run_case(
                &case.scenario,
                &case.target,
                case.mode,
                transport,
                settings.profile,
                &mut recorder,
            )
            .await,
        );
    }
    match recorder
        .finish()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .and_then(|mut spool| spool.flush().map(|_| spool))
    {
        Ok(spool) => (runs, Some(spool)),
        Err(e) => {
            runs[0].error = Some(format!("cannot record the exchanges: {e}"));
            (runs, None)
        }
    }
}

/// The text of a panic payload.
fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with no message".into()),
        Err(e) => e.to_string(),
    }
}

/// Run `cases` with at most `jobs` at once; stops early (keeping what finished) when `stop`
/// resolves. Results are pushed to `report` and announced to the sinks as they finish.
async fn run_cases(
    cases: Vec<Case>,
    transports: &BTreeMap<String, Transport>,
    settings: &args::Settings,
    snapshots: Option<&snapshots::Snapshots>,
    report: &mut RunReport,
    sinks: &mut Sinks<'_, '_>,
    stop: impl std::future::Future<Output = ()>,
) -> bool {
    let semaphore = Arc::new(Semaphore::new(settings.jobs.max(1)));
    // Targets that must not get another request (unreachable, credentials rejected).
    let stopped: Arc<std::sync::Mutex<BTreeMap<String, String>>> = Arc::default();
    if settings.replay.is_none() {
        for t in transports.keys() {
            let Some(case) = cases.iter().find(|c| &c.target.name == t) else {
                continue;
            };
            if let Err(cause) = preflight::reachable(&case.target.base_url).await {
                stopped
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(t.clone(), format!("target `{t}` is unreachable: {cause}"));
            }
        }
    }
    let (started_tx, mut started_rx) = mpsc::unbounded_channel::<usize>();
    let mut set = tokio::task::JoinSet::new();
    let mut by_task: HashMap<tokio::task::Id, usize> = HashMap::new();
    for (i, case) in cases.iter().enumerate() {
        let Some(transport) = transports.get(&case.target.name).cloned() else {
            continue;
        };
        let semaphore = semaphore.clone();
        let started = started_tx.clone();
        let settings = settings.clone();
        let case = case.clone();
        let stopped = stopped.clone();
        let handle = set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let is_stopped = |s: &BTreeMap<String, String>| s.contains_key(&case.target.name);
            if is_stopped(&stopped.lock().unwrap_or_else(|e| e.into_inner())) {
                return None;
            }
            let _ = started.send(i);
            let done = run_one(&case, &transport, &settings).await;
            // Stop the target before the permit goes to its next case.
            if let Some(first) = done.0.first().filter(|r| r.credentials_rejected) {
                let t = &case.target.name;
                stopped.lock().unwrap_or_else(|e| e.into_inner()).entry(t.clone()).or_insert_with(|| {
                    format!(
                        "target `{t}` rejected the credentials; no further request was sent to it ({})",
                        first.error.as_deref().unwrap_or_default()
                    )
                });
            }
            Some(done)
        });
        by_task.insert(handle.id(), i);
    }
    drop(started_tx);
    tokio::pin!(stop);
    let mut interrupted = false;
    let mut ids_seen: Vec<(usize, String, String)> = Vec::new();
    let mut answers: Vec<mode_agreement::Answer> = Vec::new();
    loop {
        tokio::select! {
            Some(i) = started_rx.recv() => {
                let c = &cases[i];
                sinks.emit(&RunEvent::CaseStarted { target: &c.target.name, case: &c.name() });
            }
            next = set.join_next_with_id() => {
                let Some(joined) = next else { break };
                let (i, done) = match joined {
                    Ok((_, None)) => continue, // not run: its target was stopped
                    Ok((id, Some(done))) => (by_task[&id], done),
                    // A panicked case is an `error` result carrying the panic message.
                    Err(e) => {
                        let i = by_task[&e.id()];
                        let msg = format!("conform panicked while running this case: {}", panic_message(e));
                        (i, (vec![case::CaseRun::infra_error(msg)], None))
                    }
                };
                let (runs, spool) = done;
                if let Some(first) = runs.first() {
                    ids_seen.extend(reused_ids::message_ids(i, first));
                    answers.extend(mode_agreement::answers(i, first));
                }
                let record = finish_case(&cases[i], runs, snapshots);
                sinks.emit(&RunEvent::CaseFinished { record: &record, exchanges: spool.as_ref() });
                report.push(record);
            }
            _ = &mut stop => {
                interrupted = true;
                set.abort_all();
                break;
            }
        }
    }
    reused_ids::note(&cases, &mut ids_seen, report);
    mode_agreement::note(&cases, &mut answers, report);
    report.stopped = std::mem::take(&mut *stopped.lock().unwrap_or_else(|e| e.into_inner()))
        .into_values()
        .collect();
    interrupted
}

/// Add a `should` finding judged when the run ended (across cases) to `case`'s result: a
/// `pass` becomes `warn`, as it would have had the finding been there when it was judged.
fn add_should_finding(report: &mut RunReport, case: &Case, finding: crate::check::Finding) {
    let name = case.name();
    let Some(record) = report
        .results
        .iter_mut()
        .find(|r| r.target == case.target.name && r.case_name() == name)
    else {
        return;
    };
    record.findings.push(finding);
    if record.verdict == Verdict::Pass {
        record.verdict = Verdict::Warn;
    }
}

/// Turn the runs of a case into its result record: repeats combined, snapshot compared.
fn finish_case(
    case: &Case,
    mut runs: Vec<case::CaseRun>,
    snapshots: Option<&snapshots::Snapshots>,
) -> ResultRecord {
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
    let scenario = &case.scenario;
    let mut record = ResultRecord {
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
        documented: false,
        snapshot,
        error: first.error,
    };
    if let Some(profile) = &case.target.provider {
        crate::providers::mark(profile, &mut record);
    }
    record
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
                let name = format!("{} {}@{}", target.name, s.id(), mode.as_str());
                if settings.partition.is_some_and(|p| !p.holds(&name)) {
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

/// Longest expected first, so `--jobs N` approaches max(critical path, total / N): by step
/// count, then by the duration a baseline run recorded for the case.
fn schedule(cases: &mut [Case], settings: &args::Settings) {
    let weight = |c: &Case| {
        let key = (
            c.target.name.clone(),
            c.scenario.id().to_string(),
            c.mode.as_str().to_string(),
        );
        let ms = settings.expected_ms.get(&key).copied().unwrap_or(0.0);
        (c.steps(), (ms * 1000.0) as u64)
    };
    cases.sort_by_key(|c| std::cmp::Reverse(weight(c)));
}

/// A run that could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("target `{target}`: cannot create the HTTP client: {source}")]
    Client {
        target: String,
        source: crate::http::client::ClientError,
    },
}

/// The transport of each target: the network, or with `--replay` the recorded exchanges.
pub fn transports(
    targets: &[Target],
    settings: &args::Settings,
) -> Result<BTreeMap<String, Transport>, RunError> {
    let mut out = BTreeMap::new();
    for t in targets {
        let transport = match &settings.replay {
            Some(dir) => Transport::Replay(Arc::new(Replayer::open(
                dir,
                &t.name,
                settings.redactor.clone(),
            )?)),
            None => Transport::Http {
                client: Arc::new(Client::for_base_url(&t.base_url, &t.timeouts).map_err(
                    |source| RunError::Client {
                        target: t.name.clone(),
                        source,
                    },
                )?),
                max_body: settings.max_body,
            },
        };
        out.insert(t.name.clone(), transport);
    }
    Ok(out)
}

/// Run scenarios against targets, announcing everything to `sinks`; the final report.
pub async fn execute(
    scenarios: Vec<Scenario>,
    targets: Vec<Target>,
    settings: &args::Settings,
    sinks: &mut [&mut dyn Sink],
    stop: impl std::future::Future<Output = ()>,
) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let transports = transports(&targets, settings)?;
    let scenarios: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    let targets: Vec<Arc<Target>> = targets.into_iter().map(Arc::new).collect();
    let infos: Vec<TargetInfo> = targets
        .iter()
        .map(|t| TargetInfo::from(t.as_ref()))
        .collect();
    let mut report = RunReport::new(infos.clone());
    let mut cases = plan(&scenarios, &targets, settings);
    let order: HashMap<(String, String, String), usize> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                (
                    c.target.name.clone(),
                    c.scenario.id().to_string(),
                    c.mode.as_str().to_string(),
                ),
                i,
            )
        })
        .collect();
    schedule(&mut cases, settings);
    let client_cases =
        crate::clients::plan(&settings.clients, &targets, &|id| settings.selects(id));
    report.planned = cases.len() + client_cases.len();
    let store = settings
        .snapshots_dir
        .as_ref()
        .map(|dir| snapshots::Snapshots::new(dir.clone(), settings.update_snapshots));
    let failed = vec![None; sinks.len()];
    let mut sinks = Sinks { sinks, failed };
    sinks.emit(&RunEvent::Started {
        targets: &infos,
        cases: report.planned,
    });
    tokio::pin!(stop);
    let mut interrupted = run_cases(
        cases,
        &transports,
        settings,
        store.as_ref(),
        &mut report,
        &mut sinks,
        &mut stop,
    )
    .await;
    if !interrupted && !client_cases.is_empty() {
        interrupted =
            live::run_client_cases(&client_cases, settings, &mut report, &mut sinks, &mut stop)
                .await;
    }
    // Results in plan order (targets, then scenarios in `conform list` order, then modes).
    report.results.sort_by_key(|r| {
        order
            .get(&(r.target.clone(), r.scenario.clone(), r.mode.clone()))
            .copied()
            .unwrap_or(usize::MAX)
    });
    report.documented = targets
        .iter()
        .filter_map(|t| {
            let p = t.provider.as_ref()?;
            Some(crate::providers::table(&t.name, p, &report.results))
        })
        .collect();
    report.finish(started.elapsed(), interrupted);
    if let Some(b) = &settings.baseline {
        report.compare_with(b);
    }
    sinks.emit(&RunEvent::Finished { report: &report });
    Ok(RunOutcome {
        report,
        sink_errors: sinks.failed.into_iter().flatten().collect(),
    })
}
