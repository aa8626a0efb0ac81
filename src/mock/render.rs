//! Turns a generated answer plus its usage into wire shapes: the canonical non-streaming
//! `Message` body and the canonical sequence of SSE events. It knows no fault: the event-layer
//! faults transform its output (`faults/events.rs`); framing, timing and connection-level faults
//! live in `stream.rs`.

use serde_json::{Map, Value, json};

use super::cache::InputUsage;
use super::generate::{Block, Generated};
use super::hash::{Rng, fnv};
use super::tokenize;

/// Everything a response needs.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub generated: Generated,
    pub model: String,
    pub usage: InputUsage,
}

fn usage_json(a: &Answer, output_tokens: u64) -> Value {
    let u = &a.usage;
    let mut m = Map::new();
    m.insert("input_tokens".into(), json!(u.input_tokens));
    m.insert(
        "cache_creation_input_tokens".into(),
        json!(u.cache_creation_input_tokens),
    );
    m.insert(
        "cache_read_input_tokens".into(),
        json!(u.cache_read_input_tokens),
    );
    m.insert("cache_creation".into(), u.cache_creation_json());
    m.insert("output_tokens".into(), json!(output_tokens));
    m.insert("service_tier".into(), json!("standard"));
    if let Some(s) = server_usage_json(a) {
        m.insert("server_tool_use".into(), s);
    }
    Value::Object(m)
}

/// `usage.server_tool_use`, when the request declared a server tool.
fn server_usage_json(a: &Answer) -> Option<Value> {
    a.generated.server_usage.as_ref().map(|s| {
        json!({"web_search_requests": s.web_search_requests, "web_fetch_requests": s.web_fetch_requests})
    })
}

/// The code-execution container of the answer, when a code tool ran.
fn container_json(a: &Answer) -> Option<Value> {
    a.generated
        .server_usage
        .as_ref()
        .filter(|s| s.container)
        .map(|_| {
            // From the content, like the deltas: the same answer names the same container.
            let content = format!("{:?}", a.generated.blocks);
            let id = Rng::new(fnv(0x636f_6e74, content.as_bytes())).base62(24);
            json!({"id": format!("container_011C{id}"), "expires_at": "2026-01-01T01:00:00Z"})
        })
}

pub(crate) fn block_json(b: &Block) -> Value {
    match b {
        Block::Thinking {
            thinking,
            signature,
        } => json!({"type": "thinking", "thinking": thinking, "signature": signature}),
        Block::RedactedThinking { data } => json!({"type": "redacted_thinking", "data": data}),
        Block::Text { text } => json!({"type": "text", "text": text}),
        Block::ToolUse {
            id, name, input, ..
        } => json!({"type": "tool_use", "id": id, "name": name, "input": input}),
        Block::Cited { text, citations } => {
            json!({"type": "text", "text": text, "citations": citations})
        }
        Block::ServerToolUse { id, name, input } => {
            json!({"type": "server_tool_use", "id": id, "name": name, "input": input})
        }
        Block::ServerToolResult {
            kind,
            tool_use_id,
            content,
        } => json!({"type": kind, "tool_use_id": tool_use_id, "content": content}),
    }
}

/// The envelope shared by the message body and `message_start`.
fn envelope(a: &Answer, content: Vec<Value>, stop: bool, output_tokens: u64) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(a.generated.id));
    m.insert("type".into(), json!("message"));
    m.insert("role".into(), json!("assistant"));
    m.insert("model".into(), json!(a.model));
    m.insert("content".into(), Value::Array(content));
    if stop {
        m.insert("stop_reason".into(), json!(a.generated.stop_reason));
        m.insert("stop_sequence".into(), json!(a.generated.stop_sequence));
        if let Some(details) = &a.generated.stop_details {
            m.insert("stop_details".into(), details.clone());
        }
    } else {
        m.insert("stop_reason".into(), Value::Null);
        m.insert("stop_sequence".into(), Value::Null);
    }
    m.insert("usage".into(), usage_json(a, output_tokens));
    if stop && let Some(cm) = &a.generated.context_management {
        m.insert("context_management".into(), cm.clone());
    }
    if stop && let Some(c) = container_json(a) {
        m.insert("container".into(), c);
    }
    Value::Object(m)
}

/// The non-streaming `Message` body.
pub(crate) fn message_json(a: &Answer) -> Value {
    let content = a.generated.blocks.iter().map(block_json).collect();
    envelope(a, content, true, a.generated.output_tokens)
}

/// One SSE event before framing: its name and its JSON data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub name: String,
    pub data: Value,
}

impl Event {
    pub(crate) fn new(name: &str, data: Value) -> Self {
        Event {
            name: name.to_string(),
            data,
        }
    }

    /// The `index` of a `content_block_*` event.
    pub(crate) fn index(&self) -> Option<u64> {
        self.data.get("index").and_then(Value::as_u64)
    }
}

fn start_form(b: &Block) -> Value {
    match b {
        Block::Thinking { .. } => json!({"type": "thinking", "thinking": "", "signature": ""}),
        // Anthropic sends a redacted block whole in its start event, with no delta.
        Block::RedactedThinking { data } => json!({"type": "redacted_thinking", "data": data}),
        Block::Text { .. } => json!({"type": "text", "text": ""}),
        Block::ToolUse { id, name, .. } => {
            json!({"type": "tool_use", "id": id, "name": name, "input": {}})
        }
        Block::Cited { .. } => json!({"type": "text", "text": "", "citations": []}),
        Block::ServerToolUse { id, name, .. } => {
            json!({"type": "server_tool_use", "id": id, "name": name, "input": {}})
        }
        Block::ServerToolResult { .. } => block_json(b),
    }
}

