//! The files of a comparison, in the family `conform run` writes: `report.md` and
//! `report.html` (the leaderboard: targets × metrics with value, interval, verdict and
//! sample count; interval plots in inline SVG), `summary.json` (run date, seed, endpoints with
//! the model ids they echoed and their request ids, every result) and `samples.jsonl` (one
//! line per endpoint, repeat and task: its score and the exchanges it rests on). Every file
//! passes through the run's redactor and is written atomically; everything an endpoint sent
//! is escaped for the format it lands in.

mod html;
mod markdown;

use std::fmt::Write as _;
use std::path::Path;

use super::verdict::{MetricResult, show, show_diff};
use super::{CompareError, Comparison};

/// Write every file of `c` into `dir`.
pub(crate) fn write(dir: &Path, c: &Comparison) -> Result<(), CompareError> {
    let err = |path: &Path| {
        let path = path.display().to_string();
        move |source| CompareError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    let summary = serde_json::to_string_pretty(c).unwrap_or_default();
    let mut samples = String::new();
    for row in &c.sample_rows {
        samples.push_str(&serde_json::to_string(row).unwrap_or_default());
        samples.push('\n');
    }
    let files = [
        ("report.md", markdown::render(c)),
        ("report.html", html::render(c)),
        ("summary.json", summary + "\n"),
        ("samples.jsonl", samples),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        crate::fsutil::write_atomic(&path, c.redactor.redact(&text).as_bytes())
            .map_err(err(&path))?;
    }
    Ok(())
}

/// A value with its interval, e.g. `81.0% [77.2, 84.5]`.
pub(crate) fn value_ci(metric: &str, v: Option<f64>, ci: Option<(f64, f64)>) -> String {
    match (v, ci) {
        (Some(v), Some((lo, hi))) => {
            let strip = |s: String| {
                s.trim_end_matches('%')
                    .trim_end_matches(" ms")
                    .trim_end_matches("/s")
                    .to_string()
            };
            format!(
                "{} [{}, {}]",
                show(metric, v),
                strip(show(metric, lo)),
                strip(show(metric, hi))
            )
        }
        (Some(v), None) => show(metric, v),
        _ => "—".to_string(),
    }
}

/// The difference with its interval.
pub(crate) fn diff_ci(r: &MetricResult) -> String {
    match (r.diff, r.diff_ci) {
        (Some(d), Some((lo, hi))) => format!(
            "{} [{}, {}]",
            show_diff(r.metric, d),
            show_diff(r.metric, lo),
            show_diff(r.metric, hi)
        ),
        _ => "—".to_string(),
    }
}

/// The verdict with, when inconclusive, the tasks that would decide it.
pub(crate) fn verdict_text(r: &MetricResult) -> String {
    match (r.n, r.more_tasks) {
        (0, _) => "no data".to_string(),
        (_, Some(m)) => format!("{} (~{m} more tasks)", r.verdict.as_str()),
        _ => r.verdict.as_str().to_string(),
    }
}

/// The leaderboard for a terminal.
pub(crate) fn terminal(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "conform compare: reference {} · seed {} · {} tests (Holm) · {} requests sent, {} replayed{}",
        c.reference,
        c.seed,
        c.tests,
        c.spent.sent,
        c.spent.replayed,
        if c.spent.exhausted {
            " · budget reached"
        } else {
            ""
        }
    );
    for t in &c.targets {
        let _ = writeln!(out, "\n{t} against {}:", c.reference);
        for r in c.results.iter().filter(|r| &r.target == t) {
            let _ = writeln!(
                out,
                "  {:<18} {:>24}  ref {:>24}  {:<32} n={}",
                r.metric,
                value_ci(r.metric, r.value, r.value_ci),
                value_ci(r.metric, r.reference, r.reference_ci),
                verdict_text(r),
                r.n
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::verdict::Word;
    use super::super::{Comparison, EndpointSummary, Spent};
    use super::*;

    fn hostile() -> Comparison {
        let evil = "<script>alert(1)</script>|`x`";
        Comparison {
            run_date: "2026-12-06T00:00:00Z".into(),
            conform_version: "0",
            mode: "live",
            seed: 1,
            samples: 2,
            repeats: 1,
            reference: "ref".into(),
            targets: vec!["t".into()],
            endpoints: vec![EndpointSummary {
                name: "t".into(),
                role: "target",
                base_url: "http://127.0.0.1:1".into(),
                model: "m".into(),
                models_echoed: [(evil.to_string(), 2)].into_iter().collect(),
                request_ids: vec![evil.to_string()],
                tasks_scored: vec![2],
                rpm: Some(30),
                pauses: 0,
            }],
            spent: Spent {
                max_requests: None,
                max_tokens: None,
                sent: 2,
                tokens: 10,
                replayed: 0,
                exhausted: false,
            },
            tests: 1,
            recommended_samples: 10,
            results: vec![MetricResult {
                metric: "trigger_f1",
                target: "t".into(),
                n: 2,
                value: Some(0.5),
                value_ci: Some((0.0, 1.0)),
                reference: Some(1.0),
                reference_ci: Some((1.0, 1.0)),
                diff: Some(-0.5),
                diff_ci: Some((-1.0, 0.0)),
                se: Some(0.3),
                margin: Some(0.03),
                self_spread: None,
                p: Some(0.1),
                p_adjusted: Some(0.1),
                verdict: Word::Inconclusive,
                more_tasks: Some(20),
                precision_recall: Some((0.5, 0.5)),
            }],
            sample_rows: Vec::new(),
            redactor: crate::secrets::Redactor::new(vec!["sk-secret".into()]),
        }
    }

    #[test]
    fn what_an_endpoint_sends_is_escaped_in_every_format() {
        let c = hostile();
        let html = html::render(&c);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        let md = markdown::render(&c);
        assert!(!md.contains("<script>"), "{md}");
        assert!(md.contains("inconclusive (~20 more tasks)"));
        assert!(terminal(&c).contains("trigger_f1"));
    }
}
