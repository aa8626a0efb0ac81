//! What a report says about a root cause: a [`Deviation`] (one per target and cause, ranked),
//! its first occurrence ([`Example`]) and the excerpt of the exchange record that shows it
//! ([`Evidence`]). The data of `report.json`'s `deviations` and `repros`; how they are found is
//! [`crate::report::causes`].

use crate::check::Severity;
use crate::run::{CaseId, StepId};
use serde::{Deserialize, Serialize};

/// One root cause on one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deviation {
    /// `D1`, `D2`, … in rank order across the report (anchors and cross references).
    pub id: String,
    pub target: String,
    pub check: String,
    /// The severity of the cause's own findings (one its catalogue entry declares).
    pub severity: Severity,
    /// What is wrong, in one sentence (the catalogue's title).
    pub sentence: String,
    /// The normalised reason: the grouping key next to the check.
    pub reason: String,
    /// The measured impact per official client, e.g. `python-sdk raises · …`.
    pub impact: String,
    /// Results (scenario × mode) where it was seen.
    pub results: usize,
    /// Findings grouped here (several per result for repeated fields or steps).
    pub occurrences: usize,
    /// Seen on every judged result of the target: reported once for the target.
    pub target_wide: bool,
    /// Features touched, in matrix order.
    pub features: Vec<String>,
    /// `scenario@mode` of every affected result, sorted.
    pub cases: Vec<String>,
    /// Findings folded under this cause, as `(check, count)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folded: Vec<(String, usize)>,
    /// The first occurrence: where and what.
    pub example: Example,
    /// What the endpoint's authors should change.
    pub fix: String,
    /// The public document the rule comes from.
    pub doc: String,
    /// The excerpt of the exchange record that shows it (when the exchanges were at hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// The case and step of [`Deviation::example`], typed (not in report.json).
    #[serde(skip)]
    pub example_of: Option<(CaseId, Option<StepId>)>,
}

/// The first occurrence of a deviation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub case: String,
    /// The step id (`ask`), empty when the finding is not about a step.
    pub step: String,
    pub location: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

impl Deviation {
    /// The anchor of the deviation in md and html (`d3`).
    pub(crate) fn anchor(&self) -> String {
        self.id.to_ascii_lowercase()
    }

    /// `16 results · 1 feature`, or `every result (target-wide)`.
    pub(crate) fn spread(&self) -> String {
        let f = self.features.len();
        if self.target_wide {
            return format!("every result ({}, target-wide)", self.results);
        }
        format!(
            "{} result{} · {} feature{}",
            self.results,
            if self.results == 1 { "" } else { "s" },
            f,
            if f == 1 { "" } else { "s" }
        )
    }
}

/// What shows a deviation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The exchange file, relative to the report dir (`exchanges/reference.ndjson`).
    pub file: String,
    /// The exchange's label in that file (`stop-sequences/several@sync step ask`).
    pub label: String,
    /// 1-based line of the exchange's `begin` record.
    pub line: usize,
    /// `POST /v1/messages` and the start of the body.
    pub request: Vec<String>,
    /// `HTTP 200`, headers, the start of the body (non-stream).
    pub response: Vec<String>,
    /// Stream events with their arrival times (ms since the request was sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<TimedLine>,
    /// Retried attempts before the final one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<String>,
    pub curl: String,
}

/// One line of an event timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedLine {
    pub t_ms: f64,
    pub text: String,
}
