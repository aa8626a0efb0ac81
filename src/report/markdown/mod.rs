//! `report.md`: the report a person reads, causes first.
//!
//! 1. **Score** per target: features conformant / degraded / ignored / unsupported / failing,
//!    the inconclusive results left out of them, and the compat percentage, with how it is
//!    computed ([`score::HOW`]).
//! 2. **What to fix first**: the ranked deviations ([`causes`]), one line each.
//! 3. The **matrix**: features (in `conform list` order) × targets × modes, cells like `⚠ 3/4`.
//! 4. Timings per target and the baseline comparison (`--baseline`).
//! 5. Appendix A: each deviation in detail — evidence from the exchange record, fix hint,
//!    public doc URL, `curl` repro. Appendix B: every result, passing ones too, with the
//!    deviations it shows and a repro when it fails. Appendix C: snapshot diffs.

mod appendix;

use super::causes::{self, Deviation};
use super::model::{ResultRecord, RunReport};
use super::score::{self, Cell};
use crate::verdict::Verdict;
use std::fmt::Write as _;

pub(crate) const FILE_NAME: &str = "report.md";

/// The markdown text of a report.
pub fn render(report: &RunReport) -> String {
    let report = &*causes::ensured(report);
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
        let _ = writeln!(out, "> **Stopped:** {}\n", prose(why));
    }
    for why in &report.paused {
        let _ = writeln!(out, "> **Paused:** {}\n", prose(why));
    }
    render_scores(report, &mut out);
    render_deviations(report, &mut out);
    render_matrix(report, &mut out);
    render_legend(&mut out);
    render_documented(report, &mut out);
    render_timings(report, &mut out);
    render_baseline(report, &mut out);
    appendix::render(report, &mut out);
    out
}

