//! Catalogue families: check ids built at run time from a set of names — a scenario
//! assertion's operator, a scenario's feature, an event payload's type. [`ASSERT`],
//! [`EFFECT`] and [`SCHEMA_EVENT`] turn a name into its [`CheckId`].

use super::docs::{MESSAGES, STREAMING};
use super::{CheckId, Entry, Exception, Family, Kind};
use crate::check::Severity::{Info, Must, Should};

/// The operators of a scenario assertion (`expect.assert`, `expect.headers`), plus `status`
/// for the status check and `none` for an assertion without an operator.
const ASSERT_OPERATORS: (&[&str], &[&str]) = family_ids!("assert.":
    "status", "equals", "not", "exists", "matches", "gt", "gte", "lt", "lte", "contains", "length",
    "count", "type", "one_of", "schema", "none",
);

/// The features of the compatibility matrix (`effect.<feature>` from scenario effect checks).
const FEATURES: (&[&str], &[&str]) = family_ids!("effect.":
    "basic",
    "system",
    "multi-turn",
    "streaming",
    "stop-sequences",
    "max-tokens",
    "sampling",
    "thinking",
    "image",
    "video",
    "document",
    "tools",
    "caching",
    "structured-output",
    "errors",
    "count-tokens",
    "models",
    "headers",
    "claude-code",
    "agent-loop",
    "server-tools",
);

/// The stream event types with a payload schema (`schema.event.<type>`).
const EVENT_TYPES: (&[&str], &[&str]) = family_ids!("schema.event.":
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
);

/// The severities a scenario file may give its own assertions besides the default `must`.
pub(super) const SCENARIO_SEVERITY: &[Exception] = &[
    Exception {
        severity: Should,
        when: SCENARIO_SAYS,
    },
    Exception {
        severity: Info,
        when: SCENARIO_SAYS,
    },
];
const SCENARIO_SAYS: &str = "the scenario's own severity says so (`severity:` on the assertion)";

const ASSERT_ENTRY: Entry = Entry {
    id: "assert.<operator>",
    kind: Kind::Family {
        prefix: "assert.",
        members: ASSERT_OPERATORS.0,
        ids: ASSERT_OPERATORS.1,
    },
    severity: Must,
    exceptions: SCENARIO_SEVERITY,
    title: "A scenario assertion on the response failed.",
    doc: MESSAGES,
    fix: "Compare the response with the assertion shown (expected vs actual); the scenario's reference names the rule.",
    ..Entry::DEFAULT
};

const EFFECT_ENTRY: Entry = Entry {
    id: "effect.<feature>",
    kind: Kind::Family {
        prefix: "effect.",
        members: FEATURES.0,
        ids: FEATURES.1,
    },
    severity: Must,
    exceptions: SCENARIO_SEVERITY,
    note: Some(
        "a failed effect check makes the verdict `ignored` whatever its severity, unless it is info",
    ),
    title: "The request was accepted but the feature had no effect on the answer.",
    doc: MESSAGES,
    fix: "Forward the feature's request parameters to the model instead of dropping them; reject the request with a 400 if the feature is unsupported.",
    ..Entry::DEFAULT
};

const SCHEMA_EVENT_ENTRY: Entry = Entry {
    id: "schema.event.<type>",
    kind: Kind::Family {
        prefix: "schema.event.",
        members: EVENT_TYPES.0,
        ids: EVENT_TYPES.1,
    },
    severity: Must,
    title: "A stream event's payload does not match the protocol's schema for its type.",
    doc: STREAMING,
    fix: "Send each event with the documented fields of its type (e.g. `index` and `delta` in `content_block_delta`).",
    ..Entry::DEFAULT
};

pub(super) static ENTRIES: &[Entry] = &[ASSERT_ENTRY, EFFECT_ENTRY, SCHEMA_EVENT_ENTRY];

/// `assert.<operator>`: a failed scenario assertion, by operator.
pub(crate) const ASSERT: Family = family(&ASSERT_ENTRY);
/// `effect.<feature>`: a failed scenario effect check, by feature.
pub(crate) const EFFECT: Family = family(&EFFECT_ENTRY);
/// `schema.event.<type>`: an event payload against its type's schema.
pub(crate) const SCHEMA_EVENT: Family = family(&SCHEMA_EVENT_ENTRY);

/// `assert.none`: an assertion without an operator.
pub(crate) const ASSERT_NONE: CheckId = ASSERT.member_const("assert.none");
/// `assert.status`: the status check of a step.
pub(crate) const ASSERT_STATUS: CheckId = ASSERT.member_const("assert.status");

const fn family(entry: &'static Entry) -> Family {
    match Family::of_entry(entry) {
        Some(f) => f,
        None => panic!("not a family entry"),
    }
}

/// The member names of each family, for the tests.
#[cfg(test)]
pub(super) const MEMBERS: [(&[&str], Family); 3] = [
    (ASSERT_OPERATORS.0, ASSERT),
    (FEATURES.0, EFFECT),
    (EVENT_TYPES.0, SCHEMA_EVENT),
];
