//! Deterministic generation of the assistant's answer from the request and the seed.
//!
//! Two random streams: a *shape* stream seeded by the request alone (lengths, which optional
//! fields a tool input has) and a *word* stream seeded by the request and `--seed` (words,
//! numbers, ids). So the same request and seed give the same answer, and another seed changes
//! text and ids but not the block structure (the stop reason only where a text's length meets
//! `max_tokens`). That is [`Behaviour::Deterministic`], the default; under
//! [`Behaviour::Realistic`] the shape stream and the model's choices ([`realistic`]: lengths,
//! tool calls under `auto`, counting, stop sequences written, formats asked for in prose) also
//! follow the seed, like a sampled model's, and the rules below marked *(deterministic)* become
//! tendencies while the protocol stays exact.
//!
//! Rules that make effects observable (documented for probes):
//! * thinking `enabled`/`adaptive` → one thinking block first, signed with [`sign_thinking`];
//!   a `redacted_thinking` block instead ([`seal_redacted`]) when a user turn carries
//!   Anthropic's test string `ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_…`.
//! * tools with `tool_choice` `auto` (the default) *(deterministic)*: a tool is called only when the last user
//!   prompt names it — its exact name or one of its keywords (the words of its name, split at
//!   `_`/`-`/camelCase, of 4+ letters, e.g. "weather" for `get_weather`), as a whole word, outside
//!   `<system-reminder>` sections; then a short text preamble precedes the call. A client's
//!   tools are never called at random.
//!   `any` calls the matching tools or else the first; `tool` calls the named one (no preamble);
//!   `none` never calls. Up to 2 tools are called in parallel unless
//!   `disable_parallel_tool_use`. A turn answering `tool_result`s is answered with text (auto),
//!   except in a sequential loop (`disable_parallel_tool_use`): then it calls the next tool the
//!   first user prompt (the task) names that no assistant turn has called yet — or, first, a
//!   tool whose result came back with `is_error: true` after its only call (one retry). The
//!   text answering tool results quotes their start (plain-text documents included).
//! * structured output (`output_config.format` or `output_format`) → the text is JSON valid
//!   against the schema.
//! * `stop_sequences` → the text is generated with the first stop sequence in its middle
//!   *(deterministic)* and cut before the earliest match of any sequence
//!   (`stop_reason: stop_sequence`).
//! * prefill (last message from the assistant) → the text continues it without repeating it.
//! * `max_tokens` → output is cut at that many tokens (inside thinking, text or a tool input).
//! * a last user turn containing [`REFUSAL_TRIGGER`] (`conform-refusal-probe`) → a short
//!   declining text, `stop_reason: refusal` and `stop_details: {type: refusal, category: null,
//!   explanation}` *(in every behaviour)*.
//! * `output_config.effort` → the prose answer and the thinking get a fixed number of
//!   sentences per level (`low` fewest, `max` most; [`effort_sentences`]), so lower effort is
//!   fewer output tokens *(also under realistic behaviour)*.
//! * server tools (`web_search`, `web_fetch`, `code_execution`) the prompt asks for are run
//!   with canned results, pausing (`pause_turn`) past the loop limit; documents and search
//!   results with citations enabled are quoted with citations ([`server_tools`],
//!   [`citations`]).
//!
//! The generator knows no fault: the faults that change an answer are transforms of the request
//! before generation or of the [`Generated`] answer after it (`faults/request.rs`,
//! `faults/answer.rs`).
//!
//! Files: this one plans the answer (thinking, tools or structured output or text, stop
//! sequences, the `max_tokens` budget); [`conversation`] reads the request, [`realistic`] draws
//! the model's choices, [`text`] writes prose and thinking, [`tools`] picks the tools to call,
//! [`values`] builds JSON values from schemas.

mod citations;
mod conversation;
pub(crate) mod realistic;
pub(crate) mod server_tools;
pub(crate) mod skill;
mod text;
mod tools;
mod values;

use serde_json::{Map, Value, json};

use super::hash::{REDACTED_THINKING_TRIGGER, Rng, fnv, mix64, seal_redacted, sign_thinking};
use super::tokenize;
use crate::protocol::anthropic::wire::output_format;
use conversation::Conversation;
pub(crate) use realistic::Behaviour;
use realistic::Whims;
pub(crate) use server_tools::ServerUsage;
pub(crate) use skill::Skill;
use text::{answer_text, sentence, thinking_text};
use tools::{ToolDef, choice_type, tool_calls};
pub(crate) use values::value_for;

