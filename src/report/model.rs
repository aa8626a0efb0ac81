//! The report model: what a run produced, in the shape `report.json` has, and what every
//! other sink renders from.
//!
//! The runner builds a [`RunReport`] as results come in ([`RunReport::push`]); any sink can be
//! written from it at any time, so an interrupted run still writes what it has.

use crate::check::Finding;
use crate::run::CaseId;
use crate::scenario::Mode;
use crate::secrets::Redactor;
use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub conform_version: String,
    /// RFC 3339.
    pub started_at: String,
    pub duration_ms: f64,
    /// The run stopped before every planned result was in (Ctrl-C, SIGTERM).
    #[serde(default)]
    pub interrupted: bool,
    /// How many results the run planned.
    #[serde(default)]
    pub planned: usize,
    /// Why targets were stopped before all their cases ran (unreachable, credentials
    /// rejected): one line each, instead of a result per case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<String>,
    /// How long targets were paused because they answered 429/529, and why: one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paused: Vec<String>,
    pub targets: Vec<TargetInfo>,
    pub results: Vec<ResultRecord>,
    /// Verdict counts per target: `{TARGET: {VERDICT: count}}`.
    pub summary: BTreeMap<String, BTreeMap<Verdict, usize>>,
    /// The comparison with a previous run, if one was given (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// Which shard of a partitioned run this is (`--partition K/N`); `conform merge` checks
    /// that its inputs are the N different shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Documented vs observed, per target that has a provider profile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) documented: Vec<crate::providers::ProviderDocs>,
    /// The root causes, ranked (see `report::causes`); filled when reports are written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deviations: Vec<crate::report::deviation::Deviation>,
    /// The ids of the deviations each result shows, keyed `target scenario@mode`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deviation_ids: BTreeMap<String, Vec<String>>,
    /// The request of each failing result, as evidence with a `curl` repro, keyed like
    /// `deviation_ids`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub repros: BTreeMap<String, crate::report::deviation::Evidence>,
}

/// One shard of a partitioned run: shard `index` of `count` (`--partition index/count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// `conform run --baseline FILE`: which run this one is compared with, and how it compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub file: String,
    pub comparison: crate::diff::Comparison,
}

/// A previous run's report, read before the run starts.
#[derive(Debug, Clone)]
pub struct BaselineInput {
    pub file: String,
    pub report: serde_json::Value,
}

impl BaselineInput {
    /// Read and check a report.json (before the first request, so a bad path costs nothing).
    pub(crate) fn read(path: &std::path::Path) -> Result<BaselineInput, String> {
        Ok(BaselineInput {
            file: path.display().to_string(),
            report: crate::diff::read_report(path)?,
        })
    }

    /// The total time each case took in that run.
    pub(crate) fn durations(&self) -> std::collections::HashMap<CaseId, f64> {
        let mut out = std::collections::HashMap::new();
        for r in self.report["results"].as_array().into_iter().flatten() {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            let mode = serde_json::from_value::<Mode>(r["mode"].clone());
            if let (Some(ms), Ok(mode)) = (r["timing"]["total_ms"].as_f64(), mode) {
                out.insert(CaseId::new(s("target"), s("scenario"), mode), ms);
            }
        }
        out
    }
}

/// One target as the report shows it (never its key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    pub name: String,
    pub base_url: String,
    pub model: String,
}

impl From<&crate::target::Target> for TargetInfo {
    fn from(t: &crate::target::Target) -> Self {
        TargetInfo {
            name: t.name.clone(),
            base_url: t.base_url.clone(),
            model: t.model.clone(),
        }
    }
}

