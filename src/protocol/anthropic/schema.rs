//! JSON Schema validation of Anthropic Messages bodies: requests, `Message`s, content blocks,
//! usage, errors, stream events, `count_tokens` and models (protocol §2–§6, Appendix A).
//!
//! The schemas live in `schemas/*.json` (draft 2020-12), embedded with `include_str!`. Every file
//! holds only `$defs`; they are merged into one document so `#/$defs/x` refers across files.
//! Each shape gets a validator that `$ref`s into that document, compiled once on first use.
//!
//! Two variants of the document are compiled:
//! * **main** — what the protocol requires. Its errors are `must` findings.
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

use crate::check::Finding;
use crate::check::catalogue::ids;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::OnceLock;

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
    pub fn name(&self) -> &'static str {
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

    pub fn from_name(name: &str) -> Option<Shape> {
        ALL_SHAPES.iter().copied().find(|s| s.name() == name)
    }

    /// The protocol reference section behind the shape.
    fn reference(&self) -> &'static str {
        match self {
            Shape::Request => "https://docs.claude.com/en/api/messages (request body)",
            Shape::CountTokensRequest => "https://docs.claude.com/en/api/messages-count-tokens",
            Shape::Message => "https://docs.claude.com/en/api/messages (response)",
            Shape::ContentBlock => "https://docs.claude.com/en/api/messages (content blocks)",
            Shape::Usage => "https://docs.claude.com/en/api/messages (usage)",
            Shape::Error => "https://docs.claude.com/en/api/errors (error shapes)",
            Shape::CountTokens => "https://docs.claude.com/en/api/messages-count-tokens",
            Shape::ModelList | Shape::Model => "https://docs.claude.com/en/api/models-list",
            Shape::Event => {
                "https://docs.claude.com/en/docs/build-with-claude/streaming (event types)"
            }
            Shape::MessageStartMessage => {
                "https://docs.claude.com/en/docs/build-with-claude/streaming (message_start)"
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

/// The merged `$defs` of every schema file.
fn merged_defs() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let mut defs = Map::new();
        for (file, text) in SCHEMA_FILES {
            let doc: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("embedded schema {file} is not JSON: {e}"));
            let Some(Value::Object(file_defs)) = doc.get("$defs") else {
                panic!("embedded schema {file} has no $defs");
            };
            for (name, def) in file_defs {
                assert!(
                    defs.insert(name.clone(), def.clone()).is_none(),
                    "$defs/{name} is defined twice (second time in {file})"
                );
            }
        }
        defs
    })
}

/// Rewrite the main document into its strict variant (see the module doc).
fn make_strict(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("additionalProperties") == Some(&Value::Bool(true)) {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            if let Some(Value::Array(later)) = map.remove("x-later-required") {
                let mut required = match map.remove("required") {
                    Some(Value::Array(r)) => r,
                    _ => Vec::new(),
                };
                required.extend(later);
                map.insert("required".into(), Value::Array(required));
            }
            if let Some(known) = map.remove("x-known-values") {
                map.insert("enum".into(), known);
            }
            for v in map.values_mut() {
                make_strict(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(make_strict),
        _ => {}
    }
}

/// The `$defs` that `def` reaches through `#/$defs/…` references (itself included): each
/// target is compiled with only these, not the whole document (compiling meta-validates
/// the document given, and 18 targets × 2 variants of every def was most of a short run).
fn reachable_defs(def: &str) -> Map<String, Value> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref")
                    && let Some(name) = r.strip_prefix("#/$defs/")
                {
                    out.push(name.to_string());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let all = merged_defs();
    let mut keep = Map::new();
    let mut todo = vec![def.to_string()];
    while let Some(name) = todo.pop() {
        if keep.contains_key(&name) {
            continue;
        }
        if let Some(d) = all.get(&name) {
            refs(d, &mut todo);
            keep.insert(name, d.clone());
        }
    }
    keep
}

fn root_for(def: &str, strict: bool) -> Value {
    let mut defs = Value::Object(reachable_defs(def));
    if strict {
        make_strict(&mut defs);
    }
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/$defs/{def}"),
        "$defs": defs,
    })
}

fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// The validator of `target`'s main variant (`strict == false`) or its strict variant, each
/// compiled on first use: a clean run needs only the strict one (its fast path), and a compile
/// costs more than validating a few hundred values.
fn compiled(target: Target, strict: bool) -> &'static Validator {
    static MAIN: [OnceLock<Validator>; TARGET_COUNT] = [const { OnceLock::new() }; TARGET_COUNT];
    static STRICT: [OnceLock<Validator>; TARGET_COUNT] = [const { OnceLock::new() }; TARGET_COUNT];
    let cache = if strict { &STRICT } else { &MAIN };
    cache[target as usize].get_or_init(|| {
        let name = target.def_name();
        compile(&root_for(name, strict))
            .unwrap_or_else(|e| panic!("embedded schema $defs/{name} does not compile: {e}"))
    })
}

/// Compile ahead of use the validators that judging responses needs (messages, errors, stream
/// events), e.g. on a thread of its own while scenarios load, so the first responses of a run
/// do not wait for them. Any thread may call it, any number of times.
pub fn warm_up() {
    // Stream events take the main variant's fast path (`is_valid`); bodies, and message_delta
    // for its soft findings, start with the strict variant.
    for event in [
        Target::EventMessageStart,
        Target::EventContentBlockStart,
        Target::EventContentBlockDelta,
        Target::EventContentBlockStop,
        Target::EventMessageDelta,
        Target::EventMessageStop,
        Target::EventPing,
    ] {
        compiled(event, false);
    }
    for body in [Target::EventMessageDelta, Target::Message, Target::Error] {
        compiled(body, true);
    }
}

