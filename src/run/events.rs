//! Run events, the sinks that consume them, and the dispatcher between the two (nextest's
//! model: producers only emit events; the report, the exchange file, the evidence, the files
//! and the progress display are sinks).
//!
//! Every producer — the scenario runner, the `--client` cases, `conform proxy` — emits the same
//! events in the same order: [`RunEvent::Started`]; per case [`RunEvent::CaseStarted`], one
//! [`RunEvent::ExchangeRecorded`] per exchange, [`RunEvent::CaseFinished`] (cases interleave
//! when run in parallel); [`RunEvent::CaseAmended`] for findings that checks across cases add
//! when every case is in; [`RunEvent::TargetStopped`] when a target gets no further request;
//! [`RunEvent::Finished`] once, also for an interrupted run.
//!
//! The [`Dispatch`] folds every event into the run's [`RunReport`] (see `aggregate`) before it
//! hands the event to the sinks, so each sink sees the event and the report as it stands after
//! it. A record never changes after a sink has seen it: an amendment is an event of its own.
//! A sink that cannot write returns its error, and the run stops with it.

use super::aggregate;
use super::ids::{CaseId, StepId};
use crate::check::Finding;
use crate::exchange::spool::Spool;
use crate::report::model::{ResultRecord, RunReport, TargetInfo};
use crate::verdict::Verdict;
use std::io;

/// What a producer reports as it goes.
pub enum RunEvent<'a> {
    Started {
        targets: &'a [TargetInfo],
        planned: usize,
    },
    /// A case was dispatched.
    CaseStarted { case: &'a CaseId },
    /// One exchange of a case ended and was judged: its redacted records, in the form of the
    /// exchange file (NDJSON lines, see [`crate::exchange`]).
    ExchangeRecorded {
        case: &'a CaseId,
        step: &'a StepId,
        records: &'a Spool,
    },
    /// A case ended; its result is final unless amended.
    CaseFinished { record: &'a ResultRecord },
    /// A check across cases (reused message ids, stream/sync agreement) found `finding` in a
    /// finished case; `verdict` is the case's verdict with it, by the verdict rule.
    CaseAmended {
        case: &'a CaseId,
        finding: &'a Finding,
        verdict: Verdict,
    },
    /// A target gets no further request (unreachable, credentials rejected): why, in one line.
    TargetStopped { target: &'a str, reason: &'a str },
    /// The run ended (possibly interrupted); the report is complete.
    Finished,
}

/// A sink that could not do its work; the run stops with it.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct SinkError {
    /// What the sink was doing, e.g. `writing reports/exchanges/ref.ndjson.partial`.
    pub what: String,
    #[source]
    pub source: io::Error,
}

impl SinkError {
    pub fn new(what: impl Into<String>, source: io::Error) -> SinkError {
        SinkError {
            what: what.into(),
            source,
        }
    }
}

/// A consumer of run events. `report` is the run's report after the event.
pub trait Sink: Send {
    fn event(&mut self, e: &RunEvent<'_>, report: &RunReport) -> Result<(), SinkError>;

    /// Time passed without an event: a sink that defers work (a throttled rewrite) may do it
    /// now. Long-lived producers (the proxy) call it about once a second.
    fn tick(&mut self, _report: &RunReport) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Hands every event to every sink, after folding it into the run's report.
pub struct Dispatch<'a, 'b> {
    report: RunReport,
    sinks: &'a mut [&'b mut dyn Sink],
}

impl<'a, 'b> Dispatch<'a, 'b> {
    pub fn new(report: RunReport, sinks: &'a mut [&'b mut dyn Sink]) -> Self {
        Dispatch { report, sinks }
    }

    /// Fold `e` into the report and hand it to every sink; the first sink error stops here.
    pub fn emit(&mut self, e: &RunEvent<'_>) -> Result<(), SinkError> {
        aggregate::apply(&mut self.report, e);
        for s in self.sinks.iter_mut() {
            s.event(e, &self.report)?;
        }
        Ok(())
    }

    /// Let every sink do deferred work ([`Sink::tick`]).
    pub fn tick(&mut self) -> Result<(), SinkError> {
        for s in self.sinks.iter_mut() {
            s.tick(&self.report)?;
        }
        Ok(())
    }

    /// The report as it stands.
    pub fn report(&self) -> &RunReport {
        &self.report
    }

    /// Add the run-level facts (plan order, provider tables, duration, baseline) and emit
    /// [`RunEvent::Finished`]; the final report.
    pub fn finish(
        mut self,
        facts: impl FnOnce(&mut RunReport),
    ) -> (RunReport, Result<(), SinkError>) {
        facts(&mut self.report);
        let done = self.emit(&RunEvent::Finished);
        (self.report, done)
    }
}
