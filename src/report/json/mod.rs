//! `report.json`: the machine-readable report, the [`RunReport`] serialised as it is
//! (`conform_version`, `started_at`, `duration_ms`, `targets`, `results` with findings, timing
//! and attempts, `summary` of verdict counts per target), plus `scores`: per target the score
//! every other format shows ([`score`]), for machines (reading a report back ignores it: it is
//! computed from the results).

use super::model::RunReport;
use super::score;
use serde_json::{Value, json};
use std::io;
use std::path::Path;

pub(crate) const FILE_NAME: &str = "report.json";

/// Pretty-printed JSON with a final newline.
pub(crate) fn render(report: &RunReport) -> io::Result<String> {
    let mut value = serde_json::to_value(report)?;
    if let Value::Object(map) = &mut value {
        map.insert("scores".to_string(), scores(report));
    }
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    Ok(text)
}

/// `{TARGET: {compat_percent, conformant, …, not_judged, inconclusive_results}}`;
/// `compat_percent` is null when no feature was judged.
fn scores(report: &RunReport) -> Value {
    let map = score::scores(report)
        .into_iter()
        .map(|s| {
            let v = json!({
                "compat_percent": s.percent(),
                "conformant": s.conformant,
                "degraded": s.degraded,
                "ignored": s.ignored,
                "unsupported": s.unsupported,
                "failing": s.failing,
                "not_judged": s.not_judged,
                "inconclusive_results": s.inconclusive,
            });
            (s.target, v)
        })
        .collect();
    Value::Object(map)
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

#[cfg(test)]
mod tests {
    use crate::report::model::{ResultRecord, RunReport, TargetInfo};
    use crate::verdict::Verdict;

    #[test]
    fn the_score_is_written_beside_the_results_and_read_back_without_it() {
        let t = TargetInfo {
            name: "t".into(),
            base_url: "u".into(),
            model: "m".into(),
        };
        let mut rep = RunReport::started_at("x".into(), vec![t]);
        for v in [Verdict::Pass, Verdict::Inconclusive] {
            let mode = if v == Verdict::Pass { "sync" } else { "stream" };
            rep.push(ResultRecord::new(
                "t",
                "basic/x",
                "basic",
                mode.parse().unwrap(),
                v,
            ));
        }
        let text = super::render(&rep).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["scores"]["t"]["compat_percent"], 100);
        assert_eq!(v["scores"]["t"]["conformant"], 1);
        assert_eq!(v["scores"]["t"]["inconclusive_results"], 1);
        let back: RunReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back.results.len(), 2);
    }
}