/// Validate `value` as `shape`. `must` findings for protocol violations; `should` for a
/// missing field the clients cope without (`x-later-required`); `info` for unknown fields and
/// types. (What a violation costs in an HTTP error response is the caller's to weigh: see
/// `validate::validate_body`.)
pub fn validate(shape: Shape, value: &Value) -> Vec<Finding> {
    if shape != Shape::Event {
        return validate_target(
            shape.def(),
            value,
            &format!("schema.{}", shape.name()),
            shape.reference(),
        );
    }
    let reference = shape.reference();
    let Some(obj) = value.as_object() else {
        return vec![
            Finding::must(
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
            Finding::must(ids::SCHEMA_EVENT, "/", "the event has no \"type\"")
                .expected("\"type\": one of the event names of §4.2")
                .reference(reference),
        ],
        Some(Value::String(t)) => match Target::event(t) {
            Some(target) => validate_target(target, value, &format!("schema.event.{t}"), reference),
            None => vec![
                Finding::info(
                    ids::SCHEMA_UNKNOWN_TYPE,
                    "/type",
                    format!("unknown event type \"{}\"", truncate(t, 80)),
                )
                .reference("https://docs.claude.com/en/api/versioning (new event types may be added within a version)"),
            ],
        },
        Some(other) => vec![
            Finding::must(
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

/// Fast path: true when `value` has no `must` finding as `shape`.
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

/// For an `anyOf`/`oneOf` error: the errors of the one branch that failed on more than the
/// value's type (a nullable reference whose other branch is `null`), when there is exactly one.
fn only_specific_branch<'e>(e: &'e ValidationError<'_>) -> Option<&'e [ValidationError<'static>]> {
    let (ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context }) =
        e.kind()
    else {
        return None;
    };
    let here = e.instance_path().as_str();
    let mut specific = context.iter().filter(|branch| {
        !branch.iter().all(|s| {
            s.instance_path().as_str() == here
                && matches!(s.kind(), ValidationErrorKind::Type { .. })
        })
    });
    match (specific.next(), specific.next()) {
        (Some(only), None) => Some(only.as_slice()),
        _ => None,
    }
}

fn push_violation(out: &mut Vec<Violation>, e: &ValidationError<'_>) {
    if let Some(branch) = only_specific_branch(e) {
        for sub in branch {
            push_violation(out, sub);
        }
        return;
    }
    let kind = match e.kind() {
        ValidationErrorKind::Required { property } => {
            ViolationKind::Missing(property.as_str().unwrap_or_default().to_string())
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            ViolationKind::Unexpected(unexpected.clone())
        }
        ValidationErrorKind::Type { kind } => ViolationKind::Type(match kind {
            TypeKind::Single(t) => vec![t.to_string()],
            TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
        }),
        ValidationErrorKind::Enum { options } => {
            ViolationKind::NotOneOf(options.as_array().cloned().unwrap_or_default())
        }
        ValidationErrorKind::Constant { expected_value } => {
            ViolationKind::NotOneOf(vec![Value::clone(expected_value)])
        }
        ValidationErrorKind::Minimum { limit } => ViolationKind::Below(limit.clone()),
        ValidationErrorKind::Maximum { limit } => ViolationKind::Above(limit.clone()),
        ValidationErrorKind::MinLength { limit } => ViolationKind::TooShort(*limit),
        ValidationErrorKind::MaxLength { limit } => ViolationKind::TooLong(*limit),
        ValidationErrorKind::MinItems { limit } => ViolationKind::TooFewItems(*limit),
        ValidationErrorKind::MaxItems { limit } => ViolationKind::TooManyItems(*limit),
        ValidationErrorKind::Pattern { pattern } => ViolationKind::Pattern(pattern.clone()),
        _ => ViolationKind::Other(describe(e)),
    };
    let path = e
        .instance_path()
        .as_str()
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    out.push(Violation { path, kind });
}

const USER_CHECK: &str = ids::SCHEMA_USER.as_str();

/// The most user schemas kept compiled (the same few tools recur in every request of a run).
const USER_SCHEMAS_KEPT: usize = 256;

/// Validate against an arbitrary user schema (a tool's `input_schema`, an
/// `output_config.format.schema`). Every violation is a `must` with check `schema.user`.
/// `Err` when the schema itself does not compile. Each schema is compiled once per process
/// (keyed by its JSON text): compiling it per response was ~2% of a library run's CPU.
pub fn validate_against(schema: &Value, value: &Value) -> Result<Vec<Finding>, String> {
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
        push_must(
            &mut out,
            &e,
            USER_CHECK,
            "the request's schema (tools input_schema, output_config.format)",
        );
    }
    Ok(out)
}

fn validate_target(target: Target, value: &Value, check: &str, reference: &str) -> Vec<Finding> {
    let strict = compiled(target, true);
    if strict.is_valid(value) {
        return Vec::new();
    }
    let mut out = Vec::new();
    // (instance path, keyword) of every main error, to tell strict-only errors apart.
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for e in compiled(target, false).iter_errors(value) {
        remember(&mut seen, &e);
        push_must(&mut out, &e, check, reference);
    }
    for e in strict.iter_errors(value) {
        push_soft(&mut out, &seen, &e, reference);
    }
    out
}

fn remember(seen: &mut HashSet<(String, String)>, e: &ValidationError<'_>) {
    seen.insert(error_key(e));
    if let ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } =
        e.kind()
    {
        for branch in context {
            for sub in branch {
                remember(seen, sub);
            }
        }
    }
}

/// What identifies an error across the two variants: where, which keyword, and for `required`
/// which property (a missing baseline field must not hide a missing later one).
fn error_key(e: &ValidationError<'_>) -> (String, String) {
    let what = match e.kind() {
        ValidationErrorKind::Required { property } => format!("required:{property}"),
        kind => kind.keyword().to_string(),
    };
    (e.instance_path().as_str().to_string(), what)
}

/// Turn one main-variant error into `must` findings. An `anyOf` whose only other branch is
/// `null` (a nullable reference) reports the errors of the real branch instead of "not valid
/// under any of the schemas".
fn push_must(out: &mut Vec<Finding>, e: &ValidationError<'_>, check: &str, reference: &str) {
    if let Some(branch) = only_specific_branch(e) {
        for sub in branch {
            push_must(out, sub, check, reference);
        }
        return;
    }
    let location = pointer(e.instance_path().as_str());
    // User schemas keep their reference; protocol shapes get the section of the failing part.
    let reference = if check == USER_CHECK {
        reference.to_string()
    } else {
        section_for(e.instance_path().as_str(), reference)
    };
    let mut f = Finding::must(check, location, describe(e)).reference(reference);
    if let Some(expected) = expected_of(e) {
        f = f.expected(expected);
    }
    f = f.actual(short_json(e.instance()));
    out.push(f);
}

/// Strict-only errors: unknown fields (info), later fields missing (should), unknown types (info).
fn push_soft(
    out: &mut Vec<Finding>,
    seen: &HashSet<(String, String)>,
    e: &ValidationError<'_>,
    reference: &str,
) {
    let path = e.instance_path().as_str();
    let kind = e.kind();
    if seen.contains(&error_key(e)) {
        return;
    }
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for name in unexpected {
                let at = format!("{path}/{}", escape_pointer(name));
                out.push(
                    Finding::info(
                        ids::SCHEMA_UNKNOWN_FIELD,
                        at.clone(),
                        format!("field {at} is not in the protocol"),
                    )
                    .reference("https://docs.claude.com/en/api/versioning (fields are added within a version)"),
                );
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let at = format!("{path}/{}", escape_pointer(name));
            out.push(
                Finding::should(
                    ids::SCHEMA_MISSING_FIELD,
                    at,
                    format!("\"{name}\" is missing; Anthropic always sends it, though the official clients cope without it"),
                )
                .expected(format!("\"{name}\" present"))
                .reference(section_for(path, reference)),
            );
        }
        ValidationErrorKind::Enum { options } => {
            out.push(
                Finding::info(
                    ids::SCHEMA_UNKNOWN_TYPE,
                    pointer(path),
                    format!("unknown type {}", short_json(e.instance())),
                )
                .expected(format!("one of {options}"))
                .reference("https://docs.claude.com/en/api/versioning (new types may be added within a version)"),
            );
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            for branch in context {
                for sub in branch {
                    push_soft(out, seen, sub, reference);
                }
            }
        }
        _ => {}
    }
}

/// A readable message that never repeats a (possibly huge) instance.
fn describe(e: &ValidationError<'_>) -> String {
    match e.kind() {
        ValidationErrorKind::Required { property } => {
            format!("required field {} is missing", short_json(property))
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            format!(
                "unknown field(s) {} (the object is closed)",
                unexpected.join(", ")
            )
        }
        ValidationErrorKind::Type { .. } => format!("wrong type: {}", json_type(e.instance())),
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            "matches none of the allowed forms".to_string()
        }
        _ => truncate(&e.masked().to_string(), 300),
    }
}

