//! `conform diff BASE.json NEW.json`: compare two runs' `report.json` files.
//!
//! Results are matched by `(target, scenario, mode)`; targets by name, and `--map OLD=NEW`
//! compares a base target under another name (when no target name is shared, the command says
//! so and exits 2 instead of listing everything as new and removed). Verdicts are ranked
//! `pass < warn < flaky < unsupported < fail = error`; a move to a strictly worse rank is a
//! **regression**, to a strictly better one a **fix**. A move from `pass` or `warn` to
//! `ignored` (the feature stopped taking effect) or `inconclusive` (the probe no longer gets an
//! answer it can judge) is a regression too ([`LOST_EFFECT`]), and the way back is a fix; any
//! other change (to or from `skip`, `fail` ↔ `error`, unknown verdicts) is an **other verdict
//! change**. Results with the same verdict but a different set of finding checks are listed as
//! **findings changed**. Timing is compared per target as medians of TTFT and total time, as
//! ratios new / base.
//!
//! **One exit rule** ([`exit_code`]): a comparison with a regression exits 1, for `conform diff`
//! and for `conform run --baseline` alike. The renderings group regressions and fixes by cause
//! (the first new finding's check, or the verdict move when there is none).
//!
//! Reports are read leniently (missing fields take defaults) because the report writer
//! evolves in parallel; only an unreadable file or one without a `results` list is an error.
//! [`compare_reports`] and [`render`] are public so `conform run --baseline` can embed the
//! comparison in its own report.

pub(crate) mod render;

pub(crate) use render::{Format, render};

use crate::exit;
use crate::verdict::Verdict;
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The baseline report.json.
    pub base: PathBuf,
    /// The new report.json.
    pub new: PathBuf,
    /// Output format: md (fit for a PR comment), text or json.
    #[arg(long, value_enum, default_value = "md")]
    pub format: Format,
    /// Compare the base's target OLD as the new run's target NEW (`--map OLD=NEW`, repeatable),
    /// for runs whose targets have different names.
    #[arg(long = "map", value_name = "OLD=NEW")]
    pub map: Vec<String>,
}

/// The exit code of a comparison, for `conform diff` and `conform run --baseline` alike: 1 when
/// there is a regression, else 0.
pub(crate) fn exit_code(c: &Comparison) -> i32 {
    if c.has_regressions() {
        exit::FAILURES
    } else {
        exit::OK
    }
}

/// Rename the base's targets by `--map OLD=NEW`; an entry without `=` or naming no target of
/// the base is an error.
fn apply_map(base: &mut Value, map: &[String]) -> Result<(), String> {
    let names = target_names(base);
    let mut pairs = BTreeMap::new();
    for m in map {
        let Some((old, new)) = m
            .split_once('=')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty())
        else {
            return Err(format!(
                "--map {m:?}: expected OLD=NEW (a base target and its new name)"
            ));
        };
        if !names.contains(old) {
            return Err(format!(
                "--map {m}: the base has no target {old:?} (its targets: {})",
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        pairs.insert(old.to_string(), new.to_string());
    }
    for r in base
        .get_mut("results")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(new) = r
            .get("target")
            .and_then(Value::as_str)
            .and_then(|t| pairs.get(t))
        {
            r["target"] = Value::String(new.clone());
        }
    }
    Ok(())
}

/// The target names of a report's results.
fn target_names(report: &Value) -> BTreeSet<String> {
    report
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| text(r, "target"))
        .collect()
}

/// When both reports have results and no target name in common: what to do about it.
fn no_shared_target(base: &Value, new: &Value) -> Option<String> {
    let (b, n) = (target_names(base), target_names(new));
    if b.is_empty() || n.is_empty() || b.intersection(&n).next().is_some() {
        return None;
    }
    let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    let (first_b, first_n) = (b.iter().next()?, n.iter().next()?);
    Some(format!(
        "no target matched: the base's targets ({}) and the new run's ({}) have different names, so nothing can be compared; pass --map {first_b}={first_n} to compare them",
        list(&b),
        list(&n)
    ))
}

