//! The runner: `conform run`. Loads scenario files, resolves targets (or starts the reference
//! server in-process when none is given), runs every scenario × target × mode with bounded
//! concurrency, judges each case, compares snapshots, and writes the reports.
//!
//! The runner only produces results; the report sinks under [`crate::report`] turn them into
//! files, and the terminal summary is one more sink.

mod access;
pub(crate) mod args;
pub(crate) mod bench;
mod breaker;
pub(crate) mod case;
mod cli;
mod config_file;
pub(crate) mod embedded;
mod live;
mod mode_agreement;
mod recent;
pub(crate) mod request;
mod reused_ids;
pub(crate) mod snapshots;
mod tasks;
pub(crate) mod transport;

pub(crate) use args::RunArgs;
pub(crate) use cli::run_cli;
pub(crate) use transport::{ReplayError, Replayer, Transport};

use crate::check::Finding;
use crate::http::client::Client;
use crate::report::model::{ResultRecord, RunReport, TargetInfo};
use crate::run::{CaseId, Dispatch, RunEvent, Sink, SinkError, StepId};
use crate::scenario::Scenario;
use crate::scenario::model::Mode;
use crate::target::Target;
use crate::verdict::{self, Verdict};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;
use tasks::{Held, Spawner, final_pass_finding, pause_note};
use tokio::sync::{Semaphore, mpsc};

/// One unit of work: a scenario against a target in a mode.
#[derive(Clone)]
struct Case {
    id: CaseId,
    scenario: Arc<Scenario>,
    target: Arc<Target>,
}

impl Case {
    fn mode(&self) -> Mode {
        self.id.mode
    }

    /// Steps that run in this case's mode: the scheduling weight.
    fn steps(&self) -> usize {
        self.scenario
            .doc
            .steps
            .iter()
            .filter(|s| s.value.runs_for(self.mode(), self.target.api_version()))
            .count()
    }
}

/// What the run produced: the final report.
pub struct RunOutcome {
    pub report: RunReport,
}

/// A finding that a check across cases adds to a finished case (by plan index).
type Amendment = (usize, Finding);

/// What the verdict of a finished case was judged from, besides its findings: enough to judge
/// it again when a check across cases adds a finding.
struct Judged {
    inputs: case::VerdictFlags,
    /// The verdicts of its repeats after the first.
    repeats: Vec<Verdict>,
}

