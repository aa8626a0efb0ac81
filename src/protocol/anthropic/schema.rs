//! JSON Schema validation of Anthropic Messages bodies: requests, `Message`s, content blocks,
//! usage, errors, stream events, `count_tokens` and models (docs/protocol.md §2–§6, Appendix A).
//!
//! The schemas live in `schemas/*.json` (draft 2020-12), embedded with `include_str!`. Every file
//! holds only `$defs`; they are merged into one document so `#/$defs/x` refers across files.
//! Each shape gets a validator that `$ref`s into that document, compiled once on first use.
//!
//! Two variants of the document are compiled:
//! * **main** — what the protocol requires. Its errors are findings of the shape's check,
//!   `schema.<shape>` (`must`, except `schema.error`: the clients raise on an error status
//!   whatever its body, so a broken error body is `should`).
//! * **strict** — built from main by three rewrites marked in the schema files:
//!   `additionalProperties: true` → `false` (an unknown response field ⇒ `info`
//!   `schema.unknown-field`), `x-later-required` → added to `required` (a field Anthropic
//!   always sends but the official clients cope without — added after the 2024-11 baseline, or
//!   `message_delta`'s `stop_sequence` — missing ⇒ `should` `schema.missing-field`), and `x-known-values` →
//!   `enum` (an unknown block/delta/error type ⇒ `info` `schema.unknown-type`). Its errors that the
//!   main variant does not also report become those softer findings, so strictness never turns
//!   a valid message into a `must`.
//!
//! A value that passes the strict variant has no finding at all; that is the fast path.

use crate::check::catalogue::{families, ids};
use crate::check::{CheckId, Finding};
use jsonschema::Validator;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::OnceLock;

mod compile;
mod errors;

use compile::compiled;
pub(crate) use compile::warm_up;
use errors::{
    json_type, push_main, push_soft, push_violation, remember, short_json, truncate_sized,
};

const SCHEMA_FILES: &[(&str, &str)] = &[
    ("common.json", include_str!("schemas/common.json")),
    ("request.json", include_str!("schemas/request.json")),
    ("response.json", include_str!("schemas/response.json")),
    ("events.json", include_str!("schemas/events.json")),
    ("other.json", include_str!("schemas/other.json")),
];

/// The body shapes conform knows how to validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// The body of `POST /v1/messages`.
    Request,
    /// The body of `POST /v1/messages/count_tokens`.
    CountTokensRequest,
    /// A non-streaming `Message` response (also the accumulated stream result).
    Message,
    /// One response content block.
    ContentBlock,
    /// A `usage` object.
    Usage,
    /// An error body `{type:"error", error:{type,message}}`.
    Error,
    /// The `count_tokens` response.
    CountTokens,
    /// `GET /v1/models`.
    ModelList,
    /// `GET /v1/models/{id}`.
    Model,
    /// Any stream event payload, dispatched on its `type`.
    Event,
    /// The message inside `message_start`: content may be empty, `stop_reason` null.
    MessageStartMessage,
}

const ALL_SHAPES: [Shape; 11] = [
    Shape::Request,
    Shape::CountTokensRequest,
    Shape::Message,
    Shape::ContentBlock,
    Shape::Usage,
    Shape::Error,
    Shape::CountTokens,
    Shape::ModelList,
    Shape::Model,
    Shape::Event,
    Shape::MessageStartMessage,
];