/// Run `conform diff`: 1 when there is a regression, 0 otherwise, 2 on unreadable input.
pub(crate) fn run_cli(args: &DiffArgs) -> i32 {
    let base = match read_report(&args.base) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let new = match read_report(&args.new) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let mut base = base;
    if let Err(e) = apply_map(&mut base, &args.map) {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    if let Some(e) = no_shared_target(&base, &new) {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    let c = compare_reports(&base, &new);
    // Texts read back from report.json carry the endpoint's control characters again.
    print!("{}", crate::text::visible(&render(&c, args.format)));
    exit_code(&c)
}

/// Read a report.json: it must be JSON with a `results` list.
pub(crate) fn read_report(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    if !v.get("results").is_some_and(Value::is_array) {
        return Err(format!(
            "{} is not a conform report: it has no `results` list",
            path.display()
        ));
    }
    Ok(v)
}

/// Which run a report is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReportMeta {
    pub conform_version: Option<String>,
    pub started_at: Option<String>,
    pub results: usize,
}

/// A finding, reduced to what a comparison shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct FindingRef {
    pub severity: String,
    pub check: String,
    pub message: String,
}

/// One result present in only one of the reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResultRef {
    pub target: String,
    pub scenario: String,
    pub mode: String,
    pub verdict: String,
}

/// One result present in both reports whose verdict or findings changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Change {
    pub target: String,
    pub scenario: String,
    pub mode: String,
    pub title: String,
    pub before: String,
    pub after: String,
    /// Findings whose check id is in the new result only.
    pub new_findings: Vec<FindingRef>,
    /// Check ids present before and gone now.
    pub resolved_checks: Vec<String>,
}

/// Median timings of one target, before and after.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimingChange {
    pub target: String,
    pub base_ttft_ms: Option<f64>,
    pub new_ttft_ms: Option<f64>,
    /// new / base.
    pub ttft_ratio: Option<f64>,
    pub base_total_ms: Option<f64>,
    pub new_total_ms: Option<f64>,
    pub total_ratio: Option<f64>,
}

/// The comparison of two reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    pub base: ReportMeta,
    pub new: ReportMeta,
    pub regressions: Vec<Change>,
    pub fixes: Vec<Change>,
    pub verdict_changes: Vec<Change>,
    pub findings_changed: Vec<Change>,
    pub added: Vec<ResultRef>,
    pub removed: Vec<ResultRef>,
    pub unchanged: usize,
    pub timing: Vec<TimingChange>,
}

impl Comparison {
    pub(crate) fn has_regressions(&self) -> bool {
        !self.regressions.is_empty()
    }
}

/// One result of a report, read leniently.
#[derive(Debug, Clone, Default)]
struct Row {
    title: String,
    verdict: String,
    findings: Vec<FindingRef>,
    ttft_ms: Option<f64>,
    total_ms: Option<f64>,
}

type Key = (String, String, String);

fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn rows(report: &Value) -> BTreeMap<Key, Row> {
    let mut out = BTreeMap::new();
    for r in report
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = (text(r, "target"), text(r, "scenario"), text(r, "mode"));
        let findings = r
            .get("findings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|f| FindingRef {
                severity: text(f, "severity"),
                check: text(f, "check"),
                message: text(f, "message"),
            })
            .collect();
        let timing = |k: &str| {
            r.get("timing")
                .and_then(|t| t.get(k))
                .and_then(Value::as_f64)
        };
        out.insert(
            key,
            Row {
                title: text(r, "title"),
                verdict: text(r, "verdict"),
                findings,
                ttft_ms: timing("ttft_ms"),
                total_ms: timing("total_ms"),
            },
        );
    }
    out
}

fn meta(report: &Value, n: usize) -> ReportMeta {
    ReportMeta {
        conform_version: report
            .get("conform_version")
            .and_then(Value::as_str)
            .map(str::to_string),
        started_at: report
            .get("started_at")
            .and_then(Value::as_str)
            .map(str::to_string),
        results: n,
    }
}

/// The rank of a verdict, lower is better ([`Verdict::regression_rank`]); None for verdicts
/// outside the regression tiers (`skip`, `ignored`) or unknown.
pub(crate) fn verdict_rank(verdict: &str) -> Option<u8> {
    verdict.parse::<Verdict>().ok()?.regression_rank()
}

/// Verdicts that mean a feature no longer works although the answer was accepted: a move to
/// one of them from `pass` or `warn` is a regression.
pub(crate) const LOST_EFFECT: [&str; 2] = ["ignored", "inconclusive"];

/// Whether `before → after` is a regression to a verdict outside the ranked tiers.
fn lost_effect(before: &str, after: &str) -> bool {
    matches!(before, "pass" | "warn") && LOST_EFFECT.contains(&after)
}

