//! The model's whims: the choices a real model makes differently from one request (and one
//! run) to the next, while the protocol around them stays exact.
//!
//! [`Behaviour::Deterministic`] (the default) makes today's choices, a function of the request
//! alone: probes and the detection matrix build on them. [`Behaviour::Realistic`] draws them
//! from the request *and* `--seed`, the way a sampled model varies:
//!
//! * answer length from one sentence to several hundred tokens (so `stop_reason` is
//!   `end_turn` or, past `max_tokens`, `max_tokens`); thinking from a line to a page, within
//!   `budget_tokens`;
//! * under `tool_choice` `auto` a named tool is sometimes not called, an unnamed one sometimes
//!   is, and a tool result is sometimes answered by another call; two tools that could be
//!   called in parallel are sometimes called one at a time;
//! * a counting task is sometimes cut short, prefaced with chatter, or answered in prose;
//! * a stop sequence the prompt does not force is sometimes never written;
//! * a format asked for only in prose (JSON) is sometimes followed, sometimes in a code fence,
//!   sometimes ignored.
//!
//! What the protocol decides is never a whim: forced `tool_choice`, `none`, structured output
//! (always valid against its schema), `max_tokens`, stop sequences that do occur (always cut),
//! thinking on request, prefill continued.

use super::conversation::Conversation;
use crate::mock::hash::{Rng, mix64};

/// How the mock's model behaves (`conform mock --behaviour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Behaviour {
    /// Every choice a function of the request alone: the same block structure for every seed.
    #[default]
    Deterministic,
    /// Choices drawn from the request and `--seed` like a sampled model's: lengths, stop
    /// reasons, tool calls under `auto`, formatting and counting vary; the protocol does not.
    Realistic,
}

impl Behaviour {}

/// Under `tool_choice` `auto`: what the model does with the request's tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AutoTools {
    /// Calls the tools the prompt names, never answers a tool result with a call.
    AsNamed,
    /// Answers in text even when the prompt names a tool.
    Declines,
    /// Calls a tool although the prompt names none (or calls again after a tool result).
    Unprompted,
    /// Calls another tool than the one the prompt names (only under `--tool-skill`).
    Wrong,
}

/// What the model does with "count from A to B".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Counting {
    AsAsked,
    /// Stops after this share (per mille) of the numbers.
    ShortBy(u64),
    /// A sentence of chatter, then the count.
    Chatty,
    /// Prose, no count at all.
    Prose,
}

/// How the text answers an instruction given in prose about its format (JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Prose,
    JsonObject,
    FencedJson,
}

/// The choices for one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Whims {
    /// Sentences after the opening line of a prose answer; `None`: 2 to 4 (deterministic).
    pub(super) sentences: Option<u64>,
    /// Sentences of thinking after its opening line; `None`: 1 to 3 (deterministic).
    pub(super) thinking_sentences: Option<u64>,
    pub(super) auto_tools: AutoTools,
    /// Which tool an unprompted call picks (index modulo the number of tools).
    pub(super) unprompted_pick: u64,
    /// Whether several matching tools are called in parallel (else only the first).
    pub(super) parallel: bool,
    /// Whether a stop sequence the text does not contain is written anyway.
    pub(super) writes_stop_sequence: bool,
    pub(super) counting: Counting,
    pub(super) format: Format,
    /// Under `--tool-skill`: the decision when the prompt names a tool, and when it names none
    /// (replacing `auto_tools`).
    pub(super) skilled: Option<[AutoTools; 2]>,
}

impl Whims {
    /// Today's deterministic choices.
    pub(super) fn faithful() -> Whims {
        Whims {
            sentences: None,
            thinking_sentences: None,
            auto_tools: AutoTools::AsNamed,
            unprompted_pick: 0,
            parallel: true,
            writes_stop_sequence: true,
            counting: Counting::AsAsked,
            format: Format::Prose,
            skilled: None,
        }
    }

