//! The long sections of `report.html`: the ranked deviations with their evidence, the
//! baseline comparison, and every result.

use super::{esc, verdict_class};
use crate::report::causes::{self, Deviation, Evidence};
use crate::report::facts::{self, Piece};
use crate::report::markdown::fmt_ms;
use crate::report::model::{ResultRecord, RunReport, sorted_findings};
use crate::verdict::Verdict;
use std::fmt::Write as _;

/// Cases named under a deviation; more are counted.
const MAX_CASES: usize = 12;

pub(super) fn deviations(report: &RunReport, out: &mut String) {
    let _ = writeln!(
        out,
        "<section id=\"deviations\"><h2>What to fix first</h2>\n<p class=\"how\">One entry per root cause, ranked by severity, measured client impact, then features touched. Open one for its evidence: the request, the response, the event timeline and a <code>curl</code> repro.</p>\n<div class=\"columns\">"
    );
    for t in &report.targets {
        let (devs, notes): (Vec<&Deviation>, Vec<&Deviation>) = report
            .deviations
            .iter()
            .filter(|d| d.target == t.name)
            .partition(|d| causes::to_fix(d));
        let _ = writeln!(
            out,
            "<div class=\"column\" data-target=\"{}\"><h3>{}</h3>",
            esc(&t.name),
            esc(&t.name)
        );
        if devs.is_empty() {
            let none = if notes.is_empty() {
                "No deviations."
            } else {
                "Nothing to fix."
            };
            let _ = writeln!(out, "<p>{none}</p>");
        }
        for d in devs {
            deviation(d, out);
        }
        // Informational findings and legal behaviour: listed apart, nothing to fix.
        if !notes.is_empty() {
            let _ = writeln!(out, "<h4>Informational, nothing to fix</h4>");
            for d in notes {
                deviation(d, out);
            }
        }
        let _ = writeln!(out, "</div>");
    }
    let _ = writeln!(out, "</div>\n</section>");
}

fn deviation(d: &Deviation, out: &mut String) {
    let _ = writeln!(
        out,
        "<details class=\"dev sev-{}\" id=\"{}\" data-check=\"{}\"><summary><span class=\"id\">{}</span> <span class=\"sev\">{}</span> <code>{}</code> {} <span class=\"spread\">{}</span></summary>",
        d.severity,
        d.anchor(),
        esc(&d.check),
        esc(&d.id),
        d.severity,
        esc(&d.check),
        esc(&d.sentence),
        esc(&d.spread())
    );
    let _ = writeln!(out, "<dl>");
    for fact in facts::of(d, MAX_CASES) {
        let html: String = fact
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) | Piece::Message(t) => esc(t),
                Piece::Code(c) => format!("<code>{}</code>", esc(c)),
                Piece::Link(u) => {
                    format!("<a href=\"{}\" rel=\"noreferrer\">{}</a>", esc(u), esc(u))
                }
            })
            .collect();
        let _ = writeln!(out, "<dt>{}</dt><dd>{html}</dd>", esc(fact.label));
    }
    let _ = writeln!(out, "</dl>");
    if let Some(ev) = &d.evidence {
        evidence(ev, out);
    }
    let _ = writeln!(out, "</details>");
}

fn evidence(ev: &Evidence, out: &mut String) {
    let _ = writeln!(
        out,
        "<div class=\"evidence\"><p>Exchange <a href=\"{}\"><code>{}</code></a> line {}, label <code>{}</code></p>",
        esc(&ev.file),
        esc(&ev.file),
        ev.line,
        esc(&ev.label)
    );
    let _ = writeln!(
        out,
        "<h4>Request</h4><pre class=\"req\">{}</pre>",
        esc(&ev.request.join("\n"))
    );
    if !ev.retries.is_empty() {
        let _ = writeln!(
            out,
            "<h4>Retries</h4><pre>{}</pre>",
            esc(&ev.retries.join("\n"))
        );
    }
    let _ = writeln!(
        out,
        "<h4>Response</h4><pre class=\"resp\">{}</pre>",
        esc(&ev.response.join("\n"))
    );
    if !ev.events.is_empty() {
        let _ = writeln!(
            out,
            "<h4>Event timeline</h4><table class=\"timeline\"><thead><tr><th>ms</th><th>event</th></tr></thead><tbody>"
        );
        for e in &ev.events {
            let _ = writeln!(
                out,
                "<tr><td class=\"num\">{:.1}</td><td><code>{}</code></td></tr>",
                e.t_ms,
                esc(&e.text)
            );
        }
        let _ = writeln!(out, "</tbody></table>");
    }
    curl(&ev.curl, out);
    let _ = writeln!(out, "</div>");
}

fn curl(curl: &str, out: &mut String) {
    let _ = writeln!(
        out,
        "<h4>Repro</h4><p class=\"hint\">Set <code>API_KEY</code> to the target's key; run from the report directory.</p><pre class=\"curl\">{}</pre>",
        esc(curl)
    );
}