/// One generated content block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    Thinking {
        thinking: String,
        signature: String,
    },
    /// Thinking the safety systems encrypted: opaque `data` ([`seal_redacted`]), passed back
    /// unchanged.
    RedactedThinking {
        data: String,
    },
    Text {
        text: String,
    },
    /// `json` is what a stream sends as `partial_json` fragments: the full serialised input, or
    /// a prefix when `max_tokens` cut it.
    ToolUse {
        id: String,
        name: String,
        input: Value,
        json: String,
    },
    /// Text with its citations (a streamed one sends each as a `citations_delta` first).
    Cited {
        text: String,
        citations: Vec<Value>,
    },
    /// A call of a server tool (`server_tool_use`), run by the server itself.
    ServerToolUse {
        id: String,
        name: String,
        input: Value,
    },
    /// A server tool's result (`web_search_tool_result`, …), streamed whole in its start.
    ServerToolResult {
        kind: String,
        tool_use_id: String,
        content: Value,
    },
}

/// The generated answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Generated {
    pub id: String,
    pub blocks: Vec<Block>,
    pub stop_reason: &'static str,
    pub stop_sequence: Option<String>,
    pub output_tokens: u64,
    /// The text a stop sequence cut off (the sequence and what follows), kept so a fault that
    /// ignores stop sequences can put it back.
    pub overrun: Option<String>,
    /// `stop_details` of a refusal (`{type: refusal, category, explanation}`); `None` otherwise.
    pub stop_details: Option<Value>,
    /// `context_management` of the answer (`{applied_edits: [...]}`), set by the server when it
    /// applied context edits to the prompt (`context_edit.rs`); the generator leaves it `None`.
    pub context_management: Option<Value>,
    /// `usage.server_tool_use` (and the container) when the request declares server tools.
    pub server_usage: Option<ServerUsage>,
}

/// The prompt text the reference server refuses (documented for probes): a last user turn
/// containing it is answered with `stop_reason: refusal` and `stop_details`.
pub(crate) const REFUSAL_TRIGGER: &str = "conform-refusal-probe";

/// Hash of a request for the random streams (`stream` excluded so both modes agree).
pub(crate) fn request_hash(body: &Value) -> u64 {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("stream");
    }
    fnv(0xcbf2_9ce4_8422_2325, b.to_string().as_bytes())
}

/// Generates the answer to a validated request.
#[cfg(test)]
pub(crate) fn generate(body: &Value, seed: u64) -> Generated {
    generate_hashed(body, request_hash(body), seed)
}

/// [`generate`] with the random streams seeded by `hash` (a fault that rewrites the request
/// keeps the original request's hash, so the words stay those of the clean answer).
#[cfg(test)]
pub(crate) fn generate_hashed(body: &Value, hash: u64, seed: u64) -> Generated {
    generate_as(body, hash, seed, Behaviour::Deterministic)
}

/// [`generate_hashed`] by a model of the given [`Behaviour`]: realistic draws the shape stream
/// and the model's choices from `seed` too.
#[cfg(test)]
pub(crate) fn generate_as(body: &Value, hash: u64, seed: u64, behaviour: Behaviour) -> Generated {
    generate_with(body, hash, seed, behaviour, &Skill::default())
}