/// The result of one (scenario, target, mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    pub target: String,
    pub scenario: String,
    pub feature: String,
    #[serde(default)]
    pub title: String,
    pub mode: Mode,
    pub verdict: Verdict,
    /// The target declared this result expected (`expect_unsupported`).
    #[serde(default)]
    pub expected: bool,
    /// Every notable finding matches a deviation the provider documents (its profile); does
    /// not fail the run unless `--strict-docs`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub documented: bool,
    pub findings: Vec<Finding>,
    pub timing: Timing,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotInfo>,
    /// The transport or infrastructure error behind an `error` verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ResultRecord {
    /// A result before anything is known of it: no title, findings, timing, snapshot or
    /// error; one attempt; neither expected nor documented.
    pub fn new(
        target: impl Into<String>,
        scenario: impl Into<String>,
        feature: impl Into<String>,
        mode: Mode,
        verdict: Verdict,
    ) -> ResultRecord {
        ResultRecord {
            target: target.into(),
            scenario: scenario.into(),
            feature: feature.into(),
            title: String::new(),
            mode,
            verdict,
            expected: false,
            documented: false,
            findings: Vec::new(),
            timing: Timing::default(),
            attempts: 1,
            snapshot: None,
            error: None,
        }
    }

    /// `scenario@mode`, the name of the result in JUnit and headings.
    pub fn case_name(&self) -> String {
        format!("{}@{}", self.scenario, self.mode)
    }

    /// The case this is the result of.
    pub fn case_id(&self) -> CaseId {
        CaseId::new(&self.target, &self.scenario, self.mode)
    }

    /// Whether this is the result of `case`.
    pub fn is(&self, case: &CaseId) -> bool {
        self.target == case.target && self.scenario == case.scenario && self.mode == case.mode
    }

    /// The order results are listed in when no plan gives one: by feature (`conform list`
    /// order), scenario, then sync before stream.
    pub(crate) fn listing_order(&self) -> (usize, &str, Mode) {
        (
            crate::scenario::Feature::rank_of(&self.feature),
            &self.scenario,
            self.mode,
        )
    }
}

/// Times in milliseconds since the request was sent (of the step that counts, usually the
/// first): first byte, first token (first text delta in a stream), end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub ttfb_ms: Option<f64>,
    pub ttft_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

/// How the normalised response compares with the stored snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub status: SnapshotStatus,
    /// A unified diff (old → new) when the snapshot changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotStatus {
    New,
    Changed,
    Same,
}

impl RunReport {
    /// An empty report for these targets, started now.
    pub fn new(targets: Vec<TargetInfo>) -> RunReport {
        let started_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        RunReport::started_at(started_at, targets)
    }

    /// An empty report with an explicit start time (RFC 3339).
    pub fn started_at(started_at: String, targets: Vec<TargetInfo>) -> RunReport {
        let mut r = RunReport {
            conform_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at,
            duration_ms: 0.0,
            interrupted: false,
            planned: 0,
            stopped: Vec::new(),
            paused: Vec::new(),
            targets,
            results: Vec::new(),
            summary: BTreeMap::new(),
            baseline: None,
            shard: None,
            documented: Vec::new(),
            deviations: Vec::new(),
            deviation_ids: BTreeMap::new(),
            repros: BTreeMap::new(),
        };
        r.update_summary();
        r
    }

    /// Add a result and keep the summary current.
    pub fn push(&mut self, result: ResultRecord) {
        *self
            .summary
            .entry(result.target.clone())
            .or_default()
            .entry(result.verdict)
            .or_default() += 1;
        self.results.push(result);
    }

    /// Recompute `summary` from `results` (every target appears, even with no result).
    pub(crate) fn update_summary(&mut self) {
        let mut summary: BTreeMap<String, BTreeMap<Verdict, usize>> = self
            .targets
            .iter()
            .map(|t| (t.name.clone(), BTreeMap::new()))
            .collect();
        for r in &self.results {
            *summary
                .entry(r.target.clone())
                .or_default()
                .entry(r.verdict)
                .or_default() += 1;
        }
        self.summary = summary;
    }

    /// Set the duration and the interrupted flag (call before writing the final sinks).
    pub fn finish(&mut self, duration: std::time::Duration, interrupted: bool) {
        self.duration_ms = duration.as_secs_f64() * 1000.0;
        self.interrupted = interrupted;
        self.update_summary();
    }

    /// Compare with a previous run's report (as JSON) and keep the comparison.
    pub(crate) fn compare_with(&mut self, base: &BaselineInput) {
        let new = serde_json::to_value(&*self).unwrap_or_default();
        self.baseline = Some(Baseline {
            file: base.file.clone(),
            comparison: crate::diff::compare_reports(&base.report, &new),
        });
    }

    /// The run's exit code ([`crate::verdict::exit_code`]); 1 when the comparison with the
    /// baseline has a regression ([`crate::diff::exit_code`], the rule of `conform diff`).
    pub fn exit_code(&self, strict: bool) -> i32 {
        let code = crate::verdict::exit_code(
            self.results
                .iter()
                .map(|r| (r.verdict, r.expected || r.documented)),
            strict,
        );
        // A regression against the baseline fails the run by `conform diff`'s exit rule (a
        // failure wins over infrastructure errors, as in the verdict rule).
        if let Some(b) = &self.baseline
            && crate::diff::exit_code(&b.comparison) == crate::exit::FAILURES
        {
            return crate::exit::FAILURES;
        }
        if code == crate::exit::OK && !self.stopped.is_empty() {
            crate::exit::INFRA
        } else {
            code
        }
    }

