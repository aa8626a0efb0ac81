//! `exchanges/TARGET.ndjson`: every exchange's redacted records, appended whole as it is
//! recorded, so exchanges never interleave and nothing is held for the run.

use crate::report::model::RunReport;
use crate::run::{RunEvent, Sink, SinkError};
use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Writes each target's exchange file. A run's files are written as `.partial` and renamed
/// when it ends, so a previous run's files stay whole until then; an appending sink (the
/// proxy's) writes the final file directly and flushes it after every exchange.
pub struct ExchangeSink {
    dir: PathBuf,
    appending: bool,
    open: BTreeMap<String, (PathBuf, std::fs::File)>,
}

impl ExchangeSink {
    /// The sink of a run: files renamed into place when the run ends.
    pub fn new(report_dir: &Path) -> ExchangeSink {
        ExchangeSink {
            dir: report_dir.to_path_buf(),
            appending: false,
            open: BTreeMap::new(),
        }
    }

    /// The sink of a proxy: each exchange is in the final file as soon as it ended.
    pub(crate) fn appending(report_dir: &Path) -> ExchangeSink {
        ExchangeSink {
            appending: true,
            ..ExchangeSink::new(report_dir)
        }
    }

    /// The path being written for `path`.
    fn writing(&self, path: &Path) -> PathBuf {
        if self.appending {
            path.to_path_buf()
        } else {
            path.with_extension("ndjson.partial")
        }
    }

    fn file(&mut self, target: &str) -> Result<&mut std::fs::File, SinkError> {
        if !self.open.contains_key(target) {
            let path = super::exchange_file(&self.dir, target);
            let writing = self.writing(&path);
            let created = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|_| std::fs::File::create(&writing));
            let f = created.map_err(|e| write_error(&writing, e))?;
            self.open.insert(target.to_string(), (path, f));
        }
        Ok(&mut self.open.get_mut(target).expect("inserted above").1)
    }
}

fn write_error(path: &Path, e: io::Error) -> SinkError {
    SinkError::new(format!("writing {}", path.display()), e)
}

impl Sink for ExchangeSink {
    fn event(&mut self, e: &RunEvent<'_>, _: &RunReport) -> Result<(), SinkError> {
        match e {
            RunEvent::Started { targets, .. } => {
                for t in targets.iter() {
                    self.file(&t.name)?;
                }
            }
            RunEvent::ExchangeRecorded { case, records, .. } => {
                let appending = self.appending;
                let out = self.file(&case.target)?;
                let written = match records.in_memory() {
                    // One write for the records (a copy would go 8 KiB at a time).
                    Some(bytes) => out.write_all(bytes),
                    None => records
                        .reader()
                        .and_then(|mut r| io::copy(&mut r, out).map(drop)),
                }
                .and_then(|_| if appending { out.flush() } else { Ok(()) });
                if let Err(err) = written {
                    let path = super::exchange_file(&self.dir, &case.target);
                    return Err(write_error(&self.writing(&path), err));
                }
            }
            RunEvent::Finished => {
                // Flushed, renamed, not fsynced (see `fsutil::write_atomic`).
                for (path, mut f) in std::mem::take(&mut self.open).into_values() {
                    let writing = self.writing(&path);
                    f.flush().map_err(|e| write_error(&writing, e))?;
                    drop(f);
                    if writing != path {
                        std::fs::rename(&writing, &path).map_err(|e| write_error(&path, e))?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}
