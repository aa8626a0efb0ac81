//! `report.html`: the report as one self-contained page — inline CSS, JS and SVG, no request
//! to anything — for a provider to read, share and publish.
//!
//! The same content as `report.md` (score, ranked deviations, matrix, every result), plus:
//! targets side by side, coloured cells, click-through from a cell to its results (a filter on
//! the results table) and from a deviation to its evidence (request, response, event timeline
//! with timestamps, `curl` repro), TTFT and total-latency distributions per target as SVG
//! charts ([`charts`]), the baseline comparison and a filter box. Everything is rendered here,
//! so the page reads without JavaScript; the script only filters, opens and scrolls, and opens
//! every `<details>` before printing.

mod charts;
mod sections;

use super::causes;
use super::model::RunReport;
use super::score::{self, Cell};
use std::fmt::Write as _;

pub(crate) const FILE_NAME: &str = "report.html";

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// Escape text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The page.
pub fn render(report: &RunReport) -> String {
    let report = &*causes::ensured(report);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>conform report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n"
    );
    let _ = writeln!(
        out,
        "<header><h1>conform report</h1><p class=\"meta\">conform {} · started {} · {:.1} s · {} results{}</p>",
        esc(&report.conform_version),
        esc(&report.started_at),
        report.duration_ms / 1000.0,
        report.results.len(),
        if report.interrupted {
            " · <strong>interrupted: partial results</strong>"
        } else {
            ""
        }
    );
    for why in &report.stopped {
        let _ = writeln!(
            out,
            "<p class=\"stopped\"><strong>Stopped:</strong> {}</p>",
            esc(why)
        );
    }
    for why in &report.paused {
        let _ = writeln!(
            out,
            "<p class=\"stopped\"><strong>Paused:</strong> {}</p>",
            esc(why)
        );
    }
    let _ = writeln!(
        out,
        "<nav><a href=\"#score\">Score</a> <a href=\"#deviations\">What to fix first</a> <a href=\"#matrix\">Matrix</a> <a href=\"#latency\">Latency</a>{} <a href=\"#results\">Every result</a></nav></header>\n<main>",
        if report.baseline.is_some() {
            " <a href=\"#baseline\">Baseline</a>"
        } else {
            ""
        }
    );
    scores(report, &mut out);
    sections::deviations(report, &mut out);
    matrix(report, &mut out);
    charts::latency(report, &mut out);
    sections::baseline(report, &mut out);
    sections::results(report, &mut out);
    let _ = write!(
        out,
        "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    out
}

fn scores(report: &RunReport, out: &mut String) {
    let _ = writeln!(
        out,
        "<section id=\"score\"><h2>Score</h2>\n<div class=\"cards\">"
    );
    for (s, t) in score::scores(report).iter().zip(&report.targets) {
        let devs = report.deviations.iter().filter(|d| d.target == t.name);
        let must = devs
            .clone()
            .filter(|d| d.severity == crate::check::Severity::Must)
            .count();
        let band = match s.percent() {
            Some(p) if p >= 90 => "good",
            Some(p) if p >= 60 => "fair",
            Some(_) => "poor",
            None => "none",
        };
        let _ = writeln!(
            out,
            "<div class=\"card\" data-target=\"{}\"><h3>{}</h3><p class=\"model\">{} · <code>{}</code></p><p class=\"pct {band}\">{}</p><p class=\"states\">{}</p><p>{} deviations, {must} must</p></div>",
            esc(&t.name),
            esc(&t.name),
            esc(&t.model),
            esc(&t.base_url),
            s.percent_text(),
            esc(&s.line()),
            devs.count()
        );
    }
    let _ = writeln!(
        out,
        "</div>\n<p class=\"how\">{}</p>\n</section>",
        esc(score::HOW)
    );
}

/// The CSS class of a verdict cell.
pub(crate) fn verdict_class(v: Option<crate::verdict::Verdict>) -> String {
    v.map(|v| format!("v-{}", v.as_str()))
        .unwrap_or_else(|| "v-none".to_string())
}

fn matrix(report: &RunReport, out: &mut String) {
    let _ = writeln!(out, "<section id=\"matrix\"><h2>Compatibility matrix</h2>");
    if report.results.is_empty() {
        let _ = writeln!(out, "<p>No results.</p></section>");
        return;
    }
    let modes = score::modes(report);
    let _ = write!(
        out,
        "<table class=\"matrix\">\n<thead><tr><th rowspan=\"2\">feature</th>"
    );
    for t in &report.targets {
        let _ = write!(out, "<th colspan=\"{}\">{}</th>", modes.len(), esc(&t.name));
    }
    let _ = write!(out, "</tr>\n<tr>");
    for _ in &report.targets {
        for m in &modes {
            let _ = write!(out, "<th>{}</th>", esc(m.as_str()));
        }
    }
    let _ = writeln!(out, "</tr></thead>\n<tbody>");
    for feature in report.features() {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(&feature));
        for t in &report.targets {
            for m in &modes {
                let rs = score::cell_results(report, &t.name, &feature, *m);
                let c = Cell::of(&rs);
                let label = match c.worst {
                    Some(v) => format!(
                        "{v} {}/{}{}",
                        c.ok,
                        c.total,
                        if c.expected { " (expected)" } else { "" }
                    ),
                    None => "—".to_string(),
                };
                let title = format!("{} · {} · {}: {label}", t.name, feature, m);
                if c.total == 0 {
                    let _ = write!(out, "<td class=\"cell v-none\">—</td>");
                    continue;
                }
                let _ = write!(
                    out,
                    "<td class=\"cell {}\" data-target=\"{}\" data-feature=\"{}\" data-mode=\"{}\" title=\"{}\"><a href=\"#f-{}\">{}</a></td>",
                    verdict_class(c.worst),
                    esc(&t.name),
                    esc(&feature),
                    esc(m.as_str()),
                    esc(&title),
                    esc(&feature),
                    esc(&label)
                );
            }
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</tbody></table>");
    let _ = write!(
        out,
        "<p class=\"legend\">Cells: the worst verdict, then results that pass or warn / all results. Click a cell to list its results."
    );
    for v in crate::verdict::Verdict::ALL {
        let _ = write!(
            out,
            " <span class=\"chip {}\" title=\"{}\">{}</span>",
            verdict_class(Some(v)),
            esc(v.meaning()),
            v
        );
    }
    let _ = writeln!(out, "</p>\n</section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