    /// The choices for a request (`hash`) under `behaviour` and `seed`.
    pub(super) fn draw(behaviour: Behaviour, hash: u64, seed: u64, c: &Conversation) -> Whims {
        if behaviour == Behaviour::Deterministic {
            return Whims::faithful();
        }
        let mut r = Rng::new(hash ^ mix64(seed ^ 0x7768_696d_7321)); // "whims!"
        let sentences = match r.range(0, 99) {
            0..=39 => r.range(0, 2),
            40..=74 => r.range(3, 12),
            _ => r.range(13, 60),
        };
        let thinking_sentences = match r.range(0, 99) {
            0..=49 => r.range(0, 3),
            _ => r.range(4, 40),
        };
        let auto_tools = match r.range(0, 99) {
            0..=19 => AutoTools::Declines,
            20..=39 => AutoTools::Unprompted,
            _ => AutoTools::AsNamed,
        };
        let unprompted_pick = r.next_u64();
        let parallel = r.range(0, 99) < 75;
        let writes_stop_sequence = r.range(0, 99) < 60;
        let counting = match r.range(0, 99) {
            0..=59 => Counting::AsAsked,
            60..=74 => Counting::ShortBy(r.range(100, 900)),
            75..=89 => Counting::Chatty,
            _ => Counting::Prose,
        };
        let asks_json = c
            .user_text
            .split(|ch: char| !ch.is_alphanumeric())
            .any(|w| w.eq_ignore_ascii_case("json"));
        let format = if asks_json {
            match r.range(0, 99) {
                0..=49 => Format::JsonObject,
                50..=74 => Format::FencedJson,
                _ => Format::Prose,
            }
        } else {
            Format::Prose
        };
        Whims {
            sentences: Some(sentences),
            thinking_sentences: Some(thinking_sentences),
            auto_tools,
            unprompted_pick,
            parallel,
            writes_stop_sequence,
            counting,
            format,
            skilled: None,
        }
    }

    /// A prose answer put in the format the model chose.
    pub(super) fn formatted(&self, text: String) -> String {
        match self.format {
            Format::Prose => text,
            Format::JsonObject => serde_json::json!({ "answer": text }).to_string(),
            Format::FencedJson => {
                format!("```json\n{}\n```", serde_json::json!({ "answer": text }))
            }
        }
    }

    /// `1, 2, …, 30.` (asked) as the model chose to write it; `None` for prose instead.
    pub(super) fn count(&self, from: u32, to: u32) -> Option<String> {
        let to = match self.counting {
            Counting::Prose => return None,
            Counting::ShortBy(per_mille) => {
                let span = u64::from(to - from) * per_mille / 1000;
                from + span as u32
            }
            Counting::AsAsked | Counting::Chatty => to,
        };
        let list: Vec<String> = (from..=to).map(|n| n.to_string()).collect();
        let count = format!("{}.", list.join(", "));
        Some(if self.counting == Counting::Chatty {
            format!("Sure! Here are the numbers:\n\n{count}")
        } else {
            count
        })
    }

