//! `report.md` of a comparison: the leaderboard, then each target's details.

use std::fmt::Write as _;

use super::super::Comparison;
use super::super::metrics::METRICS;
use super::{diff_ci, value_ci, verdict_text};
use crate::report::markdown::cell;

/// Text from an endpoint or the command line, safe in a table cell (no markup, no pipes).
fn safe(s: &str) -> String {
    cell(&crate::report::html::esc(s))
}

pub(super) fn render(c: &Comparison) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# conform compare\n");
    let _ = writeln!(
        o,
        "Run {} ({}, conform {}), seed {}, {} tasks per family, {} answer(s) per task. Reference: **{}**. \
         Verdicts: paired bootstrap of target − reference over the same tasks (95% intervals; \
         quantiles also need the paired sign-flip test), \
         Holm's correction over {} tests, equivalence margin from the reference's own repeat \
         or the metric's default. To find a 5-point drop in tool-trigger F1 with 80% power, \
         about **{} trigger tasks** are needed (`--samples {}`).\n",
        c.run_date,
        c.mode,
        c.conform_version,
        c.seed,
        c.samples,
        c.repeats,
        safe(&c.reference),
        c.tests,
        c.recommended_samples,
        c.recommended_samples
    );
    if c.spent.exhausted {
        let _ = writeln!(
            o,
            "**Budget reached**: tasks not answered by every endpoint are left out; rerun with \
             the same `--out` and a larger budget to resume.\n"
        );
    }
    // Leaderboard: one row per metric, one column per endpoint.
    let _ = write!(
        o,
        "## Leaderboard\n\n| metric | {} (reference) |",
        safe(&c.reference)
    );
    for t in &c.targets {
        let _ = write!(o, " {} |", safe(t));
    }
    let _ = write!(o, "\n|---|---|");
    for _ in &c.targets {
        let _ = write!(o, "---|");
    }
    o.push('\n');
    for def in METRICS {
        let rows: Vec<_> = c.results.iter().filter(|r| r.metric == def.id).collect();
        let Some(first) = rows.first() else { continue };
        let _ = write!(
            o,
            "| {} | {} |",
            cell(def.title),
            value_ci(def.id, first.reference, first.reference_ci)
        );
        for r in &rows {
            let _ = write!(
                o,
                " {} · **{}** · n={} |",
                value_ci(def.id, r.value, r.value_ci),
                verdict_text(r),
                r.n
            );
        }
        o.push('\n');
    }
    for t in &c.targets {
        let _ = writeln!(
            o,
            "\n## {} against {}\n\n| metric | difference [95%] | margin | p (Holm) | verdict | n |\n|---|---|---|---|---|---|",
            safe(t),
            safe(&c.reference)
        );
        for r in c.results.iter().filter(|r| &r.target == t) {
            let margin = r
                .margin
                .map(|m| {
                    let from = if r.self_spread.is_some_and(|s| s.abs() >= m) {
                        " (reference spread)"
                    } else {
                        ""
                    };
                    format!("±{}{from}", super::super::verdict::show(r.metric, m))
                })
                .unwrap_or_else(|| "—".into());
            let p = r
                .p_adjusted
                .map(|p| format!("{p:.3}"))
                .unwrap_or_else(|| "—".into());
            let pr = r
                .precision_recall
                .map(|(p, rc)| format!(" (precision {:.1}%, recall {:.1}%)", p * 100.0, rc * 100.0))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "| {}{pr} | {} | {margin} | {p} | {} | {} |",
                r.metric,
                diff_ci(r),
                verdict_text(r),
                r.n
            );
        }
    }
    let _ = writeln!(
        o,
        "\n## Endpoints\n\n| endpoint | role | model asked | models echoed | answers with a request id | tasks scored | rate limit | paused by 429/529 |\n|---|---|---|---|---|---|---|---|"
    );
    for e in &c.endpoints {
        let echoed: Vec<String> = e
            .models_echoed
            .iter()
            .map(|(m, n)| format!("{} ×{n}", safe(m)))
            .collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            safe(&e.name),
            e.role,
            safe(&e.model),
            echoed.join(", "),
            e.request_ids.len(),
            e.tasks_scored
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" + "),
            e.rpm.map_or("none".to_string(), |n| format!("{n}/min")),
            e.pauses
        );
    }
    let _ = writeln!(
        o,
        "\nRequests sent: {}, replayed from the recording: {}, tokens: {}. Per-task results: \
         `samples.jsonl`; every number: `summary.json`.",
        c.spent.sent, c.spent.replayed, c.spent.tokens
    );
    o
}
