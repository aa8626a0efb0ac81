//! Turns a generated answer plus its usage into wire shapes: the non-streaming `Message` body
//! and the sequence of SSE events (with the event-level faults applied). Framing, timing and
//! connection-level faults live in `stream.rs`.

use serde_json::{Map, Value, json};

use super::cache::InputUsage;
use super::faults::{Fault, FaultSet};
use super::generate::{Block, Generated};
use super::hash::{Rng, fnv};
use super::tokenize;

/// Everything a response needs.
#[derive(Debug, Clone)]
pub struct Answer {
    pub generated: Generated,
    pub model: String,
    pub usage: InputUsage,
}

fn usage_json(a: &Answer, output_tokens: u64, faults: &FaultSet) -> Value {
    let u = &a.usage;
    let nulls = faults.has(Fault::NullOptionalFields);
    let mut m = Map::new();
    m.insert("input_tokens".into(), json!(u.input_tokens));
    if nulls {
        m.insert("cache_creation_input_tokens".into(), Value::Null);
        m.insert("cache_read_input_tokens".into(), Value::Null);
        m.insert("cache_creation".into(), Value::Null);
    } else {
        m.insert(
            "cache_creation_input_tokens".into(),
            json!(u.cache_creation_input_tokens),
        );
        m.insert(
            "cache_read_input_tokens".into(),
            json!(u.cache_read_input_tokens),
        );
        m.insert("cache_creation".into(), u.cache_creation_json());
    }
    m.insert("output_tokens".into(), json!(output_tokens));
    m.insert(
        "service_tier".into(),
        if nulls {
            Value::Null
        } else {
            json!("standard")
        },
    );
    Value::Object(m)
}

fn extra_fields(m: &mut Map<String, Value>, a: &Answer, faults: &FaultSet) {
    if faults.has(Fault::ExtraFields) {
        m.insert("system_fingerprint".into(), json!("fp_conform_mock"));
        m.insert(
            "timings".into(),
            json!({"prompt_n": a.usage.total(), "prompt_ms": 12.5, "predicted_n": a.generated.output_tokens, "predicted_ms": 40.0}),
        );
    }
}

fn block_json(b: &Block, faults: &FaultSet) -> Value {
    match b {
        Block::Thinking {
            thinking,
            signature,
        } => json!({"type": "thinking", "thinking": thinking, "signature": signature}),
        Block::Text { text } => {
            if faults.has(Fault::NullOptionalFields) {
                json!({"type": "text", "text": text, "citations": null})
            } else {
                json!({"type": "text", "text": text})
            }
        }
        Block::ToolUse {
            id, name, input, ..
        } => json!({"type": "tool_use", "id": id, "name": name, "input": input}),
    }
}

/// The envelope shared by the message body and `message_start`.
fn envelope(
    a: &Answer,
    content: Vec<Value>,
    stop: bool,
    output_tokens: u64,
    faults: &FaultSet,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(a.generated.id));
    m.insert("type".into(), json!("message"));
    m.insert("role".into(), json!("assistant"));
    m.insert("model".into(), json!(a.model));
    m.insert("content".into(), Value::Array(content));
    if stop {
        m.insert("stop_reason".into(), json!(a.generated.stop_reason));
        m.insert("stop_sequence".into(), json!(a.generated.stop_sequence));
    } else {
        m.insert("stop_reason".into(), Value::Null);
        m.insert("stop_sequence".into(), Value::Null);
    }
    if faults.has(Fault::NullOptionalFields) {
        m.insert("stop_details".into(), Value::Null);
        m.insert("container".into(), Value::Null);
    }
    if !faults.has(Fault::UsageMissing) {
        m.insert("usage".into(), usage_json(a, output_tokens, faults));
    }
    Value::Object(m)
}

