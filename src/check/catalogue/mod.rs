//! The check catalogue: every check id conform reports, declared once.
//!
//! Each [`Entry`] says what a finding of that check means — its default [`Severity`], a
//! one-sentence title for report headlines, the public Anthropic document the rule comes from,
//! a fix hint for the endpoint's authors, and the measured impact on the official clients.
//!
//! The severity rule the catalogue carries (issue 11): `must` = an official client (Python
//! SDK, TypeScript SDK, Claude Code) raises, loses or alters data, or hangs — or a feature's
//! documented contract is broken (a wrong `stop_reason`, tool input invalid against its
//! schema); `should` = differs from Anthropic's traffic but the clients cope, or only degrades
//! UX; `info` = cosmetic. A `must` the clients cope with carries a [`Entry::contract`] reason:
//! the documented contract it breaks, citing the entry's `doc`. The measured impact is
//! `impact.json` (`docs/client-impact.md`); `severities_agree_with_the_measured_impact` in the
//! calibration tests fails when a severity contradicts it.
//!
//! A finding takes its entry's severity ([`crate::check::Finding::new`]). Where the code picks
//! another severity by context (a tolerated variant, a scenario's own `severity:`), the entry
//! declares it as an [`Exception`] with the condition, and the code names the exception
//! ([`crate::check::Finding::with_exception`]); an undeclared one is refused.
//!
//! Most ids are fixed strings, available as typed constants in [`ids`]. A few are built at run
//! time from a closed set of names — scenario assertions (`assert.<operator>`), effect checks
//! (`effect.<feature>`), event payload schemas (`schema.event.<type>`) — and are declared as
//! *families* ([`families`]) whose members are [`CheckId`]s too. [`get`] resolves both.

pub(crate) use cli::{ExplainArgs, run_cli};
pub(crate) use id::{CheckId, Family};
pub(crate) use impact::{impact_of, measured};

use crate::check::Severity;
use serde::Serialize;

/// What one official client does with traffic that has this finding, in increasing order of
/// harm (`Ord` gives the worst of several: hangs > raises > data-lost > ok > unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientImpact {
    /// Not measured yet (no calibration case targets the check).
    Unknown,
    /// Parses the traffic and gives the same result as for conformant traffic.
    Ok,
    /// Returns without error but text, tool input, thinking, stop reason or usage is lost or
    /// altered.
    DataLost,
    /// Raises an error (exception, non-zero exit).
    Raises,
    /// Never returns (until the caller's own timeout).
    Hangs,
}

impl ClientImpact {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientImpact::Ok => "ok",
            ClientImpact::Raises => "raises",
            ClientImpact::DataLost => "data-lost",
            ClientImpact::Hangs => "hangs",
            ClientImpact::Unknown => "unknown",
        }
    }

    /// Measured and not `ok`: the client raised, lost or altered data, or hung.
    pub fn is_harmful(self) -> bool {
        matches!(
            self,
            ClientImpact::Raises | ClientImpact::DataLost | ClientImpact::Hangs
        )
    }
}

/// The measured impact per official client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Impact {
    pub python_sdk: ClientImpact,
    pub typescript_sdk: ClientImpact,
    pub claude_code: ClientImpact,
}

impl Impact {
    /// Nothing measured yet.
    pub const UNKNOWN: Impact = Impact {
        python_sdk: ClientImpact::Unknown,
        typescript_sdk: ClientImpact::Unknown,
        claude_code: ClientImpact::Unknown,
    };

    /// `(client name, impact)` in a fixed order, for display.
    pub fn per_client(&self) -> [(&'static str, ClientImpact); 3] {
        [
            ("python-sdk", self.python_sdk),
            ("typescript-sdk", self.typescript_sdk),
            ("claude-code", self.claude_code),
        ]
    }
}

/// Whether an entry is one id or a family of ids built at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Kind {
    /// Exactly the id of the entry.
    Check,
    /// Every id `prefix` + one of `members` (a closed set).
    Family {
        prefix: &'static str,
        members: &'static [&'static str],
        /// The full ids, `prefix` + member, in member order (see `family_ids!`).
        #[serde(skip)]
        ids: &'static [&'static str],
    },
}

/// A declared severity other than the entry's default, and when the code gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Exception {
    pub severity: Severity,
    /// The condition, worded to follow "<severity> when …".
    pub when: &'static str,
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Entry {
    /// The id, or for a family its pattern (`assert.<operator>`).
    pub id: &'static str,
    #[serde(flatten)]
    pub kind: Kind,
    /// The severity a finding of this check has unless one of `exceptions` applies.
    pub severity: Severity,
    /// The other severities the code may give it, each with its condition.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub exceptions: &'static [Exception],
    /// Anything else to know about when the check is reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    /// What is wrong, in one sentence (a report headline).
    pub title: &'static str,
    /// The public document the rule comes from.
    pub doc: &'static str,
    /// What the endpoint's authors should change.
    pub fix: &'static str,
    /// Why the entry is `must` although the official clients cope with the traffic: the
    /// feature's documented contract is broken (a wrong `stop_reason`, a tool input invalid
    /// against its schema, a feature ignored). Only `must` entries carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<&'static str>,
}

impl Entry {
    /// The defaults of the optional fields, for the declarations (`..Entry::DEFAULT`).
    const DEFAULT: Entry = Entry {
        id: "",
        kind: Kind::Check,
        severity: Severity::Must,
        exceptions: &[],
        note: None,
        title: "",
        doc: "",
        fix: "",
        contract: None,
    };

