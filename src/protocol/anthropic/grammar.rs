//! The stream grammar of docs/protocol.md §4.3 as a state machine over decoded events.
//!
//! ```text
//! stream   := message_start block* message_delta+ message_stop EOF | prefix error EOF
//! block(i) := content_block_start(i) content_block_delta(i)* content_block_stop(i)
//! ```
//! `ping` may appear anywhere; unknown named events are tolerated (an `info` finding). In the
//! default `strict` profile blocks may not interleave; `tolerant` allows it. The grammar sees
//! one event at a time and keeps only per-block state, so memory does not grow with the stream.
//! Open blocks are indexed ([`OpenBlocks`]): every event costs O(log n) in the number of open
//! blocks, so a hostile stream opening hundreds of thousands of blocks is checked in linear
//! time instead of quadratic.

use super::refs;
use crate::check::catalogue::ids;
use crate::check::{Finding, Severity};
use serde_json::Value;

/// How strict the block order rules are.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Anthropic's own behaviour: blocks strictly one after another.
    #[default]
    Strict,
    /// Interleaved blocks allowed (some gateways multiplex parallel tool calls).
    Tolerant,
}

mod open_blocks;

use open_blocks::{OpenBlock, OpenBlocks};

/// The state machine. Feed it every event in order, then call [`Grammar::finish`].
#[derive(Debug, Default)]
pub(crate) struct Grammar {
    profile: Profile,
    events: usize,
    seen_start: bool,
    seen_message_delta: bool,
    seen_stop: bool,
    seen_error: bool,
    after_end_reported: bool,
    next_index: usize,
    open: OpenBlocks,
    last_stop_reason: Option<Value>,
    start_output_tokens: Option<u64>,
    /// `message_start.usage.input_tokens`: what a client's context meter reads first.
    start_input_tokens: Option<u64>,
    last_output_tokens: Option<u64>,
    ping_seen: bool,
    /// The turn ran steps on Anthropic's side ([`is_server_step`] blocks, usage
    /// `iterations`): their results count as input, and such streams may carry no ping.
    server_steps: bool,
    missing_start_reported: bool,
}

/// What the grammar concluded about how the stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `message_stop` arrived.
    Complete,
    /// An `error` event ended the stream (legal, but the request failed).
    Error,
    /// The stream ended without `message_stop` or `error`.
    Truncated,
}

/// Block types that show a step run on the server during the turn: a server or MCP tool call,
/// its result (`web_search_tool_result`, `mcp_tool_result`, …), or a context compaction.
fn is_server_step(block_type: &str) -> bool {
    matches!(
        block_type,
        "server_tool_use" | "mcp_tool_use" | "compaction"
    ) || block_type.ends_with("_tool_result")
}

pub(crate) fn location(frame_index: usize, name: &str) -> String {
    format!("event #{frame_index} ({name})")
}

impl Grammar {
    pub(crate) fn new(profile: Profile) -> Self {
        Grammar {
            profile,
            ..Default::default()
        }
    }

