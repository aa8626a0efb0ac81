//! What a model varies from one run to the next, and a snapshot therefore leaves out.
//!
//! A snapshot records what a conformant endpoint determines. Beyond the placeholders of
//! [`normalise`](super::normalise) (text, ids, numbers, the number of deltas), two things are the
//! model's choice rather than the endpoint's:
//!
//! * **Why it stopped.** `stop_reason` (`end_turn`, `max_tokens` when the answer ran long,
//!   `stop_sequence` when the text happened to contain one, `tool_use` when it chose a tool)
//!   and `stop_sequence` become `[stop_reason]` / `[stop_sequence]` — the key stays, so a
//!   missing field still changes the snapshot. A value the scenario *pins* (an unconditional
//!   `equals` on `$.stop_reason`) is kept verbatim.
//! * **Whether it called a tool** when the request let it choose (custom or server tools with
//!   `tool_choice` absent or `auto`): tool calls and tool results are dropped from the content
//!   and their events from the event sequence. A forced `tool_choice` (`any`, `tool`) keeps
//!   them: there the call is the endpoint's duty.
//! * **Which optional arguments a tool call has.** In a kept call, the input keeps the keys its
//!   `input_schema` requires (at every object level the schema describes) and drops the
//!   optional ones; a call cut by `max_tokens` (the last block of a `max_tokens` answer) has an
//!   input of the model's length: `[partial]`.

use serde_json::Value;

/// What a tool call's `input` is normalised to when `max_tokens` cut it: the model stopped
/// mid-arguments, so the partial input says nothing about the endpoint.
pub(super) const PARTIAL_INPUT: &str = "[partial]";

use crate::exchange::RecordedRequest;

/// The top-level message fields whose value the model chooses.
const STOP_FIELDS: &[(&str, &str)] = &[
    ("stop_reason", "[stop_reason]"),
    ("stop_sequence", "[stop_sequence]"),
];

/// Block types that exist only because the model chose to use a tool.
fn is_tool_block(kind: &str) -> bool {
    matches!(kind, "tool_use" | "server_tool_use" | "mcp_tool_use")
        || kind.ends_with("_tool_result")
}

/// The model's freedom in one exchange.
#[derive(Debug, Default)]
pub(super) struct Varies {
    /// The request offered tools and let the model choose (`tool_choice` absent or `auto`).
    tools_optional: bool,
    /// Message fields the scenario pins (kept verbatim).
    pinned: Vec<String>,
    /// The request's tools with an `input_schema`: name → schema.
    schemas: Vec<(String, Value)>,
}