/// The non-streaming `Message` body.
pub fn message_json(a: &Answer, faults: &FaultSet) -> Value {
    let content = a
        .generated
        .blocks
        .iter()
        .map(|b| block_json(b, faults))
        .collect();
    let mut v = envelope(a, content, true, a.generated.output_tokens, faults);
    if let Some(m) = v.as_object_mut() {
        extra_fields(m, a, faults);
    }
    v
}

/// One SSE event before framing: its name and its JSON data.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    pub data: String,
}

impl Event {
    fn new(name: &str, data: &Value) -> Self {
        Event {
            name: name.to_string(),
            data: data.to_string(),
        }
    }
}

fn start_form(b: &Block) -> Value {
    match b {
        Block::Thinking { .. } => json!({"type": "thinking", "thinking": "", "signature": ""}),
        Block::Text { .. } => json!({"type": "text", "text": ""}),
        Block::ToolUse { id, name, .. } => {
            json!({"type": "tool_use", "id": id, "name": name, "input": {}})
        }
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
fn deltas(b: &Block, first: bool, rng: &mut Rng, faults: &FaultSet) -> Vec<Value> {
    let wrong = first && faults.has(Fault::WrongDeltaType);
    let mut out = Vec::new();
    match b {
        Block::Text { text } => {
            let empty = faults.has(Fault::EmptyTextDelta);
            if empty {
                out.push(json!({"type": "text_delta", "text": ""}));
            }
            for c in token_chunks(text, rng, 1, 4) {
                out.push(if wrong {
                    json!({"type": "thinking_delta", "thinking": c})
                } else {
                    json!({"type": "text_delta", "text": c})
                });
                if empty {
                    out.push(json!({"type": "text_delta", "text": ""}));
                }
            }
        }
        Block::Thinking {
            thinking,
            signature,
        } => {
            for c in token_chunks(thinking, rng, 3, 10) {
                out.push(if wrong {
                    json!({"type": "text_delta", "text": c})
                } else {
                    json!({"type": "thinking_delta", "thinking": c})
                });
            }
            // Unsigned (the no-signature fault): no signature_delta.
            if !signature.is_empty() {
                out.push(json!({"type": "signature_delta", "signature": signature}));
            }
        }
        Block::ToolUse { json: text, .. } => {
            let mut text = text.clone();
            if faults.has(Fault::PartialJsonInvalid) {
                text.pop();
            }
            out.push(if wrong {
                json!({"type": "text_delta", "text": ""})
            } else {
                json!({"type": "input_json_delta", "partial_json": ""})
            });
            for c in char_chunks(&text, rng) {
                out.push(if wrong {
                    json!({"type": "text_delta", "text": c})
                } else {
                    json!({"type": "input_json_delta", "partial_json": c})
                });
            }
        }
    }
    out
}

/// The SSE events of a streamed answer, with the event-level faults applied.
pub fn events(a: &Answer, faults: &FaultSet) -> Vec<Event> {
    let mut rng = Rng::new(fnv(0x1234_5678, a.generated.id.as_bytes()));
    let n = a.generated.output_tokens;
    let not_cumulative = faults.has(Fault::UsageNotCumulative);
    let start_output = if not_cumulative {
        n / 2 + 2
    } else {
        n.min(1 + rng.range(0, 3))
    };
    let mut out = Vec::new();
    if !faults.has(Fault::NoMessageStart) {
        let msg = envelope(a, Vec::new(), false, start_output, faults);
        out.push(Event::new(
            "message_start",
            &json!({"type": "message_start", "message": msg}),
        ));
    }
    let index_of = |i: usize| {
        if faults.has(Fault::IndexGap) {
            i + 1
        } else {
            i
        }
    };
    let ping = Event {
        name: "ping".into(),
        data: "{\"type\": \"ping\"}".into(),
    };
    let mut pinged = faults.has(Fault::NoPing);
    let blocks = &a.generated.blocks;
    let all_deltas: Vec<Vec<Value>> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| deltas(b, i == 0, &mut rng, faults))
        .collect();
    let start = |i: usize| {
        Event::new(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index_of(i), "content_block": start_form(&blocks[i])}),
        )
    };
    let delta = |i: usize, d: &Value| {
        Event::new(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index_of(i), "delta": d}),
        )
    };
    let stop = |i: usize| {
        Event::new(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index_of(i)}),
        )
    };
    let unclosed = faults.has(Fault::UnclosedBlock);
    let last = blocks.len().saturating_sub(1);
    if faults.has(Fault::InterleavedBlocks) && blocks.len() > 1 {
        for i in 0..blocks.len() {
            out.push(start(i));
            if !pinged {
                out.push(ping.clone());
                pinged = true;
            }
        }
        let longest = all_deltas.iter().map(Vec::len).max().unwrap_or(0);
        for k in 0..longest {
            for (i, ds) in all_deltas.iter().enumerate() {
                if let Some(d) = ds.get(k) {
                    out.push(delta(i, d));
                }
            }
        }
        for i in 0..blocks.len() {
            if !(unclosed && i == last) {
                out.push(stop(i));
            }
        }
    } else {
        for (i, ds) in all_deltas.iter().enumerate() {
            out.push(start(i));
            if !pinged {
                out.push(ping.clone());
                pinged = true;
            }
            for d in ds {
                out.push(delta(i, d));
            }
            if !(unclosed && i == last) {
                out.push(stop(i));
            }
        }
    }
    if !pinged {
        out.push(ping);
    }
    // message_delta
    let mut usage = Map::new();
    let u = &a.usage;
    if faults.has(Fault::NullOptionalFields) {
        usage.insert("input_tokens".into(), Value::Null);
        usage.insert("cache_creation_input_tokens".into(), Value::Null);
        usage.insert("cache_read_input_tokens".into(), Value::Null);
    } else if not_cumulative {
        usage.insert("input_tokens".into(), json!(0));
        usage.insert("cache_creation_input_tokens".into(), json!(0));
        usage.insert("cache_read_input_tokens".into(), json!(0));
    } else {
        usage.insert("input_tokens".into(), json!(u.input_tokens));
        usage.insert(
            "cache_creation_input_tokens".into(),
            json!(u.cache_creation_input_tokens),
        );
        usage.insert(
            "cache_read_input_tokens".into(),
            json!(u.cache_read_input_tokens),
        );
    }
    usage.insert(
        "output_tokens".into(),
        json!(if not_cumulative {
            n.saturating_sub(start_output)
        } else {
            n
        }),
    );
    let mut md = Map::new();
    md.insert("type".into(), json!("message_delta"));
    let mut delta_obj =
        json!({"stop_reason": a.generated.stop_reason, "stop_sequence": a.generated.stop_sequence});
    if faults.has(Fault::NullOptionalFields) {
        delta_obj["stop_details"] = Value::Null;
        delta_obj["container"] = Value::Null;
    }
    md.insert("delta".into(), delta_obj);
    if !faults.has(Fault::UsageMissing) {
        md.insert("usage".into(), Value::Object(usage));
    }
    extra_fields(&mut md, a, faults);
    let message_delta = Event::new("message_delta", &Value::Object(md));
    let message_stop = Event::new("message_stop", &json!({"type": "message_stop"}));
    if faults.has(Fault::MidStreamErrorAsMessage) {
        let cut = out.len() / 2 + 1;
        out.truncate(cut.max(2).min(out.len()));
        out.push(Event::new("error", &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})));
    }
    out.push(message_delta);
    if !faults.has(Fault::NoMessageStop) {
        out.push(message_stop);
    }
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
        let names: Vec<String> = events(&a, &FaultSet::default())
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names[0], "message_start");
        assert_eq!(names[1], "content_block_start");
        assert_eq!(names[2], "ping");
        assert!(names.iter().filter(|n| *n == "content_block_delta").count() >= 2);
        assert_eq!(names[names.len() - 3], "content_block_stop");
        assert_eq!(names[names.len() - 2], "message_delta");
        assert_eq!(names[names.len() - 1], "message_stop");
    }
}
