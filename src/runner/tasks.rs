//! The tasks of a run's cases: starting each once a permit is free and its target is still
//! worth a request ([`Spawner`]), holding results while the target's circuit breaker cannot
//! tell yet whether the target answers at all ([`Held`]), and what the final pass and the
//! target-wide pauses add to the report.

use super::{Case, Stopped, breaker, case, recent, run_one, stopped_lock};
use crate::check::Finding;
use crate::runner::args;
use crate::runner::transport::Transport;
use crate::target::Target;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};

/// What starts a case's task: the shared limits and where the task says it started.
pub(super) struct Spawner {
    pub(super) semaphore: Arc<Semaphore>,
    pub(super) started: mpsc::UnboundedSender<usize>,
    pub(super) settings: args::Settings,
    pub(super) stopped: Stopped,
}

/// What a case's task gives back: its runs, or `None` when its target was stopped first.
pub(super) type CaseTask = Option<Vec<case::CaseRun>>;

impl Spawner {
    /// Start case `i` once a permit is free (announcing its start when `announce`), unless its
    /// target is stopped by then; a target it finds wrong everywhere or rejecting its
    /// credentials is stopped before the permit goes to the next case.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn spawn(
        &self,
        set: &mut tokio::task::JoinSet<CaseTask>,
        by_task: &mut HashMap<tokio::task::Id, usize>,
        i: usize,
        case: &Case,
        transports: &BTreeMap<String, Transport>,
        recent: &HashMap<String, Arc<recent::RecentAnswers>>,
        announce: bool,
    ) {
        let (Some(transport), Some(recent)) = (
            transports.get(&case.target.name).cloned(),
            recent.get(&case.target.name).cloned(),
        ) else {
            return;
        };
        let semaphore = self.semaphore.clone();
        let started = announce.then(|| self.started.clone());
        let settings = self.settings.clone();
        let case = case.clone();
        let stopped = self.stopped.clone();
        let handle = set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            while recent.breaker.should_wait() {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            let open = matches!(
                recent.breaker.state(&case.target.base_url),
                breaker::State::Open(_)
            );
            if open || stopped_lock(&stopped).contains_key(&case.target.name) {
                return None;
            }
            let running = recent.breaker.running();
            if let Some(started) = started {
                let _ = started.send(i);
            }
            let runs = run_one(&case, &transport, &settings, &recent).await;
            drop(running);
            if let breaker::State::Open(why) = recent.breaker.state(&case.target.base_url) {
                let t = &case.target.name;
                stopped_lock(&stopped)
                    .entry(t.clone())
                    .or_insert_with(|| format!("target `{t}` stopped: {why}"));
            }
            if let Some(first) = runs.first().filter(|r| r.credentials_rejected) {
                let t = &case.target.name;
                stopped_lock(&stopped).entry(t.clone()).or_insert_with(|| {
                    format!(
                        "target `{t}` rejected the credentials; no further request was sent to it ({})",
                        first.error.as_deref().unwrap_or_default()
                    )
                });
            }
            Some(runs)
        });
        by_task.insert(handle.id(), i);
    }
}

/// The finding a case run again in the final pass carries: an endpoint that throttles a
/// test's requests until they fail is something every client notices.
pub(super) fn final_pass_finding() -> Finding {
    Finding::new(
        crate::check::catalogue::ids::HTTP_RETRIED,
        "",
        "the case was run again at the end of the run: its first run was still answered 429 or 529 when its retries ran out",
    )
    .reference(crate::protocol::anthropic::refs::ERRORS)
}

/// Finished cases whose target's breaker cannot tell yet whether the target answers at all.
#[derive(Default)]
pub(super) struct Held(Vec<(usize, Vec<case::CaseRun>)>);

impl Held {
    pub(super) fn push(&mut self, i: usize, runs: Vec<case::CaseRun>) {
        self.0.push((i, runs));
    }

    /// The held cases whose target's breaker can tell now (all of them when `end`): as they
    /// ran when it closed (or never decided), `error` with the diagnosis and no finding when
    /// it opened.
    pub(super) fn release(
        &mut self,
        cases: &[Case],
        recent: &HashMap<String, Arc<recent::RecentAnswers>>,
        end: bool,
    ) -> Vec<(usize, Vec<case::CaseRun>)> {
        let mut out = Vec::new();
        let mut keep = Vec::new();
        for (i, mut runs) in self.0.drain(..) {
            let target = &cases[i].target;
            let state = recent
                .get(&target.name)
                .map_or(breaker::State::Closed, |r| {
                    r.breaker.state(&target.base_url)
                });
            match state {
                breaker::State::Pending if !end => keep.push((i, runs)),
                breaker::State::Open(why) => {
                    // Their findings only restate the misconfiguration under every feature.
                    for run in &mut runs {
                        run.findings.clear();
                        run.undecided_server_error = None;
                        run.error = Some(format!(
                            "not judged: target `{}` stopped: {why}",
                            target.name
                        ));
                    }
                    out.push((i, runs));
                }
                _ => out.push((i, runs)),
            }
        }
        self.0 = keep;
        out
    }
}

/// One line for the report: how long `target` was paused and why, when it was.
pub(super) fn pause_note(target: &Target, reruns: usize) -> Option<String> {
    let p = target.pauses();
    if p.count() == 0 {
        return None;
    }
    let causes: Vec<String> = p
        .causes
        .iter()
        .map(|(why, n)| format!("{why} ×{n}"))
        .collect();
    let mut line = format!(
        "target `{}` was paused {:.1} s in all ({} pause(s), the longest {:.1} s: {})",
        target.name,
        p.total.as_secs_f64(),
        p.count(),
        p.longest.as_secs_f64(),
        causes.join(", ")
    );
    if let Some(l) = p.lowest_limit {
        line.push_str(&format!(
            "; its requests in flight were lowered to {l} and raised again as it answered"
        ));
    }
    if reruns > 0 {
        line.push_str(&format!(
            "; {reruns} case(s) still throttled when their retries ran out ran again at the end"
        ));
    }
    Some(line)
}
