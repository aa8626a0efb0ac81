//! Findings: the one shape every validator reports in.
//!
//! A finding names what is wrong (`check`, a [`CheckId`] of the catalogue), how bad it is
//! (`severity`), where a person can find it (`location`), what was expected and what came
//! instead, and the document section the rule comes from (`reference`).
//!
//! The severity is not chosen where a finding is made: it is the catalogue entry's, or one of
//! the exceptions the entry declares, named with [`Finding::with_exception`]. So a report can
//! never show a severity that `conform explain` does not list for the check.

use super::catalogue::CheckId;
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
    /// The catalogue's severity for `check`, or a declared exception (read with
    /// [`Finding::severity`]; a report read back from disk keeps the severity it was written
    /// with).
    severity: Severity,
    /// The check, e.g. `stream.grammar.block-order`.
    pub check: CheckId,
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
    /// A finding of `check` with the catalogue's severity for it.
    pub fn new(check: CheckId, location: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            severity: check.entry().severity,
            check,
            location: location.into(),
            message: message.into(),
            expected: None,
            actual: None,
            reference: String::new(),
            step: None,
        }
    }

    /// Give the finding one of the severities its catalogue entry declares as an exception
    /// (or its default). An undeclared severity is a bug at the call site: debug builds
    /// panic, release builds keep the catalogue's severity, so a report never contradicts
    /// the catalogue.
    pub(crate) fn with_exception(mut self, severity: Severity) -> Self {
        let entry = self.check.entry();
        let declared = entry.allows(severity);
        debug_assert!(
            declared,
            "{}: severity {severity} is neither the catalogue's ({}) nor a declared exception",
            self.check, entry.severity
        );
        if declared {
            self.severity = severity;
        }
        self
    }

    /// How much it matters.
    pub fn severity(&self) -> Severity {
        self.severity
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
    pub(crate) fn in_step(mut self, step: &StepId) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::catalogue::{families, ids};

    #[test]
    fn display_names_check_location_and_reference() {
        let f = Finding::new(ids::SCHEMA_MESSAGE, "/usage/input_tokens", "is negative")
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
    fn the_severity_is_the_catalogue_s_or_a_declared_exception() {
        assert_eq!(
            Finding::new(ids::SCHEMA_ERROR, "/", "").severity(),
            Severity::Should
        );
        let cut = Finding::new(ids::STREAM_GRAMMAR_UNCLOSED_BLOCK, "", "");
        assert_eq!(cut.severity(), Severity::Must);
        assert_eq!(
            cut.with_exception(Severity::Info).severity(),
            Severity::Info
        );
        let equals = families::ASSERT.member("equals").unwrap();
        for s in [Severity::Must, Severity::Should, Severity::Info] {
            assert_eq!(Finding::new(equals, "", "").with_exception(s).severity(), s);
        }
    }

    #[test]
    #[should_panic(expected = "neither the catalogue's (should) nor a declared exception")]
    fn an_undeclared_exception_is_refused() {
        let _ = Finding::new(ids::SCHEMA_ERROR, "/", "").with_exception(Severity::Must);
    }

    #[test]
    fn findings_serialise_their_check_as_the_id_and_read_it_back() {
        let f = Finding::new(families::EFFECT.member("tools").unwrap(), "$", "no effect")
            .with_exception(Severity::Should);
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["check"], "effect.tools");
        assert_eq!(json["severity"], "should");
        let back: Finding = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, f);
        let mut foreign = json;
        foreign["check"] = "stream.retired-check".into();
        let err = serde_json::from_value::<Finding>(foreign).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown check id `stream.retired-check`"),
            "{err}"
        );
    }
}
