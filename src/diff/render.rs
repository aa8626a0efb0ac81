//! Rendering a [`Comparison`]: Markdown for PR comments, plain text for terminals, JSON for
//! tools. Regressions and fixes are grouped by cause (140 results that regressed for 4 reasons
//! are 4 rows, each naming its results); JSON keeps one entry per result.

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
            "{n} of the regressions went from pass or warn to ignored or inconclusive: the request is still accepted but the feature no longer takes effect (or can no longer be judged); that counts as a regression, and `conform diff` and `conform run --baseline` exit 1 on any regression."
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

/// Changes that share a cause: the first new finding's check (for a fix, the first resolved
/// check), else the verdict move.
struct Cause<'a> {
    /// What the rows show: `` `check` (severity): message `` or `pass → ignored`.
    label: String,
    changes: Vec<&'a Change>,
}

/// The cause of one change.
fn cause_label(ch: &Change, markdown: bool) -> String {
    let q = |s: &str| {
        if markdown {
            format!("`{s}`")
        } else {
            s.to_string()
        }
    };
    if let Some(f) = ch.new_findings.first() {
        let msg = if markdown {
            cell(&f.message).replace('<', "&lt;").replace('>', "&gt;")
        } else {
            f.message.clone()
        };
        return format!("{} ({}): {msg}", q(&f.check), f.severity);
    }
    if let Some(r) = ch.resolved_checks.first() {
        return format!("{} resolved", q(r));
    }
    format!("{} → {} (no new finding)", ch.before, ch.after)
}

/// Group changes by cause, the largest group first (ties in first-seen order).
fn by_cause(changes: &[Change], markdown: bool) -> Vec<Cause<'_>> {
    let mut out: Vec<Cause<'_>> = Vec::new();
    for ch in changes {
        let label = cause_label(ch, markdown);
        match out.iter_mut().find(|c| c.label == label) {
            Some(c) => c.changes.push(ch),
            None => out.push(Cause {
                label,
                changes: vec![ch],
            }),
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.changes.len()));
    out
}

/// Results named per cause; the rest are counted.
const NAMED: usize = 5;

/// `target scenario@mode` of the first [`NAMED`] changes, and how many more.
fn names(changes: &[&Change], markdown: bool) -> String {
    let mut parts: Vec<String> = changes
        .iter()
        .take(NAMED)
        .map(|ch| {
            if markdown {
                format!(
                    "{} `{}`@{}",
                    cell(&ch.target),
                    cell(&ch.scenario),
                    cell(&ch.mode)
                )
            } else {
                format!("{}/{}@{}", ch.target, ch.scenario, ch.mode)
            }
        })
        .collect();
    if changes.len() > NAMED {
        parts.push(format!("+{} more", changes.len() - NAMED));
    }
    parts.join(", ")
}

/// The verdict moves of a group: `pass → fail`, or several joined.
fn moves(changes: &[&Change]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for ch in changes {
        let m = format!("{} → {}", ch.before, ch.after);
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    seen.join(", ")
}

fn md_causes(out: &mut String, title: &str, changes: &[Change]) {
    if changes.is_empty() {
        return;
    }
    let causes = by_cause(changes, true);
    let _ = writeln!(
        out,
        "\n#### {title} ({}), {}\n",
        changes.len(),
        plural(causes.len(), "cause", "causes")
    );
    out.push_str("| Cause | Results | Verdicts | Which |\n|---|---|---|---|\n");
    for c in &causes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            c.label,
            c.changes.len(),
            moves(&c.changes),
            names(&c.changes, true)
        );
    }
}

fn text_causes(out: &mut String, title: &str, changes: &[Change]) {
    if changes.is_empty() {
        return;
    }
    let causes = by_cause(changes, false);
    let _ = writeln!(
        out,
        "\n{title} ({}), {}:",
        changes.len(),
        plural(causes.len(), "cause", "causes")
    );
    for c in &causes {
        let _ = writeln!(
            out,
            "  {} [{}, {}]",
            c.label,
            plural(c.changes.len(), "result", "results"),
            moves(&c.changes)
        );
        let _ = writeln!(out, "    {}", names(&c.changes, false));
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
    md_causes(&mut out, "Regressions", &c.regressions);
    md_causes(&mut out, "Fixes", &c.fixes);
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
    text_causes(&mut out, "Regressions", &c.regressions);
    text_causes(&mut out, "Fixes", &c.fixes);
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
        assert!(md.contains("#### Regressions (1), 1 cause"), "{md}");
        assert!(
            md.contains(
                "| `implied.stop-sequence` (must): a\\|b | 1 | pass → fail | t `stop/seq`@sync |"
            ),
            "{md}"
        );
        let txt = render(&c, Format::Text);
        assert!(
            txt.contains(
                "  implied.stop-sequence (must): a|b [1 result, pass → fail]\n    t/stop/seq@sync\n"
            ),
            "{txt}"
        );
        let js: serde_json::Value = serde_json::from_str(&render(&c, Format::Json)).unwrap();
        assert_eq!(js["regressions"][0]["after"], "fail");
    }

    #[test]
    fn regressions_are_grouped_by_cause() {
        let row = |s: &str, v: &str, check: Option<&str>| {
            let findings: Vec<serde_json::Value> = check
                .map(|c| json!({"severity": "must", "check": c, "message": "m"}))
                .into_iter()
                .collect();
            json!({"target": "t", "scenario": s, "mode": "sync", "verdict": v, "findings": findings})
        };
        let names: Vec<String> = (0..8).map(|i| format!("s{i}")).collect();
        let base =
            json!({"results": names.iter().map(|n| row(n, "pass", None)).collect::<Vec<_>>()});
        let new = json!({"results": names.iter().enumerate().map(|(i, n)| match i {
            0..=5 => row(n, "fail", Some("effect.x")),
            6 => row(n, "inconclusive", None),
            _ => row(n, "fail", Some("schema.y")),
        }).collect::<Vec<_>>()});
        let c = super::super::compare_reports(&base, &new);
        let md = render(&c, Format::Md);
        assert!(md.contains("#### Regressions (8), 3 causes"), "{md}");
        assert!(
            md.contains("| `effect.x` (must): m | 6 | pass → fail | t `s0`@sync, t `s1`@sync, t `s2`@sync, t `s3`@sync, t `s4`@sync, +1 more |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| pass → inconclusive (no new finding) | 1 | pass → inconclusive | t `s6`@sync |"
            ),
            "{md}"
        );
        // The way back from ignored is a fix.
        let c = super::super::compare_reports(&new, &base);
        let txt = render(&c, Format::Text);
        assert!(txt.contains("Fixes (8), 3 causes:"), "{txt}");
        assert!(
            txt.contains("  inconclusive → pass (no new finding) [1 result, inconclusive → pass]"),
            "{txt}"
        );
    }
}
