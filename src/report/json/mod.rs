//! `report.json`: the machine-readable report, the [`RunReport`] serialised as it is
//! (`conform_version`, `started_at`, `duration_ms`, `targets`, `results` with findings, timing
//! and attempts, `summary` of verdict counts per target).

use super::model::RunReport;
use std::io;
use std::path::Path;

pub(crate) const FILE_NAME: &str = "report.json";

/// Pretty-printed JSON with a final newline.
pub(crate) fn render(report: &RunReport) -> io::Result<String> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}

/// Read a `report.json` back (e.g. as a baseline).
pub fn read_report(path: &Path) -> io::Result<RunReport> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not a conform report: {e}", path.display()),
        )
    })
}