impl Shape {
    /// The stable name, used in check ids (`schema.<name>`) and on the command line.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Shape::Request => "request",
            Shape::CountTokensRequest => "count_tokens_request",
            Shape::Message => "message",
            Shape::ContentBlock => "content_block",
            Shape::Usage => "usage",
            Shape::Error => "error",
            Shape::CountTokens => "count_tokens",
            Shape::ModelList => "model_list",
            Shape::Model => "model",
            Shape::Event => "event",
            Shape::MessageStartMessage => "message_start_message",
        }
    }

    /// The check a violation of the shape reports: `schema.<name>`.
    pub(crate) fn check(&self) -> CheckId {
        match self {
            Shape::Request => ids::SCHEMA_REQUEST,
            Shape::CountTokensRequest => ids::SCHEMA_COUNT_TOKENS_REQUEST,
            Shape::Message => ids::SCHEMA_MESSAGE,
            Shape::ContentBlock => ids::SCHEMA_CONTENT_BLOCK,
            Shape::Usage => ids::SCHEMA_USAGE,
            Shape::Error => ids::SCHEMA_ERROR,
            Shape::CountTokens => ids::SCHEMA_COUNT_TOKENS,
            Shape::ModelList => ids::SCHEMA_MODEL_LIST,
            Shape::Model => ids::SCHEMA_MODEL,
            Shape::Event => ids::SCHEMA_EVENT,
            Shape::MessageStartMessage => ids::SCHEMA_MESSAGE_START_MESSAGE,
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Shape> {
        ALL_SHAPES.iter().copied().find(|s| s.name() == name)
    }

    /// The protocol reference section behind the shape.
    fn reference(&self) -> &'static str {
        match self {
            Shape::Request => "https://platform.claude.com/docs/en/api/messages (request body)",
            Shape::CountTokensRequest => {
                "https://platform.claude.com/docs/en/api/messages/count_tokens"
            }
            Shape::Message => "https://platform.claude.com/docs/en/api/messages (response)",
            Shape::ContentBlock => {
                "https://platform.claude.com/docs/en/api/messages (content blocks)"
            }
            Shape::Usage => "https://platform.claude.com/docs/en/api/messages (usage)",
            Shape::Error => "https://platform.claude.com/docs/en/api/errors (error shapes)",
            Shape::CountTokens => "https://platform.claude.com/docs/en/api/messages/count_tokens",
            Shape::ModelList | Shape::Model => {
                "https://platform.claude.com/docs/en/api/models/list"
            }
            Shape::Event => {
                "https://platform.claude.com/docs/en/build-with-claude/streaming (event types)"
            }
            Shape::MessageStartMessage => {
                "https://platform.claude.com/docs/en/build-with-claude/streaming (message_start)"
            }
        }
    }

    /// The `$defs` entry validating this shape (events are dispatched separately).
    fn def(&self) -> Target {
        match self {
            Shape::Request => Target::Request,
            Shape::CountTokensRequest => Target::CountTokensRequest,
            Shape::Message => Target::Message,
            Shape::ContentBlock => Target::ContentBlock,
            Shape::Usage => Target::Usage,
            Shape::Error => Target::Error,
            Shape::CountTokens => Target::CountTokens,
            Shape::ModelList => Target::ModelList,
            Shape::Model => Target::Model,
            Shape::Event => Target::EventError, // never used: events dispatch on their type
            Shape::MessageStartMessage => Target::MessageStartMessage,
        }
    }
}

/// Every definition that gets its own compiled validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Request,
    CountTokensRequest,
    Message,
    ContentBlock,
    Usage,
    Error,
    CountTokens,
    ModelList,
    Model,
    MessageStartMessage,
    EventMessageStart,
    EventContentBlockStart,
    EventContentBlockDelta,
    EventContentBlockStop,
    EventMessageDelta,
    EventMessageStop,
    EventPing,
    EventError,
}

const TARGET_COUNT: usize = 18;

impl Target {
    fn def_name(self) -> &'static str {
        match self {
            Target::Request => "request",
            Target::CountTokensRequest => "count_tokens_request",
            Target::Message => "message",
            Target::ContentBlock => "content_block",
            Target::Usage => "usage",
            Target::Error => "error_body",
            Target::CountTokens => "count_tokens_response",
            Target::ModelList => "model_list",
            Target::Model => "model_info",
            Target::MessageStartMessage => "message_start_message",
            Target::EventMessageStart => "event_message_start",
            Target::EventContentBlockStart => "event_content_block_start",
            Target::EventContentBlockDelta => "event_content_block_delta",
            Target::EventContentBlockStop => "event_content_block_stop",
            Target::EventMessageDelta => "event_message_delta",
            Target::EventMessageStop => "event_message_stop",
            Target::EventPing => "event_ping",
            Target::EventError => "event_error",
        }
    }

    fn event(event_type: &str) -> Option<Target> {
        Some(match event_type {
            "message_start" => Target::EventMessageStart,
            "content_block_start" => Target::EventContentBlockStart,
            "content_block_delta" => Target::EventContentBlockDelta,
            "content_block_stop" => Target::EventContentBlockStop,
            "message_delta" => Target::EventMessageDelta,
            "message_stop" => Target::EventMessageStop,
            "ping" => Target::EventPing,
            "error" => Target::EventError,
            _ => return None,
        })
    }
}

