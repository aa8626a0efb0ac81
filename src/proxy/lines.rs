//! What `conform proxy` prints while it runs: one line per exchange (number, method, path,
//! status, verdict and its first cause) as the exchange ends, and at exit the causes seen most
//! often, so a developer watching their application sees what the judge saw without opening
//! the report.

use crate::check::Finding;
use crate::report::model::ResultRecord;
use crate::secrets::Redactor;
use std::collections::BTreeMap;

/// How many causes the exit summary names.
const TOP: usize = 5;

/// The most severe finding of a result (the first of equally severe ones).
fn first_cause(findings: &[Finding]) -> Option<&Finding> {
    findings
        .iter()
        .min_by_key(|f| std::cmp::Reverse(f.severity()))
}

/// One exchange's line: `proxy #0001 POST /v1/messages → 200, fail: check (must): message`.
pub(crate) fn exchange_line(
    n: usize,
    method: &str,
    path: &str,
    status: Option<u16>,
    record: &ResultRecord,
    redactor: &Redactor,
) -> String {
    let status = status.map_or_else(|| "no answer".to_string(), |s| s.to_string());
    let mut line = format!(
        "proxy #{n:04} {method} {} → {status}, {}",
        path.split('?').next().unwrap_or(path),
        record.verdict
    );
    if let Some(f) = first_cause(&record.findings) {
        line.push_str(&format!(
            ": {} ({}): {}",
            f.check,
            f.severity(),
            crate::text::truncate(&f.message, 120)
        ));
    } else if let Some(e) = &record.error {
        line.push_str(&format!(": {}", crate::text::truncate(e, 400)));
    }
    redactor.redact(&line)
}

/// The exit summary's causes: each check seen, with how many exchanges showed it, the most
/// frequent first (then by severity); `None` when no exchange had a finding.
pub(crate) fn top_causes(results: &[ResultRecord]) -> Option<String> {
    let mut counts: BTreeMap<String, (usize, crate::check::Severity)> = BTreeMap::new();
    for r in results {
        let mut seen: Vec<String> = Vec::new();
        for f in &r.findings {
            let id = f.check.to_string();
            if !seen.contains(&id) {
                let e = counts.entry(id.clone()).or_insert((0, f.severity()));
                e.0 += 1;
                seen.push(id);
            }
        }
    }
    if counts.is_empty() {
        return None;
    }
    let mut ranked: Vec<(String, usize, crate::check::Severity)> =
        counts.into_iter().map(|(k, (n, s))| (k, n, s)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let shown: Vec<String> = ranked
        .iter()
        .take(TOP)
        .map(|(id, n, sev)| format!("{id} ({sev}) in {n}"))
        .collect();
    let more = ranked.len().saturating_sub(TOP);
    Some(format!(
        "proxy: top causes: {}{}",
        shown.join(", "),
        if more > 0 {
            format!(", and {more} more (see the report)")
        } else {
            String::new()
        }
    ))
}