/// Run one case (`repeat` times), noting its answers in its target's `recent` memory.
async fn run_one(
    case: &Case,
    transport: &Transport,
    settings: &args::Settings,
    recent: &recent::RecentAnswers,
) -> Vec<case::CaseRun> {
    let mut runs = Vec::new();
    for _ in 0..settings.repeat.max(1) {
        runs.push(
            case::run_case_noting(
                &case.scenario,
                &case.target,
                case.mode(),
                transport,
                settings.profile,
                &settings.redactor,
                recent,
            )
            .await,
        );
    }
    runs
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

/// Targets that must not get another request (unreachable, credentials rejected), with why.
type Stopped = Arc<std::sync::Mutex<BTreeMap<String, String>>>;

fn stopped_lock(s: &Stopped) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the finished cases have told so far, for the checks across cases.
#[derive(Default)]
struct Finished {
    ids_seen: Vec<(usize, StepId, String)>,
    answers: Vec<mode_agreement::Answer>,
    judged: HashMap<usize, Judged>,
    announced_stops: std::collections::BTreeSet<String>,
}

impl Finished {
    /// [`Finished::finish`], unless the case ended on a server error that waits for the end
    /// of the run (see [`recent`]).
    #[allow(clippy::too_many_arguments)]
    fn finish_or_wait(
        &mut self,
        cases: &[Case],
        i: usize,
        runs: Vec<case::CaseRun>,
        snapshots: Option<&snapshots::Snapshots>,
        stopped: &Stopped,
        dispatch: &mut Dispatch<'_, '_>,
        undecided: &mut Vec<(usize, Vec<case::CaseRun>)>,
    ) -> Result<(), SinkError> {
        if runs.iter().any(|r| r.undecided_server_error.is_some()) {
            undecided.push((i, runs));
            return Ok(());
        }
        self.finish(cases, i, runs, snapshots, stopped, dispatch)
    }

    /// Announce case `i`'s exchanges and result, then the targets stopped since the last case.
    fn finish(
        &mut self,
        cases: &[Case],
        i: usize,
        runs: Vec<case::CaseRun>,
        snapshots: Option<&snapshots::Snapshots>,
        stopped: &Stopped,
        dispatch: &mut Dispatch<'_, '_>,
    ) -> Result<(), SinkError> {
        let case = &cases[i];
        if let Some(first) = runs.first() {
            self.ids_seen.extend(reused_ids::message_ids(i, first));
            self.answers
                .extend(mode_agreement::answers(i, first, &case.scenario));
        }
        announce_exchanges(case, &runs, dispatch)?;
        let (record, j) = finish_case(case, runs, snapshots);
        self.judged.insert(i, j);
        dispatch.emit(&RunEvent::CaseFinished { record: &record })?;
        let stops: Vec<(String, String)> = stopped_lock(stopped)
            .iter()
            .filter(|(t, _)| !self.announced_stops.contains(*t))
            .map(|(t, r)| (t.clone(), r.clone()))
            .collect();
        for (target, reason) in stops {
            dispatch.emit(&RunEvent::TargetStopped {
                target: &target,
                reason: &reason,
            })?;
            self.announced_stops.insert(target);
        }
        Ok(())
    }
}

/// Announce the exchanges of a case's runs.
fn announce_exchanges(
    case: &Case,
    runs: &[case::CaseRun],
    dispatch: &mut Dispatch<'_, '_>,
) -> Result<(), SinkError> {
    for run in runs {
        announce_steps(&case.id, &run.steps, dispatch)?;
    }
    Ok(())
}

/// How the scenario cases ran.
struct Ran {
    /// Stopped early (Ctrl-C, SIGTERM).
    interrupted: bool,
    /// How many cases of each target ran again in the final pass.
    reruns: BTreeMap<String, usize>,
}

/// The access preflight of each target still running (see [`access`]): a target accepted only
/// in another auth style or API version runs that way from now on, and its preflight result is
/// announced; one whose credentials are rejected every way is stopped. The cases, with their
/// targets as they will run.
async fn preflight(
    mut cases: Vec<Case>,
    transports: &BTreeMap<String, Transport>,
    settings: &args::Settings,
    stopped: &Stopped,
    dispatch: &mut Dispatch<'_, '_>,
) -> Result<Vec<Case>, SinkError> {
    for (name, transport) in transports {
        if stopped_lock(stopped).contains_key(name) {
            continue;
        }
        let Some(target) = cases
            .iter()
            .find(|c| &c.target.name == name)
            .map(|c| c.target.clone())
        else {
            continue;
        };
        let id = access::case_id(&target);
        match access::check(&target, transport, &settings.redactor).await {
            access::Access::AsConfigured => {}
            access::Access::Fallback {
                auth,
                version,
                mut record,
                steps,
            } => {
                dispatch.emit(&RunEvent::CaseStarted { case: &id })?;
                announce_steps(&id, &steps, dispatch)?;
                if let Some(profile) = &target.provider {
                    crate::providers::mark(profile, &mut record);
                }
                dispatch.emit(&RunEvent::CaseFinished { record: &record })?;
                let mut changed = (*target).clone();
                changed.auth = auth;
                if let Some(v) = version {
                    changed.set_api_version(v);
                }
                let changed = Arc::new(changed);
                for c in cases.iter_mut().filter(|c| &c.target.name == name) {
                    c.target = changed.clone();
                }
            }
            access::Access::Rejected { why, record, steps } => {
                dispatch.emit(&RunEvent::CaseStarted { case: &id })?;
                announce_steps(&id, &steps, dispatch)?;
                dispatch.emit(&RunEvent::CaseFinished { record: &record })?;
                dispatch.emit(&RunEvent::TargetStopped {
                    target: name,
                    reason: &why,
                })?;
                stopped_lock(stopped).insert(name.clone(), why);
            }
        }
    }
    Ok(cases)
}

/// Announce the recorded exchanges of `steps`, as exchanges of case `id`.
fn announce_steps(
    id: &CaseId,
    steps: &[case::StepRecord],
    dispatch: &mut Dispatch<'_, '_>,
) -> Result<(), SinkError> {
    for step in steps {
        if let Some(records) = &step.records {
            dispatch.emit(&RunEvent::ExchangeRecorded {
                case: id,
                step: &step.step,
                records,
            })?;
        }
    }
    Ok(())
}

/// Run `cases` with at most `jobs` at once; stops early (keeping what finished) when `stop`
/// resolves. Each case's exchanges and result are announced to the sinks as it finishes (a
/// case that ended on a server error nobody could yet call the request's own or the
/// endpoint's waits for the end, see [`recent`]); the checks across cases are announced as
/// amendments when all are in. Whether it was stopped.
#[allow(clippy::too_many_arguments)]
async fn run_cases(
    cases: Vec<Case>,
    transports: &BTreeMap<String, Transport>,
    settings: &args::Settings,
    snapshots: Option<&snapshots::Snapshots>,
    dispatch: &mut Dispatch<'_, '_>,
    stop: impl std::future::Future<Output = ()>,
    deadline: Option<Instant>,
) -> Result<Ran, SinkError> {
    let stopped: Stopped = Arc::default();
    let recent: HashMap<String, Arc<recent::RecentAnswers>> = transports
        .keys()
        .map(|t| (t.clone(), Arc::default()))
        .collect();
    if settings.replay.is_none() {
        for t in transports.keys() {
            let Some(case) = cases.iter().find(|c| &c.target.name == t) else {
                continue;
            };
            if let Err(cause) = crate::http::preflight::reachable(&case.target.base_url).await {
                let reason = format!("target `{t}` is unreachable: {cause}");
                dispatch.emit(&RunEvent::TargetStopped {
                    target: t,
                    reason: &reason,
                })?;
                stopped_lock(&stopped).insert(t.clone(), reason);
            }
        }
    }
    tokio::pin!(stop);
    // The preflight waits for answers: a signal ends it like it ends the cases.
    let cases = tokio::select! {
        cases = preflight(cases, transports, settings, &stopped, dispatch) => cases?,
        _ = &mut stop => {
            return Ok(Ran {
                interrupted: true,
                reruns: BTreeMap::new(),
            });
        }
    };
    let (started_tx, mut started_rx) = mpsc::unbounded_channel::<usize>();
    let spawner = Spawner {
        semaphore: Arc::new(Semaphore::new(settings.jobs.max(1))),
        started: started_tx,
        settings: settings.clone(),
        stopped: stopped.clone(),
    };
    let mut set = tokio::task::JoinSet::new();
    let mut by_task: HashMap<tokio::task::Id, usize> = HashMap::new();
    for (i, case) in cases.iter().enumerate() {
        spawner.spawn(&mut set, &mut by_task, i, case, transports, &recent, true);
    }
    // Cases that ended on a 429/529 outlasting their retries: run again once every other
    // case is in (their first run is not announced).
    let mut final_pass: Vec<usize> = Vec::new();
    let mut in_final_pass = false;
    let mut interrupted = false;
    let mut finished = Finished::default();
    let mut undecided: Vec<(usize, Vec<case::CaseRun>)> = Vec::new();
    let mut held = Held::default();
    // Cases whose outcome is known (a result, or not run because their target was stopped):
    // when `--max-run-time` is reached, every other case ends as `error`.
    let mut resolved: std::collections::HashSet<usize> = Default::default();
    let out_of_time = until(deadline);
    tokio::pin!(out_of_time);
    let mut timed_out = false;
    // Sinks that show time passing (the plain progress line) hear from the run every second.
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => dispatch.tick()?,
            Some(i) = started_rx.recv() => {
                dispatch.emit(&RunEvent::CaseStarted { case: &cases[i].id })?;
            }
            next = set.join_next_with_id() => {
                let Some(joined) = next else {
                    if in_final_pass || final_pass.is_empty() {
                        break;
                    }
                    in_final_pass = true;
                    for &i in &final_pass {
                        spawner.spawn(&mut set, &mut by_task, i, &cases[i], transports, &recent, false);
                    }
                    continue;
                };
                let (i, mut runs) = match joined {
                    Ok((id, None)) => {
                        // Not run: its target was stopped.
                        resolved.insert(by_task[&id]);
                        continue;
                    }
                    Ok((id, Some(runs))) => (by_task[&id], runs),
                    // A panicked case is an `error` result carrying the panic message.
                    Err(e) => {
                        let i = by_task[&e.id()];
                        let msg = format!("conform panicked while running this case: {}", panic_message(e));
                        (i, vec![case::CaseRun::infra_error(msg)])
                    }
                };
                if !in_final_pass && runs.iter().any(|r| r.throttled) {
                    // Its exchanges are recorded (a replay meets them in the same order); its
                    // result is the final pass's.
                    announce_exchanges(&cases[i], &runs, dispatch)?;
                    final_pass.push(i);
                    continue;
                }
                if in_final_pass {
                    for run in &mut runs {
                        run.findings.push(final_pass_finding());
                    }
                }
                resolved.insert(i);
                held.push(i, runs);
                // Results wait while their target's breaker cannot tell yet.
                for (i, runs) in held.release(&cases, &recent, false) {
                    finished.finish_or_wait(&cases, i, runs, snapshots, &stopped, dispatch, &mut undecided)?;
                }
            }
            _ = &mut stop => {
                interrupted = true;
                set.abort_all();
                break;
            }
            _ = &mut out_of_time => {
                timed_out = true;
                set.abort_all();
                break;
            }
        }
    }
    if timed_out {
        let why = out_of_time_error(settings);
        for i in (0..cases.len()).filter(|i| !resolved.contains(i)) {
            held.push(i, vec![case::CaseRun::infra_error(why.clone())]);
        }
    }
    // A breaker still pending at the end (few requests) let the results be judged.
    for (i, runs) in held.release(&cases, &recent, true) {
        finished.finish_or_wait(
            &cases,
            i,
            runs,
            snapshots,
            &stopped,
            dispatch,
            &mut undecided,
        )?;
    }
    // Server errors of the run's start: the request's own if the target answered at all.
    for (i, mut runs) in undecided {
        let answered = recent
            .get(&cases[i].target.name)
            .is_some_and(|r| r.answered_any());
        for run in &mut runs {
            run.settle_server_error(answered);
        }
        finished.finish(&cases, i, runs, snapshots, &stopped, dispatch)?;
    }
    let Finished {
        mut ids_seen,
        mut answers,
        judged,
        ..
    } = finished;
    let mut amendments = reused_ids::note(&cases, &mut ids_seen);
    amendments.extend(mode_agreement::note(&cases, &mut answers));
    for (i, finding) in amendments {
        let case = &cases[i].id;
        let (Some(j), Some(record)) = (
            judged.get(&i),
            dispatch.report().results.iter().find(|r| r.is(case)),
        ) else {
            continue;
        };
        let mut findings = record.findings.clone();
        findings.push(finding.clone());
        let verdict = j.rejudge(&findings);
        dispatch.emit(&RunEvent::CaseAmended {
            case,
            finding: &finding,
            verdict,
        })?;
    }
    let mut reruns = BTreeMap::new();
    for &i in &final_pass {
        *reruns.entry(cases[i].target.name.clone()).or_insert(0) += 1;
    }
    Ok(Ran {
        interrupted,
        reruns,
    })
}