    /// A copy with every secret replaced by `[REDACTED]` in every text field.
    pub(crate) fn redacted(&self, redactor: &Redactor) -> RunReport {
        let mut r = self.clone();
        let red = |s: &mut String| *s = redactor.redact(s);
        for t in &mut r.targets {
            red(&mut t.name);
            red(&mut t.base_url);
            red(&mut t.model);
        }
        for s in r.stopped.iter_mut().chain(r.paused.iter_mut()) {
            red(s);
        }
        for x in &mut r.results {
            for s in [&mut x.target, &mut x.scenario, &mut x.feature, &mut x.title] {
                red(s);
            }
            for f in &mut x.findings {
                // The check is a catalogue id: nothing of the run's to redact.
                red(&mut f.location);
                red(&mut f.message);
                red(&mut f.reference);
                for s in [&mut f.expected, &mut f.actual].into_iter().flatten() {
                    red(s);
                }
            }
            if let Some(e) = &mut x.error {
                red(e);
            }
            if let Some(d) = x.snapshot.as_mut().and_then(|s| s.diff.as_mut()) {
                red(d);
            }
        }
        if let Some(b) = &mut r.baseline {
            redact_typed(b, redactor);
        }
        redact_typed(&mut r.deviations, redactor);
        redact_typed(&mut r.repros, redactor);
        r.summary = r
            .summary
            .into_iter()
            .map(|(k, v)| (redactor.redact(&k), v))
            .collect();
        r
    }

    /// Features in `conform list` order (unknown ones last, by name).
    pub fn features(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.results {
            if !out.contains(&r.feature) {
                out.push(r.feature.clone());
            }
        }
        out.sort_by_key(|f| (crate::scenario::Feature::rank_of(f), f.clone()));
        out
    }
}

/// Redact every string of a serialisable value in place (through its JSON form).
fn redact_typed<T: Serialize + serde::de::DeserializeOwned>(x: &mut T, redactor: &Redactor) {
    if let Ok(mut v) = serde_json::to_value(&*x) {
        redact_value(&mut v, redactor);
        if let Ok(back) = serde_json::from_value(v) {
            *x = back;
        }
    }
}

fn redact_value(v: &mut serde_json::Value, redactor: &Redactor) {
    match v {
        serde_json::Value::String(s) => *s = redactor.redact(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| redact_value(x, redactor)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| redact_value(x, redactor)),
        _ => {}
    }
}

/// The most severe findings first.
pub(crate) fn sorted_findings(findings: &[Finding]) -> Vec<&Finding> {
    let mut out: Vec<&Finding> = findings.iter().collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.severity()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_keeps_the_summary_and_redaction_covers_every_text() {
        let t = TargetInfo {
            name: "a".into(),
            base_url: "http://h".into(),
            model: "m".into(),
        };
        let mut r = RunReport::started_at("2026-11-25T04:00:00Z".into(), vec![t]);
        assert_eq!(r.summary["a"].len(), 0);
        r.push(ResultRecord {
            target: "a".into(),
            scenario: "s".into(),
            feature: "f".into(),
            title: "t sk-secret-1".into(),
            mode: Mode::Sync,
            verdict: Verdict::Warn,
            expected: false,
            documented: false,
            findings: vec![
                Finding::new(
                    crate::check::catalogue::ids::HEADERS_REQUEST_ID,
                    "l",
                    "m sk-secret-1",
                )
                .actual("sk-secret-1"),
            ],
            timing: Timing::default(),
            attempts: 1,
            snapshot: Some(SnapshotInfo {
                status: SnapshotStatus::Changed,
                diff: Some("+sk-secret-1".into()),
            }),
            error: Some("sk-secret-1".into()),
        });
        assert_eq!(r.summary["a"][&Verdict::Warn], 1);
        let red = r.redacted(&Redactor::new(vec!["sk-secret-1".into()]));
        let text = serde_json::to_string(&red).unwrap();
        assert!(!text.contains("sk-secret-1"), "{text}");
        assert_eq!(r.exit_code(false), crate::exit::OK);
        assert_eq!(r.exit_code(true), crate::exit::FAILURES);
    }
}