/// Per target with a provider profile: what the provider documents against what the run saw.
fn render_documented(report: &RunReport, out: &mut String) {
    for t in &report.documented {
        let _ = writeln!(
            out,
            "## Documented vs observed: {} ({})\n\n| kind | what the provider documents | observed | cases |\n|---|---|---|---|",
            cell(&t.target),
            cell(&t.provider)
        );
        for r in &t.rows {
            let cases = match r.cases.len() {
                0 => String::new(),
                n if n <= 3 => r.cases.join(", "),
                n => format!("{}, … ({n})", r.cases[..3].join(", ")),
            };
            let read = r
                .checked
                .as_deref()
                .map(|d| format!(" (read {})", cell(d)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | [{}]({}){read}: {} | **{}** | {} |",
                cell(&r.kind),
                cell(&r.id),
                r.doc,
                cell(&r.note),
                cell(&r.status),
                cell(&cases)
            );
        }
        out.push('\n');
    }
}

fn render_scores(report: &RunReport, out: &mut String) {
    let _ = writeln!(
        out,
        "## Score\n\n| target | model | compat | conformant | degraded | ignored | unsupported | failing | inconclusive results | deviations |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for (s, t) in score::scores(report).iter().zip(&report.targets) {
        let n = report
            .deviations
            .iter()
            .filter(|d| d.target == t.name)
            .count();
        let _ = writeln!(
            out,
            "| {} | {} | **{}** | {} | {} | {} | {} | {} | {} | {n} |",
            cell(&t.name),
            cell(&t.model),
            s.percent_text(),
            s.conformant,
            s.degraded,
            s.ignored,
            s.unsupported,
            s.failing,
            s.inconclusive
        );
    }
    let _ = writeln!(out, "\n{}\n", score::HOW);
}

fn render_deviations(report: &RunReport, out: &mut String) {
    let _ = writeln!(out, "## What to fix first\n");
    if report.deviations.is_empty() {
        let _ = writeln!(out, "No deviations.\n");
        return;
    }
    let several = report.targets.len() > 1;
    for t in &report.targets {
        let (devs, notes): (Vec<&Deviation>, Vec<&Deviation>) = report
            .deviations
            .iter()
            .filter(|d| d.target == t.name)
            .partition(|d| causes::to_fix(d));
        if devs.is_empty() && notes.is_empty() {
            continue;
        }
        if several {
            let _ = writeln!(out, "### {}\n", t.name);
        }
        if devs.is_empty() {
            let _ = writeln!(out, "Nothing to fix.\n");
            render_notes(&notes, out);
            continue;
        }
        let _ = writeln!(
            out,
            "| # | severity | check | what is wrong | seen in | fix |\n|---|---|---|---|---|---|"
        );
        for d in devs {
            let _ = writeln!(
                out,
                "| [{}](#{}) | {} | {} | {} | {} | {} |",
                d.id,
                d.anchor(),
                d.severity,
                code(&d.check),
                cell(&prose(&d.sentence)),
                cell(&seen_in(d)),
                cell(&d.fix)
            );
        }
        out.push('\n');
        render_notes(&notes, out);
    }
    if report.deviations.iter().any(causes::to_fix) {
        let _ = writeln!(
            out,
            "Ranked by severity, then measured client impact, then features touched. Evidence, docs and a `curl` repro for each: Appendix A.\n"
        );
    }
}

/// The informational deviations of a target, on one line: nothing to fix.
fn render_notes(notes: &[&Deviation], out: &mut String) {
    if notes.is_empty() {
        return;
    }
    let listed: Vec<String> = notes
        .iter()
        .map(|d| format!("[{}](#{}) {}", d.id, d.anchor(), code(&d.check)))
        .collect();
    let _ = writeln!(
        out,
        "Informational, nothing to fix (legal behaviour or notes): {}.\n",
        listed.join(", ")
    );
}

/// `16 results · 1 feature (stop-sequences)`.
fn seen_in(d: &Deviation) -> String {
    if d.target_wide {
        return d.spread();
    }
    let mut f = d
        .features
        .iter()
        .take(4)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if d.features.len() > 4 {
        f.push_str(", …");
    }
    format!("{} ({f})", d.spread())
}

/// `conform run --baseline`: the comparison with the earlier run, rendered by `conform diff`'s
/// Markdown renderer from the typed comparison.
fn render_baseline(report: &RunReport, out: &mut String) {
    let Some(b) = &report.baseline else { return };
    let _ = writeln!(out, "## Compared with {}\n", b.file);
    let md = crate::diff::render(&b.comparison, crate::diff::Format::Md);
    let _ = writeln!(out, "{}", md.trim_end());
}

fn render_matrix(report: &RunReport, out: &mut String) {
    let _ = writeln!(out, "## Compatibility matrix\n");
    if report.results.is_empty() {
        let _ = writeln!(out, "No results.\n");
        return;
    }
    let modes = score::modes(report);
    let _ = write!(out, "| feature |");
    for t in &report.targets {
        for m in &modes {
            let _ = write!(out, " {} {m} |", cell(&t.name));
        }
    }
    let _ = write!(out, "\n|---|");
    for _ in 0..report.targets.len() * modes.len() {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    for feature in report.features() {
        let _ = write!(out, "| {} |", cell(&feature));
        for t in &report.targets {
            for m in &modes {
                let rs = score::cell_results(report, &t.name, &feature, *m);
                let _ = write!(out, " {} |", Cell::of(&rs).text());
            }
        }
        out.push('\n');
    }
    out.push('\n');
}

fn render_legend(out: &mut String) {
    let _ = writeln!(
        out,
        "Cells: the worst verdict's icon, then the results that pass or warn / all results of that feature and mode. Verdicts:\n"
    );
    for v in Verdict::ALL {
        let _ = writeln!(out, "- {} **{v}**: {}", score::icon(v), v.meaning());
    }
    let _ = writeln!(
        out,
        "- **(expected)**: declared in the target's `expect_unsupported`; does not fail the run\n"
    );
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

/// Nearest-rank percentile of unsorted values; `None` when empty.
pub(crate) fn percentile(values: &[f64], p: f64) -> Option<f64> {
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

pub(crate) fn fmt_ms(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.0}"))
        .unwrap_or_else(|| "—".to_string())
}

/// A table cell: one line, pipes escaped.
pub(crate) fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

pub(crate) fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// Prose that may carry what the endpoint wrote, on one line, safe in Markdown rendered with
/// HTML allowed: `&`, `<` and `>` become entities (no element, no `<…>` autolink), `[`, `]`
/// and `\` are backslash-escaped (no `[text](javascript:…)` link, no `![](…)` tracking image).
/// Code spans (a run of backticks closed by a run of the same length, as CommonMark reads them)
/// are kept as they are: nothing inside one is markup; a backtick that opens none is escaped.
pub(crate) fn prose(s: &str) -> String {
    let s = one_line(s);
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' {
            let n = b[i..].iter().take_while(|&&c| c == b'`').count();
            match closing_run(b, i + n, n) {
                Some(end) => {
                    out.push_str(&s[i..end]);
                    i = end;
                }
                None => {
                    for _ in 0..n {
                        out.push_str("\\`");
                    }
                    i += n;
                }
            }
            continue;
        }
        let next = s[i..].find('`').map_or(s.len(), |k| i + k);
        let part = &s[i..next];
        for (k, c) in part.char_indices() {
            // `[REDACTED]` as the redactor wrote it stays readable: alone it is no link
            // (nothing follows it that would make one).
            if part[k..].starts_with(REDACTED_MARK)
                && !part[k + REDACTED_MARK.len()..].starts_with(['(', '[', ':'])
            {
                out.push('[');
                continue;
            }
            if c == ']' && part[..k].ends_with(&REDACTED_MARK[..REDACTED_MARK.len() - 1]) && {
                let after = &part[k + 1..];
                !after.starts_with(['(', '[', ':'])
            } {
                out.push(']');
                continue;
            }
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '\\' | '[' | ']' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        i = next;
    }
    out
}

/// What the redactor leaves where a secret was.
const REDACTED_MARK: &str = "[REDACTED]";

/// Where the code span opened by `n` backticks before `from` ends (just after its closing run
/// of exactly `n` backticks), if it is closed.
fn closing_run(b: &[u8], from: usize, n: usize) -> Option<usize> {
    let mut j = from;
    while j < b.len() {
        if b[j] == b'`' {
            let m = b[j..].iter().take_while(|&&c| c == b'`').count();
            if m == n {
                return Some(j + m);
            }
            j += m;
        } else {
            j += 1;
        }
    }
    None
}

/// An inline code span that survives backticks in the text.
pub(crate) fn code(s: &str) -> String {
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

/// A code fence longer than any run of backticks inside the text.
pub(crate) fn fence_for(text: &str) -> String {
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

    #[test]
    fn prose_from_the_endpoint_cannot_make_markup() {
        let hostile = "<script>alert(1)</script> <img src=x onerror=y> [x](javascript:alert(1)) ![t](https://t.example/p.gif) **b** `c` a|b\nnext";
        let out = prose(hostile);
        assert!(!out.contains('<') && !out.contains('>'), "{out}");
        assert!(
            !out.replace("\\]", "").contains("](") && !out.contains('\n'),
            "{out}"
        );
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(out.contains("\\[x\\](javascript:"), "{out}");
        // A code span stays one (nothing in it is markup); a lone backtick opens none.
        assert_eq!(prose("has `a<b>` and ` lone"), "has `a<b>` and \\` lone");
        // The redactor's mark stays readable, unless it would make a link.
        assert_eq!(prose("key [REDACTED] here"), "key [REDACTED] here");
        assert_eq!(
            prose("[REDACTED](javascript:x)"),
            "\\[REDACTED\\](javascript:x)"
        );
    }
}