impl Varies {
    pub(super) fn of(request: &RecordedRequest, pinned: &[String]) -> Varies {
        let body = request.body_json().unwrap_or(Value::Null);
        let has_tools = body
            .get("tools")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty());
        let choice = body
            .pointer("/tool_choice/type")
            .and_then(Value::as_str)
            .unwrap_or("auto");
        let schemas = body
            .get("tools")
            .and_then(Value::as_array)
            .map(|tools| {
                tools
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.get("name")?.as_str()?.to_string(),
                            t.get("input_schema")?.clone(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Varies {
            tools_optional: has_tools && choice == "auto",
            pinned: pinned.to_vec(),
            schemas,
        }
    }

    /// Indices of the content blocks the model was free to produce or not.
    pub(super) fn optional_blocks(&self, message: &Value) -> Vec<u64> {
        if !self.tools_optional {
            return Vec::new();
        }
        message
            .get("content")
            .and_then(Value::as_array)
            .map(|blocks| {
                blocks
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| {
                        b.get("type")
                            .and_then(Value::as_str)
                            .is_some_and(is_tool_block)
                    })
                    .map(|(i, _)| i as u64)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The message without what the model chose: optional blocks dropped, unpinned stop fields
    /// as placeholders. Anything that is not a message is returned as is.
    pub(super) fn message(&self, message: &Value) -> Value {
        let mut m = message.clone();
        let Some(obj) = m.as_object_mut() else {
            return m;
        };
        if obj.get("type").and_then(Value::as_str) != Some("message") {
            return m;
        }
        let cut = obj.get("stop_reason").and_then(Value::as_str) == Some("max_tokens");
        for (field, placeholder) in STOP_FIELDS {
            if self.pinned.iter().any(|p| p == field) {
                continue;
            }
            if let Some(v) = obj.get_mut(*field)
                && (v.is_string() || *field == "stop_sequence")
            {
                *v = Value::from(*placeholder);
            }
        }
        if let Some(Value::Array(blocks)) = obj.get_mut("content") {
            let last = blocks.len().saturating_sub(1);
            for (i, b) in blocks.iter_mut().enumerate() {
                self.tool_input(b, cut && i == last);
            }
            if self.tools_optional {
                blocks.retain(|b| {
                    !b.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(is_tool_block)
                });
            }
        }
        m
    }

    /// A custom tool call's input without the optional arguments, or `[partial]` when cut.
    fn tool_input(&self, block: &mut Value, cut: bool) {
        if block.get("type").and_then(Value::as_str) != Some("tool_use") {
            return;
        }
        let schema = block
            .get("name")
            .and_then(Value::as_str)
            .and_then(|n| self.schemas.iter().find(|(name, _)| name == n))
            .map(|(_, s)| s);
        let Some(input) = block.get_mut("input") else {
            return;
        };
        if cut {
            *input = Value::from(PARTIAL_INPUT);
        } else if let Some(schema) = schema {
            required_only(input, schema, 0);
        }
    }
}

/// Keep the keys `schema` requires, recursively where it describes the properties and array
/// items; a schema
/// that states nothing about an object (no `required`, e.g. a `$ref`) keeps it whole.
fn required_only(value: &mut Value, schema: &Value, depth: usize) {
    const MAX_DEPTH: usize = 32;
    if depth > MAX_DEPTH {
        return;
    }
    if let Value::Array(items) = value {
        if let Some(sub) = schema.get("items") {
            for item in items {
                required_only(item, sub, depth + 1);
            }
        }
        return;
    }
    let Value::Object(map) = value else { return };
    let Some(required) = schema.get("required").and_then(Value::as_array) else {
        return;
    };
    let required: Vec<&str> = required.iter().filter_map(Value::as_str).collect();
    map.retain(|k, _| required.contains(&k.as_str()));
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, child) in map.iter_mut() {
            if let Some(sub) = props.get(k) {
                required_only(child, sub, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(body: Value) -> RecordedRequest {
        RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/v1/messages".into(),
            headers: vec![],
            body: Some(body.to_string()),
        }
    }

    fn answer() -> Value {
        json!({"type": "message", "stop_reason": "tool_use", "stop_sequence": null, "content": [
            {"type": "text", "text": "I'll look."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]})
    }

    #[test]
    fn tool_calls_are_optional_only_under_auto() {
        let tools = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
        let auto = Varies::of(&request(json!({"tools": tools})), &[]);
        assert_eq!(auto.optional_blocks(&answer()), vec![1]);
        let m = auto.message(&answer());
        assert_eq!(m["content"].as_array().unwrap().len(), 1);
        assert_eq!(m["stop_reason"], "[stop_reason]");
        assert_eq!(m["stop_sequence"], "[stop_sequence]");
        let forced = Varies::of(
            &request(json!({"tools": tools, "tool_choice": {"type": "any"}})),
            &["stop_reason".to_string()],
        );
        assert!(forced.optional_blocks(&answer()).is_empty());
        let m = forced.message(&answer());
        assert_eq!(m["content"].as_array().unwrap().len(), 2);
        assert_eq!(m["stop_reason"], "tool_use");
        let no_tools = Varies::of(&request(json!({})), &[]);
        assert!(no_tools.optional_blocks(&answer()).is_empty());
    }

    #[test]
    fn tool_inputs_keep_the_required_arguments() {
        let tools = json!([{"name": "book", "input_schema": {"type": "object",
            "required": ["title", "where", "who"], "properties": {"title": {"type": "string"},
            "who": {"type": "array", "items": {"type": "object", "required": ["email"]}},
            "notes": {"type": "string"}, "where": {"type": "object", "required": ["city"],
            "properties": {"city": {"type": "string"}, "room": {"type": "string"}}}}}}]);
        let v = Varies::of(
            &request(json!({"tools": tools, "tool_choice": {"type": "any"}})),
            &[],
        );
        let call = |stop: &str| {
            json!({"type": "message", "stop_reason": stop, "content": [{"type": "tool_use",
                "id": "toolu_1", "name": "book", "input": {"title": "t", "notes": "n",
                "who": [{"email": "a", "optional": true}, {"email": "b"}],
                "where": {"city": "Paris", "room": "4"}}}]})
        };
        let m = v.message(&call("tool_use"));
        assert_eq!(
            m["content"][0]["input"],
            json!({"title": "t", "where": {"city": "Paris"}, "who": [{"email": "a"}, {"email": "b"}]})
        );
        let cut = v.message(&call("max_tokens"));
        assert_eq!(cut["content"][0]["input"], super::PARTIAL_INPUT);
    }

    #[test]
    fn missing_stop_fields_stay_missing_and_errors_are_untouched() {
        let v = Varies::default();
        let m = v.message(&json!({"type": "message", "content": []}));
        assert!(m.get("stop_reason").is_none() && m.get("stop_sequence").is_none());
        let e = json!({"type": "error", "error": {"type": "x"}, "stop_reason": "y"});
        assert_eq!(v.message(&e), e);
    }
}