pub(super) fn baseline(report: &RunReport, out: &mut String) {
    let Some(b) = &report.baseline else { return };
    let c = &b.comparison;
    let _ = writeln!(
        out,
        "<section id=\"baseline\"><h2>Compared with {}</h2>\n<p>{} regressions · {} fixes · {} other verdict changes · {} results with changed findings · {} unchanged</p>",
        esc(&b.file),
        c.regressions.len(),
        c.fixes.len(),
        c.verdict_changes.len(),
        c.findings_changed.len(),
        c.unchanged
    );
    for (title, list) in [
        ("Regressions", &c.regressions),
        ("Fixes", &c.fixes),
        ("Other verdict changes", &c.verdict_changes),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h3>{title}</h3><table class=\"results\"><thead><tr><th>target</th><th>result</th><th>before</th><th>after</th><th>new findings</th></tr></thead><tbody>"
        );
        for ch in list {
            let f: Vec<String> = ch
                .new_findings
                .iter()
                .map(|f| format!("<code>{}</code>: {}", esc(&f.check), esc(&f.message)))
                .collect();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td><code>{}@{}</code></td><td>{}</td><td class=\"v-{}\">{}</td><td>{}</td></tr>",
                esc(&ch.target),
                esc(&ch.scenario),
                esc(&ch.mode),
                esc(&ch.before),
                esc(&ch.after),
                esc(&ch.after),
                f.join("<br>")
            );
        }
        let _ = writeln!(out, "</tbody></table>");
    }
    if !c.timing.is_empty() {
        let _ = writeln!(
            out,
            "<h3>Timing (median)</h3><table class=\"results\"><thead><tr><th>target</th><th>TTFT before</th><th>TTFT now</th><th>total before</th><th>total now</th></tr></thead><tbody>"
        );
        for t in &c.timing {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.target),
                fmt_ms(t.base_ttft_ms),
                fmt_ms(t.new_ttft_ms),
                fmt_ms(t.base_total_ms),
                fmt_ms(t.new_total_ms)
            );
        }
        let _ = writeln!(out, "</tbody></table>");
    }
    let _ = writeln!(out, "</section>");
}

pub(super) fn results(report: &RunReport, out: &mut String) {
    let _ = writeln!(
        out,
        "<section id=\"results\"><h2>Every result</h2>\n<p class=\"filterbar\"><label>Filter <input id=\"filter\" type=\"search\" placeholder=\"scenario, feature, verdict, check, D3…\"></label> <button type=\"button\" id=\"clear\">show all</button> <span id=\"selection\" aria-live=\"polite\"></span></p>\n<table class=\"results\" id=\"results-table\"><thead><tr><th>verdict</th><th>target</th><th>result</th><th>title</th><th>deviations</th><th>TTFT ms</th><th>total ms</th></tr></thead>"
    );
    for feature in report.features() {
        let _ = writeln!(
            out,
            "<tbody id=\"f-{}\"><tr class=\"group\"><th colspan=\"7\">{}</th></tr>",
            esc(&feature),
            esc(&feature)
        );
        let target_rank = |t: &str| report.targets.iter().position(|x| x.name == t);
        let mut rs: Vec<&ResultRecord> = report
            .results
            .iter()
            .filter(|r| r.feature == feature)
            .collect();
        rs.sort_by_key(|r| (target_rank(&r.target), &r.scenario, r.mode));
        for r in rs {
            result(report, r, out);
        }
        let _ = writeln!(out, "</tbody>");
    }
    let _ = writeln!(out, "</table>\n</section>");
}

fn result(report: &RunReport, r: &ResultRecord, out: &mut String) {
    let devs = causes::of_result(report, r);
    let ids: Vec<&str> = devs.iter().map(|d| d.id.as_str()).collect();
    let checks: Vec<&str> = r.findings.iter().map(|f| f.check.as_str()).collect();
    let links: Vec<String> = devs
        .iter()
        .map(|d| {
            format!(
                "<a href=\"#{}\" title=\"{}\">{}</a>",
                d.anchor(),
                esc(&d.sentence),
                esc(&d.id)
            )
        })
        .collect();
    let search = format!(
        "{} {} {} {} {} {} {}",
        r.target,
        r.case_name(),
        r.feature,
        r.verdict,
        r.title,
        ids.join(" "),
        checks.join(" ")
    )
    .to_lowercase();
    let _ = writeln!(
        out,
        "<tr class=\"result\" data-target=\"{}\" data-feature=\"{}\" data-mode=\"{}\" data-verdict=\"{}\" data-search=\"{}\"><td class=\"{}\">{}{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        esc(&r.target),
        esc(&r.feature),
        esc(r.mode.as_str()),
        r.verdict,
        esc(&search),
        verdict_class(Some(r.verdict)),
        r.verdict,
        if r.expected { " (expected)" } else { "" },
        esc(&r.target),
        esc(&r.case_name()),
        esc(&r.title),
        links.join(" "),
        fmt_ms(r.timing.ttft_ms),
        fmt_ms(r.timing.total_ms)
    );
    if matches!(r.verdict, Verdict::Pass | Verdict::Warn | Verdict::Skip) {
        return;
    }
    let _ = write!(
        out,
        "<tr class=\"detail\" data-target=\"{}\" data-feature=\"{}\" data-mode=\"{}\" data-search=\"{}\"><td colspan=\"7\"><details><summary>findings and repro</summary>",
        esc(&r.target),
        esc(&r.feature),
        esc(r.mode.as_str()),
        esc(&search)
    );
    if let Some(e) = &r.error {
        let _ = write!(out, "<p>error: <code>{}</code></p>", esc(e));
    }
    let _ = write!(out, "<ul>");
    for f in sorted_findings(&r.findings)
        .into_iter()
        .filter(|f| f.severity() != crate::check::Severity::Info)
        .take(12)
    {
        let _ = write!(
            out,
            "<li><b>{}</b> <code>{}</code> at <code>{}</code>: {}</li>",
            f.severity(),
            esc(f.check.as_str()),
            esc(&f.location),
            esc(&f.message)
        );
    }
    let _ = write!(out, "</ul>");
    if let Some(ev) = report.repros.get(&causes::result_key(r)) {
        curl(&ev.curl, out);
    }
    let _ = writeln!(out, "</details></td></tr>");
}
