//! Run events and the sinks that consume them (nextest's model: producers only emit events;
//! the report, the exchange file, the evidence, the files and the progress display are
//! sinks).
//!
//! Every producer — the scenario runner, the `--client` cases, `conform proxy` — emits the same
//! events in the same order: [`RunEvent::Started`]; per case [`RunEvent::CaseStarted`], one
//! [`RunEvent::ExchangeRecorded`] per exchange, [`RunEvent::CaseFinished`] (cases interleave
//! when run in parallel); [`RunEvent::CaseAmended`] for findings that checks across cases add
//! when every case is in; [`RunEvent::TargetStopped`] when a target gets no further request;
//! [`RunEvent::Finished`] once, also for an interrupted run.
//!
//! A record never changes after a sink has seen it: an amendment is an event of its own. A
//! sink that cannot write returns its error, and the run stops with it.

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
