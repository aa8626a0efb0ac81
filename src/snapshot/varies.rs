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

use serde_json::Value;

use crate::exchange::RecordedRequest;

/// The top-level message fields whose value the model chooses.
const STOP_FIELDS: &[(&str, &str)] = &[
    ("stop_reason", "[stop_reason]"),
    ("stop_sequence", "[stop_sequence]"),
];

/// Block types that exist only because the model chose to use a tool.
fn is_tool_block(kind: &str) -> bool {
    matches!(kind, "tool_use" | "server_tool_use" | "mcp_tool_use") || kind.ends_with("_tool_result")
}

/// The model's freedom in one exchange.
#[derive(Debug, Default)]
pub(super) struct Varies {
    /// The request offered tools and let the model choose (`tool_choice` absent or `auto`).
    tools_optional: bool,
    /// Message fields the scenario pins (kept verbatim).
    pinned: Vec<String>,
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
        Varies {
            tools_optional: has_tools && choice == "auto",
            pinned: pinned.to_vec(),
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
        if self.tools_optional
            && let Some(Value::Array(blocks)) = obj.get_mut("content")
        {
            blocks.retain(|b| {
                !b.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(is_tool_block)
            });
        }
        m
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
    fn missing_stop_fields_stay_missing_and_errors_are_untouched() {
        let v = Varies::default();
        let m = v.message(&json!({"type": "message", "content": []}));
        assert!(m.get("stop_reason").is_none() && m.get("stop_sequence").is_none());
        let e = json!({"type": "error", "error": {"type": "x"}, "stop_reason": "y"});
        assert_eq!(v.message(&e), e);
    }
}
