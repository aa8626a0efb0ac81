//! `report.md`: the report a person reads.
//!
//! 1. A compatibility matrix: features as rows, targets as columns (several targets of one
//!    run side by side); each cell counts the verdicts of that feature's scenarios × modes,
//!    worst first (`fail 1 · pass 5`), with `(expected)` when the target declared them.
//! 2. A legend of the verdict words.
//! 3. Every result that did not pass, with its findings (severity, check, location,
//!    expected / actual, reference) or its error.
//! 4. Timings per target: median and p95 of time to first token and total time.
//! 5. "Changed since snapshot": the diffs, in ```diff fences.

use super::model::{ResultRecord, RunReport, sorted_findings};
use crate::secrets::Redactor;
use crate::verdict::Verdict;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "report.md";

/// Longest `expected`/`actual` value shown inline; longer values are cut with `…`.
const MAX_VALUE: usize = 300;

/// Render and write `DIR/report.md` atomically, redacted.
pub fn write_report(report: &RunReport, dir: &Path, redactor: &Redactor) -> io::Result<PathBuf> {
    let path = dir.join(FILE_NAME);
    let text = redactor.redact(&render(&report.redacted(redactor)));
    crate::fsutil::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// The markdown text of a report.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# conform report\n");
    let _ = writeln!(
        out,
        "conform {} · started {} · {:.1} s · {} results{}\n",
        report.conform_version,
        report.started_at,
        report.duration_ms / 1000.0,
        report.results.len(),
        if report.interrupted {
            " · **interrupted: partial results**"
        } else {
            ""
        }
    );
    for why in &report.stopped {
        let _ = writeln!(out, "> **Stopped:** {why}\n");
    }
    render_targets(report, &mut out);
    render_matrix(report, &mut out);
    render_legend(&mut out);
    render_non_pass(report, &mut out);
    render_timings(report, &mut out);
    render_snapshot_changes(report, &mut out);
    render_baseline(report, &mut out);
    out
}

/// `conform run --baseline`: the comparison with the earlier run, rendered by `conform diff`'s
/// Markdown renderer from the typed comparison.
fn render_baseline(report: &RunReport, out: &mut String) {
    let Some(b) = &report.baseline else { return };
    let _ = writeln!(out, "## Compared with {}\n", b.file);
    let md = crate::diff::render(&b.comparison, crate::diff::Format::Md);
    let _ = writeln!(out, "{}", md.trim_end());
}

fn render_targets(report: &RunReport, out: &mut String) {
    let _ = writeln!(
        out,
        "## Targets\n\n| target | model | base URL |\n|---|---|---|"
    );
    for t in &report.targets {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cell(&t.name),
            cell(&t.model),
            cell(&t.base_url)
        );
    }
    out.push('\n');
}

