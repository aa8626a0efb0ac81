//! The appendices of `report.md`: each deviation in detail (A), every result (B), the
//! snapshot diffs (C).

use super::{cell, code, fence_for, one_line, prose};
use crate::report::causes::{self, Deviation, Evidence};
use crate::report::facts::{self, Piece, shorten};
use crate::report::model::{ResultRecord, RunReport, sorted_findings};
use crate::report::score;
use crate::verdict::Verdict;
use std::fmt::Write as _;

/// Cases listed by name under a deviation; more are counted.
const MAX_CASES: usize = 8;
/// Findings listed under a failing result; more are counted.
const MAX_FINDINGS: usize = 8;
/// Lines of one snapshot diff.
const MAX_DIFF_LINES: usize = 60;

pub(super) fn render(report: &RunReport, out: &mut String) {
    if !report.deviations.is_empty() {
        let _ = writeln!(out, "## Appendix A — deviations in detail\n");
        for d in &report.deviations {
            deviation(d, report.targets.len() > 1, out);
        }
    }
    results(report, out);
    snapshot_diffs(report, out);
}

fn deviation(d: &Deviation, several: bool, out: &mut String) {
    let on = if several {
        format!(" · {}", d.target)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "<a id=\"{}\"></a>\n### {}{on} · {} ({})\n\n{}\n",
        d.anchor(),
        d.id,
        code(&d.check),
        d.severity,
        prose(&d.sentence)
    );
    for fact in facts::of(d, MAX_CASES) {
        let line: String = fact
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => one_line(t),
                Piece::Message(t) => prose(t),
                Piece::Code(c) => code(c),
                Piece::Link(u) => format!("<{u}>"),
            })
            .collect();
        let _ = writeln!(out, "- {}: {line}", fact.label);
    }
    if let Some(ev) = &d.evidence {
        evidence(ev, out);
    }
    out.push('\n');
}

fn evidence(ev: &Evidence, out: &mut String) {
    let _ = writeln!(
        out,
        "- Exchange: `{}` line {}, label {}\n",
        ev.file,
        ev.line,
        code(&ev.label)
    );
    let mut text: Vec<String> = ev.request.clone();
    text.push(String::new());
    text.extend(ev.retries.iter().map(|r| format!("retry: {r}")));
    text.extend(ev.response.iter().cloned());
    for e in &ev.events {
        text.push(format!("{:>9.1} ms  {}", e.t_ms, e.text));
    }
    let body = text.join("\n");
    let fence = fence_for(&body);
    let _ = writeln!(out, "{fence}text\n{body}\n{fence}\n");
    repro(&ev.curl, out);
}

fn repro(curl: &str, out: &mut String) {
    let fence = fence_for(curl);
    let _ = writeln!(
        out,
        "Repro (set `API_KEY` to the target's key; run from the report dir):\n\n{fence}sh\n{curl}\n{fence}"
    );
}

fn results(report: &RunReport, out: &mut String) {
    let _ = writeln!(out, "## Appendix B — every result\n");
    if report.results.is_empty() {
        let _ = writeln!(out, "No results.\n");
        return;
    }
    let several = report.targets.len() > 1;
    for feature in report.features() {
        let _ = writeln!(out, "### {feature}\n");
        let mut rs: Vec<&ResultRecord> = report
            .results
            .iter()
            .filter(|r| r.feature == feature)
            .collect();
        let target_rank = |t: &str| report.targets.iter().position(|x| x.name == t);
        rs.sort_by_key(|r| (target_rank(&r.target), &r.scenario, r.mode));
        for r in rs {
            result(report, r, several, out);
        }
        out.push('\n');
    }
}

fn result(report: &RunReport, r: &ResultRecord, several: bool, out: &mut String) {
    let devs = causes::of_result(report, r);
    let refs: Vec<String> = devs
        .iter()
        .map(|d| format!("[{}](#{})", d.id, d.anchor()))
        .collect();
    let target = if several {
        format!("{} · ", r.target)
    } else {
        String::new()
    };
    let expected = if r.expected { " (expected)" } else { "" };
    let mut line = format!(
        "- {} {}{expected} · {target}{}",
        score::icon(r.verdict),
        r.verdict,
        code(&r.case_name())
    );
    if !r.title.is_empty() {
        let _ = write!(line, " — {}", prose(&r.title));
    }
    if !refs.is_empty() {
        let _ = write!(line, " · {}", refs.join(" "));
    }
    let _ = writeln!(out, "{line}");
    if matches!(r.verdict, Verdict::Pass | Verdict::Warn | Verdict::Skip) {
        return;
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "  - error: {}", code(e));
    }
    let notable: Vec<_> = sorted_findings(&r.findings)
        .into_iter()
        .filter(|f| f.severity() == crate::check::Severity::Must)
        .collect();
    for f in notable.iter().take(MAX_FINDINGS) {
        let mut l = format!(
            "  - **{}** {} at {}: {}",
            f.severity(),
            code(f.check.as_str()),
            code(&f.location),
            prose(&f.message)
        );
        if let Some(e) = &f.expected {
            let _ = write!(l, "; expected {}", code(&shorten(e)));
        }
        if let Some(a) = &f.actual {
            let _ = write!(l, "; actual {}", code(&shorten(a)));
        }
        let _ = writeln!(out, "{l}");
    }
    if notable.len() > MAX_FINDINGS {
        let _ = writeln!(out, "  - … {} more", notable.len() - MAX_FINDINGS);
    }
    if let Some(ev) = report.repros.get(&causes::result_key(r)) {
        let fence = fence_for(&ev.curl);
        let indented = ev.curl.replace('\n', "\n  ");
        let _ = writeln!(out, "\n  {fence}sh\n  {indented}\n  {fence}\n");
    }
}

fn snapshot_diffs(report: &RunReport, out: &mut String) {
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
    let _ = writeln!(out, "## Appendix C — changed since snapshot\n");
    for (r, diff) in changed {
        let lines: Vec<&str> = diff.trim_end().lines().collect();
        let mut body = lines
            .iter()
            .take(MAX_DIFF_LINES)
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        if lines.len() > MAX_DIFF_LINES {
            let _ = write!(body, "\n… {} more lines", lines.len() - MAX_DIFF_LINES);
        }
        let fence = fence_for(&body);
        let _ = writeln!(
            out,
            "### {} · {}\n\n{fence}diff\n{body}\n{fence}\n",
            cell(&r.target),
            r.case_name()
        );
    }
}
