//! `report.html` of a comparison: the leaderboard with an interval plot per metric (inline
//! SVG: each endpoint's value and 95% interval, and each target's difference from the
//! reference against the equivalence margin). Self-contained: no script, no external file.

use std::fmt::Write as _;

use super::super::Comparison;
use super::super::metrics::METRICS;
use super::super::verdict::{MetricResult, Word};
use super::{diff_ci, value_ci, verdict_text};
use crate::report::html::esc;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:80em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f4f4f4}.equivalent{color:#1a6}.better{color:#06c;font-weight:600}.worse{color:#c22;font-weight:600}\
.inconclusive{color:#a70}small{color:#666}svg text{font:11px system-ui,sans-serif}";

fn colour(w: Word) -> &'static str {
    match w {
        Word::Equivalent => "#1a6",
        Word::Better => "#06c",
        Word::Worse => "#c22",
        Word::Inconclusive => "#a70",
    }
}

/// The difference plot of one metric: a row per target, the margin as a grey band, zero as a
/// line, the 95% interval as a bar and the estimate as a dot.
fn diff_plot(rows: &[&MetricResult]) -> String {
    let (w, row_h, left) = (360.0, 22.0, 120.0);
    let h = row_h * rows.len() as f64 + 18.0;
    let extent = rows
        .iter()
        .flat_map(|r| {
            [
                r.diff_ci.map(|c| c.0.abs().max(c.1.abs())),
                r.margin,
                r.diff.map(f64::abs),
            ]
        })
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.15;
    let x = |v: f64| left + (v + extent) / (2.0 * extent) * (w - left - 10.0);
    let mut s = format!(
        "<svg role=\"img\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    if let Some(m) = rows.iter().filter_map(|r| r.margin).reduce(f64::max) {
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"0\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#eee\"><title>equivalence margin ±{m:.4}</title></rect>",
            x(-m),
            x(m) - x(-m),
            h - 14.0
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"0\" y2=\"{1:.1}\" stroke=\"#888\" stroke-dasharray=\"3 2\"/>",
        x(0.0),
        h - 14.0
    );
    for (i, r) in rows.iter().enumerate() {
        let y = row_h * i as f64 + row_h / 2.0;
        let _ = write!(
            s,
            "<text x=\"4\" y=\"{:.1}\">{}</text>",
            y + 4.0,
            esc(&crate::text::truncate(&r.target, 18))
        );
        let c = colour(r.verdict);
        if let Some((lo, hi)) = r.diff_ci {
            let _ = write!(
                s,
                "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{c}\" stroke-width=\"3\"/>",
                x(lo),
                x(hi)
            );
        }
        if let Some(d) = r.diff {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{c}\"><title>{}</title></circle>",
                x(d),
                esc(&diff_ci(r))
            );
        }
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">0</text></svg>",
        x(0.0),
        h - 2.0
    );
    s
}

pub(super) fn render(c: &Comparison) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>conform compare</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        o,
        "<h1>conform compare</h1><p>Run {} ({}), seed {}, {} tasks per family. Reference: <b>{}</b>. \
         Paired bootstrap of target − reference over the same tasks (95% intervals; quantiles \
         also need the paired sign-flip test), Holm's \
         correction over {} tests. About <b>{}</b> trigger tasks find a 5-point drop in \
         tool-trigger F1 with 80% power.</p>",
        esc(&c.run_date),
        c.mode,
        c.seed,
        c.samples,
        esc(&c.reference),
        c.tests,
        c.recommended_samples
    );
    if c.spent.exhausted {
        o.push_str(
            "<p><b>Budget reached</b>: tasks not answered by every endpoint are left out.</p>",
        );
    }
    let _ = write!(
        o,
        "<h2>Leaderboard</h2><table id=\"leaderboard\"><thead><tr><th>metric</th><th>{} (reference)</th>",
        esc(&c.reference)
    );
    for t in &c.targets {
        let _ = write!(o, "<th>{}</th>", esc(t));
    }
    o.push_str("<th>difference from the reference</th></tr></thead><tbody>");
    for def in METRICS {
        let rows: Vec<&MetricResult> = c.results.iter().filter(|r| r.metric == def.id).collect();
        let Some(first) = rows.first() else { continue };
        let _ = write!(
            o,
            "<tr><td>{}<br><small>{}</small></td><td>{}</td>",
            esc(def.title),
            def.id,
            esc(&value_ci(def.id, first.reference, first.reference_ci))
        );
        for r in &rows {
            let pr = r
                .precision_recall
                .map(|(p, rc)| {
                    format!(
                        "<br><small>precision {:.1}%, recall {:.1}%</small>",
                        p * 100.0,
                        rc * 100.0
                    )
                })
                .unwrap_or_default();
            let _ = write!(
                o,
                "<td>{}<br><span class=\"{}\">{}</span> <small>n={} · p(Holm) {}</small>{pr}</td>",
                esc(&value_ci(def.id, r.value, r.value_ci)),
                r.verdict.as_str(),
                esc(&verdict_text(r)),
                r.n,
                r.p_adjusted
                    .map(|p| format!("{p:.3}"))
                    .unwrap_or_else(|| "—".into())
            );
        }
        let _ = write!(o, "<td>{}</td></tr>", diff_plot(&rows));
    }
    o.push_str("</tbody></table><h2>Endpoints</h2><table><thead><tr><th>endpoint</th><th>role</th><th>model asked</th><th>models echoed</th><th>request ids</th><th>tasks scored</th></tr></thead><tbody>");
    for e in &c.endpoints {
        let echoed: Vec<String> = e
            .models_echoed
            .iter()
            .map(|(m, n)| format!("{} ×{n}", esc(m)))
            .collect();
        let ids: Vec<String> = e.request_ids.iter().take(3).map(|i| esc(i)).collect();
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} <small>{}{}</small></td><td>{}</td></tr>",
            esc(&e.name),
            e.role,
            esc(&e.model),
            echoed.join(", "),
            e.request_ids.len(),
            ids.join(", "),
            if e.request_ids.len() > 3 { ", …" } else { "" },
            e.tasks_scored
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" + ")
        );
    }
    let _ = writeln!(
        o,
        "</tbody></table><p><small>Requests sent: {}, replayed: {}, tokens: {}. Per-task results in samples.jsonl, every number in summary.json.</small></p></body></html>",
        c.spent.sent, c.spent.replayed, c.spent.tokens
    );
    o
}