    pub(crate) fn is_family(&self) -> bool {
        matches!(self.kind, Kind::Family { .. })
    }

    /// Whether a finding of this check may have `severity`: the default or a declared
    /// exception.
    pub fn allows(&self, severity: Severity) -> bool {
        severity == self.severity || self.exceptions.iter().any(|x| x.severity == severity)
    }
}

/// Declares entries: an [`Entry`] constant per id (in a nested `entry` module), a typed
/// [`CheckId`] constant per id (in a nested `ids` module) and the `ENTRIES` table. Fields not
/// given take the values of [`Entry::DEFAULT`].
macro_rules! declare {
    ($( $konst:ident = $id:literal { $($field:ident : $value:expr),* $(,)? } )*) => {
        mod entry {
            use super::*;
            $( pub(super) const $konst: super::super::Entry =
                super::super::Entry { id: $id, $($field: $value,)* ..super::super::Entry::DEFAULT }; )*
        }
        /// Typed constants for the ids declared here.
        pub(super) mod ids {
            use super::super::CheckId;
            $( pub const $konst: CheckId = CheckId::fixed(&super::entry::$konst); )*
        }
        pub(super) static ENTRIES: &[super::Entry] = &[ $( entry::$konst, )* ];
    };
}

/// A family's member names and full ids (`prefix` + name) from one list of literals.
macro_rules! family_ids {
    ($prefix:literal: $($member:literal),* $(,)?) => {
        (&[$($member),*], &[$(concat!($prefix, $member)),*])
    };
}

// The data modules come after the macros they use.
mod cli;
pub mod families;
pub(crate) mod id;
pub(crate) mod impact;
mod response;
mod rules;
mod stream;
#[cfg(test)]
mod tests;

/// Typed constants for every fixed check id.
pub mod ids {
    pub use super::response::ids::*;
    pub use super::rules::ids::*;
    pub use super::stream::ids::*;
}

/// Every fixed-id entry, then every family.
pub fn all() -> impl Iterator<Item = &'static Entry> {
    stream::ENTRIES
        .iter()
        .chain(response::ENTRIES)
        .chain(rules::ENTRIES)
        .chain(families::ENTRIES)
}

/// Whether `id` is a rule the scenario library states (`check:` on its assertions).
pub(crate) fn is_stated_rule(id: &str) -> bool {
    rules::ENTRIES.iter().any(|e| e.id == id)
}

/// The entry for a check id: the id's own entry, else the family it belongs to.
pub fn get(id: &str) -> Option<&'static Entry> {
    CheckId::parse(id).map(CheckId::entry)
}

/// The public documents the entries cite.
pub(crate) mod docs {
    pub(crate) const MESSAGES: &str = "https://platform.claude.com/docs/en/api/messages";
    pub(crate) const STREAMING: &str =
        "https://platform.claude.com/docs/en/build-with-claude/streaming";
    pub(crate) const ERRORS: &str = "https://platform.claude.com/docs/en/api/errors";
    pub(crate) const OVERVIEW: &str = "https://platform.claude.com/docs/en/api/overview";
    pub(crate) const VERSIONING: &str = "https://platform.claude.com/docs/en/api/versioning";
    pub(crate) const RATE_LIMITS: &str = "https://platform.claude.com/docs/en/api/rate-limits";
    pub(crate) const STOP_REASONS: &str =
        "https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons";
    pub(crate) const TOOL_USE: &str =
        "https://platform.claude.com/docs/en/agents-and-tools/tool-use/overview";
    pub(crate) const IMPLEMENT_TOOL_USE: &str =
        "https://platform.claude.com/docs/en/agents-and-tools/tool-use/implement-tool-use";
    pub(crate) const THINKING: &str =
        "https://platform.claude.com/docs/en/build-with-claude/extended-thinking";
    pub(crate) const CACHING: &str =
        "https://platform.claude.com/docs/en/build-with-claude/prompt-caching";
    pub(crate) const STRUCTURED: &str =
        "https://platform.claude.com/docs/en/build-with-claude/structured-outputs";
    pub(crate) const COUNT_TOKENS: &str =
        "https://platform.claude.com/docs/en/api/messages/count_tokens";
    pub(crate) const MODELS: &str = "https://platform.claude.com/docs/en/api/models/list";
    pub(crate) const CLAUDE_CODE_GATEWAY: &str = "https://code.claude.com/docs/en/llm-gateway";
    pub(crate) const PREFILL: &str = "https://platform.claude.com/docs/en/build-with-claude/prompt-engineering/prefill-claudes-response";
    pub(crate) const EFFORT: &str = "https://platform.claude.com/docs/en/build-with-claude/effort";
    pub(crate) const CONTEXT_EDITING: &str =
        "https://platform.claude.com/docs/en/build-with-claude/context-editing";
    pub(crate) const WEB_SEARCH: &str =
        "https://platform.claude.com/docs/en/agents-and-tools/tool-use/web-search-tool";
    pub(crate) const CITATIONS: &str =
        "https://platform.claude.com/docs/en/build-with-claude/citations";
    pub(crate) const SEARCH_RESULTS: &str =
        "https://platform.claude.com/docs/en/build-with-claude/search-results";
}