/// The counts of one cell: `fail 1 · pass 5`, worst first; expected verdicts marked.
pub fn cell_text(results: &[&ResultRecord]) -> String {
    if results.is_empty() {
        return "—".to_string();
    }
    let mut counts: BTreeMap<(usize, bool), (Verdict, usize)> = BTreeMap::new();
    for r in results {
        let e = counts
            .entry((r.verdict.rank(), r.expected))
            .or_insert((r.verdict, 0));
        e.1 += 1;
    }
    counts
        .values()
        .zip(counts.keys())
        .map(|((v, n), (_, expected))| {
            if *expected {
                format!("{v} {n} (expected)")
            } else {
                format!("{v} {n}")
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn render_matrix(report: &RunReport, out: &mut String) {
    let _ = writeln!(out, "## Compatibility matrix\n");
    if report.results.is_empty() {
        let _ = writeln!(out, "No results.\n");
        return;
    }
    let _ = write!(out, "| feature |");
    for t in &report.targets {
        let _ = write!(out, " {} |", cell(&t.name));
    }
    let _ = write!(out, "\n|---|");
    for _ in &report.targets {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    for feature in report.features() {
        let _ = write!(out, "| {} |", cell(&feature));
        for t in &report.targets {
            let rs: Vec<&ResultRecord> = report
                .results
                .iter()
                .filter(|r| r.feature == feature && r.target == t.name)
                .collect();
            let _ = write!(out, " {} |", cell_text(&rs));
        }
        out.push('\n');
    }
    out.push('\n');
}

fn render_legend(out: &mut String) {
    let _ = writeln!(out, "Legend:\n");
    for v in Verdict::ALL {
        let _ = writeln!(out, "- **{v}**: {}", v.meaning());
    }
    let _ = writeln!(
        out,
        "- **(expected)**: declared in the target's `expect_unsupported`; does not fail the run\n"
    );
}

fn render_non_pass(report: &RunReport, out: &mut String) {
    let mut rs: Vec<&ResultRecord> = report
        .results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .collect();
    let _ = writeln!(out, "## Results that did not pass\n");
    if rs.is_empty() {
        let _ = writeln!(out, "None.\n");
        return;
    }
    rs.sort_by(|a, b| {
        (a.verdict.rank(), &a.target, &a.scenario).cmp(&(b.verdict.rank(), &b.target, &b.scenario))
    });
    for r in rs {
        let expected = if r.expected { " (expected)" } else { "" };
        let _ = writeln!(
            out,
            "### {} · {} — {}{expected}\n",
            r.target,
            r.case_name(),
            r.verdict
        );
        if !r.title.is_empty() {
            let _ = writeln!(out, "{}\n", r.title);
        }
        if let Some(e) = &r.error {
            let _ = writeln!(out, "Error: {}\n", code(e));
        }
        if r.attempts > 1 {
            let _ = writeln!(out, "Attempts: {}\n", r.attempts);
        }
        let findings = sorted_findings(&r.findings);
        if findings.is_empty() {
            continue;
        }
        for f in findings {
            let _ = write!(
                out,
                "- **{}** {} at {}: {}",
                f.severity,
                code(&f.check),
                code(&f.location),
                one_line(&f.message)
            );
            if let Some(e) = &f.expected {
                let _ = write!(out, "; expected {}", code(&shorten(e)));
            }
            if let Some(a) = &f.actual {
                let _ = write!(out, "; actual {}", code(&shorten(a)));
            }
            if !f.reference.is_empty() {
                let _ = write!(out, " — ref: {}", one_line(&f.reference));
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

fn render_timings(report: &RunReport, out: &mut String) {
    let _ = writeln!(out, "## Timings\n");
    let _ = writeln!(
        out,
        "| target | results | ttft median (ms) | ttft p95 (ms) | total median (ms) | total p95 (ms) |\n|---|---|---|---|---|---|"
    );
    for t in &report.targets {
        let rs: Vec<&ResultRecord> = report
            .results
            .iter()
            .filter(|r| r.target == t.name)
            .collect();
        let ttft: Vec<f64> = rs.iter().filter_map(|r| r.timing.ttft_ms).collect();
        let total: Vec<f64> = rs.iter().filter_map(|r| r.timing.total_ms).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&t.name),
            rs.len(),
            fmt_ms(percentile(&ttft, 50.0)),
            fmt_ms(percentile(&ttft, 95.0)),
            fmt_ms(percentile(&total, 50.0)),
            fmt_ms(percentile(&total, 95.0)),
        );
    }
    out.push('\n');
}

fn render_snapshot_changes(report: &RunReport, out: &mut String) {
    let changed: Vec<(&ResultRecord, &String)> = report
        .results
        .iter()
        .filter_map(|r| {
            r.snapshot
                .as_ref()
                .and_then(|s| s.diff.as_ref())
                .map(|d| (r, d))
        })
        .collect();
    if changed.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Changed since snapshot\n");
    for (r, diff) in changed {
        let fence = fence_for(diff);
        let _ = writeln!(
            out,
            "### {} · {}\n\n{fence}diff\n{}\n{fence}\n",
            r.target,
            r.case_name(),
            diff.trim_end()
        );
    }
}

/// Nearest-rank percentile of unsorted values; `None` when empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.0}"))
        .unwrap_or_else(|| "—".to_string())
}

/// A table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// An inline code span that survives backticks in the text.
fn code(s: &str) -> String {
    let s = one_line(s);
    if s.is_empty() {
        return "(empty)".to_string();
    }
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= MAX_VALUE {
        return s.to_string();
    }
    let cut: String = s.chars().take(MAX_VALUE).collect();
    format!("{cut}…")
}

/// A code fence longer than any run of backticks inside the text.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 50.0), Some(2.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn code_spans_and_fences_survive_backticks() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("x"), "`x`");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(fence_for("no ticks"), "```");
        assert_eq!(fence_for("has ``` inside"), "````");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
