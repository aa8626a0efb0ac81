//! The dispatcher between producers and sinks: it folds every event into the run's
//! [`RunReport`] (see `aggregate`) before it hands the event to the sinks, so each sink sees
//! the event and the report as it stands after it.

use super::aggregate;
use super::events::{RunEvent, Sink, SinkError};
use crate::report::model::RunReport;

/// Hands every event to every sink, after folding it into the run's report.
pub struct Dispatch<'a, 'b> {
    report: RunReport,
    sinks: &'a mut [&'b mut dyn Sink],
}

impl<'a, 'b> Dispatch<'a, 'b> {
    pub(crate) fn new(report: RunReport, sinks: &'a mut [&'b mut dyn Sink]) -> Self {
        Dispatch { report, sinks }
    }

    /// Fold `e` into the report and hand it to every sink; the first sink error stops here.
    pub(crate) fn emit(&mut self, e: &RunEvent<'_>) -> Result<(), SinkError> {
        aggregate::apply(&mut self.report, e);
        for s in self.sinks.iter_mut() {
            s.event(e, &self.report)?;
        }
        Ok(())
    }

    /// Let every sink do deferred work ([`Sink::tick`]).
    pub(crate) fn tick(&mut self) -> Result<(), SinkError> {
        for s in self.sinks.iter_mut() {
            s.tick(&self.report)?;
        }
        Ok(())
    }

    /// The report as it stands.
    pub(crate) fn report(&self) -> &RunReport {
        &self.report
    }

    /// Add the run-level facts (plan order, provider tables, duration, baseline) and emit
    /// [`RunEvent::Finished`]; the final report.
    pub(crate) fn finish(
        mut self,
        facts: impl FnOnce(&mut RunReport),
    ) -> (RunReport, Result<(), SinkError>) {
        facts(&mut self.report);
        let done = self.emit(&RunEvent::Finished);
        (self.report, done)
    }
}