/// Whether `before → after` is the way back: the feature takes effect (or can be judged) again.
fn regained_effect(before: &str, after: &str) -> bool {
    LOST_EFFECT.contains(&before) && matches!(after, "pass" | "warn")
}

/// Compare two report.json values.
pub(crate) fn compare_reports(base: &Value, new: &Value) -> Comparison {
    let b = rows(base);
    let n = rows(new);
    let mut c = Comparison {
        base: meta(base, b.len()),
        new: meta(new, n.len()),
        ..Comparison::default()
    };
    for (key, before) in &b {
        let Some(after) = n.get(key) else {
            c.removed.push(result_ref(key, before));
            continue;
        };
        let checks = |r: &Row| {
            r.findings
                .iter()
                .map(|f| f.check.clone())
                .collect::<BTreeSet<_>>()
        };
        let (cb, ca) = (checks(before), checks(after));
        let mut new_findings: Vec<FindingRef> = Vec::new();
        for f in &after.findings {
            if !cb.contains(&f.check) && !new_findings.iter().any(|x| x.check == f.check) {
                new_findings.push(f.clone());
            }
        }
        let change = Change {
            target: key.0.clone(),
            scenario: key.1.clone(),
            mode: key.2.clone(),
            title: if after.title.is_empty() {
                before.title.clone()
            } else {
                after.title.clone()
            },
            before: before.verdict.clone(),
            after: after.verdict.clone(),
            new_findings,
            resolved_checks: cb.difference(&ca).cloned().collect(),
        };
        if before.verdict == after.verdict {
            if cb == ca {
                c.unchanged += 1;
            } else {
                c.findings_changed.push(change);
            }
            continue;
        }
        if lost_effect(&before.verdict, &after.verdict) {
            c.regressions.push(change);
            continue;
        }
        if regained_effect(&before.verdict, &after.verdict) {
            c.fixes.push(change);
            continue;
        }
        match (verdict_rank(&before.verdict), verdict_rank(&after.verdict)) {
            (Some(x), Some(y)) if y > x => c.regressions.push(change),
            (Some(x), Some(y)) if y < x => c.fixes.push(change),
            _ => c.verdict_changes.push(change),
        }
    }
    for (key, after) in &n {
        if !b.contains_key(key) {
            c.added.push(result_ref(key, after));
        }
    }
    c.timing = timing(&b, &n);
    c
}

fn result_ref(key: &Key, r: &Row) -> ResultRef {
    ResultRef {
        target: key.0.clone(),
        scenario: key.1.clone(),
        mode: key.2.clone(),
        verdict: r.verdict.clone(),
    }
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    Some(if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    })
}

fn ratio(base: Option<f64>, new: Option<f64>) -> Option<f64> {
    match (base, new) {
        (Some(b), Some(n)) if b > 0.0 => Some(n / b),
        _ => None,
    }
}

