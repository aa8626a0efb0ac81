//! Event-layer faults: transforms of the canonical SSE event sequence and of the canonical
//! `Message` body (both from `render.rs`), each in the way its catalogue description says.

use serde_json::{Map, Value, json};

use super::{Fault, FaultSet};
use crate::mock::render::{Answer, Event};

/// Applies the event-layer faults to a non-streaming `Message` body.
pub(crate) fn apply_message(m: &mut Value, a: &Answer, faults: &FaultSet) {
    let Some(o) = m.as_object_mut() else {
        return;
    };
    if faults.has(Fault::NullOptionalFields) {
        null_fields(o);
        if let Some(blocks) = o.get_mut("content").and_then(Value::as_array_mut) {
            for b in blocks {
                // Only the absent field: citations an answer has are kept.
                if b["type"] == "text" && b.get("citations").is_none() {
                    b["citations"] = Value::Null;
                }
            }
        }
    }
    if faults.has(Fault::UsageMissing) {
        o.remove("usage");
    }
    if faults.has(Fault::ExtraFields) {
        extra_fields(o, a);
    }
}

/// Removes, in every text block of three or more deltas, the first inner `text_delta` that
/// carries a non-ASCII character — what a translator that decodes each network read as UTF-8
/// on its own loses when a read splits a character — so the text lacks a piece inside it while
/// the event grammar stays intact (ASCII text is untouched).
fn drop_split_character_delta(events: &mut Vec<Event>) {
    fn text_of(e: &Event) -> Option<&str> {
        (e.name == "content_block_delta" && e.data["delta"]["type"] == "text_delta")
            .then(|| e.data["delta"]["text"].as_str())
            .flatten()
            .filter(|t| !t.is_empty())
    }
    let mut per_block: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
    for (at, e) in events.iter().enumerate() {
        if text_of(e).is_some()
            && let Some(index) = e.index()
        {
            per_block.entry(index).or_default().push(at);
        }
    }
    let mut drop: Vec<usize> = per_block
        .values()
        .filter(|at| at.len() >= 3)
        .filter_map(|at| {
            at[1..at.len() - 1]
                .iter()
                .copied()
                .find(|&i| text_of(&events[i]).is_some_and(|t| !t.is_ascii()))
        })
        .collect();
    drop.sort_unstable();
    for at in drop.into_iter().rev() {
        events.remove(at);
    }
}

