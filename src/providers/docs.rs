//! Documented vs observed: a result's findings matched against its target's profile.
//!
//! [`mark`] runs once per result, before it is reported: it sets `documented` when every
//! notable finding of a non-passing result is explained by a documented deviation, and adds a
//! `provider.documented-claim` finding when a feature the provider documents as supported
//! failed, was ignored or was rejected. [`table`] summarises both per target for report.json.

use super::Profile;
use crate::check::catalogue::ids;
use crate::check::{Finding, Severity};
use crate::report::model::ResultRecord;
use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};

/// Whether a verdict says the feature did not work as Anthropic's does.
fn falls_short(v: Verdict) -> bool {
    matches!(
        v,
        Verdict::Fail | Verdict::Ignored | Verdict::Unsupported | Verdict::Warn | Verdict::Flaky
    )
}

/// Mark one result against the profile (see the module doc). Returns the ids of the
/// deviations that explain it (empty when it is not documented).
pub(crate) fn mark(profile: &Profile, r: &mut ResultRecord) -> Vec<String> {
    let (scenario, feature) = (r.scenario.as_str(), r.feature.as_str());
    if matches!(
        r.verdict,
        Verdict::Fail | Verdict::Ignored | Verdict::Unsupported
    ) {
        for c in profile
            .supports
            .iter()
            .filter(|c| c.applies_to(scenario, feature))
        {
            let mut f = Finding::new(
                ids::PROVIDER_DOCUMENTED_CLAIM,
                format!("provider {} / {}", profile.name, c.id),
                format!(
                    "documented as supported ({}), observed {}",
                    c.note,
                    r.verdict.as_str()
                ),
            );
            f.expected = Some("pass".into());
            f.actual = Some(r.verdict.as_str().into());
            f.reference = c.doc.clone();
            r.findings.push(f);
        }
    }
    let claimed = profile
        .supports
        .iter()
        .any(|c| c.applies_to(scenario, feature));
    if claimed || !falls_short(r.verdict) {
        return Vec::new();
    }
    let notable: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.severity() != Severity::Info)
        .collect();
    let deviations = profile.all_deviations();
    let applicable: Vec<&super::Deviation> = deviations
        .iter()
        .filter(|d| d.applies_to(scenario, feature))
        .collect();
    let mut used: Vec<String> = Vec::new();
    for f in &notable {
        let Some(d) = applicable
            .iter()
            .find(|d| d.explains(f.check.as_str(), scenario, feature))
        else {
            return Vec::new();
        };
        if !used.contains(&d.id) {
            used.push(d.id.clone());
        }
    }
    if notable.is_empty() {
        // A rejection (`unsupported`) with no finding of its own: documented when a deviation
        // that names no particular check covers the scenario.
        match applicable.iter().find(|d| d.checks.is_empty()) {
            Some(d) => used.push(d.id.clone()),
            None => return Vec::new(),
        }
    }
    r.documented = true;
    used
}

/// How a documented deviation compares with what the run saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DeviationStatus {
    /// Seen, as documented.
    Observed,
    /// The cases it concerns ran and behaved like Anthropic's API: the docs may be outdated.
    NotObserved,
    /// No case it concerns ran.
    NotRun,
}

/// How a documented claim of support compares with what the run saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ClaimStatus {
    Confirmed,
    /// A case failed, was ignored or rejected: a `provider.documented-claim` finding.
    Contradicted,
    NotRun,
}

/// One row of the "documented vs observed" table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DocRow {
    /// `deviation` or `supported`.
    pub kind: String,
    pub id: String,
    pub note: String,
    pub doc: String,
    /// When the provider's page was read for this row (`YYYY-MM-DD` or `YYYY-MM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<String>,
    /// `observed`, `not-observed`, `not-run` (deviations); `confirmed`, `contradicted`,
    /// `not-run` (claims).
    pub status: String,
    /// The cases (`scenario@mode`) behind the status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<String>,
}

/// The table for one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProviderDocs {
    pub target: String,
    pub provider: String,
    pub rows: Vec<DocRow>,
}

fn status_str<T: Serialize>(s: T) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The "documented vs observed" table of one target, from its results (already [`mark`]ed).
pub(crate) fn table(target: &str, profile: &Profile, results: &[ResultRecord]) -> ProviderDocs {
    let mine: Vec<&ResultRecord> = results.iter().filter(|r| r.target == target).collect();
    let mut rows = Vec::new();
    for d in &profile.all_deviations() {
        let concerned: Vec<&&ResultRecord> = mine
            .iter()
            .filter(|r| d.applies_to(&r.scenario, &r.feature) && r.verdict != Verdict::Skip)
            .collect();
        let seen: Vec<String> = concerned
            .iter()
            .filter(|r| {
                r.findings.iter().any(|f| {
                    f.severity() != Severity::Info
                        && d.explains(f.check.as_str(), &r.scenario, &r.feature)
                }) || (d.checks.is_empty() && r.documented)
            })
            .map(|r| r.case_name())
            .collect();
        let clean = concerned.iter().any(|r| matches!(r.verdict, Verdict::Pass));
        let (status, cases) = if !seen.is_empty() {
            (DeviationStatus::Observed, seen)
        } else if clean {
            let cases = concerned
                .iter()
                .filter(|r| r.verdict == Verdict::Pass)
                .map(|r| r.case_name())
                .collect();
            (DeviationStatus::NotObserved, cases)
        } else {
            (DeviationStatus::NotRun, Vec::new())
        };
        rows.push(DocRow {
            kind: "deviation".into(),
            id: d.id.clone(),
            note: d.note.clone(),
            doc: d.doc.clone(),
            checked: d.checked.clone(),
            status: status_str(status),
            cases,
        });
    }
    for c in &profile.supports {
        let concerned: Vec<&&ResultRecord> = mine
            .iter()
            .filter(|r| {
                c.applies_to(&r.scenario, &r.feature)
                    && !matches!(r.verdict, Verdict::Skip | Verdict::Error)
            })
            .collect();
        let bad: Vec<String> = concerned
            .iter()
            .filter(|r| {
                r.findings
                    .iter()
                    .any(|f| f.check == ids::PROVIDER_DOCUMENTED_CLAIM)
            })
            .map(|r| r.case_name())
            .collect();
        let (status, cases) = if !bad.is_empty() {
            (ClaimStatus::Contradicted, bad)
        } else if concerned.is_empty() {
            (ClaimStatus::NotRun, Vec::new())
        } else {
            let cases = concerned.iter().map(|r| r.case_name()).collect();
            (ClaimStatus::Confirmed, cases)
        };
        rows.push(DocRow {
            kind: "supported".into(),
            id: c.id.clone(),
            note: c.note.clone(),
            doc: c.doc.clone(),
            checked: c.checked.clone(),
            status: status_str(status),
            cases,
        });
    }
    ProviderDocs {
        target: target.to_string(),
        provider: profile.name.clone(),
        rows,
    }
}
