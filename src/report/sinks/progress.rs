//! The terminal while a run goes: a progress bar naming the running cases.

use crate::report::model::RunReport;
use crate::run::{RunEvent, Sink, SinkError};

pub struct ProgressSink {
    bar: indicatif::ProgressBar,
    running: Vec<String>,
}

impl ProgressSink {
    pub(crate) fn new(quiet: bool) -> ProgressSink {
        ProgressSink {
            bar: crate::report::terminal::progress_bar(0, quiet),
            running: Vec::new(),
        }
    }

    fn show(&self) {
        let now = self.running.last().cloned().unwrap_or_default();
        let more = self.running.len().saturating_sub(1);
        self.bar.set_message(if more > 0 {
            format!("{now} (+{more})")
        } else {
            now
        });
    }
}

impl Sink for ProgressSink {
    fn event(&mut self, e: &RunEvent<'_>, _: &RunReport) -> Result<(), SinkError> {
        match e {
            RunEvent::Started { planned, .. } => self.bar.set_length(*planned as u64),
            RunEvent::CaseStarted { case } => {
                self.running.push(case.to_string());
                self.show();
            }
            RunEvent::CaseFinished { record } => {
                let name = record.case_id().to_string();
                if let Some(i) = self.running.iter().position(|r| *r == name) {
                    self.running.remove(i);
                }
                self.bar.inc(1);
                self.show();
            }
            RunEvent::Finished => self.bar.finish_and_clear(),
            _ => {}
        }
        Ok(())
    }
}