    /// The answer to `Repeat exactly: TEXT`, the way this model follows instructions (the same
    /// habit as counting: it may answer in prose, stop early, or talk around the text).
    pub(super) fn repeat(&self, text: &str) -> Option<String> {
        match self.counting {
            Counting::Prose => None,
            Counting::ShortBy(per_mille) => {
                let words: Vec<&str> = text.split_whitespace().collect();
                let keep = (words.len() as u64 * per_mille / 1000) as usize;
                Some(words[..keep.max(1).min(words.len())].join(" "))
            }
            Counting::AsAsked => Some(text.to_string()),
            Counting::Chatty => Some(format!("Sure! Here it is:\n\n{text}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Block, Generated, generate_as, request_hash};
    use super::*;
    use crate::mock::hash::sign_thinking;
    use crate::mock::tokenize;
    use serde_json::{Value, json};
    use std::collections::BTreeSet;

    const SEEDS: u64 = 200;

    fn realistic(body: &Value, seed: u64) -> Generated {
        generate_as(body, request_hash(body), seed, Behaviour::Realistic)
    }

    fn ask(prompt: &str, max_tokens: u64, extra: Value) -> Value {
        let mut b = json!({"model": "conform-mock", "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": prompt}]});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    }

    fn tools() -> Value {
        json!([
            {"name": "get_weather", "input_schema": {"type": "object",
                "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            {"name": "get_local_time", "input_schema": {"type": "object",
                "properties": {"city": {"type": "string"}, "utc": {"type": "boolean"}},
                "required": ["city"]}}])
    }

    fn text_of(g: &Generated) -> String {
        g.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn base62_id(id: &str, prefix: &str) -> bool {
        id.strip_prefix(prefix)
            .is_some_and(|r| r.len() == 22 && r.bytes().all(|b| b.is_ascii_alphanumeric()))
    }

    /// The protocol rules every realistic answer keeps, whatever the model chose.
    fn assert_legal(body: &Value, g: &Generated, seed: u64) {
        let ctx = format!("seed {seed}: {g:?}");
        let max = body["max_tokens"].as_u64().unwrap();
        assert!(g.output_tokens >= 1 && g.output_tokens <= max, "{ctx}");
        assert!(base62_id(&g.id, "msg_01"), "{ctx}");
        let stops: Vec<&str> = body["stop_sequences"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let text = text_of(g);
        assert!(
            stops.iter().all(|s| !text.contains(s)),
            "stop sequence kept: {ctx}"
        );
        let calls: Vec<(&String, &Value, &String)> = g
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::ToolUse {
                    id, input, json, ..
                } => Some((id, input, json)),
                _ => None,
            })
            .collect();
        match g.stop_reason {
            "stop_sequence" => assert!(
                g.stop_sequence
                    .as_deref()
                    .is_some_and(|s| stops.contains(&s)),
                "{ctx}"
            ),
            "tool_use" => {
                assert!(!calls.is_empty() && g.stop_sequence.is_none(), "{ctx}");
                assert!(
                    matches!(g.blocks.last(), Some(Block::ToolUse { .. })),
                    "{ctx}"
                );
            }
            "end_turn" => assert!(calls.is_empty() && g.stop_sequence.is_none(), "{ctx}"),
            "max_tokens" => {
                // Cut: the budget is spent (a tool call's overhead may round it).
                assert!(g.output_tokens + 3 >= max || !calls.is_empty(), "{ctx}");
            }
            other => panic!("stop_reason {other}: {ctx}"),
        }
        for (id, input, json) in &calls {
            assert!(base62_id(id, "toolu_01"), "{ctx}");
            if g.stop_reason != "max_tokens" {
                assert_eq!(
                    serde_json::from_str::<Value>(json).ok().as_ref(),
                    Some(*input)
                );
                assert!(input.get("city").is_some_and(Value::is_string), "{ctx}");
            }
        }
        match body.pointer("/tool_choice/type").and_then(Value::as_str) {
            Some("any" | "tool") => assert!(!calls.is_empty(), "forced call missing: {ctx}"),
            Some("none") => assert!(calls.is_empty(), "{ctx}"),
            _ => {}
        }
        if let Some(schema) = body.pointer("/output_config/format/schema")
            && g.stop_reason != "max_tokens"
        {
            let v: Value = serde_json::from_str(&text).expect("structured output is JSON");
            let validator = jsonschema::validator_for(schema).unwrap();
            assert!(validator.is_valid(&v), "{v}: {ctx}");
        }
        if let Some(budget) = body
            .pointer("/thinking/budget_tokens")
            .and_then(Value::as_u64)
        {
            let Some(Block::Thinking {
                thinking,
                signature,
            }) = g.blocks.first()
            else {
                panic!("thinking first: {ctx}")
            };
            assert!(tokenize::count(thinking) <= budget, "{ctx}");
            assert_eq!(*signature, sign_thinking(seed, thinking));
        }
    }

    #[test]
    fn every_realistic_answer_is_legal_and_they_vary() {
        let schema = json!({"type": "object", "additionalProperties": false,
            "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string"}}},
            "required": ["name", "age", "tags"]});
        let count = "Count from 1 to 30, as digits separated by commas and spaces.";
        let cases = [
            ask("Name a colour.", 32, json!({})),
            ask("Say hello.", 1024, json!({})),
            ask("Describe the sea as JSON.", 1024, json!({})),
            ask(count, 512, json!({"stop_sequences": ["17"]})),
            ask(count, 512, json!({"stop_sequences": ["25", "12"]})),
            ask("Write an essay.", 512, json!({"stop_sequences": ["END"]})),
            ask(
                "What's the weather in Paris?",
                1024,
                json!({"tools": tools()}),
            ),
            ask("Say hello.", 1024, json!({"tools": tools()})),
            ask(
                "Hi",
                1024,
                json!({"tools": tools(), "tool_choice": {"type": "any"}}),
            ),
            ask(
                "Hi",
                12,
                json!({"tools": tools(), "tool_choice": {"type": "any"}}),
            ),
            ask(
                "Hi",
                1024,
                json!({"tools": tools(),
                "tool_choice": {"type": "tool", "name": "get_local_time"}}),
            ),
            ask(
                "What's the weather?",
                1024,
                json!({"tools": tools(), "tool_choice": {"type": "none"}}),
            ),
            ask(
                "Who?",
                1024,
                json!({"output_config": {"format": {"type": "json_schema", "schema": schema}}}),
            ),
            ask(
                "Think.",
                2048,
                json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}),
            ),
            ask(
                "Think.",
                1100,
                json!({"thinking": {"type": "enabled", "budget_tokens": 1024},
                "tools": tools()}),
            ),
        ];
        for body in &cases {
            for seed in 0..SEEDS {
                assert_legal(body, &realistic(body, seed), seed);
            }
        }
        // The model does vary, where the protocol lets it.
        let reasons = |body: &Value| -> BTreeSet<&'static str> {
            (0..SEEDS).map(|s| realistic(body, s).stop_reason).collect()
        };
        assert_eq!(
            reasons(&cases[0]),
            BTreeSet::from(["end_turn", "max_tokens"])
        );
        assert!(reasons(&cases[3]).is_superset(&BTreeSet::from(["end_turn", "stop_sequence"])));
        assert!(reasons(&cases[5]).is_superset(&BTreeSet::from(["end_turn", "stop_sequence"])));
        for auto in [&cases[6], &cases[7]] {
            assert!(reasons(auto).is_superset(&BTreeSet::from(["end_turn", "tool_use"])));
        }
        let texts: Vec<String> = (0..SEEDS)
            .map(|s| text_of(&realistic(&cases[2], s)))
            .collect();
        let json_like = texts
            .iter()
            .filter(|t| serde_json::from_str::<Value>(t).is_ok())
            .count();
        assert!(
            json_like > 0 && json_like < texts.len(),
            "{json_like} of {}",
            texts.len()
        );
        let lengths: BTreeSet<u64> = (0..SEEDS)
            .map(|s| realistic(&cases[1], s).output_tokens)
            .collect();
        assert!(
            lengths.iter().min() < Some(&30) && lengths.iter().max() > Some(&300),
            "{lengths:?}"
        );
        let counted_16 = (0..SEEDS)
            .filter(|s| text_of(&realistic(&cases[3], *s)).contains("16"))
            .count() as u64;
        assert!(counted_16 > SEEDS / 2 && counted_16 < SEEDS, "{counted_16}");
    }

    #[test]
    fn deterministic_keeps_todays_choices() {
        let body = ask("Name a colour.", 32, json!({}));
        let c = Conversation::read(&body);
        for seed in 0..20 {
            assert_eq!(
                Whims::draw(Behaviour::Deterministic, request_hash(&body), seed, &c),
                Whims::faithful()
            );
            let g = generate_as(&body, request_hash(&body), seed, Behaviour::Deterministic);
            assert_eq!(g, super::super::generate(&body, seed));
        }
    }
}