/// [`generate_as`] by a realistic model with the [`Skill`] knobs (ignored when deterministic).
pub(crate) fn generate_with(
    body: &Value,
    hash: u64,
    seed: u64,
    behaviour: Behaviour,
    skill: &Skill,
) -> Generated {
    let h = hash;
    let skill = if behaviour == Behaviour::Realistic {
        *skill
    } else {
        Skill::default()
    };
    let mut shape = match behaviour {
        Behaviour::Deterministic => Rng::new(h),
        Behaviour::Realistic => Rng::new(h ^ mix64(seed ^ 0x7368_6170_6521)), // "shape!"
    };
    let mut words = Rng::new(h ^ mix64(seed.wrapping_add(1)));
    let id = format!("msg_01{}", words.base62(22));
    let convo = Conversation::read(body);
    if convo.user_text.contains(REFUSAL_TRIGGER) {
        return refusal(id, body);
    }
    let mut whims = Whims::draw(behaviour, h, seed, &convo);
    if let Some((answer, thinking)) = effort_sentences(body) {
        whims.sentences = Some(answer);
        whims.thinking_sentences = Some(thinking);
    }
    if let (Some(named), Some(unnamed)) = (
        skill.auto_tools(h, seed, true),
        skill.auto_tools(h, seed, false),
    ) {
        whims.skilled = Some([named, unnamed]);
    }
    let mut plan: Vec<Block> = Vec::new();

    // Thinking.
    let thinking_type = body
        .get("thinking")
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str);
    let thinking_on = matches!(thinking_type, Some("enabled") | Some("adaptive"));
    if thinking_on {
        let omitted = body.pointer("/thinking/display").and_then(Value::as_str) == Some("omitted");
        let text = if omitted {
            String::new()
        } else {
            let text = thinking_text(&convo, whims.thinking_sentences, &mut shape, &mut words);
            match thinking_budget(body) {
                // A sampled model thinks within its budget.
                Some(b) if behaviour == Behaviour::Realistic && tokenize::count(&text) > b => {
                    tokenize::truncate(&text, b).to_string()
                }
                _ => text,
            }
        };
        plan.push(Block::Thinking {
            thinking: text,
            signature: String::new(),
        });
    }

    // Server tools (run here, with canned results), else custom tools.
    let server = server_tools::turn(body, &convo, &mut words);
    let paused = server.as_ref().is_some_and(|t| t.paused);
    let mut calls = if server.is_some() {
        Vec::new()
    } else {
        tool_calls(body, &convo, &whims)
    };
    // The loop is known by its task and its metadata (the same on every turn).
    let loop_key = || {
        format!(
            "{}{}",
            convo.task_text,
            body.get("metadata").unwrap_or(&Value::Null)
        )
    };
    if server.is_none()
        && calls.is_empty()
        && convo.answers_tools
        && skill.abandons_loop(&loop_key(), seed)
    {
        // An abandoned agent loop: the last tool again instead of an answer.
        calls = tools::custom_tools(body)
            .into_iter()
            .filter(|t| convo.called.last() == Some(&t.name))
            .take(1)
            .collect();
    }
    let eager_tools: Vec<String> = calls
        .iter()
        .filter(|t| t.eager)
        .map(|t| t.name.clone())
        .collect();
    let mut stop_candidates: Option<Vec<String>> = None;
    if let Some(turn) = server {
        plan.extend(turn.blocks);
    } else if !calls.is_empty() {
        let forced = matches!(choice_type(body), "any" | "tool");
        if !forced {
            let names: Vec<&str> = calls.iter().map(|t| t.name.as_str()).collect();
            plan.push(Block::Text {
                text: format!(
                    "I'll use the {} tool to help with that.",
                    names.join(" and ")
                ),
            });
        }
        for (i, tool) in calls.iter().enumerate() {
            let mut call = tool_use(tool, &convo.user_text, &mut shape, &mut words);
            if let Block::ToolUse { input, json, .. } = &mut call
                && skill.maybe_break(h, seed, i, &tool.schema, input)
            {
                *json = input.to_string();
            }
            plan.push(call);
        }
    } else if let Some(format) = output_format(body) {
        let schema = format.get("schema").cloned().unwrap_or(json!({}));
        let v = value_for(
            &schema,
            &schema,
            "output",
            &convo.user_text,
            &mut shape,
            &mut words,
            0,
        );
        plan.push(Block::Text {
            text: v.to_string(),
        });
    } else {
        // A counting request is answered by counting, a request to repeat a text by repeating
        // it (probes build on them: a stop sequence on a number, or on a word of the text, is
        // then near-certain to be reached).
        let mut text = text::counting(&convo.user_text)
            .and_then(|(from, to)| whims.count(from, to))
            .or_else(|| text::repeating(&convo.user_text).and_then(|t| whims.repeat(t)))
            .unwrap_or_else(|| {
                let prose = answer_text(&convo, whims.sentences, &mut shape, &mut words);
                if convo.prefill.is_none() {
                    whims.formatted(prose)
                } else {
                    prose
                }
            });
        let stops: Vec<String> = body
            .get("stop_sequences")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(first) = stops
            .first()
            .filter(|f| whims.writes_stop_sequence && !text.contains(f.as_str()))
        {
            let more = sentence(&convo, &mut shape, &mut words);
            text = format!("{text} {first} {more}");
        }
        if !stops.is_empty() {
            stop_candidates = Some(stops);
        }
        // Citable sources are quoted before the prose (a stop sequence cuts the prose).
        if convo.prefill.is_none() {
            plan.extend(citations::cited_sources(body));
        }
        plan.push(Block::Text { text });
    }

    // Stop sequences: cut at the earliest match.
    let mut stop_sequence = None;
    let mut overrun = None;
    if let Some(stops) = &stop_candidates
        && let Some(Block::Text { text }) = plan.last_mut()
    {
        let hit = stops
            .iter()
            .filter_map(|s| text.find(s.as_str()).map(|at| (at, s)))
            .min_by_key(|(at, _)| *at);
        if let Some((at, s)) = hit {
            overrun = Some(text[at..].to_string());
            text.truncate(at);
            stop_sequence = Some(s.clone());
        }
    }

    // max_tokens budget.
    let budget = body
        .get("max_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let mut used = 0u64;
    let mut truncated = false;
    let redacted = redacts_thinking(body);
    let mut blocks = Vec::new();
    for block in plan {
        let remaining = budget.saturating_sub(used);
        if remaining == 0 {
            truncated = true;
            break;
        }
        match block {
            Block::Thinking { thinking, .. } => {
                let n = tokenize::count(&thinking);
                let kept = if n > remaining {
                    truncated = true;
                    tokenize::truncate(&thinking, remaining).to_string()
                } else {
                    thinking
                };
                used += tokenize::count(&kept).max(1).min(remaining);
                if redacted {
                    blocks.push(Block::RedactedThinking {
                        data: seal_redacted(seed, &redaction_payload(&kept)),
                    });
                } else {
                    let signature = sign_thinking(seed, &kept);
                    blocks.push(Block::Thinking {
                        thinking: kept,
                        signature,
                    });
                }
            }
            // Planned as thinking and redacted when spent; nothing plans one directly.
            Block::RedactedThinking { data } => blocks.push(Block::RedactedThinking { data }),
            Block::Text { text } => {
                let (text, _) = spend_text(text, remaining, &mut used, &mut truncated);
                blocks.push(Block::Text { text });
            }
            // A cited text cut short loses its citations (they point into the whole text).
            Block::Cited { text, citations } => {
                match spend_text(text, remaining, &mut used, &mut truncated) {
                    (text, true) => blocks.push(Block::Cited { text, citations }),
                    (text, false) => blocks.push(Block::Text { text }),
                }
            }
            Block::ServerToolUse { id, name, input } => {
                let n = 3 + tokenize::count(&name) + tokenize::count(&input.to_string());
                if n > remaining {
                    truncated = true;
                    used += remaining;
                } else {
                    used += n;
                    blocks.push(Block::ServerToolUse { id, name, input });
                }
            }
            // The server's result costs no output tokens.
            result @ Block::ServerToolResult { .. } => blocks.push(result),
            Block::ToolUse {
                id,
                name,
                input,
                json,
            } => {
                let overhead = 3 + tokenize::count(&name);
                let n = overhead + tokenize::count(&json);
                if n > remaining {
                    truncated = true;
                    let keep = remaining.saturating_sub(overhead);
                    let prefix = tokenize::truncate(&json, keep).to_string();
                    used += remaining;
                    let partial = complete_entries(&input, &prefix);
                    // Anthropic buffers each parameter value until it is complete (unless the
                    // tool asks for eager_input_streaming), so a cut stream carries the complete
                    // parameters and no closing brace.
                    let streamed = if eager_tools.contains(&name) {
                        prefix
                    } else {
                        let mut s = partial.to_string();
                        s.pop();
                        s
                    };
                    blocks.push(Block::ToolUse {
                        id,
                        name,
                        input: partial,
                        json: streamed,
                    });
                } else {
                    used += n;
                    blocks.push(Block::ToolUse {
                        id,
                        name,
                        input,
                        json,
                    });
                }
            }
        }
        if truncated {
            break;
        }
    }
    let has_tool = blocks.iter().any(|b| matches!(b, Block::ToolUse { .. }));
    let (stop_reason, stop_sequence) = if truncated {
        ("max_tokens", None)
    } else if stop_sequence.is_some() {
        ("stop_sequence", stop_sequence)
    } else if has_tool {
        ("tool_use", None)
    } else if paused {
        ("pause_turn", None)
    } else {
        ("end_turn", None)
    };
    let server_usage = server_tools::usage_of(body, &blocks);
    Generated {
        id,
        blocks,
        stop_reason,
        stop_sequence,
        output_tokens: used.max(1),
        overrun: if truncated { None } else { overrun },
        stop_details: None,
        context_management: None,
        server_usage,
    }
}