/// Splits `s` into chunks of `lo..=hi` tokens.
fn token_chunks(s: &str, rng: &mut Rng, lo: u64, hi: u64) -> Vec<String> {
    let pieces = tokenize::pieces(s);
    let mut out = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let n = rng.range(lo, hi) as usize;
        let end = (i + n).min(pieces.len());
        out.push(pieces[i..end].concat());
        i = end;
    }
    out
}

/// Splits `s` at arbitrary character positions (chunks of 1..=12 characters).
fn char_chunks(s: &str, rng: &mut Rng) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let n = rng.range(1, 12) as usize;
        let end = (i + n).min(chars.len());
        out.push(chars[i..end].iter().collect());
        i = end;
    }
    out
}

/// The deltas of one block (as `delta` objects).
fn deltas(b: &Block, rng: &mut Rng) -> Vec<Value> {
    let mut out = Vec::new();
    match b {
        Block::Text { text } => {
            for c in token_chunks(text, rng, 1, 4) {
                out.push(json!({"type": "text_delta", "text": c}));
            }
        }
        Block::Thinking {
            thinking,
            signature,
        } => {
            for c in token_chunks(thinking, rng, 3, 10) {
                out.push(json!({"type": "thinking_delta", "thinking": c}));
            }
            // An unsigned block (the no-signature fault) has no signature_delta.
            if !signature.is_empty() {
                out.push(json!({"type": "signature_delta", "signature": signature}));
            }
        }
        Block::RedactedThinking { .. } => {}
        Block::ToolUse { json: text, .. } => {
            // Anthropic's first input_json_delta is empty (see the corpus).
            out.push(json!({"type": "input_json_delta", "partial_json": ""}));
            for c in char_chunks(text, rng) {
                out.push(json!({"type": "input_json_delta", "partial_json": c}));
            }
        }
        Block::Cited { text, citations } => {
            // Each citation comes first, then the cited text (see the corpus).
            for c in citations {
                out.push(json!({"type": "citations_delta", "citation": c}));
            }
            for c in token_chunks(text, rng, 1, 4) {
                out.push(json!({"type": "text_delta", "text": c}));
            }
        }
        Block::ServerToolUse { input, .. } => {
            out.push(json!({"type": "input_json_delta", "partial_json": ""}));
            for c in char_chunks(&input.to_string(), rng) {
                out.push(json!({"type": "input_json_delta", "partial_json": c}));
            }
        }
        Block::ServerToolResult { .. } => {}
    }
    out
}

/// The SSE events of a streamed answer: `message_start`, each block's start, deltas and stop
/// (a `ping` after the first start), `message_delta` with cumulative usage, `message_stop`.
pub(crate) fn events(a: &Answer) -> Vec<Event> {
    // Seeded by the content, not the id (ids are unique per answer): the same answer is
    // always cut into the same deltas, whatever order requests arrive in.
    let content = format!("{:?}{}", a.generated.blocks, a.generated.stop_reason);
    let mut rng = Rng::new(fnv(0x1234_5678, content.as_bytes()));
    let n = a.generated.output_tokens;
    let start_output = n.min(1 + rng.range(0, 3));
    let mut out = vec![Event::new(
        "message_start",
        json!({"type": "message_start", "message": envelope(a, Vec::new(), false, start_output)}),
    )];
    for (i, b) in a.generated.blocks.iter().enumerate() {
        out.push(Event::new(
            "content_block_start",
            json!({"type": "content_block_start", "index": i, "content_block": start_form(b)}),
        ));
        if i == 0 {
            out.push(Event::new("ping", json!({"type": "ping"})));
        }
        for d in deltas(b, &mut rng) {
            out.push(Event::new(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": i, "delta": d}),
            ));
        }
        out.push(Event::new(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": i}),
        ));
    }
    if a.generated.blocks.is_empty() {
        out.push(Event::new("ping", json!({"type": "ping"})));
    }
    let u = &a.usage;
    let mut delta =
        json!({"stop_reason": a.generated.stop_reason, "stop_sequence": a.generated.stop_sequence});
    if let Some(details) = &a.generated.stop_details {
        delta["stop_details"] = details.clone();
    }
    if let Some(c) = container_json(a) {
        delta["container"] = c;
    }
    let mut usage = json!({"input_tokens": u.input_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
        "output_tokens": n});
    if let Some(s) = server_usage_json(a) {
        usage["server_tool_use"] = s;
    }
    out.push(Event::new(
        "message_delta",
        json!({"type": "message_delta", "delta": delta, "usage": usage}),
    ));
    if let Some(cm) = &a.generated.context_management
        && let Some(last) = out.last_mut()
    {
        last.data["context_management"] = cm.clone();
    }
    out.push(Event::new("message_stop", json!({"type": "message_stop"})));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::generate::generate;

    fn answer(body: Value) -> Answer {
        let answer = generate(&body, 0);
        Answer {
            generated: answer,
            model: "conform-mock".into(),
            usage: InputUsage {
                input_tokens: 10,
                ..Default::default()
            },
        }
    }

    #[test]
    fn clean_event_order() {
        let a = answer(
            json!({"model": "conform-mock", "max_tokens": 100, "messages": [{"role": "user", "content": "hello there"}]}),
        );
        let names: Vec<String> = events(&a).into_iter().map(|e| e.name).collect();
        assert_eq!(names[0], "message_start");
        assert_eq!(names[1], "content_block_start");
        assert_eq!(names[2], "ping");
        assert!(names.iter().filter(|n| *n == "content_block_delta").count() >= 2);
        assert_eq!(names[names.len() - 3], "content_block_stop");
        assert_eq!(names[names.len() - 2], "message_delta");
        assert_eq!(names[names.len() - 1], "message_stop");
    }
}
