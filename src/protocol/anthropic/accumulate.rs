//! The accumulator: builds the final `Message` from stream events the way the official SDKs do
//! (docs/protocol.md §4.5), in time linear in the stream's length.
//!
//! Differences from the SDKs, on purpose: tool inputs are parsed once at `content_block_stop`
//! (or at the end, for a block never stopped) instead of after every delta — the SDKs' repeated
//! partial parsing is what makes them quadratic — and nothing is silently dropped: the grammar
//! reports mismatches, the accumulator just does what the SDK would have done with them.

use serde_json::{Map, Value};

/// The message being built. Text, thinking and `partial_json` pieces are collected per block
/// and written into the message when the block stops (or at the end), so each delta costs an
/// append, not a walk through the JSON tree.
#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    message: Option<Value>,
    blocks: Vec<BlockState>,
    invalid_inputs: std::collections::HashMap<usize, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    Thinking,
    Tool,
    Other,
}

#[derive(Debug)]
struct BlockState {
    kind: BlockKind,
    /// Pieces not yet written into the message.
    pending: Option<String>,
}

/// Block types whose input arrives as `input_json_delta`.
pub(crate) fn is_tool_block(block_type: &str) -> bool {
    matches!(block_type, "tool_use" | "server_tool_use" | "mcp_tool_use")
}

