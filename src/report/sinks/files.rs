//! The report files (`report.md`, `report.html`, `report.json`, `junit.xml`, `badge.svg`),
//! written from the run's report and the evidence index this sink builds while the exchanges
//! stream past: when the run ends, and for a long-lived producer (the proxy) at most once per
//! interval as results come in.

use crate::report::causes::EvidenceIndex;
use crate::report::model::RunReport;
use crate::run::{RunEvent, Sink, SinkError};
use crate::secrets::{Redactor, SharedRedactor};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct ReportSink {
    dir: PathBuf,
    redactor: Redactor,
    /// Where the redactor comes from when it learns while the run goes (the proxy's).
    learning: Option<SharedRedactor>,
    evidence: EvidenceIndex,
    /// Rewrite the files while the run goes, at most once per this interval.
    every: Option<Duration>,
    last: Option<Instant>,
    /// Results came in since the last write.
    dirty: bool,
    /// How many times the files were written.
    writes: usize,
    /// The files of the last write.
    pub written: Vec<PathBuf>,
}

impl ReportSink {
    /// Files written once, when the run ends.
    pub fn new(dir: &Path, redactor: Redactor) -> ReportSink {
        ReportSink {
            dir: dir.to_path_buf(),
            redactor,
            learning: None,
            evidence: EvidenceIndex::default(),
            every: None,
            last: None,
            dirty: false,
            writes: 0,
            written: Vec::new(),
        }
    }

    /// Files also rewritten as results come in, at most once per `every`.
    pub(crate) fn rewritten_every(dir: &Path, redactor: Redactor, every: Duration) -> ReportSink {
        ReportSink {
            every: Some(every),
            ..ReportSink::new(dir, redactor)
        }
    }

    /// Files redacted with what `shared` knows at each write (secrets learned since the
    /// start included).
    pub(crate) fn learning(mut self, shared: SharedRedactor) -> ReportSink {
        self.redactor = shared.get();
        self.learning = Some(shared);
        self
    }

    /// How many times the files were written.
    pub(crate) fn writes(&self) -> usize {
        self.writes
    }

    fn write(&mut self, report: &RunReport) -> Result<(), SinkError> {
        if let Some(shared) = &self.learning {
            self.redactor = shared.get();
        }
        self.written = crate::report::write_all(report, &self.dir, &self.redactor, &self.evidence)
            .map_err(|e| {
                SinkError::new(format!("writing the reports to {}", self.dir.display()), e)
            })?;
        self.writes += 1;
        self.last = Some(Instant::now());
        self.dirty = false;
        Ok(())
    }

    /// Rewrite now if results came in and the interval has passed since the last write.
    fn rewrite_if_due(&mut self, report: &RunReport) -> Result<(), SinkError> {
        let due = self
            .every
            .is_some_and(|every| self.last.is_none_or(|t| t.elapsed() >= every));
        if self.dirty && due {
            self.write(report)?;
        }
        Ok(())
    }
}

impl Sink for ReportSink {
    fn event(&mut self, e: &RunEvent<'_>, report: &RunReport) -> Result<(), SinkError> {
        match e {
            RunEvent::ExchangeRecorded {
                case,
                step,
                records,
            } => {
                let path = super::exchange_file(&self.dir, &case.target);
                let file = path
                    .strip_prefix(&self.dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                self.evidence
                    .exchange(case, step, &file, records)
                    .map_err(|e| SinkError::new("reading an exchange's records", e))?;
            }
            RunEvent::CaseFinished { record } => {
                self.evidence.finished(record);
                self.dirty = true;
                self.rewrite_if_due(report)?;
            }
            RunEvent::Started { .. } if self.every.is_some() => self.write(report)?,
            RunEvent::Finished => self.write(report)?,
            _ => {}
        }
        Ok(())
    }

    fn tick(&mut self, report: &RunReport) -> Result<(), SinkError> {
        self.rewrite_if_due(report)
    }
}
