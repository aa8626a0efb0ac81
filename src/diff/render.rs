//! Rendering a [`Comparison`]: Markdown for PR comments, plain text for terminals, JSON for
//! tools.

use super::{Change, Comparison, ResultRef, TimingChange};
use std::fmt::Write as _;

/// Output format of `conform diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Md,
    Text,
    Json,
}

/// Render a comparison; the text ends with a newline.
pub(crate) fn render(c: &Comparison, format: Format) -> String {
    match format {
        Format::Md => markdown(c),
        Format::Text => text(c),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(c).unwrap_or_else(|_| "{}".to_string());
            s.push('\n');
            s
        }
    }
}

/// When a regression is a move to `ignored` or `inconclusive`, say why it counts.
fn lost_effect_note(c: &Comparison) -> Option<String> {
    let n = c
        .regressions
        .iter()
        .filter(|ch| super::LOST_EFFECT.contains(&ch.after.as_str()))
        .count();
    (n > 0).then(|| {
        format!(
            "{n} of the regressions went from pass or warn to ignored or inconclusive: the request is still accepted but the feature no longer takes effect (or can no longer be judged); that counts as a regression, as `conform run` fails on it."
        )
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary_line(c: &Comparison) -> String {
    format!(
        "{}, {}, {}, {}, {} new, {} removed, {} unchanged",
        plural(c.regressions.len(), "regression", "regressions"),
        plural(c.fixes.len(), "fix", "fixes"),
        plural(
            c.verdict_changes.len(),
            "other verdict change",
            "other verdict changes"
        ),
        plural(
            c.findings_changed.len(),
            "result with changed findings",
            "results with changed findings"
        ),
        c.added.len(),
        c.removed.len(),
        c.unchanged
    )
}

/// Escape a table cell: pipes, newlines, and backticks would break the table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn ms(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.0} ms"))
        .unwrap_or_else(|| "–".to_string())
}

fn ratio(x: Option<f64>) -> String {
    x.map(|v| format!("×{v:.2}"))
        .unwrap_or_else(|| "–".to_string())
}

fn findings_cell(ch: &Change) -> String {
    let mut parts: Vec<String> = ch
        .new_findings
        .iter()
        .map(|f| {
            let msg = cell(&f.message).replace('<', "&lt;").replace('>', "&gt;");
            format!("`{}` ({}): {msg}", f.check, f.severity)
        })
        .collect();
    if !ch.resolved_checks.is_empty() {
        parts.push(format!(
            "resolved: {}",
            ch.resolved_checks
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    parts.join("<br>")
}

fn md_changes(out: &mut String, title: &str, changes: &[Change]) {
    if changes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### {title} ({})\n", changes.len());
    out.push_str("| Target | Scenario | Mode | Before | After | Findings |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for ch in changes {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | **{}** | {} |",
            cell(&ch.target),
            cell(&ch.scenario),
            cell(&ch.mode),
            cell(&ch.before),
            cell(&ch.after),
            findings_cell(ch)
        );
    }
}

fn md_refs(out: &mut String, title: &str, refs: &[ResultRef]) {
    if refs.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### {title} ({})\n", refs.len());
    out.push_str("| Target | Scenario | Mode | Verdict |\n|---|---|---|---|\n");
    for r in refs {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            cell(&r.target),
            cell(&r.scenario),
            cell(&r.mode),
            cell(&r.verdict)
        );
    }
}

fn md_timing(out: &mut String, timing: &[TimingChange]) {
    if timing.is_empty() {
        return;
    }
    out.push_str("\n#### Timing (median per target)\n\n");
    out.push_str("| Target | TTFT base | TTFT new | Ratio | Total base | Total new | Ratio |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for t in timing {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&t.target),
            ms(t.base_ttft_ms),
            ms(t.new_ttft_ms),
            ratio(t.ttft_ratio),
            ms(t.base_total_ms),
            ms(t.new_total_ms),
            ratio(t.total_ratio)
        );
    }
}

fn run_label(m: &super::ReportMeta) -> String {
    format!(
        "conform {}, started {}, {} results",
        m.conform_version.as_deref().unwrap_or("?"),
        m.started_at.as_deref().unwrap_or("?"),
        m.results
    )
}

fn markdown(c: &Comparison) -> String {
    let mut out = String::from("### conform diff\n\n");
    let verdict = if c.has_regressions() {
        "❌ regressions found"
    } else {
        "✅ no regressions"
    };
    let _ = writeln!(out, "**{verdict}**: {}.\n", summary_line(c));
    if let Some(note) = lost_effect_note(c) {
        let _ = writeln!(out, "{note}\n");
    }
    let _ = writeln!(
        out,
        "Base: {} · New: {}",
        run_label(&c.base),
        run_label(&c.new)
    );
    md_changes(&mut out, "Regressions", &c.regressions);
    md_changes(&mut out, "Fixes", &c.fixes);
    md_changes(&mut out, "Other verdict changes", &c.verdict_changes);
    md_changes(
        &mut out,
        "Findings changed (same verdict)",
        &c.findings_changed,
    );
    md_refs(&mut out, "New results", &c.added);
    md_refs(&mut out, "Removed results", &c.removed);
    md_timing(&mut out, &c.timing);
    out
}

fn text_changes(out: &mut String, title: &str, changes: &[Change]) {
    if changes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({}):", changes.len());
    for ch in changes {
        let _ = writeln!(
            out,
            "  {}/{}@{}: {} -> {}",
            ch.target, ch.scenario, ch.mode, ch.before, ch.after
        );
        for f in &ch.new_findings {
            let _ = writeln!(out, "    + {} {}: {}", f.severity, f.check, f.message);
        }
        for r in &ch.resolved_checks {
            let _ = writeln!(out, "    - {r}");
        }
    }
}

fn text_refs(out: &mut String, title: &str, refs: &[ResultRef]) {
    if refs.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({}):", refs.len());
    for r in refs {
        let _ = writeln!(
            out,
            "  {}/{}@{}: {}",
            r.target, r.scenario, r.mode, r.verdict
        );
    }
}

fn text(c: &Comparison) -> String {
    let mut out = format!("conform diff: {}\n", summary_line(c));
    if let Some(note) = lost_effect_note(c) {
        let _ = writeln!(out, "{note}");
    }
    let _ = writeln!(
        out,
        "base: {}\nnew:  {}",
        run_label(&c.base),
        run_label(&c.new)
    );
    text_changes(&mut out, "Regressions", &c.regressions);
    text_changes(&mut out, "Fixes", &c.fixes);
    text_changes(&mut out, "Other verdict changes", &c.verdict_changes);
    text_changes(&mut out, "Findings changed", &c.findings_changed);
    text_refs(&mut out, "New results", &c.added);
    text_refs(&mut out, "Removed results", &c.removed);
    if !c.timing.is_empty() {
        out.push_str("\nTiming (median per target):\n");
        for t in &c.timing {
            let _ = writeln!(
                out,
                "  {}: TTFT {} -> {} ({}), total {} -> {} ({})",
                t.target,
                ms(t.base_ttft_ms),
                ms(t.new_ttft_ms),
                ratio(t.ttft_ratio),
                ms(t.base_total_ms),
                ms(t.new_total_ms),
                ratio(t.total_ratio)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markdown_names_regressions_and_escapes_cells() {
        let base = json!({"results": [{"target": "t", "scenario": "stop/seq", "mode": "sync", "verdict": "pass"}]});
        let new = json!({"results": [{"target": "t", "scenario": "stop/seq", "mode": "sync", "verdict": "fail",
            "findings": [{"severity": "must", "check": "implied.stop-sequence", "message": "a|b"}]}]});
        let c = super::super::compare_reports(&base, &new);
        let md = render(&c, Format::Md);
        assert!(md.contains("#### Regressions (1)"), "{md}");
        assert!(md.contains("| t | `stop/seq` | sync | pass | **fail** | `implied.stop-sequence` (must): a\\|b |"), "{md}");
        let txt = render(&c, Format::Text);
        assert!(txt.contains("t/stop/seq@sync: pass -> fail"), "{txt}");
        let js: serde_json::Value = serde_json::from_str(&render(&c, Format::Json)).unwrap();
        assert_eq!(js["regressions"][0]["after"], "fail");
    }
}