impl Judged {
    /// The verdict with `findings` (the first run's, amended), by the verdict rule.
    fn rejudge(&self, findings: &[Finding]) -> Verdict {
        let first = self.inputs.judge(findings);
        let all: Vec<Verdict> = std::iter::once(first)
            .chain(self.repeats.iter().copied())
            .collect();
        verdict::combine_repeats(&all)
    }
}

/// Turn the runs of a case into its result record (repeats combined, snapshot compared) and
/// what its verdict was judged from.
fn finish_case(
    case: &Case,
    mut runs: Vec<case::CaseRun>,
    snapshots: Option<&snapshots::Snapshots>,
) -> (ResultRecord, Judged) {
    let mut first = runs.remove(0);
    let mut snapshot = None;
    if let Some(store) = snapshots
        && let Some((info, finding)) =
            store.compare(&case.scenario, &case.target, case.mode(), &first)
    {
        first.findings.extend(finding);
        snapshot = Some(info);
    }
    let repeats: Vec<Verdict> = runs.iter().map(case::CaseRun::verdict).collect();
    let judged = Judged {
        inputs: first.flags(),
        repeats,
    };
    let verdict = judged.rejudge(&first.findings);
    let scenario = &case.scenario;
    let mut record = ResultRecord {
        title: scenario.title().to_string(),
        expected: case
            .target
            .expects_unsupported(scenario.id(), scenario.feature().as_str())
            && verdict != Verdict::Pass,
        findings: first.findings,
        timing: first.timing,
        attempts: first.attempts,
        snapshot,
        error: first.error,
        ..ResultRecord::new(
            &case.id.target,
            &case.id.scenario,
            scenario.feature().as_str(),
            case.mode(),
            verdict,
        )
    };
    if let Some(profile) = &case.target.provider {
        crate::providers::mark(profile, &mut record);
    }
    (record, judged)
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
                let id = CaseId::new(&target.name, s.id(), mode);
                if settings
                    .partition
                    .is_some_and(|p| !p.holds(&id.to_string()))
                {
                    continue;
                }
                cases.push(Case {
                    id,
                    scenario: s.clone(),
                    target: target.clone(),
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
        let ms = settings.expected_ms.get(&c.id).copied().unwrap_or(0.0);
        (c.steps(), (ms * 1000.0) as u64)
    };
    cases.sort_by_key(|c| std::cmp::Reverse(weight(c)));
}

/// A run that could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// An output could not be written: the run stopped.
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("target `{target}`: cannot create the HTTP client: {source}")]
    Client {
        target: String,
        source: crate::http::client::ClientError,
    },
}