fn timing(b: &BTreeMap<Key, Row>, n: &BTreeMap<Key, Row>) -> Vec<TimingChange> {
    let targets: BTreeSet<&String> = b.keys().chain(n.keys()).map(|k| &k.0).collect();
    let med = |rows: &BTreeMap<Key, Row>, t: &str, f: fn(&Row) -> Option<f64>| {
        median(
            rows.iter()
                .filter(|(k, _)| k.0 == t)
                .filter_map(|(_, r)| f(r))
                .collect(),
        )
    };
    let mut out = Vec::new();
    for t in targets {
        let base_ttft_ms = med(b, t, |r| r.ttft_ms);
        let new_ttft_ms = med(n, t, |r| r.ttft_ms);
        let base_total_ms = med(b, t, |r| r.total_ms);
        let new_total_ms = med(n, t, |r| r.total_ms);
        if base_ttft_ms.is_none()
            && new_ttft_ms.is_none()
            && base_total_ms.is_none()
            && new_total_ms.is_none()
        {
            continue;
        }
        out.push(TimingChange {
            target: t.clone(),
            base_ttft_ms,
            new_ttft_ms,
            ttft_ratio: ratio(base_ttft_ms, new_ttft_ms),
            base_total_ms,
            new_total_ms,
            total_ratio: ratio(base_total_ms, new_total_ms),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(results: Value) -> Value {
        json!({"conform_version": "0.1.0", "results": results})
    }

    fn r(scenario: &str, verdict: &str, checks: &[&str], ttft: f64) -> Value {
        json!({"target": "ref", "scenario": scenario, "mode": "sync", "verdict": verdict,
               "findings": checks.iter().map(|c| json!({"severity": "must", "check": c, "message": "m"})).collect::<Vec<_>>(),
               "timing": {"ttft_ms": ttft, "total_ms": null}})
    }

    #[test]
    fn classifies_changes() {
        let base = report(json!([
            r("a", "pass", &[], 100.0),
            r("b", "fail", &["x"], 100.0),
            r("c", "pass", &[], 100.0),
            r("d", "warn", &["w"], 100.0),
            r("e", "fail", &[], 100.0),
            r("gone", "pass", &[], 100.0),
        ]));
        let new = report(json!([
            r("a", "fail", &["stop.sequence"], 200.0),
            r("b", "pass", &[], 200.0),
            r("c", "skip", &[], 200.0),
            r("d", "warn", &["w2"], 200.0),
            r("e", "fail", &[], 200.0),
            r("fresh", "pass", &[], 200.0),
        ]));
        let c = compare_reports(&base, &new);
        assert_eq!(c.regressions.len(), 1);
        assert_eq!(c.regressions[0].scenario, "a");
        assert_eq!(c.regressions[0].new_findings[0].check, "stop.sequence");
        assert_eq!(c.fixes.len(), 1);
        assert_eq!(c.fixes[0].resolved_checks, vec!["x".to_string()]);
        assert_eq!(c.verdict_changes.len(), 1);
        assert_eq!(c.findings_changed.len(), 1);
        assert_eq!(c.unchanged, 1);
        assert_eq!(c.added[0].scenario, "fresh");
        assert_eq!(c.removed[0].scenario, "gone");
        assert_eq!(c.timing.len(), 1);
        assert_eq!(c.timing[0].ttft_ratio, Some(2.0));
        assert_eq!(c.timing[0].total_ratio, None);
    }

    #[test]
    fn losing_the_effect_is_a_regression() {
        let base = report(json!([
            r("a", "pass", &[], 1.0),
            r("b", "pass", &[], 1.0),
            r("c", "warn", &[], 1.0),
            r("d", "ignored", &[], 1.0),
            r("e", "fail", &[], 1.0),
        ]));
        let new = report(json!([
            r("a", "ignored", &["effect.caching"], 1.0),
            r("b", "inconclusive", &[], 1.0),
            r("c", "ignored", &[], 1.0),
            r("d", "pass", &[], 1.0),
            r("e", "ignored", &[], 1.0),
        ]));
        let c = compare_reports(&base, &new);
        let reg: Vec<&str> = c.regressions.iter().map(|x| x.scenario.as_str()).collect();
        assert_eq!(reg, vec!["a", "b", "c"]);
        let other: Vec<&str> = c
            .verdict_changes
            .iter()
            .map(|x| x.scenario.as_str())
            .collect();
        assert_eq!(other, vec!["e"]);
        let fixes: Vec<&str> = c.fixes.iter().map(|x| x.scenario.as_str()).collect();
        assert_eq!(fixes, vec!["d"], "ignored -> pass is a fix");
        let md = render(&c, Format::Md);
        assert!(md.contains("counts as a regression"), "{md}");
    }

    #[test]
    fn lenient_and_medians() {
        let c = compare_reports(&json!({"results": [{"verdict": 3}]}), &json!({}));
        assert_eq!(c.removed.len(), 1);
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        assert_eq!(verdict_rank("ignored"), None);
    }

    #[test]
    fn targets_are_matched_by_name_or_mapped() {
        let mut base = json!({"results": [{"target": "old", "scenario": "a", "mode": "sync", "verdict": "pass"}]});
        let new = json!({"results": [{"target": "new", "scenario": "a", "mode": "sync", "verdict": "fail"}]});
        assert_eq!(
            no_shared_target(&base, &new).unwrap(),
            "no target matched: the base's targets (old) and the new run's (new) have different names, so nothing can be compared; pass --map old=new to compare them"
        );
        assert_eq!(
            apply_map(&mut base.clone(), &["nope=new".into()]).unwrap_err(),
            "--map nope=new: the base has no target \"nope\" (its targets: old)"
        );
        assert!(apply_map(&mut base.clone(), &["old".into()]).is_err());
        apply_map(&mut base, &["old=new".into()]).unwrap();
        assert_eq!(no_shared_target(&base, &new), None);
        let c = compare_reports(&base, &new);
        assert_eq!(c.regressions.len(), 1);
        assert_eq!(exit_code(&c), exit::FAILURES);
    }
}