impl Accumulator {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Finish: parse the inputs of tool blocks that were never stopped (their JSON may be cut
    /// short by `max_tokens`: completed like the SDKs' partial parsers do), return the message.
    pub(crate) fn finish(mut self) -> Option<Value> {
        for i in 0..self.blocks.len() {
            self.finalize_block(i);
        }
        self.message
    }

    /// Apply one event (already parsed JSON with a `type`).
    pub(crate) fn apply(&mut self, event: &Value) {
        let Some(kind) = event.get("type").and_then(Value::as_str) else {
            return;
        };
        match kind {
            "message_start" => {
                if self.message.is_none()
                    && let Some(m) = event.get("message").filter(|m| m.is_object())
                {
                    let mut m = m.clone();
                    if !m.get("content").is_some_and(Value::is_array) {
                        m["content"] = Value::Array(Vec::new());
                    }
                    self.message = Some(m);
                }
            }
            "content_block_start" => {
                let Some(content) = self.content_mut() else {
                    return;
                };
                let block = event.get("content_block").cloned().unwrap_or(Value::Null);
                let kind = match block.get("type").and_then(Value::as_str) {
                    Some("text") => BlockKind::Text,
                    Some("thinking") => BlockKind::Thinking,
                    Some(t) if is_tool_block(t) => BlockKind::Tool,
                    _ => BlockKind::Other,
                };
                content.push(block);
                self.blocks.push(BlockState {
                    kind,
                    pending: None,
                });
            }
            "content_block_delta" => self.apply_delta(event),
            "content_block_stop" => {
                if let Some(i) = event_index(event) {
                    self.finalize_block(i);
                }
            }
            "message_delta" => self.apply_message_delta(event),
            _ => {}
        }
    }

    /// Apply a text, thinking or tool-input delta given by its parts (the fast path; same
    /// effect as [`Accumulator::apply`] on the equivalent event). Mismatched deltas are
    /// dropped, as the SDKs drop them.
    pub(crate) fn append_delta(&mut self, index: usize, dtype: &str, piece: &str) {
        let Some(state) = self.blocks.get_mut(index) else {
            return;
        };
        let fits = matches!(
            (dtype, state.kind),
            ("text_delta", BlockKind::Text)
                | ("thinking_delta", BlockKind::Thinking)
                | ("input_json_delta", BlockKind::Tool)
        );
        if fits {
            state
                .pending
                .get_or_insert_with(String::new)
                .push_str(piece);
        }
    }

    fn content_mut(&mut self) -> Option<&mut Vec<Value>> {
        self.message.as_mut()?.get_mut("content")?.as_array_mut()
    }

    fn apply_delta(&mut self, event: &Value) {
        let Some(i) = event_index(event) else { return };
        let Some(delta) = event.get("delta") else {
            return;
        };
        let dtype = delta.get("type").and_then(Value::as_str).unwrap_or("");
        let Some(block) = self.content_mut().and_then(|c| c.get_mut(i)) else {
            return;
        };
        let btype = block
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match (dtype, btype.as_str()) {
            ("text_delta", "text") => {
                let piece = delta.get("text").and_then(Value::as_str).unwrap_or("");
                self.append_delta(i, dtype, piece);
            }
            ("citations_delta", "text") => {
                let citation = delta.get("citation").cloned().unwrap_or(Value::Null);
                match block.get_mut("citations").and_then(Value::as_array_mut) {
                    Some(list) => list.push(citation),
                    None => block["citations"] = Value::Array(vec![citation]),
                }
            }
            ("thinking_delta", "thinking") => {
                let piece = delta.get("thinking").and_then(Value::as_str).unwrap_or("");
                self.append_delta(i, dtype, piece);
            }
            ("signature_delta", "thinking") => {
                block["signature"] = delta.get("signature").cloned().unwrap_or(Value::Null);
            }
            ("input_json_delta", _) => {
                let piece = delta
                    .get("partial_json")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                self.append_delta(i, dtype, piece);
            }
            _ => {}
        }
    }

    /// Write a block's collected pieces into the message. Text and thinking are appended;
    /// `partial_json` is parsed into `input` — JSON that does not parse is completed the way
    /// the SDKs' partial parsers leave it (what a client ends up holding) and the raw text is
    /// kept for the grammar to judge ([`Accumulator::take_invalid_input`]). A tool block with
    /// no deltas keeps the `{}` it started with.
    fn finalize_block(&mut self, i: usize) {
        let Some(state) = self.blocks.get_mut(i) else {
            return;
        };
        let kind = state.kind;
        let Some(buf) = state.pending.take() else {
            return;
        };
        let (key, value) = match kind {
            BlockKind::Text => ("text", None),
            BlockKind::Thinking => ("thinking", None),
            BlockKind::Tool => ("input", Some(self.parse_input(i, buf.clone()))),
            BlockKind::Other => return,
        };
        let Some(block) = self.content_mut().and_then(|c| c.get_mut(i)) else {
            return;
        };
        match value {
            Some(input) => block[key] = input,
            None => match block.get_mut(key) {
                Some(Value::String(existing)) if !existing.is_empty() => existing.push_str(&buf),
                _ => block[key] = Value::String(buf),
            },
        }
    }

    fn parse_input(&mut self, i: usize, buf: String) -> Value {
        if buf.trim().is_empty() {
            return Value::Object(Map::new());
        }
        match serde_json::from_str::<Value>(&buf) {
            Ok(v) if v.is_object() => v,
            _ => {
                let completed = complete_partial_json(&buf);
                self.invalid_inputs.insert(i, buf.clone());
                completed.unwrap_or(Value::String(buf))
            }
        }
    }

    /// The raw `partial_json` of block `i` if it did not join into a JSON object.
    pub(crate) fn take_invalid_input(&mut self, i: usize) -> Option<String> {
        self.invalid_inputs.remove(&i)
    }

    fn apply_message_delta(&mut self, event: &Value) {
        let Some(m) = self.message.as_mut().and_then(Value::as_object_mut) else {
            return;
        };
        if let Some(d) = event.get("delta").and_then(Value::as_object) {
            for key in ["stop_reason", "stop_sequence", "stop_details"] {
                if let Some(v) = d.get(key) {
                    m.insert(key.to_string(), v.clone());
                } else if key != "stop_details" {
                    m.insert(key.to_string(), Value::Null);
                }
            }
            if let Some(c) = d.get("container").filter(|c| !c.is_null()) {
                m.insert("container".into(), c.clone());
            }
        }
        // Context editing reports its applied edits beside the delta (not inside it).
        if let Some(c) = event.get("context_management").filter(|c| !c.is_null()) {
            m.insert("context_management".into(), c.clone());
        }
        if let Some(u) = event.get("usage").and_then(Value::as_object) {
            let usage = m
                .entry("usage")
                .or_insert_with(|| Value::Object(Map::new()));
            if !usage.is_object() {
                *usage = Value::Object(Map::new());
            }
            for (k, v) in u {
                if k == "output_tokens" || !v.is_null() {
                    usage[k.as_str()] = v.clone();
                }
            }
        }
    }
}

/// Parse JSON cut off at an arbitrary byte, keeping what is complete (as the SDKs' partial
/// parsers do): close an open string, drop a dangling key or separator, close open containers.
/// `None` when even that does not give an object.
///
/// Linear in the input: only the last [`MAX_CUTS`] cut points are tried (each try parses a
/// prefix), so a hostile `partial_json` with a million commas costs a few parses, not a million.
pub(crate) fn complete_partial_json(buf: &str) -> Option<Value> {
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(buf) {
        return Some(v);
    }
    // Candidate cut points: the whole text, then the positions right after a complete value
    // inside a container (before a ',' outside strings), from the end backwards.
    let whole_scan = scan_partial(buf);
    let mut whole = buf.to_string();
    if whole_scan.in_string {
        if whole_scan.escaped {
            whole.pop();
        }
        whole.push('"');
    }
    let close = |text: &str, stack: &[char]| -> Option<Value> {
        let mut t = text.trim_end().trim_end_matches([',', ':']).to_string();
        for c in stack.iter().rev() {
            t.push(*c);
        }
        serde_json::from_str::<Value>(&t)
            .ok()
            .filter(Value::is_object)
    };
    if let Some(v) = close(&whole, &whole_scan.stack) {
        return Some(v);
    }
    for &i in whole_scan.cuts.iter().rev() {
        // Rescanning the prefix is O(n), done at most MAX_CUTS times.
        if let Some(v) = close(&buf[..i], &scan_partial(&buf[..i]).stack) {
            return Some(v);
        }
    }
    Some(Value::Object(Map::new())).filter(|_| buf.trim_start().starts_with('{'))
}

/// What one pass over partial JSON finds: the closers still owed, whether it ends inside a
/// string (after a backslash), and the last [`MAX_CUTS`] commas outside strings.
struct PartialScan {
    stack: Vec<char>,
    in_string: bool,
    escaped: bool,
    cuts: std::collections::VecDeque<usize>,
}

fn scan_partial(buf: &str) -> PartialScan {
    let mut scan = PartialScan {
        stack: Vec::new(),
        in_string: false,
        escaped: false,
        cuts: Default::default(),
    };
    for (i, c) in buf.char_indices() {
        if scan.in_string {
            if scan.escaped {
                scan.escaped = false;
            } else if c == '\\' {
                scan.escaped = true;
            } else if c == '"' {
                scan.in_string = false;
            }
            continue;
        }
        match c {
            '"' => scan.in_string = true,
            '{' => scan.stack.push('}'),
            '[' => scan.stack.push(']'),
            '}' | ']' => {
                scan.stack.pop();
            }
            ',' => {
                if scan.cuts.len() == MAX_CUTS {
                    scan.cuts.pop_front();
                }
                scan.cuts.push_back(i);
            }
            _ => {}
        }
    }
    scan
}

/// How many cut points [`complete_partial_json`] tries, from the end.
pub(crate) const MAX_CUTS: usize = 16;

/// The `index` of a content-block event.
pub(crate) fn event_index(event: &Value) -> Option<usize> {
    event
        .get("index")
        .and_then(Value::as_u64)
        .map(|i| i as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(events: &[Value]) -> Value {
        let mut a = Accumulator::new();
        for e in events {
            a.apply(e);
        }
        a.finish().unwrap()
    }

    #[test]
    fn builds_text_tool_and_thinking_blocks() {
        let m = run(&[
            json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}),
            json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}),
            json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}),
            json!({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}),
            json!({"type":"content_block_stop","index":0}),
            json!({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}),
            json!({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hel"}}),
            json!({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"lo"}}),
            json!({"type":"content_block_stop","index":1}),
            json!({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}),
            json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}),
            json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"ci"}}),
            json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ty\": \"Paris\"}"}}),
            json!({"type":"content_block_stop","index":2}),
            json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":30}}),
            json!({"type":"message_stop"}),
        ]);
        assert_eq!(m["content"][0]["signature"], "sig");
        assert_eq!(m["content"][0]["thinking"], "hm");
        assert_eq!(m["content"][1]["text"], "Hello");
        assert_eq!(m["content"][2]["input"], json!({"city": "Paris"}));
        assert_eq!(m["stop_reason"], "tool_use");
        assert_eq!(m["usage"], json!({"input_tokens":5,"output_tokens":30}));
    }

    #[test]
    fn a_tool_block_with_no_deltas_keeps_an_empty_object_and_bad_json_stays_visible() {
        let m = run(&[
            json!({"type":"message_start","message":{"content":[]}}),
            json!({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"n","input":{}}}),
            json!({"type":"content_block_stop","index":0}),
            json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t2","name":"n","input":{}}}),
            json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\": "}}),
        ]);
        assert_eq!(m["content"][0]["input"], json!({}));
        // Never stopped: completed like the SDK's partial parser (the dangling key is dropped).
        assert_eq!(m["content"][1]["input"], json!({}));
    }

    #[test]
    fn partial_json_is_completed_at_any_cut() {
        let full = r#"{"city": "Paris", "days": [1, 2, {"x": "a\"b"}], "ok": true}"#;
        for cut in 1..full.len() {
            if !full.is_char_boundary(cut) {
                continue;
            }
            let v = complete_partial_json(&full[..cut]);
            assert!(
                v.as_ref().is_some_and(Value::is_object),
                "cut {cut}: {:?}",
                &full[..cut]
            );
        }
        assert_eq!(
            complete_partial_json(r#"{"a": "Pa"#),
            Some(json!({"a": "Pa"}))
        );
        assert_eq!(
            complete_partial_json(r#"{"a": [1, 2"#),
            Some(json!({"a": [1, 2]}))
        );
        assert_eq!(complete_partial_json("not json"), None);
    }

    #[test]
    fn hostile_partial_json_is_completed() {
        // A million commas after an early error, and a deep unclosed nesting with commas: each
        // cut would have cost a copy and a parse of the prefix (and a copy of the stack). What
        // is asserted is the result; the time is not (no timed tests: a quadratic regression
        // shows as this test taking minutes, not as a flaky bound).
        let bad_start = format!("{{\"a\" x{}", ", 1".repeat(1_000_000));
        let deep = format!("{{\"a\":{}{}", "[".repeat(200_000), "1,".repeat(200_000));
        assert_eq!(complete_partial_json(&bad_start), Some(json!({})));
        assert_eq!(complete_partial_json(&deep), Some(json!({})));
    }

    #[test]
    fn mismatched_deltas_are_dropped_like_the_sdk_does() {
        let m = run(&[
            json!({"type":"message_start","message":{"content":[]}}),
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
            json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"x"}}),
            json!({"type":"content_block_delta","index":5,"delta":{"type":"text_delta","text":"x"}}),
        ]);
        assert_eq!(m["content"], json!([{"type":"text","text":""}]));
    }
}
