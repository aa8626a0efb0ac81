//! Typed identities of a run: which case a result, an exchange or a finding belongs to.
//!
//! A case is a scenario (or a client prompt, or one proxied exchange) against a target in a
//! mode; a step is one exchange of a case. Identities travel as these values from the producer
//! to every sink; the strings built from them (`scenario@mode`, `target scenario@mode`, the
//! exchange label `scenario@mode step ask`) are for people and files, and nothing parses them
//! back.

use crate::scenario::Mode;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One case of a run: `scenario` against `target` in `mode`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId {
    pub target: String,
    pub scenario: String,
    pub mode: Mode,
}

impl CaseId {
    pub(crate) fn new(
        target: impl Into<String>,
        scenario: impl Into<String>,
        mode: Mode,
    ) -> CaseId {
        CaseId {
            target: target.into(),
            scenario: scenario.into(),
            mode,
        }
    }

    /// `scenario@mode`: the case's name within its target (JUnit test names, headings).
    pub(crate) fn name(&self) -> String {
        format!("{}@{}", self.scenario, self.mode)
    }

    /// The label of one of the case's exchanges in the exchange file
    /// (`tools/forced-choice@stream step call`); `--replay` finds a recorded exchange by it.
    pub(crate) fn label(&self, step: &StepId) -> String {
        format!("{} step {}", self.name(), step)
    }
}

/// `target scenario@mode`: a result's key in report.json's maps.
impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}@{}", self.target, self.scenario, self.mode)
    }
}

/// One step of a case: a scenario step's id (`ask`), or for client and proxy cases the
/// exchange's number (`exchange 2`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(String);

impl StepId {
    pub(crate) fn new(id: impl Into<String>) -> StepId {
        StepId(id.into())
    }

    /// The `n`th exchange (from 1) of a case that has no scenario steps.
    pub(crate) fn exchange(n: usize) -> StepId {
        StepId(format!("exchange {n}"))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for StepId {
    fn from(id: &str) -> StepId {
        StepId::new(id)
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_labels_are_built_from_the_parts() {
        let c = CaseId::new("ref", "tools/forced-choice", Mode::Stream);
        assert_eq!(c.name(), "tools/forced-choice@stream");
        assert_eq!(c.to_string(), "ref tools/forced-choice@stream");
        assert_eq!(
            c.label(&StepId::new("call")),
            "tools/forced-choice@stream step call"
        );
        assert_eq!(StepId::exchange(2).as_str(), "exchange 2");
    }

    #[test]
    fn sync_sorts_before_stream_within_a_scenario() {
        let s = CaseId::new("t", "a", Mode::Stream);
        let y = CaseId::new("t", "a", Mode::Sync);
        assert!(y < s);
    }
}
