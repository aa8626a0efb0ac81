//! Findings: the one shape every validator reports in.
//!
//! A finding names what is wrong (`check`, a stable dotted id), how bad it is (`severity`),
//! where a person can find it (`location`), what was expected and what came instead, and the
//! document section the rule comes from (`reference`).

use crate::run::StepId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Extra information: unknown fields, a rewritten model name.
    Info,
    /// Deviates from Anthropic's observed behaviour in a way clients may notice.
    Should,
    /// Violates the protocol.
    Must,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Should => "should",
            Severity::Must => "must",
        })
    }
}

/// One observation about an exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable dotted id, e.g. `stream.grammar.block-order`.
    pub check: String,
    /// Where: `event #7 (content_block_delta)`, a JSON pointer, or a header name.
    pub location: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The document section the rule comes from.
    pub reference: String,
    /// The step of its case the finding is about, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepId>,
}

impl Finding {
    pub fn new(
        severity: Severity,
        check: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            check: check.into(),
            location: location.into(),
            message: message.into(),
            expected: None,
            actual: None,
            reference: String::new(),
            step: None,
        }
    }

    pub fn must(
        check: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Must, check, location, message)
    }

    pub fn should(
        check: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Should, check, location, message)
    }

    pub fn info(
        check: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Info, check, location, message)
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn actual(mut self, actual: impl Into<String>) -> Self {
        self.actual = Some(actual.into());
        self
    }

    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = reference.into();
        self
    }

    /// The finding is about `step`: recorded as its step and named first in its location.
    pub fn in_step(mut self, step: &StepId) -> Self {
        self = self.located_in(&format!("step {step}"));
        self.step = Some(step.clone());
        self
    }

    /// Prefix the location, e.g. with the file or step it belongs to.
    pub fn located_in(mut self, prefix: &str) -> Self {
        self.location = if self.location.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}: {}", self.location)
        };
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] {}: {}",
            self.severity, self.check, self.location, self.message
        )?;
        if let Some(e) = &self.expected {
            write!(f, " (expected {e}")?;
            match &self.actual {
                Some(a) => write!(f, ", got {a})")?,
                None => write!(f, ")")?,
            }
        } else if let Some(a) = &self.actual {
            write!(f, " (got {a})")?;
        }
        if !self.reference.is_empty() {
            write!(f, " — see {}", self.reference)?;
        }
        Ok(())
    }
}

/// The most severe finding in a list, if any.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_check_location_and_reference() {
        let f = Finding::must("schema.message", "/usage/input_tokens", "is negative")
            .expected("integer >= 0")
            .actual("-1")
            .reference("https://platform.claude.com/docs/en/api/messages (usage)");
        let s = f.to_string();
        assert_eq!(
            s,
            "must [schema.message] /usage/input_tokens: is negative (expected integer >= 0, got -1) — see https://platform.claude.com/docs/en/api/messages (usage)"
        );
    }

    #[test]
    fn worst_orders_must_above_should_above_info() {
        let fs = vec![
            Finding::info("a", "", ""),
            Finding::must("b", "", ""),
            Finding::should("c", "", ""),
        ];
        assert_eq!(worst(&fs), Some(Severity::Must));
        assert_eq!(worst(&[]), None);
    }
}
