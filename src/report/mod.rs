//! Reports: the run's results written for people and machines (the pipeline's last stage).
//!
//! The runner fills a [`RunReport`] as results come in; [`prepare`] adds what every sink shares
//! — the ranked root causes ([`causes`]) with their evidence and repros from the exchange
//! files — and the sinks render it, one folder each (`markdown/` → `report.md`, `html/` →
//! `report.html`, `json/` → `report.json`, `junit/` → `junit.xml`), plus [`badge`] →
//! `badge.svg`; [`terminal`] prints the summary and draws the progress bar, [`score`] is the
//! per-target score and the matrix cells. Every file is passed through the run's [`Redactor`]
//! and written atomically. [`write_all`] can be called at any time, at the end of a run or on
//! Ctrl-C with what has run so far (after [`RunReport::finish`] with `interrupted = true`).

pub(crate) mod badge;
pub(crate) mod causes;
pub(crate) mod deviation;
mod facts;
pub(crate) mod html;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod merge;
pub(crate) mod model;
pub(crate) mod score;
pub(crate) mod sinks;
pub(crate) mod terminal;

pub(crate) use model::{ResultRecord, RunReport};

use crate::secrets::Redactor;
use std::io;
use std::path::{Path, PathBuf};

/// A copy of `report`, redacted, with its deviations, their evidence and the repros of
/// failing results (from `evidence`, when given).
pub(crate) fn prepare(
    report: &RunReport,
    evidence: Option<&causes::EvidenceIndex>,
    redactor: &Redactor,
) -> RunReport {
    let mut r = report.redacted(redactor);
    causes::attach(&mut r);
    if let Some(index) = evidence {
        let results = std::mem::take(&mut r.results);
        r.repros = causes::attach_evidence(&mut r.deviations, &results, index);
        r.results = results;
    }
    r.redacted(redactor)
}

/// Write `report.md`, `report.html`, `report.json`, `junit.xml` and `badge.svg` into `dir`
/// (created if needed), the evidence taken from `evidence`; the paths.
pub fn write_all(
    report: &RunReport,
    dir: &Path,
    redactor: &Redactor,
    evidence: &causes::EvidenceIndex,
) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let r = prepare(report, Some(evidence), redactor);
    let formats: [(&str, Render); 4] = [
        (markdown::FILE_NAME, |r| Ok(markdown::render(r))),
        (html::FILE_NAME, |r| Ok(html::render(r))),
        (json::FILE_NAME, json::render),
        (junit::FILE_NAME, junit::render),
    ];
    // One after the other on this thread: measured on 2 cores, a thread per format was 1–3 ms
    // slower over the whole library (each thread's allocations start on fresh pages).
    let mut written = Vec::with_capacity(formats.len() + 1);
    for (name, render) in formats {
        written.push(write_format(&r, dir, name, render, redactor)?);
    }
    written.push(badge::write_badge(&r, dir, redactor)?);
    Ok(written)
}

/// How a format renders a report to text.
type Render = fn(&RunReport) -> io::Result<String>;

/// Render `report` (its fields already redacted) with `render` and write it to `dir/name`
/// atomically, the text passed through `redactor` once more (whatever the endpoint echoed, in
/// whatever form a format gives it); the path.
fn write_format(
    report: &RunReport,
    dir: &Path,
    name: &str,
    render: Render,
    redactor: &Redactor,
) -> io::Result<PathBuf> {
    let path = dir.join(name);
    let text = redactor.redact(&render(report)?);
    // No control character the endpoint wrote reaches a file raw (ESC, BEL, OSC, C1).
    crate::fsutil::write_atomic(&path, crate::text::visible(&text).as_bytes())?;
    Ok(path)
}