/// Applies the event-layer faults to the events of a stream.
pub(crate) fn apply(events: &mut Vec<Event>, a: &Answer, faults: &FaultSet) {
    if faults.has(Fault::InterleavedBlocks) {
        interleave(events);
    }
    if faults.has(Fault::WrongDeltaType) {
        wrong_delta_type(events);
    }
    if faults.has(Fault::EmptyTextDelta) {
        empty_text_deltas(events);
    }
    if faults.has(Fault::StreamDropsDelta) {
        drop_split_character_delta(events);
    }
    if faults.has(Fault::PartialJsonInvalid) {
        drop_closing_char(events);
    }
    if faults.has(Fault::UnclosedBlock)
        && let Some(last) = events.iter().filter_map(Event::index).max()
        && let Some(at) = events
            .iter()
            .position(|e| e.name == "content_block_stop" && e.index() == Some(last))
    {
        events.remove(at);
    }
    if faults.has(Fault::NoPing) {
        events.retain(|e| e.name != "ping");
    }
    if faults.has(Fault::NoMessageStart) {
        events.retain(|e| e.name != "message_start");
    }
    for e in events.iter_mut() {
        let Some(o) = e.data.as_object_mut() else {
            continue;
        };
        match e.name.as_str() {
            "message_start" => {
                let Some(msg) = o.get_mut("message").and_then(Value::as_object_mut) else {
                    continue;
                };
                if faults.has(Fault::StreamInputTokensZero) {
                    msg["usage"]["input_tokens"] = json!(0);
                    msg["usage"]["cache_creation_input_tokens"] = json!(0);
                    msg["usage"]["cache_read_input_tokens"] = json!(0);
                }
                if faults.has(Fault::UsageNotCumulative) {
                    // Half the answer already counted at the start; the delta adds the rest.
                    msg["usage"]["output_tokens"] = json!(a.generated.output_tokens / 2 + 2);
                }
                if faults.has(Fault::NullOptionalFields) {
                    null_fields(msg);
                }
                if faults.has(Fault::UsageMissing) {
                    msg.remove("usage");
                }
            }
            "message_delta" => {
                if faults.has(Fault::StreamInputTokensZero)
                    && let Some(u) = o.get_mut("usage").and_then(Value::as_object_mut)
                {
                    for k in [
                        "input_tokens",
                        "cache_creation_input_tokens",
                        "cache_read_input_tokens",
                    ] {
                        u.remove(k);
                    }
                }
                if faults.has(Fault::UsageNotCumulative) {
                    let n = a.generated.output_tokens;
                    o.insert(
                        "usage".into(),
                        json!({"input_tokens": 0, "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 0, "output_tokens": n.saturating_sub(n / 2 + 2)}),
                    );
                }
                if faults.has(Fault::NullOptionalFields) {
                    if let Some(u) = o.get_mut("usage").and_then(Value::as_object_mut) {
                        for k in [
                            "input_tokens",
                            "cache_creation_input_tokens",
                            "cache_read_input_tokens",
                        ] {
                            u.insert(k.into(), Value::Null);
                        }
                    }
                    if let Some(d) = o.get_mut("delta").and_then(Value::as_object_mut) {
                        d.entry("stop_details").or_insert(Value::Null);
                        d.insert("container".into(), Value::Null);
                    }
                }
                if faults.has(Fault::UsageMissing) {
                    o.remove("usage");
                }
                if faults.has(Fault::ExtraFields) {
                    extra_fields(o, a);
                }
            }
            _ => {}
        }
    }
    if faults.has(Fault::MidStreamErrorAsMessage) {
        // Cut halfway, an error event, then the message is closed as if nothing happened.
        let tail_at = events
            .iter()
            .position(|e| e.name == "message_delta")
            .unwrap_or(events.len());
        let tail: Vec<Event> = events.drain(tail_at..).collect();
        let cut = (events.len() / 2 + 1).max(2).min(events.len());
        events.truncate(cut);
        events.push(Event::new(
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ));
        events.extend(tail);
    }
    if faults.has(Fault::NoMessageStop) {
        events.retain(|e| e.name != "message_stop");
    }
    if faults.has(Fault::IndexGap) {
        for e in events.iter_mut() {
            if let Some(i) = e.index() {
                e.data["index"] = json!(i + 1);
            }
        }
    }
}

/// null-optional-fields on a message object: the fields Anthropic omits, as explicit nulls.
fn null_fields(msg: &mut Map<String, Value>) {
    msg.entry("stop_details").or_insert(Value::Null);
    msg.insert("container".into(), Value::Null);
    if let Some(u) = msg.get_mut("usage").and_then(Value::as_object_mut) {
        for k in [
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "cache_creation",
            "service_tier",
        ] {
            u.insert(k.into(), Value::Null);
        }
    }
}

/// extra-fields: llama.cpp / vLLM additions.
fn extra_fields(o: &mut Map<String, Value>, a: &Answer) {
    o.insert("system_fingerprint".into(), json!("fp_conform_mock"));
    o.insert(
        "timings".into(),
        json!({"prompt_n": a.usage.total(), "prompt_ms": 12.5, "predicted_n": a.generated.output_tokens, "predicted_ms": 40.0}),
    );
}

/// interleaved-blocks: all blocks start (a ping after the first) before any delta, the deltas
/// of the blocks alternate, then all blocks stop. Needs 2+ blocks.
fn interleave(events: &mut Vec<Event>) {
    let blocks = events
        .iter()
        .filter(|e| e.name == "content_block_start")
        .count();
    if blocks < 2 {
        return;
    }
    let first = events
        .iter()
        .position(|e| e.name == "content_block_start")
        .unwrap_or(0);
    let end = events
        .iter()
        .rposition(|e| e.name == "content_block_stop")
        .map_or(events.len(), |p| p + 1);
    let middle: Vec<Event> = events.drain(first..end).collect();
    let mut starts = Vec::new();
    let mut stops = Vec::new();
    let mut deltas: Vec<Vec<Event>> = vec![Vec::new(); blocks];
    let mut ping = None;
    for e in middle {
        match e.name.as_str() {
            "content_block_start" => starts.push(e),
            "content_block_stop" => stops.push(e),
            "ping" => ping = Some(e),
            _ => {
                let i = e.index().unwrap_or(0) as usize;
                deltas[i.min(blocks - 1)].push(e);
            }
        }
    }
    let mut rebuilt = Vec::new();
    for (k, s) in starts.into_iter().enumerate() {
        rebuilt.push(s);
        if k == 0
            && let Some(p) = ping.take()
        {
            rebuilt.push(p);
        }
    }
    let longest = deltas.iter().map(Vec::len).max().unwrap_or(0);
    let mut iters: Vec<_> = deltas.into_iter().map(Vec::into_iter).collect();
    for _ in 0..longest {
        for it in iters.iter_mut() {
            rebuilt.extend(it.next());
        }
    }
    rebuilt.extend(stops);
    events.splice(first..first, rebuilt);
}

/// wrong-delta-type: the first block's deltas carry the wrong type (text → thinking_delta,
/// thinking → text_delta, tool input → text_delta).
fn wrong_delta_type(events: &mut [Event]) {
    let Some(first) = events
        .iter()
        .find(|e| e.name == "content_block_start")
        .and_then(Event::index)
    else {
        return;
    };
    for e in events.iter_mut() {
        if e.name != "content_block_delta" || e.index() != Some(first) {
            continue;
        }
        let d = &e.data["delta"];
        let swapped = match d["type"].as_str() {
            Some("text_delta") => json!({"type": "thinking_delta", "thinking": d["text"]}),
            Some("thinking_delta") => json!({"type": "text_delta", "text": d["thinking"]}),
            Some("input_json_delta") => json!({"type": "text_delta", "text": d["partial_json"]}),
            _ => continue,
        };
        e.data["delta"] = swapped;
    }
}

/// empty-text-delta: in text blocks, an empty text_delta before the first delta and after each.
fn empty_text_deltas(events: &mut Vec<Event>) {
    let text_blocks: Vec<u64> = events
        .iter()
        .filter(|e| e.name == "content_block_start" && e.data["content_block"]["type"] == "text")
        .filter_map(Event::index)
        .collect();
    let empty = |i: u64| {
        Event::new(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": ""}}),
        )
    };
    let mut out = Vec::with_capacity(events.len() * 2);
    for e in events.drain(..) {
        let i = e.index();
        let in_text = i.is_some_and(|i| text_blocks.contains(&i));
        if in_text && e.name == "content_block_start" {
            out.push(e);
            // The first empty delta goes right after the start (and its ping).
            continue;
        }
        if in_text && e.name == "content_block_delta" {
            let first_delta = !out
                .iter()
                .any(|p: &Event| p.name == "content_block_delta" && p.index() == i);
            if first_delta {
                out.push(empty(i.unwrap_or(0)));
            }
            out.push(e);
            out.push(empty(i.unwrap_or(0)));
            continue;
        }
        out.push(e);
    }
    *events = out;
}

/// partial-json-invalid: each tool input's fragments lose their last character.
fn drop_closing_char(events: &mut [Event]) {
    let tools: Vec<u64> = events
        .iter()
        .filter(|e| {
            e.name == "content_block_start" && e.data["content_block"]["type"] == "tool_use"
        })
        .filter_map(Event::index)
        .collect();
    for i in tools {
        if let Some(e) = events.iter_mut().rev().find(|e| {
            e.name == "content_block_delta"
                && e.index() == Some(i)
                && e.data["delta"]["partial_json"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
        }) {
            let mut s = e.data["delta"]["partial_json"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            s.pop();
            e.data["delta"]["partial_json"] = json!(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::cache::InputUsage;
    use crate::mock::generate::generate;
    use crate::mock::render::events;

    fn answer() -> Answer {
        let body = json!({"model": "m", "max_tokens": 512,
            "tools": [{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
            "messages": [{"role": "user", "content": "What's the weather like in Hangzhou today?"}]});
        Answer {
            generated: generate(&body, 0),
            model: "m".into(),
            usage: InputUsage {
                input_tokens: 10,
                ..Default::default()
            },
        }
    }

    fn with(fault: Fault) -> Vec<Event> {
        let a = answer();
        let mut evs = events(&a);
        apply(&mut evs, &a, &FaultSet::new([fault]));
        evs
    }

    #[test]
    fn clean_is_untouched() {
        let a = answer();
        let mut evs = events(&a);
        apply(&mut evs, &a, &FaultSet::default());
        assert_eq!(evs, events(&a));
    }

    #[test]
    fn each_transform_does_what_it_says() {
        let names = |evs: &[Event]| evs.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
        let inter = with(Fault::InterleavedBlocks);
        let n = names(&inter);
        assert_eq!(
            &n[1..4],
            ["content_block_start", "ping", "content_block_start"]
        );
        assert_eq!(n.len(), names(&events(&answer())).len());
        let gap = with(Fault::IndexGap);
        assert_eq!(gap[1].index(), Some(1));
        let unclosed = with(Fault::UnclosedBlock);
        assert_eq!(
            unclosed
                .iter()
                .filter(|e| e.name == "content_block_stop")
                .count(),
            1
        );
        let json: String = with(Fault::PartialJsonInvalid)
            .iter()
            .filter_map(|e| e.data["delta"]["partial_json"].as_str().map(String::from))
            .collect();
        assert!(serde_json::from_str::<Value>(&json).is_err(), "{json}");
        let mid = names(&with(Fault::MidStreamErrorAsMessage));
        let e = mid.iter().position(|x| x == "error").unwrap();
        assert_eq!(&mid[e + 1..], ["message_delta", "message_stop"]);
        let wrong = with(Fault::WrongDeltaType);
        assert!(
            wrong
                .iter()
                .any(|e| e.data["delta"]["type"] == "thinking_delta")
        );
        let empty = with(Fault::EmptyTextDelta);
        assert!(empty.iter().any(|e| e.data["delta"]["text"] == ""));
    }
}
