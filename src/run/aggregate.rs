//! The run's [`RunReport`], built from its events: what report.json holds and every other
//! output renders.

use super::events::RunEvent;
use crate::report::model::RunReport;

/// Fold one event into the report.
pub(super) fn apply(report: &mut RunReport, e: &RunEvent<'_>) {
    match e {
        RunEvent::Started { planned, .. } => report.planned = *planned,
        RunEvent::CaseFinished { record } => {
            report.push((*record).clone());
            // A producer without a plan (the proxy) plans each case as it comes.
            report.planned = report.planned.max(report.results.len());
        }
        RunEvent::CaseAmended {
            case,
            finding,
            verdict,
        } => {
            if let Some(r) = report.results.iter_mut().find(|r| r.is(case)) {
                r.findings.push((*finding).clone());
                r.verdict = *verdict;
            }
            report.update_summary();
        }
        RunEvent::TargetStopped { reason, .. } => report.stopped.push(reason.to_string()),
        RunEvent::CaseStarted { .. } | RunEvent::ExchangeRecorded { .. } | RunEvent::Finished => {}
    }
}