/// The transport of each target: the network, or with `--replay` the recorded exchanges.
pub(crate) fn transports(
    targets: &[Target],
    settings: &args::Settings,
) -> Result<BTreeMap<String, Transport>, RunError> {
    let mut out = BTreeMap::new();
    // `Settings::default()` has no limit set (0): the default one, never "cut everything".
    let max_body = match settings.max_body {
        0 => crate::http::client::DEFAULT_MAX_BODY,
        n => n,
    };
    for t in targets {
        let transport = match &settings.replay {
            Some(dir) => Transport::Replay(Arc::new(Replayer::open(
                dir,
                &t.name,
                settings.redactor.clone(),
                max_body,
            )?)),
            None => Transport::Http {
                client: Arc::new(Client::for_base_url(&t.base_url, &t.timeouts).map_err(
                    |source| RunError::Client {
                        target: t.name.clone(),
                        source,
                    },
                )?),
                max_body,
            },
        };
        out.insert(t.name.clone(), transport);
    }
    Ok(out)
}

/// Resolves at `deadline`; never without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// Why a case ended when the run's time ran out.
pub(crate) fn out_of_time_error(settings: &args::Settings) -> String {
    format!(
        "the run reached --max-run-time ({} s) before this case finished",
        settings.max_run_time.unwrap_or_default().as_secs()
    )
}

