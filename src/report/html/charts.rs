//! Latency charts of `report.html`: per target, the distribution of time to first token and
//! of total time as a strip of dots (one per result) on an axis shared by every target, with
//! the median and p95 marked. Plain inline SVG, no script.

use super::esc;
use crate::report::markdown::percentile;
use crate::report::model::RunReport;
use std::fmt::Write as _;

const WIDTH: f64 = 640.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 20.0;
const ROW: f64 = 34.0;

pub(super) fn latency(report: &RunReport, out: &mut String) {
    let _ = writeln!(out, "<section id=\"latency\"><h2>Latency</h2>");
    let mut any = false;
    type Pick = fn(&crate::report::model::Timing) -> Option<f64>;
    let metrics: [(&str, &str, Pick); 2] = [
        ("ttft", "Time to first token", |t| t.ttft_ms),
        ("total", "Total time", |t| t.total_ms),
    ];
    for (id, title, pick) in metrics {
        let rows: Vec<(String, Vec<f64>)> = report
            .targets
            .iter()
            .map(|t| {
                let v: Vec<f64> = report
                    .results
                    .iter()
                    .filter(|r| r.target == t.name)
                    .filter_map(|r| pick(&r.timing))
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .collect();
                (t.name.clone(), v)
            })
            .collect();
        if rows.iter().all(|(_, v)| v.is_empty()) {
            continue;
        }
        any = true;
        chart(id, title, &rows, out);
    }
    if !any {
        let _ = writeln!(out, "<p>No timings.</p>");
    }
    let _ = writeln!(out, "</section>");
}

/// A "nice" axis maximum at or above `x`.
fn nice_max(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= x {
            return m * p;
        }
    }
    10.0 * p
}

fn chart(id: &str, title: &str, rows: &[(String, Vec<f64>)], out: &mut String) {
    let max = nice_max(
        rows.iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(0.0, f64::max),
    );
    let plot = WIDTH - LEFT - RIGHT;
    let x = |v: f64| LEFT + plot * (v / max).clamp(0.0, 1.0);
    let height = ROW * rows.len() as f64 + 30.0;
    let _ = writeln!(
        out,
        "<figure class=\"chart\"><figcaption>{} (ms) — one dot per result; bar = median, tick = p95</figcaption>\n<svg id=\"chart-{id}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    for (i, (name, values)) in rows.iter().enumerate() {
        let y = ROW * i as f64 + ROW / 2.0;
        let med = percentile(values, 50.0);
        let p95 = percentile(values, 95.0);
        let label = match (med, p95) {
            (Some(m), Some(p)) => format!("{name}  {m:.0}/{p:.0}"),
            _ => format!("{name}  —"),
        };
        let _ = writeln!(
            out,
            "<text x=\"4\" y=\"{:.1}\" class=\"lbl\">{}</text><line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"axis\"/>",
            y + 4.0,
            esc(&label),
            WIDTH - RIGHT
        );
        for v in values {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"3\" class=\"dot\"><title>{v:.0} ms</title></circle>",
                x(*v)
            );
        }
        if let Some(m) = med {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"3\" height=\"20\" class=\"median\"><title>median {m:.0} ms</title></rect>",
                x(m) - 1.5,
                y - 10.0
            );
        }
        if let Some(p) = p95 {
            let _ = write!(
                out,
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" class=\"p95\"><title>p95 {p:.0} ms</title></line>",
                x(p),
                y - 12.0,
                y + 12.0
            );
        }
        out.push('\n');
    }
    let base = ROW * rows.len() as f64 + 4.0;
    for k in 0..=4 {
        let v = max * f64::from(k) / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{base:.1}\" y2=\"{1:.1}\" class=\"axis\"/><text x=\"{0:.1}\" y=\"{2:.1}\" class=\"tick\">{v:.0}</text>",
            x(v),
            base + 4.0,
            base + 18.0
        );
    }
    let _ = writeln!(out, "\n</svg></figure>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(180.0), 200.0);
        assert_eq!(nice_max(2100.0), 2500.0);
    }
}
