//! Reports: the run's results written for people and machines (design §1, last stage).
//!
//! The runner fills a [`RunReport`] as results come in; the sinks render it, one folder each
//! (`markdown/` → `report.md`, `json/` → `report.json`, `junit/` → `junit.xml`), and
//! [`terminal`] prints the summary and draws the progress bar. Every file is passed through the
//! run's [`Redactor`] and written atomically. [`write_all`] can be called at any time, at the
//! end of a run or on Ctrl-C with what has run so far (after [`RunReport::finish`] with
//! `interrupted = true`).

pub mod events;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod terminal;

pub use model::{ResultRecord, RunReport, SnapshotInfo, SnapshotStatus, TargetInfo, Timing};

use crate::secrets::Redactor;
use std::io;
use std::path::{Path, PathBuf};

/// Write `report.md`, `report.json` and `junit.xml` into `dir` (created if needed); the paths.
pub fn write_all(report: &RunReport, dir: &Path, redactor: &Redactor) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    Ok(vec![
        markdown::write_report(report, dir, redactor)?,
        json::write_report(report, dir, redactor)?,
        junit::write_report(report, dir, redactor)?,
    ])
}
