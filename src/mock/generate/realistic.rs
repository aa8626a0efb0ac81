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
//!   is, and a tool result is sometimes answered by another call;
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
    /// Every choice a function of the request: the same answer for every seed, in shape.
    #[default]
    Deterministic,
    /// Choices drawn from the request and `--seed` like a sampled model's: lengths, stop
    /// reasons, tool calls under `auto`, formatting and counting vary; the protocol does not.
    Realistic,
}

impl Behaviour {
    pub fn as_str(self) -> &'static str {
        match self {
            Behaviour::Deterministic => "deterministic",
            Behaviour::Realistic => "realistic",
        }
    }
}

/// Under `tool_choice` `auto`: what the model does with the request's tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AutoTools {
    /// Calls the tools the prompt names, never answers a tool result with a call.
    AsNamed,
    /// Answers in text even when the prompt names a tool.
    Declines,
    /// Calls a tool although the prompt names none (or calls again after a tool result).
    Unprompted,
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
    /// Whether a stop sequence the text does not contain is written anyway.
    pub(super) writes_stop_sequence: bool,
    pub(super) counting: Counting,
    pub(super) format: Format,
}

impl Whims {
    /// Today's deterministic choices.
    pub(super) fn faithful() -> Whims {
        Whims {
            sentences: None,
            thinking_sentences: None,
            auto_tools: AutoTools::AsNamed,
            unprompted_pick: 0,
            writes_stop_sequence: true,
            counting: Counting::AsAsked,
            format: Format::Prose,
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
            writes_stop_sequence,
            counting,
            format,
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
}