fn expected_of(e: &ValidationError<'_>) -> Option<String> {
    Some(match e.kind() {
        ValidationErrorKind::Type { kind } => match kind {
            TypeKind::Single(t) => t.to_string(),
            TypeKind::Multiple(set) => set
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" or "),
        },
        ValidationErrorKind::Required { property } => format!("{} present", short_json(property)),
        ValidationErrorKind::Enum { options } => {
            format!("one of {}", truncate(&options.to_string(), 300))
        }
        ValidationErrorKind::Constant { expected_value } => short_json(expected_value),
        ValidationErrorKind::Minimum { limit } => format!(">= {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("<= {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("> {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("< {limit}"),
        ValidationErrorKind::MinLength { limit } => format!("at least {limit} characters"),
        ValidationErrorKind::MaxLength { limit } => format!("at most {limit} characters"),
        ValidationErrorKind::MinItems { limit } => format!("at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("at most {limit} items"),
        ValidationErrorKind::Pattern { pattern } => format!("matching /{pattern}/"),
        ValidationErrorKind::Format { format } => format!("a {format} string"),
        ValidationErrorKind::AdditionalProperties { .. } => "no other fields".to_string(),
        _ => return None,
    })
}

/// Refine the reference by where the problem is.
fn section_for(path: &str, fallback: &str) -> String {
    if path.contains("/usage") {
        "https://docs.claude.com/en/api/messages (usage)".into()
    } else if path.starts_with("/content/")
        || path.starts_with("/content_block")
        || path.starts_with("/message/content/")
    {
        "https://docs.claude.com/en/api/messages (content blocks)".into()
    } else if path.starts_with("/delta") {
        "https://docs.claude.com/en/docs/build-with-claude/streaming (event types)".into()
    } else {
        fallback.to_string()
    }
}

fn pointer(path: &str) -> String {
    if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    }
}

fn escape_pointer(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compact JSON of a value, cut to a readable length.
fn short_json(v: &Value) -> String {
    match v {
        Value::Object(m) if m.len() > 8 => format!("{{object with {} fields}}", m.len()),
        Value::Array(a) if a.len() > 8 => format!("[array of {} items]", a.len()),
        _ => truncate(&v.to_string(), 120),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

#[cfg(test)]
mod tests;