/// Run scenarios against targets, announcing everything to `sinks`; the final report. A sink
/// that cannot write stops the run with its error.
pub async fn execute(
    scenarios: Vec<Scenario>,
    targets: Vec<Target>,
    settings: &args::Settings,
    sinks: &mut [&mut dyn Sink],
    stop: impl std::future::Future<Output = ()>,
) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let targets = crate::target::expand_versions(targets, settings.api_versions);
    let deadline = settings.max_run_time.map(|d| started + d);
    let transports = transports(&targets, settings)?;
    let scenarios: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    let targets: Vec<Arc<Target>> = targets.into_iter().map(Arc::new).collect();
    let infos: Vec<TargetInfo> = targets
        .iter()
        .map(|t| TargetInfo::from(t.as_ref()))
        .collect();
    let mut cases = plan(&scenarios, &targets, settings);
    let order: HashMap<CaseId, usize> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();
    schedule(&mut cases, settings);
    let client_cases =
        crate::clients::plan(&settings.clients, &targets, &|id| settings.selects(id));
    let planned = cases.len() + client_cases.len();
    let store = settings
        .snapshots_dir
        .as_ref()
        .map(|dir| snapshots::Snapshots::new(dir.clone(), settings.update_snapshots));
    let mut dispatch = Dispatch::new(RunReport::new(infos.clone()), sinks);
    dispatch.emit(&RunEvent::Started {
        targets: &infos,
        planned,
    })?;
    tokio::pin!(stop);
    let Ran {
        mut interrupted,
        reruns,
    } = run_cases(
        cases,
        &transports,
        settings,
        store.as_ref(),
        &mut dispatch,
        &mut stop,
        deadline,
    )
    .await?;
    if !interrupted && !client_cases.is_empty() {
        interrupted =
            live::run_client_cases(&client_cases, settings, &mut dispatch, &mut stop, deadline)
                .await?;
    }
    let (report, done) = dispatch.finish(|report| {
        // Results in plan order (targets, then scenarios in `conform list` order, then modes).
        // A target's access preflight comes first.
        report.results.sort_by_key(|r| {
            let preflight = r.scenario == access::SCENARIO;
            let at = order.get(&r.case_id()).copied().unwrap_or(usize::MAX);
            (!preflight, at)
        });
        report.documented = targets
            .iter()
            .filter_map(|t| {
                let p = t.provider.as_ref()?;
                Some(crate::providers::table(&t.name, p, &report.results))
            })
            .collect();
        report.paused = targets
            .iter()
            .filter_map(|t| pause_note(t, reruns.get(&t.name).copied().unwrap_or(0)))
            .collect();
        report.shard = settings.partition.map(|p| crate::report::model::Shard {
            index: p.index,
            count: p.count,
        });
        report.finish(started.elapsed(), interrupted);
        if let Some(b) = &settings.baseline {
            report.compare_with(b);
        }
    });
    done?;
    Ok(RunOutcome { report })
}