    /// Check one event. `frame` is the position in the stream, `event` the parsed data.
    pub(crate) fn on_event(&mut self, frame: usize, event: &Value, out: &mut Vec<Finding>) {
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        if !self.prelude(frame, kind, out) {
            return;
        }
        let loc = location(frame, kind);
        match kind {
            "message_start" => self.on_message_start(event, &loc, out),
            "content_block_start" => self.on_block_start(event, &loc, out),
            "content_block_delta" => self.on_delta(frame, event, out),
            "content_block_stop" => self.on_block_stop(event, &loc, out),
            "message_delta" => self.on_message_delta(event, &loc, out),
            "message_stop" => {
                self.seen_stop = true;
                if !self.seen_message_delta {
                    out.push(
                        Finding::new(
                            ids::STREAM_GRAMMAR_MESSAGE_DELTA_MISSING,
                            loc,
                            "`message_stop` without a preceding `message_delta`: the stop reason and final usage never arrived",
                        )
                        .reference(refs::STREAM_GRAMMAR),
                    );
                }
            }
            "error" => self.seen_error = true,
            other => out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_UNKNOWN_EVENT,
                    loc,
                    format!("unknown event type `{other}`; clients ignore it"),
                )
                .reference(refs::STREAM_GRAMMAR),
            ),
        }
    }

    /// Rules every event is subject to (order against `message_start`, nothing after the
    /// end). Returns whether the event still needs its own rules.
    fn prelude(&mut self, frame: usize, kind: &str, out: &mut Vec<Finding>) -> bool {
        self.events += 1;
        if kind == "ping" {
            self.ping_seen = true;
            return false;
        }
        if self.seen_stop || self.seen_error {
            if !self.after_end_reported {
                self.after_end_reported = true;
                // After an error event the clients have already stopped reading (they raise
                // on it), so what follows is ignored: should. After message_stop: must.
                let (check, what, reference) = if self.seen_error {
                    (
                        ids::STREAM_GRAMMAR_AFTER_ERROR,
                        "an `error` event, which ends the stream",
                        refs::STREAM_ERRORS,
                    )
                } else {
                    (
                        ids::STREAM_GRAMMAR_AFTER_STOP,
                        "`message_stop`, which must be the last event",
                        refs::STREAM_GRAMMAR,
                    )
                };
                out.push(
                    Finding::new(
                        check,
                        location(frame, kind),
                        format!("`{kind}` arrives after {what}"),
                    )
                    .expected("end of stream")
                    .actual(kind)
                    .reference(reference),
                );
            }
            return false;
        }
        if !self.seen_start
            && kind != "message_start"
            && kind != "error"
            && !self.missing_start_reported
        {
            self.missing_start_reported = true;
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_FIRST_EVENT,
                    location(frame, kind),
                    "the first event (pings aside) must be `message_start`",
                )
                .expected("message_start")
                .actual(kind)
                .reference(refs::STREAM_GRAMMAR),
            );
        }
        true
    }

    /// Check a `content_block_delta` known by its block index and delta type only (the fast
    /// path of the stream checker; same rules as [`Grammar::on_event`]).
    pub(crate) fn on_delta_parts(
        &mut self,
        frame: usize,
        index: usize,
        dtype: &str,
        out: &mut Vec<Finding>,
    ) {
        if self.prelude(frame, "content_block_delta", out) {
            self.delta(frame, index, dtype, out);
        }
    }

    fn on_message_start(&mut self, event: &Value, loc: &str, out: &mut Vec<Finding>) {
        if self.seen_start {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_MESSAGE_START_ONCE,
                    loc,
                    "a second `message_start`",
                )
                .reference(refs::STREAM_GRAMMAR),
            );
            return;
        }
        self.seen_start = true;
        let msg = event.get("message");
        if let Some(content) = msg.and_then(|m| m.get("content")).and_then(Value::as_array)
            && !content.is_empty()
        {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_MESSAGE_START,
                    format!("{loc} /message/content"),
                    "`message_start` must carry an empty `content`; blocks arrive as events",
                )
                .expected("[]")
                .actual(format!("{} block(s)", content.len()))
                .reference(refs::STREAM_EVENTS),
            );
        }
        if let Some(sr) = msg
            .and_then(|m| m.get("stop_reason"))
            .filter(|v| !v.is_null())
        {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_MESSAGE_START,
                    format!("{loc} /message/stop_reason"),
                    "`message_start` must have `stop_reason: null`; it is set by `message_delta`",
                )
                .expected("null")
                .actual(sr.to_string())
                .reference(refs::STREAM_EVENTS),
            );
        }
        self.start_output_tokens = msg
            .and_then(|m| m.pointer("/usage/output_tokens"))
            .and_then(Value::as_u64);
        self.start_input_tokens = msg
            .and_then(|m| m.pointer("/usage/input_tokens"))
            .and_then(Value::as_u64);
    }

    fn on_block_start(&mut self, event: &Value, loc: &str, out: &mut Vec<Finding>) {
        let Some(index) = super::accumulate::event_index(event) else {
            return; // the schema reports the missing index
        };
        let block_type = event
            .pointer("/content_block/type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if self.seen_message_delta {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_BLOCK_AFTER_MESSAGE_DELTA,
                    loc,
                    "a content block starts after `message_delta`",
                )
                .reference(refs::STREAM_GRAMMAR),
            );
        }
        if index != self.next_index {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_BLOCK_INDEX,
                    loc,
                    "block indices must be 0, 1, 2, … in order, each the block's position in `content`",
                )
                .expected(self.next_index.to_string())
                .actual(index.to_string())
                .reference(refs::STREAM_GRAMMAR),
            );
        }
        if self.open.contains(index) || index < self.next_index {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_BLOCK_START_ONCE,
                    loc,
                    format!("block {index} is started twice"),
                )
                .reference(refs::STREAM_GRAMMAR),
            );
        }
        if self.profile == Profile::Strict
            && let Some(prev) = self.open.last()
        {
            out.push(
                    Finding::new(
                        ids::STREAM_GRAMMAR_BLOCK_ORDER,
                        loc,
                        format!(
                            "block {index} starts while block {} is still open; blocks must not interleave (use --profile tolerant to allow it)",
                            prev.index
                        ),
                    )
                    .expected(format!("content_block_stop for index {}", prev.index))
                    .actual(format!("content_block_start for index {index}"))
                    .reference(refs::STREAM_GRAMMAR),
                );
        }
        let signature_in_start = event
            .pointer("/content_block/signature")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        self.next_index = self.next_index.max(index + 1);
        self.server_steps |= is_server_step(&block_type);
        self.open.push(OpenBlock {
            index,
            block_type,
            signature_seen: false,
            signature_in_start,
        });
    }

    fn on_delta(&mut self, frame: usize, event: &Value, out: &mut Vec<Finding>) {
        let Some(index) = super::accumulate::event_index(event) else {
            return;
        };
        let dtype = event
            .pointer("/delta/type")
            .and_then(Value::as_str)
            .unwrap_or("");
        self.delta(frame, index, dtype, out);
    }

    fn delta(&mut self, frame: usize, index: usize, dtype: &str, out: &mut Vec<Finding>) {
        let loc = || location(frame, "content_block_delta");
        let Some(block) = self.open.get_mut(index) else {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_DELTA_OUTSIDE_BLOCK,
                    loc(),
                    format!("a delta for block {index}, which is not open"),
                )
                .reference(refs::STREAM_GRAMMAR),
            );
            return;
        };
        let allowed: &[&str] = match block.block_type.as_str() {
            "text" => &["text_delta", "citations_delta"],
            "thinking" => &["thinking_delta", "signature_delta"],
            t if super::accumulate::is_tool_block(t) => &["input_json_delta"],
            _ => &[],
        };
        let known_delta = matches!(
            dtype,
            "text_delta"
                | "citations_delta"
                | "thinking_delta"
                | "signature_delta"
                | "input_json_delta"
        );
        if known_delta && !allowed.contains(&dtype) {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_DELTA_TYPE,
                    loc(),
                    format!(
                        "a `{dtype}` for a `{}` block; SDKs silently drop it",
                        block.block_type
                    ),
                )
                .expected(if allowed.is_empty() {
                    "no delta".to_string()
                } else {
                    allowed.join(" or ")
                })
                .actual(dtype)
                .reference(refs::STREAM_GRAMMAR),
            );
        }
        if block.block_type == "thinking" {
            if dtype == "signature_delta" {
                block.signature_seen = true;
            } else if block.signature_seen && dtype == "thinking_delta" {
                out.push(
                    Finding::new(
                        ids::STREAM_GRAMMAR_SIGNATURE_ORDER,
                        loc(),
                        "thinking continues after `signature_delta`, which comes once, just before the block stops",
                    )
                    .reference(refs::STREAM_GRAMMAR),
                );
            }
        }
    }

    fn on_block_stop(&mut self, event: &Value, loc: &str, out: &mut Vec<Finding>) {
        let Some(index) = super::accumulate::event_index(event) else {
            return;
        };
        let Some(block) = self.open.remove(index) else {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_BLOCK_STOP,
                    loc,
                    format!("`content_block_stop` for block {index}, which is not open"),
                )
                .reference(refs::STREAM_GRAMMAR),
            );
            return;
        };
        if block.block_type == "thinking" && !block.signature_seen && !block.signature_in_start {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_SIGNATURE,
                    loc,
                    "a thinking block stops without a `signature_delta`; clients cannot pass it back",
                )
                .expected("one signature_delta before content_block_stop")
                .reference(refs::STREAM_GRAMMAR),
            );
        }
    }

    fn on_message_delta(&mut self, event: &Value, loc: &str, out: &mut Vec<Finding>) {
        let stop_reason = event
            .pointer("/delta/stop_reason")
            .cloned()
            .unwrap_or(Value::Null);
        if !self.open.is_empty() {
            let indices = self.open.describe();
            // Genuine traffic (corpus: sdkpy__incomplete_partial_json_response.sse) shows
            // Anthropic leaving a tool block unstopped when max_tokens cuts its input short,
            // so the rule is only a note there.
            let f = if stop_reason.as_str() == Some("max_tokens") {
                Finding::new(
                    ids::STREAM_GRAMMAR_UNCLOSED_BLOCK,
                    loc,
                    format!(
                        "block(s) {indices} never stopped; tolerated because max_tokens cut the output"
                    ),
                )
                .with_exception(Severity::Info)
            } else {
                Finding::new(
                    ids::STREAM_GRAMMAR_UNCLOSED_BLOCK,
                    loc,
                    format!("`message_delta` arrives while block(s) {indices} are still open"),
                )
                .expected("every block stopped before message_delta")
            };
            out.push(f.reference(refs::STREAM_GRAMMAR));
            self.open.clear();
        }
        self.seen_message_delta = true;
        if stop_reason.is_null() {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_STOP_REASON,
                    loc,
                    "`message_delta` must carry a non-null `stop_reason`",
                )
                .reference(refs::STREAM_GRAMMAR),
            );
        }
        self.last_stop_reason = Some(stop_reason);
        // Compaction and the advisor tool report each sampling step in `usage.iterations`.
        self.server_steps |= event
            .pointer("/usage/iterations")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        // Anthropic knows the prompt's size at message_start; an endpoint that sends 0 or an
        // estimate there and the real count only in message_delta misleads every client that
        // reads usage early (Claude Code's context meter and auto-compaction). The count is
        // cumulative, though: server-side steps feed their results back as input, so a rise
        // after them is Anthropic's own behaviour (corpus: every web search stream).
        if let (Some(first), Some(last)) = (
            self.start_input_tokens,
            event.pointer("/usage/input_tokens").and_then(Value::as_u64),
        ) && first != last
        {
            let f = if self.server_steps && last > first {
                Finding::new(
                    ids::STREAM_USAGE_INPUT_TOKENS_LATE,
                    format!("{loc} /usage/input_tokens"),
                    "`input_tokens` rose from `message_start` to `message_delta` during a turn that ran server-side steps, whose results count as input",
                )
                .with_exception(Severity::Info)
            } else {
                Finding::new(
                    ids::STREAM_USAGE_INPUT_TOKENS_LATE,
                    format!("{loc} /usage/input_tokens"),
                    "`input_tokens` in `message_start` differs from the count in `message_delta`: clients that read usage as the stream starts see a wrong prompt size",
                )
                .expected(format!("{last} already in message_start"))
            };
            out.push(
                f.actual(format!("{first} in message_start, {last} in message_delta"))
                    .reference(refs::STREAM_EVENTS),
            );
        }
        if let Some(tokens) = event
            .pointer("/usage/output_tokens")
            .and_then(Value::as_u64)
        {
            let floor = self.last_output_tokens.or(self.start_output_tokens);
            if let Some(prev) = floor.filter(|p| tokens < *p) {
                out.push(
                    Finding::new(
                        ids::STREAM_USAGE_CUMULATIVE,
                        format!("{loc} /usage/output_tokens"),
                        "`output_tokens` in `message_delta` is a cumulative total and cannot fall below the previous value",
                    )
                    .expected(format!(">= {prev}"))
                    .actual(tokens.to_string())
                    .reference(refs::STREAM_EVENTS),
                );
            }
            self.last_output_tokens = Some(tokens);
        }
    }

    /// The stream ended. Returns how.
    pub(crate) fn finish(&mut self, events_total: usize, out: &mut Vec<Finding>) -> Ending {
        if self.seen_error {
            return Ending::Error;
        }
        if events_total == 0 {
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_EMPTY,
                    "end of stream",
                    "the stream carried no events at all",
                )
                .reference(refs::STREAM_GRAMMAR),
            );
            return Ending::Truncated;
        }
        if !self.seen_stop {
            let detail = if self.open.is_empty() {
                String::new()
            } else {
                format!(" (block(s) {} still open)", self.open.describe())
            };
            out.push(
                Finding::new(
                    ids::STREAM_GRAMMAR_TRUNCATED,
                    "end of stream",
                    format!("the stream ended without `message_stop`{detail}; SDKs raise on it or return a partial message"),
                )
                .expected("message_stop")
                .reference(refs::STREAM_GRAMMAR),
            );
            return Ending::Truncated;
        }
        if !self.ping_seen && self.next_index > 0 {
            let f = if self.server_steps {
                // Anthropic's own server-tool streams may carry no ping (corpus:
                // llm__test_web_search__0 and two more web search streams).
                Finding::new(
                    ids::STREAM_PING_MISSING,
                    "whole stream",
                    "no `ping` event; Anthropic's own streams that run server-side steps may have none",
                )
                .with_exception(Severity::Info)
            } else {
                Finding::new(
                    ids::STREAM_PING_MISSING,
                    "whole stream",
                    "no `ping` event; Anthropic sends one after the first content_block_start",
                )
            };
            out.push(f.reference(refs::STREAM_GRAMMAR));
        }
        Ending::Complete
    }
}

#[cfg(test)]
mod tests;
