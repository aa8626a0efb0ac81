//! The normalised shape of one result: what a snapshot records.
//!
//! Model output is not deterministic, so a snapshot keeps the *shape* of a response and
//! replaces everything that varies between runs by a typed placeholder:
//!
//! * `status`, the `content-type` media type, the body kind;
//! * for streams, the event sequence with pings dropped and runs of deltas collapsed without
//!   their count (`content_block_delta[0] text_delta`), and how the stream ended;
//! * the message skeleton (the body, or the message accumulated from the stream), the error
//!   body, or the count_tokens / models body, with keys sorted and:
//!   ids → `[id msg_…]` (prefix kept) or `[id]`; free text (`text`, `thinking`, error
//!   `message`, `cited_text`, …) → `[text]`; `signature` → `[signature]`; opaque `data` →
//!   `[data]`; numbers → `[int]` / `[number]`; timestamps → `[timestamp]`; a tool call's
//!   `input` keeps its keys with typed placeholders as values; enum-like strings (`type`,
//!   `role`, `stop_reason`, `stop_sequence`, `name`, `model`, …) are kept; any other string →
//!   `[string]`;
//! * what the model chose rather than the endpoint ([`super::varies`]): `stop_reason` and
//!   `stop_sequence` unless the scenario pins them, tool calls the request left optional.
//!
//! Secrets: the kept strings (`model`, `stop_sequence`, …) and object keys are the server's
//! verbatim, so an endpoint echoing the API key there would put it into a `.snap` file;
//! [`redact_shape`] removes it (the [`SnapshotStore`](super::SnapshotStore) redacts every file it
//! writes with the run's redactor).
//!
//! Scenario redactions are JSONPaths (RFC 9535) evaluated against the normalised body (the
//! same structure as the response body or accumulated message): every matched node becomes
//! `[redacted]`. Paths that do not parse are ignored here; the scenario lint reports them.

use super::varies::{PARTIAL_INPUT, Varies};
use crate::exchange::Exchange;
use crate::protocol::anthropic::grammar::Ending;
use crate::protocol::anthropic::validate::{BodyKind, Validation};
use crate::secrets::Redactor;
use serde_json::{Map, Value};
use serde_json_path::JsonPath;

/// Strings kept verbatim: they are enum-like or chosen by the request, not generated.
const KEEP: &[&str] = &[
    "type",
    "role",
    "stop_reason",
    "stop_sequence",
    "name",
    "model",
    "service_tier",
    "media_type",
    "object",
];

/// Keys whose string values are generated prose.
const TEXT: &[&str] = &[
    "text",
    "thinking",
    "message",
    "cited_text",
    "title",
    "url",
    "partial_json",
    "document_title",
    "display_name",
    "content",
    "page_age",
];

/// Keys whose string values are opaque blobs.
const DATA: &[&str] = &["data", "encrypted_content", "encrypted_index"];

/// Block types whose `input` is model-generated tool arguments.
const TOOL_CALLS: &[&str] = &["tool_use", "server_tool_use", "mcp_tool_use"];

/// Normalise one result into its snapshot shape. See the module documentation for the rules.
pub fn normalise(exchange: &Exchange, v: &Validation, redactions: &[String]) -> Value {
    normalise_pinned(exchange, v, redactions, &[])
}

/// [`normalise`], keeping verbatim the message fields the scenario pins (`stop_reason`,
/// `stop_sequence`): what the model varies is left out otherwise (see [`super::varies`]).
pub fn normalise_pinned(
    exchange: &Exchange,
    v: &Validation,
    redactions: &[String],
    pinned: &[String],
) -> Value {
    let varies = Varies::of(&exchange.request, pinned);
    let paths: Vec<std::sync::Arc<JsonPath>> = redactions
        .iter()
        .filter_map(|p| crate::scenario::compiled::path(p).ok())
        .collect();
    let mut out = Map::new();
    if let Some(resp) = &exchange.response {
        out.insert("status".into(), Value::from(resp.status));
        out.insert(
            "content_type".into(),
            resp.media_type().map(Value::String).unwrap_or(Value::Null),
        );
    }
    out.insert(
        "kind".into(),
        serde_json::to_value(v.kind).unwrap_or(Value::Null),
    );
    if let Some(s) = &v.stream {
        let optional = v
            .message
            .as_ref()
            .map(|m| varies.optional_blocks(m))
            .unwrap_or_default();
        out.insert("events".into(), Value::Array(event_sequence(v, &optional)));
        out.insert(
            "ending".into(),
            Value::from(match s.ending {
                Ending::Complete => "complete",
                Ending::Error => "error",
                Ending::Truncated => "truncated",
            }),
        );
        if let Some(m) = &v.message {
            let m = varies.message(m);
            out.insert("message".into(), redacted(shape(None, &m), &paths));
        }
        if let Some(e) = &s.error_event {
            out.insert("error_event".into(), redacted(shape(None, e), &paths));
        }
    } else if let Some(b) = &v.body {
        let b = varies.message(b);
        out.insert("body".into(), redacted(shape(None, &b), &paths));
    } else if v.kind == BodyKind::Unreadable {
        out.insert("body".into(), Value::from("[unreadable]"));
    }
    if exchange.transport.is_some() {
        out.insert("transport_error".into(), Value::from("[text]"));
    }
    Value::Object(out)
}