/// Whether the answer's thinking comes redacted: a user turn carries Anthropic's test string
/// for redacted thinking ([`REDACTED_THINKING_TRIGGER`]).
fn redacts_thinking(body: &Value) -> bool {
    body.get("messages")
        .and_then(Value::as_array)
        .is_some_and(|ms| {
            ms.iter()
                .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
                .any(|m| {
                    m.get("content")
                        .is_some_and(|c| c.to_string().contains(REDACTED_THINKING_TRIGGER))
                })
        })
}

/// The opaque bytes a redacted thinking block stands for (derived from the thinking text).
fn redaction_payload(thinking: &str) -> Vec<u8> {
    (0..4u64)
        .flat_map(|lane| mix64(fnv(lane, thinking.as_bytes())).to_le_bytes())
        .collect()
}

/// The answer to a prompt with [`REFUSAL_TRIGGER`]: a short declining text (within
/// `max_tokens`), `stop_reason: refusal` and its `stop_details`, as Anthropic's classifiers
/// end a refused answer.
fn refusal(id: String, body: &Value) -> Generated {
    let budget = body
        .get("max_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let text = tokenize::truncate("I can't help with that request.", budget).to_string();
    let output_tokens = tokenize::count(&text).max(1);
    Generated {
        id,
        blocks: vec![Block::Text { text }],
        stop_reason: "refusal",
        stop_sequence: None,
        output_tokens,
        overrun: None,
        context_management: None,
        server_usage: server_tools::usage_of(body, &[]),
        stop_details: Some(json!({
            "type": "refusal",
            "category": null,
            "explanation": "The request matched the reference server's refusal trigger."
        })),
    }
}

/// `output_config.effort`, when the request sets it: how many sentences the answer and the
/// thinking get after their opening one (`low` 1 and 0, `medium` 2 and 1, `high` 4 and 3,
/// `xhigh` 6 and 5, `max` 8 and 7), whatever the model's whims. Lower effort is fewer output
/// tokens, deterministically (a probe compares two efforts); without `effort` the lengths are
/// the model's own.
fn effort_sentences(body: &Value) -> Option<(u64, u64)> {
    Some(
        match body
            .pointer("/output_config/effort")
            .and_then(Value::as_str)?
        {
            "low" => (1, 0),
            "medium" => (2, 1),
            "high" => (4, 3),
            "xhigh" => (6, 5),
            "max" => (8, 7),
            _ => return None,
        },
    )
}

/// `thinking.budget_tokens`, when the request sets one.
fn thinking_budget(body: &Value) -> Option<u64> {
    body.pointer("/thinking/budget_tokens")
        .and_then(Value::as_u64)
}

/// A call of `tool` with an input generated from its schema and the prompt.
fn tool_use(tool: &ToolDef, prompt: &str, shape: &mut Rng, words: &mut Rng) -> Block {
    let input = value_for(&tool.schema, &tool.schema, "input", prompt, shape, words, 0);
    let input = if input.is_object() { input } else { json!({}) };
    let json = input.to_string();
    Block::ToolUse {
        id: format!("toolu_01{}", words.base62(22)),
        name: tool.name.clone(),
        input,
        json,
    }
}

/// One more call, of the first custom tool of the request the answer does not call yet (the
/// `parallel-tools-ignored` fault); `None` when every tool is called already.
pub(crate) fn extra_tool_call(body: &Value, answer: &Generated, seed: u64) -> Option<Block> {
    let called: Vec<&str> = answer
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let tool = tools::custom_tools(body)
        .into_iter()
        .find(|t| !called.contains(&t.name.as_str()))?;
    let h = request_hash(body) ^ 0x7061_7261_6c6c_656c;
    let mut shape = Rng::new(h);
    let mut words = Rng::new(h ^ mix64(seed.wrapping_add(1)));
    let prompt = Conversation::read(body).user_text;
    Some(tool_use(&tool, &prompt, &mut shape, &mut words))
}

/// The top-level entries of `input` whose serialisation is complete within `prefix`.
fn complete_entries(input: &Value, prefix: &str) -> Value {
    let mut out = Map::new();
    if let Value::Object(m) = input {
        let mut acc = String::from("{");
        for (k, v) in m {
            if acc.len() > 1 {
                acc.push(',');
            }
            acc.push_str(&Value::String(k.clone()).to_string());
            acc.push(':');
            acc.push_str(&v.to_string());
            if acc.len() <= prefix.len() {
                out.insert(k.clone(), v.clone());
            } else {
                break;
            }
        }
    }
    Value::Object(out)
}

/// A text block spent against the `remaining` output budget: the text, cut to the budget when
/// it does not fit (`truncated` set), and whether it was kept whole; `used` counts its tokens.
fn spend_text(
    text: String,
    remaining: u64,
    used: &mut u64,
    truncated: &mut bool,
) -> (String, bool) {
    let n = tokenize::count(&text);
    if n > remaining {
        *truncated = true;
        *used += remaining;
        (tokenize::truncate(&text, remaining).to_string(), false)
    } else {
        *used += n;
        (text, true)
    }
}

#[cfg(test)]
mod tests;
