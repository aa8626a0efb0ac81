//! Reports: the run's results written for people and machines (design §1, last stage).
//!
//! The runner fills a [`RunReport`] as results come in; [`prepare`] adds what every sink shares
//! — the ranked root causes ([`causes`]) with their evidence and repros from the exchange
//! files — and the sinks render it, one folder each (`markdown/` → `report.md`, `html/` →
//! `report.html`, `json/` → `report.json`, `junit/` → `junit.xml`), plus [`badge`] →
//! `badge.svg`; [`terminal`] prints the summary and draws the progress bar, [`score`] is the
//! per-target score and the matrix cells. Every file is passed through the run's [`Redactor`]
//! and written atomically. [`write_all`] can be called at any time, at the end of a run or on
//! Ctrl-C with what has run so far (after [`RunReport::finish`] with `interrupted = true`).

pub mod badge;
pub mod causes;
pub mod events;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod model;
pub mod score;
pub mod terminal;

pub use model::{ResultRecord, RunReport, SnapshotInfo, SnapshotStatus, TargetInfo, Timing};

use crate::secrets::Redactor;
use std::io;
use std::path::{Path, PathBuf};

/// A copy of `report`, redacted, with its deviations, and — when `dir` holds the run's
/// `exchanges/` — their evidence and the repros of failing results.
pub fn prepare(report: &RunReport, dir: Option<&Path>, redactor: &Redactor) -> RunReport {
    let mut r = report.redacted(redactor);
    causes::attach(&mut r);
    if let Some(dir) = dir {
        let results = std::mem::take(&mut r.results);
        r.repros = causes::attach_evidence(&mut r.deviations, &results, dir);
        r.results = results;
    }
    r.redacted(redactor)
}

/// Write `report.md`, `report.html`, `report.json`, `junit.xml` and `badge.svg` into `dir`
/// (created if needed); the paths.
pub fn write_all(report: &RunReport, dir: &Path, redactor: &Redactor) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let r = prepare(report, Some(dir), redactor);
    Ok(vec![
        markdown::write_report(&r, dir, redactor)?,
        html::write_report(&r, dir, redactor)?,
        json::write_report(&r, dir, redactor)?,
        junit::write_report(&r, dir, redactor)?,
        badge::write_badge(&r, dir, redactor)?,
    ])
}