/// Validate `value` as `shape`. `must` findings for protocol violations; `should` for a
/// missing field the clients cope without (`x-later-required`); `info` for unknown fields and
/// types. (What a violation costs in an HTTP error response is the caller's to weigh: see
/// `validate::validate_body`.)
pub fn validate(shape: Shape, value: &Value) -> Vec<Finding> {
    if shape != Shape::Event {
        return validate_target(shape.def(), value, shape.check(), shape.reference());
    }
    let reference = shape.reference();
    let Some(obj) = value.as_object() else {
        return vec![
            Finding::new(
                ids::SCHEMA_EVENT,
                "/",
                "an event payload must be a JSON object",
            )
            .expected("object")
            .actual(json_type(value))
            .reference(reference),
        ];
    };
    match obj.get("type") {
        None => vec![
            Finding::new(ids::SCHEMA_EVENT, "/", "the event has no \"type\"")
                .expected("\"type\": one of the event names of §4.2")
                .reference(reference),
        ],
        Some(Value::String(t)) => match (Target::event(t), families::SCHEMA_EVENT.member(t)) {
            (Some(target), Some(check)) => validate_target(target, value, check, reference),
            _ => vec![
                Finding::new(
                    ids::SCHEMA_UNKNOWN_TYPE,
                    "/type",
                    format!("unknown event type \"{}\"", truncate_sized(t, 80)),
                )
                .reference("https://platform.claude.com/docs/en/api/versioning (new event types may be added within a version)"),
            ],
        },
        Some(other) => vec![
            Finding::new(
                ids::SCHEMA_EVENT,
                "/type",
                "the event \"type\" must be a string",
            )
            .expected("string")
            .actual(short_json(other))
            .reference(reference),
        ],
    }
}

/// Fast path: true when `value` breaks none of the protocol's rules for `shape` (no finding of
/// the main variant: `must`, or `should` for an error body).
pub fn is_valid(shape: Shape, value: &Value) -> bool {
    if shape != Shape::Event {
        return compiled(shape.def(), false).is_valid(value);
    }
    match value.get("type").and_then(Value::as_str) {
        Some(t) => match Target::event(t) {
            Some(target) => compiled(target, false).is_valid(value),
            None => true,
        },
        None => false,
    }
}

/// One protocol violation of a body, in terms a server can word its own way (the reference
/// server answers in Anthropic's words, see `mock::validate`).
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The instance path: object keys and array indices.
    pub path: Vec<String>,
    pub kind: ViolationKind,
}

/// What is wrong at [`Violation::path`].
#[derive(Debug, Clone, PartialEq)]
pub enum ViolationKind {
    /// A required field is missing.
    Missing(String),
    /// Fields a closed object does not allow.
    Unexpected(Vec<String>),
    /// The JSON type is wrong; the allowed types (JSON Schema names).
    Type(Vec<String>),
    /// The value is not one of these (`enum` / `const`).
    NotOneOf(Vec<Value>),
    Below(Value),
    Above(Value),
    TooShort(u64),
    TooLong(u64),
    TooFewItems(u64),
    TooManyItems(u64),
    Pattern(String),
    /// Anything else, described.
    Other(String),
}

/// The violations of `value` as `shape` under the main (protocol) variant, nullable `anyOf`s
/// resolved to the errors of their real branch. Empty when the value is valid.
pub fn violations(shape: Shape, value: &Value) -> Vec<Violation> {
    let main = compiled(shape.def(), false);
    if main.is_valid(value) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in main.iter_errors(value) {
        push_violation(&mut out, &e);
    }
    out
}

/// The most user schemas kept compiled (the same few tools recur in every request of a run).
const USER_SCHEMAS_KEPT: usize = 256;

/// Validate against an arbitrary user schema (a tool's `input_schema`, an
/// `output_config.format.schema`). Every violation is a `must` with check `schema.user`.
/// `Err` when the schema itself does not compile. Each schema is compiled once per process
/// (keyed by its JSON text): compiling it per response was ~2% of a library run's CPU.
pub(crate) fn validate_against(schema: &Value, value: &Value) -> Result<Vec<Finding>, String> {
    static USER: OnceLock<crate::memo::Memo<Validator, String>> = OnceLock::new();
    let validator = USER
        .get_or_init(|| crate::memo::Memo::new(USER_SCHEMAS_KEPT))
        .get_or_compile(&schema.to_string(), |_| {
            jsonschema::options()
                .should_validate_formats(true)
                .build(schema)
                .map_err(|e| format!("the schema does not compile: {e}"))
        })?;
    if validator.is_valid(value) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for e in validator.iter_errors(value) {
        push_main(
            &mut out,
            &e,
            ids::SCHEMA_USER,
            "the request's schema (tools input_schema, output_config.format)",
        );
    }
    Ok(out)
}

fn validate_target(target: Target, value: &Value, check: CheckId, reference: &str) -> Vec<Finding> {
    let strict = compiled(target, true);
    if strict.is_valid(value) {
        return Vec::new();
    }
    let mut out = Vec::new();
    // (instance path, keyword) of every main error, to tell strict-only errors apart.
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for e in compiled(target, false).iter_errors(value) {
        remember(&mut seen, &e);
        push_main(&mut out, &e, check, reference);
    }
    for e in strict.iter_errors(value) {
        push_soft(&mut out, &seen, &e, reference);
    }
    out
}

#[cfg(test)]
mod tests;