/// The canonical text of a normalised shape: pretty JSON, two-space indent, no trailing
/// newline. This is the body of a `.snap` file.
pub fn render(shape: &Value) -> String {
    serde_json::to_string_pretty(shape).unwrap_or_else(|_| "null".to_string())
}

/// Redact secrets (every form the redactor knows) in the keys and string values of a
/// normalised shape, in place. Iterative: any depth is fine. Two keys that become the same
/// after redaction are both kept (`[REDACTED]`, `[REDACTED] (2)`, …).
pub(crate) fn redact_shape(value: &mut Value, redactor: &Redactor) {
    if redactor.is_empty() {
        return;
    }
    let mut stack: Vec<&mut Value> = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => {
                if redactor.contains_secret(s.as_bytes()) {
                    *s = redactor.redact(s);
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => {
                if map.keys().any(|k| redactor.contains_secret(k.as_bytes())) {
                    let old = std::mem::take(map);
                    for (k, child) in old {
                        let mut key = redactor.redact(&k);
                        let mut n = 2;
                        while map.contains_key(&key) {
                            key = format!("{} ({n})", redactor.redact(&k));
                            n += 1;
                        }
                        map.insert(key, child);
                    }
                }
                stack.extend(map.values_mut());
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// The stream's events: pings dropped, the events of the `optional` blocks (the model's
/// choice) dropped, adjacent equal runs merged, counts dropped.
fn event_sequence(v: &Validation, optional: &[u64]) -> Vec<Value> {
    let mut seq: Vec<String> = Vec::new();
    if let Some(s) = &v.stream {
        let kept = |r: &&crate::protocol::anthropic::stream::EventRun| {
            r.event != "ping" && r.index.is_none_or(|i| !optional.contains(&i))
        };
        for run in s.runs.iter().filter(kept) {
            let mut label = run.event.clone();
            if let Some(i) = run.index {
                label.push_str(&format!("[{i}]"));
            }
            if let Some(d) = &run.delta {
                label.push(' ');
                label.push_str(d);
            }
            if seq.last() != Some(&label) || run.event != "content_block_delta" {
                seq.push(label);
            }
        }
    }
    seq.into_iter().map(Value::String).collect()
}

/// Replace the nodes matched by `paths` with `[redacted]`.
fn redacted(mut value: Value, paths: &[std::sync::Arc<JsonPath>]) -> Value {
    let pointers: Vec<String> = paths
        .iter()
        .flat_map(|p| {
            p.query_located(&value)
                .locations()
                .map(|l| l.to_json_pointer())
                .collect::<Vec<_>>()
        })
        .collect();
    for ptr in pointers {
        if ptr.is_empty() {
            value = Value::from("[redacted]");
        } else if let Some(slot) = value.pointer_mut(&ptr) {
            *slot = Value::from("[redacted]");
        }
    }
    value
}

/// The shape of a JSON value found under `key`.
fn shape(key: Option<&str>, v: &Value) -> Value {
    match v {
        Value::Null | Value::Bool(_) => v.clone(),
        Value::Number(n) => number_placeholder(n),
        Value::String(s) => string_placeholder(key, s),
        Value::Array(items) => Value::Array(items.iter().map(|i| shape(key, i)).collect()),
        Value::Object(map) => {
            let is_tool_call = map
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| TOOL_CALLS.contains(&t));
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                let child = &map[k];
                let shaped = if is_tool_call && k == "input" && child == PARTIAL_INPUT {
                    child.clone()
                } else if is_tool_call && k == "input" {
                    typed(child)
                } else {
                    shape(Some(k), child)
                };
                out.insert(k.clone(), shaped);
            }
            Value::Object(out)
        }
    }
}

fn number_placeholder(n: &serde_json::Number) -> Value {
    if n.is_i64() || n.is_u64() {
        Value::from("[int]")
    } else {
        Value::from("[number]")
    }
}

fn string_placeholder(key: Option<&str>, s: &str) -> Value {
    let Some(key) = key else {
        return Value::from("[string]");
    };
    if KEEP.contains(&key) {
        return Value::from(s);
    }
    if key == "id" || key.ends_with("_id") {
        return Value::from(id_placeholder(s));
    }
    if key == "signature" {
        return Value::from("[signature]");
    }
    if DATA.contains(&key) {
        return Value::from("[data]");
    }
    if key.ends_with("_at") {
        return Value::from("[timestamp]");
    }
    if TEXT.contains(&key) {
        return Value::from("[text]");
    }
    Value::from("[string]")
}

/// `msg_01AbC` → `[id msg_…]`, `msg_bdrk_01AbC` → `[id msg_bdrk_…]`, `3f2a…` → `[id]`.
///
/// The prefix is the longest run of leading `lowercase_` segments that leaves a non-empty rest;
/// random parts (base62, digits, uuids) never match, so the placeholder is stable.
pub(crate) fn id_placeholder(id: &str) -> String {
    let mut prefix_len = 0;
    let mut rest = id;
    while let Some(pos) = rest.find('_') {
        let seg = &rest[..pos];
        let tail = &rest[pos + 1..];
        if seg.is_empty() || tail.is_empty() || !seg.bytes().all(|b| b.is_ascii_lowercase()) {
            break;
        }
        prefix_len += pos + 1;
        rest = tail;
    }
    if prefix_len == 0 {
        "[id]".to_string()
    } else {
        format!("[id {}…]", &id[..prefix_len])
    }
}

/// Tool arguments: keys kept, values replaced by their JSON type. Array elements are reduced
/// to their distinct shapes, so the number of items the model chose does not matter.
fn typed(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::Bool(_) => Value::from("[bool]"),
        Value::Number(n) => number_placeholder(n),
        Value::String(_) => Value::from("[string]"),
        Value::Array(items) => {
            let mut seen: Vec<Value> = Vec::new();
            for t in items.iter().map(typed) {
                if !seen.contains(&t) {
                    seen.push(t);
                }
            }
            Value::Array(seen)
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), typed(&map[k])))
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn id_prefixes() {
        assert_eq!(id_placeholder("msg_01XFDUDYJgAACzvnptvVoYEL"), "[id msg_…]");
        assert_eq!(
            id_placeholder("toolu_01A09q90qw90lq917835lq9"),
            "[id toolu_…]"
        );
        assert_eq!(id_placeholder("msg_bdrk_01Abc"), "[id msg_bdrk_…]");
        assert_eq!(id_placeholder("3f2a9c1e-1111-2222"), "[id]");
        assert_eq!(id_placeholder("Msg_abc"), "[id]");
        assert_eq!(id_placeholder("req_"), "[id]");
        assert_eq!(id_placeholder(""), "[id]");
    }

    #[test]
    fn body_placeholders_and_sorted_keys() {
        let body = json!({
            "type": "message", "role": "assistant", "id": "msg_1", "model": "m",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "redacted_thinking", "data": "xyz"},
                {"type": "tool_use", "id": "toolu_9", "name": "get_weather",
                 "input": {"city": "Paris", "days": 3, "opts": {"metric": true}, "tags": ["a", "b"]}},
                {"type": "text", "text": "hi", "citations": null}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 2, "ratio": 0.5},
            "container": {"id": "container_x", "expires_at": "2026-01-01T00:00:00Z"},
            "extra": "whatever"
        });
        let s = shape(None, &body);
        assert_eq!(
            s,
            json!({
                "container": {"expires_at": "[timestamp]", "id": "[id container_…]"},
                "content": [
                    {"signature": "[signature]", "thinking": "[text]", "type": "thinking"},
                    {"data": "[data]", "type": "redacted_thinking"},
                    {"id": "[id toolu_…]", "input": {"city": "[string]", "days": "[int]",
                      "opts": {"metric": "[bool]"}, "tags": ["[string]"]},
                     "name": "get_weather", "type": "tool_use"},
                    {"citations": null, "text": "[text]", "type": "text"}
                ],
                "extra": "[string]",
                "id": "[id msg_…]", "model": "m", "role": "assistant",
                "stop_reason": "tool_use", "stop_sequence": null, "type": "message",
                "usage": {"input_tokens": "[int]", "output_tokens": "[int]", "ratio": "[number]"}
            })
        );
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn redactions_replace_matched_nodes() {
        let v = json!({"model": "m", "content": [{"type": "text"}, {"type": "x"}]});
        let paths = vec![
            std::sync::Arc::new(JsonPath::parse("$.model").unwrap()),
            std::sync::Arc::new(JsonPath::parse("$.content[*].type").unwrap()),
        ];
        assert_eq!(
            redacted(v, &paths),
            json!({"model": "[redacted]", "content": [{"type": "[redacted]"}, {"type": "[redacted]"}]})
        );
    }
}
