//! Run events and the sinks that consume them (nextest's model: the runner only emits events;
//! the terminal, the exchange writer and the report files are sinks).
//!
//! Events arrive in order: [`RunEvent::Started`], then per case [`RunEvent::CaseStarted`] and
//! [`RunEvent::CaseFinished`] (cases interleave when run in parallel), then
//! [`RunEvent::Finished`] once, also for an interrupted run. Sinks share one view model, the
//! [`RunReport`] that [`ReportSink`] builds; any other sink can render it at the end.

use super::model::{ResultRecord, RunReport, TargetInfo};
use crate::exchange::spool::Spool;
use crate::secrets::Redactor;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// What the runner reports as it goes.
pub enum RunEvent<'a> {
    Started {
        targets: &'a [TargetInfo],
        cases: usize,
    },
    /// A case was dispatched (`scenario@mode` against a target).
    CaseStarted { target: &'a str, case: &'a str },
    /// A case ended; `exchanges` holds its recorded exchanges (redacted records).
    CaseFinished {
        record: &'a ResultRecord,
        exchanges: Option<&'a Spool>,
    },
    /// The run ended (possibly interrupted); the report is complete and final.
    Finished { report: &'a RunReport },
}

/// A consumer of run events. A sink's error stops only that sink (the run goes on) and is
/// reported at the end by the caller.
pub trait Sink: Send {
    fn event(&mut self, e: &RunEvent<'_>) -> io::Result<()>;
}

/// Writes `exchanges/TARGET.ndjson` as cases finish: each case's records are appended whole,
/// so exchanges never interleave and nothing is held for the run. The files are written as
/// `.partial` and renamed at the end, so a previous run's files stay until then.
pub struct ExchangeSink {
    dir: PathBuf,
    open: BTreeMap<String, (PathBuf, std::fs::File)>,
}

impl ExchangeSink {
    pub fn new(report_dir: &Path) -> ExchangeSink {
        ExchangeSink {
            dir: report_dir.join("exchanges"),
            open: BTreeMap::new(),
        }
    }

    /// Where the exchanges of `target` are written.
    pub fn file_for(report_dir: &Path, target: &str) -> PathBuf {
        let safe = crate::fsutil::safe_name(target, "._-");
        report_dir.join("exchanges").join(format!("{safe}.ndjson"))
    }

    fn file(&mut self, target: &str) -> io::Result<&mut std::fs::File> {
        if !self.open.contains_key(target) {
            std::fs::create_dir_all(&self.dir)?;
            let path = Self::file_for(self.dir.parent().unwrap_or(&self.dir), target);
            let partial = path.with_extension("ndjson.partial");
            let f = std::fs::File::create(&partial)?;
            self.open.insert(target.to_string(), (path, f));
        }
        Ok(&mut self.open.get_mut(target).expect("inserted above").1)
    }
}

impl Sink for ExchangeSink {
    fn event(&mut self, e: &RunEvent<'_>) -> io::Result<()> {
        match e {
            RunEvent::Started { targets, .. } => {
                for t in targets.iter() {
                    self.file(&t.name)?;
                }
            }
            RunEvent::CaseFinished {
                record,
                exchanges: Some(spool),
            } => {
                let out = self.file(&record.target)?;
                match spool.in_memory() {
                    // One write for a case's records (a copy would go 8 KiB at a time).
                    Some(bytes) => io::Write::write_all(out, bytes)?,
                    None => {
                        io::copy(&mut spool.reader()?, out)?;
                    }
                }
            }
            RunEvent::Finished { .. } => {
                // Flushed, renamed, not fsynced (see `fsutil::write_atomic`).
                for (path, mut f) in std::mem::take(&mut self.open).into_values() {
                    io::Write::flush(&mut f)?;
                    drop(f);
                    std::fs::rename(path.with_extension("ndjson.partial"), &path)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Builds the run's [`RunReport`] from the events and writes `report.md`, `report.json` and
/// `junit.xml` when the run ends.
pub struct ReportSink {
    dir: PathBuf,
    redactor: Redactor,
    pub written: Vec<PathBuf>,
}

impl ReportSink {
    pub fn new(dir: &Path, redactor: Redactor) -> ReportSink {
        ReportSink {
            dir: dir.to_path_buf(),
            redactor,
            written: Vec::new(),
        }
    }
}

impl Sink for ReportSink {
    fn event(&mut self, e: &RunEvent<'_>) -> io::Result<()> {
        if let RunEvent::Finished { report } = e {
            self.written = super::write_all(report, &self.dir, &self.redactor)?;
        }
        Ok(())
    }
}

/// The terminal while the run goes: a progress bar naming the running cases.
pub struct ProgressSink {
    bar: indicatif::ProgressBar,
    running: Vec<String>,
}

impl ProgressSink {
    pub fn new(quiet: bool) -> ProgressSink {
        ProgressSink {
            bar: super::terminal::progress_bar(0, quiet),
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
    fn event(&mut self, e: &RunEvent<'_>) -> io::Result<()> {
        match e {
            RunEvent::Started { cases, .. } => self.bar.set_length(*cases as u64),
            RunEvent::CaseStarted { target, case } => {
                self.running.push(format!("{target} {case}"));
                self.show();
            }
            RunEvent::CaseFinished { record, .. } => {
                let name = format!("{} {}", record.target, record.case_name());
                if let Some(i) = self.running.iter().position(|r| *r == name) {
                    self.running.remove(i);
                }
                self.bar.inc(1);
                self.show();
            }
            RunEvent::Finished { .. } => self.bar.finish_and_clear(),
        }
        Ok(())
    }
}
