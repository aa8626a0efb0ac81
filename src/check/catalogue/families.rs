//! Catalogue families: check ids built at run time from a set of names — a scenario
//! assertion's operator, a scenario's feature, an event payload's type.

use super::docs::{MESSAGES, STREAMING};
use super::{CheckId, Entry, Kind};
use crate::check::Severity::Must;

/// The operators of a scenario assertion (`expect.assert`, `expect.headers`), plus `status`
/// for the status check and `none` for an assertion without an operator.
pub(super) const ASSERT_OPERATORS: &[&str] = &[
    "status", "equals", "not", "exists", "matches", "gt", "gte", "lt", "lte", "contains", "length",
    "count", "type", "one_of", "schema", "none",
];

/// The features of the compatibility matrix (`effect.<feature>` from scenario effect checks).
pub(super) const FEATURES: &[&str] = &[
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
];

/// The stream event types with a payload schema (`schema.event.<type>`).
pub(super) const EVENT_TYPES: &[&str] = &[
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
];

pub(super) static ENTRIES: &[Entry] = &[
    Entry {
        id: CheckId("assert.<operator>"),
        kind: Kind::Family {
            prefix: "assert.",
            members: ASSERT_OPERATORS,
        },
        severity: Must,
        severity_note: Some(
            "the assertion's own `severity:` in the scenario file (must unless it says should)",
        ),
        title: "A scenario assertion on the response failed.",
        doc: MESSAGES,
        fix: "Compare the response with the assertion shown (expected vs actual); the scenario's reference names the rule.",
        ..Entry::DEFAULT
    },
    Entry {
        id: CheckId("effect.<feature>"),
        kind: Kind::Family {
            prefix: "effect.",
            members: FEATURES,
        },
        severity: Must,
        severity_note: Some(
            "the assertion's own `severity:` in the scenario file; a failed effect check makes the verdict `ignored` whatever its severity, unless it is info",
        ),
        title: "The request was accepted but the feature had no effect on the answer.",
        doc: MESSAGES,
        fix: "Forward the feature's request parameters to the model instead of dropping them; reject the request with a 400 if the feature is unsupported.",
        ..Entry::DEFAULT
    },
    Entry {
        id: CheckId("schema.event.<type>"),
        kind: Kind::Family {
            prefix: "schema.event.",
            members: EVENT_TYPES,
        },
        severity: Must,
        title: "A stream event's payload does not match the protocol's schema for its type.",
        doc: STREAMING,
        fix: "Send each event with the documented fields of its type (e.g. `index` and `delta` in `content_block_delta`).",
        ..Entry::DEFAULT
    },
];
