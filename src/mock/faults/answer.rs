//! Answer-layer faults: transforms of the clean [`Generated`] message before it is rendered
//! (as a body or as events), each in the way its catalogue description says.

use serde_json::Value;

use super::{Fault, FaultSet};
use crate::mock::generate::{Block, Generated, extra_tool_call};
use crate::mock::hash::{Rng, fnv};
use crate::mock::tokenize;

/// Applies the answer-layer faults of `faults` to `g`, the answer to `body`.
pub(crate) fn apply(g: &mut Generated, body: &Value, seed: u64, faults: &FaultSet) {
    // parallel-tools-ignored: disable_parallel_tool_use is ignored, a second tool is called.
    if faults.has(Fault::ParallelToolsIgnored)
        && g.stop_reason == "tool_use"
        && body
            .pointer("/tool_choice/disable_parallel_tool_use")
            .and_then(Value::as_bool)
            == Some(true)
        && let Some(extra) = extra_tool_call(body, g, seed)
    {
        if let Block::ToolUse { name, json, .. } = &extra {
            g.output_tokens += 3 + tokenize::count(name) + tokenize::count(json);
        }
        g.blocks.push(extra);
    }
    // stop-sequence-ignored: the text runs through the sequence; end_turn, no stop_sequence.
    if faults.has(Fault::StopSequenceIgnored)
        && g.stop_reason == "stop_sequence"
        && let Some(rest) = g.overrun.take()
        && let Some(Block::Text { text }) = g.blocks.last_mut()
    {
        g.output_tokens += tokenize::count(&rest);
        text.push_str(&rest);
        g.stop_reason = "end_turn";
        g.stop_sequence = None;
    }
    // stop-sequence-end-turn: cut at the sequence, but reported as end_turn.
    if faults.has(Fault::StopSequenceEndTurn) && g.stop_reason == "stop_sequence" {
        g.stop_reason = "end_turn";
        g.stop_sequence = None;
    }
    // refusal-without-stop-details: the refusal's details are dropped.
    if faults.has(Fault::RefusalWithoutStopDetails) && g.stop_reason == "refusal" {
        g.stop_details = None;
    }
    // pause-turn-as-end-turn: a paused server-tool loop is reported as finished.
    if faults.has(Fault::PauseTurnAsEndTurn) && g.stop_reason == "pause_turn" {
        g.stop_reason = "end_turn";
    }
    // wrong-stop-reason: end_turn although the message ends with a tool call.
    if faults.has(Fault::WrongStopReason) && g.stop_reason == "tool_use" {
        g.stop_reason = "end_turn";
    }
    // no-signature: thinking blocks are not signed; signature-dropped-after-tool-turn: those of
    // an answer to a tool-result turn are not.
    let unsigned = faults.has(Fault::NoSignature)
        || (faults.has(Fault::SignatureDroppedAfterToolTurn)
            && super::request::answers_tool_results(body));
    for b in &mut g.blocks {
        // citations-dropped: the cited text stays, its citations go.
        if faults.has(Fault::CitationsDropped)
            && let Block::Cited { text, .. } = b
        {
            *b = Block::Text {
                text: std::mem::take(text),
            };
            continue;
        }
        match b {
            Block::Thinking { signature, .. } if unsigned => {
                signature.clear();
            }
            // tool-input-string: the input is a JSON string holding the arguments.
            Block::ToolUse { input, json, .. } if faults.has(Fault::ToolInputString) => {
                *input = Value::String(json.clone());
                *json = input.to_string();
            }
            _ => {}
        }
    }
    // non-anthropic-ids: OpenAI-looking ids, derived from the clean ones.
    if faults.has(Fault::NonAnthropicIds) {
        g.id = format!(
            "chatcmpl-{}",
            Rng::new(fnv(seed, g.id.as_bytes())).base62(29)
        );
        for b in &mut g.blocks {
            if let Block::ToolUse { id, .. } = b {
                *id = format!("call_{}", Rng::new(fnv(seed, id.as_bytes())).base62(24));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::generate::generate;
    use serde_json::json;

    fn body(extra: Value) -> Value {
        let mut b = json!({"model": "m", "max_tokens": 512,
            "messages": [{"role": "user", "content": "What's the weather like in Hangzhou today?"}]});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    }

    fn with(fault: Fault, b: &Value) -> Generated {
        let mut g = generate(b, 0);
        apply(&mut g, b, 0, &FaultSet::new([fault]));
        g
    }

    #[test]
    fn stop_sequences_ignored_or_misreported() {
        let b = body(json!({"stop_sequences": ["STOP"]}));
        let clean = generate(&b, 0);
        assert_eq!(clean.stop_reason, "stop_sequence");
        let ignored = with(Fault::StopSequenceIgnored, &b);
        let Some(Block::Text { text }) = ignored.blocks.last() else {
            panic!()
        };
        assert!(text.contains("STOP"));
        assert_eq!(
            (ignored.stop_reason, ignored.stop_sequence),
            ("end_turn", None)
        );
        let end_turn = with(Fault::StopSequenceEndTurn, &b);
        assert_eq!(end_turn.blocks, clean.blocks);
        assert_eq!(end_turn.stop_reason, "end_turn");
    }

    #[test]
    fn refusal_details_dropped() {
        let b = body(
            json!({"messages": [{"role": "user", "content": "Please conform-refusal-probe now."}]}),
        );
        let clean = generate(&b, 0);
        assert_eq!(clean.stop_reason, "refusal");
        assert_eq!(clean.stop_details.as_ref().unwrap()["type"], "refusal");
        let faulty = with(Fault::RefusalWithoutStopDetails, &b);
        assert_eq!((faulty.stop_reason, faulty.stop_details), ("refusal", None));
    }

    #[test]
    fn tool_faults() {
        let tools = json!([
            {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
            {"name": "get_time", "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}}}]);
        let b = body(
            json!({"tools": tools, "tool_choice": {"type": "auto", "disable_parallel_tool_use": true}}),
        );
        let calls = |g: &Generated| {
            g.blocks
                .iter()
                .filter(|b| matches!(b, Block::ToolUse { .. }))
                .count()
        };
        assert_eq!(calls(&generate(&b, 0)), 1);
        assert_eq!(calls(&with(Fault::ParallelToolsIgnored, &b)), 2);
        assert_eq!(with(Fault::WrongStopReason, &b).stop_reason, "end_turn");
        let ids = with(Fault::NonAnthropicIds, &b);
        assert!(ids.id.starts_with("chatcmpl-"));
        let Some(Block::ToolUse { id, .. }) = ids.blocks.last() else {
            panic!()
        };
        assert!(id.starts_with("call_"));
        let Some(Block::ToolUse { input, .. }) = with(Fault::ToolInputString, &b).blocks.pop()
        else {
            panic!()
        };
        assert!(input.is_string());
    }
}
