//! Incremental validation of one event stream: bytes in, findings and the accumulated message
//! out.
//!
//! [`StreamCheck`] owns the SSE decoder, the grammar, the accumulator and the per-event schema
//! checks. It is fed chunks as they arrive (live) or as they were recorded (offline), keeps
//! only per-block state plus the message being built, and collapses the event sequence into
//! runs (`content_block_delta[0] text_delta ×N`) so that memory does not grow with the number
//! of events.

use super::accumulate::Accumulator;
use super::grammar::{Ending, Grammar, Profile, location};
use super::refs;
use super::schema::{self, Shape};
use crate::check::catalogue::ids;
use crate::check::{CheckId, Finding, Severity};
use crate::http::sse::{Frame, SseDecoder, SseStats};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// At most this many findings of one check id per stream; the rest are counted.
const PER_CHECK_CAP: usize = 10;

/// A run of consecutive events of the same kind, for snapshots and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRun {
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<String>,
    pub count: usize,
}

impl std::fmt::Display for EventRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.event)?;
        if let Some(i) = self.index {
            write!(f, "[{i}]")?;
        }
        if let Some(d) = &self.delta {
            write!(f, " {d}")?;
        }
        Ok(())
    }
}

/// Timing of a stream, in ms since the request was sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamTiming {
    pub first_event_ms: Option<f64>,
    /// First text, thinking or tool-input delta.
    pub first_token_ms: Option<f64>,
    pub last_event_ms: Option<f64>,
    /// Largest gap between two consecutive events.
    pub max_gap_ms: f64,
    /// How many distinct arrival times the content deltas had (1 = all at once).
    pub delta_arrivals: usize,
    pub content_deltas: usize,
}

/// Options that change what is checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamOptions {
    pub profile: Profile,
    /// Arrival times are real (a live or recorded exchange), so incrementality can be judged.
    pub timing_known: bool,
    /// The body is a saved file, not bytes as they arrived: files often lose their trailing
    /// newlines in storage, so a last event without its blank line is only a note.
    pub saved_file: bool,
}

/// The result of checking a whole stream.
#[derive(Debug, Clone)]
pub struct StreamOutcome {
    pub findings: Vec<Finding>,
    pub message: Option<Value>,
    pub runs: Vec<EventRun>,
    pub ending: Ending,
    /// The payload of an `error` event, if one ended the stream.
    pub error_event: Option<Value>,
    pub timing: StreamTiming,
    pub stats: SseStats,
    pub events: usize,
}

/// Collects findings with a cap per check id.
#[derive(Debug, Default)]
struct Sink {
    findings: Vec<Finding>,
    counts: HashMap<CheckId, usize>,
}

impl Sink {
    fn push(&mut self, f: Finding) {
        let n = self.counts.entry(f.check).or_insert(0);
        *n += 1;
        if *n <= PER_CHECK_CAP {
            self.findings.push(f);
        }
    }

    fn extend(&mut self, fs: impl IntoIterator<Item = Finding>) {
        for f in fs {
            self.push(f);
        }
    }

    fn finish(mut self) -> Vec<Finding> {
        // One summary per capped check, with the severity of its first listed finding.
        let mut extra: Vec<(CheckId, usize, Severity)> = self
            .counts
            .iter()
            .filter(|(_, n)| **n > PER_CHECK_CAP)
            .filter_map(|(c, n)| {
                let first = self.findings.iter().find(|f| f.check == *c)?;
                Some((*c, *n - PER_CHECK_CAP, first.severity()))
            })
            .collect();
        extra.sort();
        for (check, more, severity) in extra {
            self.findings.push(
                Finding::new(
                    check,
                    "whole stream",
                    format!("{more} more finding(s) of this check not listed"),
                )
                .with_exception(severity),
            );
        }
        self.findings
    }
}

/// The most event runs kept for snapshots.
const MAX_RUNS: usize = 100_000;

/// A `ping` event's payload.
static PING: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| serde_json::json!({"type": "ping"}));

/// Whether `data` is exactly `{"type":"ping"}` (any whitespace).
fn is_plain_ping(data: &str) -> bool {
    let mut compact = data.bytes().filter(|b| !b.is_ascii_whitespace());
    br#"{"type":"ping"}"#.iter().all(|b| compact.next() == Some(*b)) && compact.next().is_none()
}

/// Incremental checker of one stream.
pub struct StreamCheck {
    options: StreamOptions,
    decoder: SseDecoder,
    grammar: Grammar,
    acc: Accumulator,
    sink: Sink,
    runs: Vec<EventRun>,
    frames: Vec<Frame>,
    events: usize,
    timing: StreamTiming,
    last_delta_t: Option<f64>,
    error_event: Option<Value>,
    data_only_seen: bool,
    /// Tool blocks whose joined `partial_json` is not an object, judged once the stop reason
    /// is known: `max_tokens` may legally cut the last tool input short.
    pending_partial: Vec<(u64, Finding)>,
    last_block_index: Option<u64>,
}

impl StreamCheck {
    pub fn new(options: StreamOptions) -> Self {
        StreamCheck {
            options,
            decoder: SseDecoder::new(),
            grammar: Grammar::new(options.profile),
            acc: Accumulator::new(),
            sink: Sink::default(),
            runs: Vec::new(),
            frames: Vec::new(),
            events: 0,
            timing: StreamTiming::default(),
            last_delta_t: None,
            error_event: None,
            data_only_seen: false,
            pending_partial: Vec::new(),
            last_block_index: None,
        }
    }

    /// Feed the next chunk of the body as it arrived.
    pub fn feed(&mut self, bytes: &[u8], t_ms: f64) {
        self.decoder.feed(bytes, t_ms, &mut self.frames);
        let frames = std::mem::take(&mut self.frames);
        for f in &frames {
            self.on_frame(f);
        }
        self.frames = frames;
        self.frames.clear();
    }

    /// The body ended (or the connection dropped) at `t_ms`.
    pub fn finish(mut self, t_ms: f64) -> StreamOutcome {
        if let Some(f) = self.decoder.finish(t_ms) {
            self.on_frame(&f);
        }
        // Framing findings go after the event findings, so the order does not depend on how
        // the bytes were chunked.
        let saved_file = self.options.saved_file;
        let fs = self.decoder.take_findings().into_iter().map(|f| {
            if saved_file && f.check == ids::STREAM_SSE_UNTERMINATED_FRAME {
                f.with_exception(Severity::Info)
            } else {
                f
            }
        });
        self.sink.extend(fs);
        self.judge_partial_inputs(None);
        let mut out = Vec::new();
        let ending = self.grammar.finish(self.events, &mut out);
        self.sink.extend(out);
        if self.options.timing_known && ending == Ending::Complete {
            self.check_incremental();
        }
        let message = self.acc.finish();
        if let (Some(m), Ending::Complete) = (&message, ending) {
            for f in schema::validate(Shape::Message, m) {
                self.sink.push(f.located_in("accumulated message"));
            }
        }
        StreamOutcome {
            findings: self.sink.finish(),
            message,
            runs: self.runs,
            ending,
            error_event: self.error_event,
            timing: self.timing,
            stats: self.decoder.stats().clone(),
            events: self.events,
        }
    }

    fn on_frame(&mut self, frame: &Frame) {
        let name = frame.event.as_deref();
        if name == Some("content_block_delta") && self.fast_delta(frame) {
            return;
        }
        if name == Some("ping") && is_plain_ping(&frame.data) {
            // The commonest keep-alive, judged without parsing (a stream of pings at full
            // speed must cost no more than its bytes).
            self.events += 1;
            let mut out = Vec::new();
            self.grammar.on_event(frame.index, &PING, &mut out);
            self.sink.extend(out);
            self.note_event("ping", None, None, frame.t_ms);
            return;
        }
        let shown = name.unwrap_or("no event name");
        let loc = location(frame.index, shown);
        if frame.data.trim() == "[DONE]" {
            self.sink.push(
                Finding::new(
                    ids::STREAM_SSE_DONE_SENTINEL,
                    loc,
                    "`data: [DONE]` is an OpenAI convention; the Anthropic stream ends after `message_stop`",
                )
                .reference(refs::STREAM_FRAMING),
            );
            return;
        }
        if name.is_none() && !self.data_only_seen {
            self.data_only_seen = true;
            self.sink.push(
                Finding::new(
                    ids::STREAM_SSE_DATA_ONLY,
                    loc.clone(),
                    "events carry no `event:` line; both official SDKs drop such events, so the stream is unusable with them",
                )
                .expected("event: <type>")
                .reference(refs::STREAM_FRAMING),
            );
        }
        if !frame.has_data || frame.data.trim().is_empty() {
            if name == Some("ping") {
                self.note_event("ping", None, None, frame.t_ms);
                self.events += 1;
                return;
            }
            self.sink.push(
                Finding::new(ids::STREAM_EVENT_JSON, loc, "the event has no data")
                    .expected("a JSON object")
                    .reference(refs::STREAM_EVENTS),
            );
            return;
        }
        let event: Value = match serde_json::from_str(&frame.data) {
            Ok(v) => v,
            Err(e) => {
                self.sink.push(
                    Finding::new(
                        ids::STREAM_EVENT_JSON,
                        loc,
                        format!("the event data is not JSON: {e}"),
                    )
                    .actual(crate::text::truncate(&frame.data, 120))
                    .reference(refs::STREAM_EVENTS),
                );
                return;
            }
        };
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let loc = location(frame.index, if kind.is_empty() { shown } else { &kind });
        if let Some(n) = name
            && n != kind
        {
            self.sink.push(
                Finding::new(
                    ids::STREAM_SSE_EVENT_NAME,
                    loc.clone(),
                    "the `event:` name must equal the data's `type`; SDKs dispatch on the name",
                )
                .expected(kind.clone())
                .actual(n)
                .reference(refs::STREAM_FRAMING),
            );
        }
        self.events += 1;
        self.check_event_schema(&event, &kind, &loc);
        let mut out = Vec::new();
        self.grammar.on_event(frame.index, &event, &mut out);
        self.sink.extend(out);
        self.acc.apply(&event);
        let index = event.get("index").and_then(Value::as_u64);
        let delta_type = event.pointer("/delta/type").and_then(Value::as_str);
        match kind.as_str() {
            "content_block_start" => self.last_block_index = index.max(self.last_block_index),
            "content_block_delta" => self.on_content_delta(frame.index, &event, frame.t_ms),
            "content_block_stop" => self.check_tool_input(index, &loc),
            "message_delta" => self
                .judge_partial_inputs(event.pointer("/delta/stop_reason").and_then(Value::as_str)),
            "error" => self.error_event = Some(event.clone()),
            _ => {}
        }
        let delta_for_run = if kind == "content_block_delta" {
            delta_type
        } else {
            None
        };
        self.note_event(&kind, index, delta_for_run, frame.t_ms);
    }

    fn check_event_schema(&mut self, event: &Value, kind: &str, loc: &str) {
        let known = matches!(
            kind,
            "message_start"
                | "content_block_start"
                | "content_block_delta"
                | "content_block_stop"
                | "message_delta"
                | "message_stop"
                | "ping"
                | "error"
        );
        if !known && !kind.is_empty() {
            return; // the grammar notes unknown events
        }
        if schema::is_valid(Shape::Event, event) {
            // The fast path skips the strict variant's soft findings, but `message_delta`
            // (once per stream) is checked for missing fields: a missing `stop_sequence` is a
            // `should` the main variant does not see. (Unknown fields in events stay unreported,
            // as for every event.)
            if kind == "message_delta" {
                for f in schema::validate(Shape::Event, event) {
                    if f.check == ids::SCHEMA_MISSING_FIELD {
                        self.sink.push(f.located_in(loc));
                    }
                }
            }
            return;
        }
        for f in schema::validate(Shape::Event, event) {
            self.sink.push(f.located_in(loc));
        }
    }

    fn on_content_delta(&mut self, frame: usize, event: &Value, t_ms: f64) {
        let delta = event.get("delta");
        let dtype = delta
            .and_then(|d| d.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let empty_text = dtype == "text_delta"
            && delta.and_then(|d| d.get("text")).and_then(Value::as_str) == Some("");
        self.note_content_delta(frame, dtype, empty_text, t_ms);
    }

    /// Timing and the empty-delta rule, shared by the fast and the general path.
    fn note_content_delta(&mut self, frame: usize, dtype: &str, empty_text: bool, t_ms: f64) {
        if empty_text {
            self.sink.push(
                Finding::new(
                    ids::STREAM_EMPTY_DELTA,
                    location(frame, "content_block_delta"),
                    "an empty `text_delta`; Anthropic never sends one and some clients render it as a blank chunk",
                )
                .reference(refs::STREAM_EVENTS),
            );
        }
        if matches!(dtype, "text_delta" | "thinking_delta" | "input_json_delta") {
            self.timing.content_deltas += 1;
            if self.timing.first_token_ms.is_none() {
                self.timing.first_token_ms = Some(t_ms);
            }
            if self.last_delta_t != Some(t_ms) {
                self.timing.delta_arrivals += 1;
                self.last_delta_t = Some(t_ms);
            }
        }
    }

    /// The hot path: a `content_block_delta` carrying text, thinking or tool-input JSON, in
    /// exactly the shape the schema describes (no other fields), is parsed into borrowed
    /// strings instead of a `Value` and skips the general schema check it is known to pass.
    /// Anything else returns false and takes the general path, which reports what is wrong.
    fn fast_delta(&mut self, frame: &Frame) -> bool {
        let Ok(ev) = serde_json::from_str::<FastDelta>(&frame.data) else {
            return false;
        };
        if ev.kind != "content_block_delta" {
            return false;
        }
        let d = &ev.delta;
        let (dtype, piece) = match (d.kind, &d.text, &d.partial_json, &d.thinking) {
            ("text_delta", Some(t), None, None) => ("text_delta", t),
            ("input_json_delta", None, Some(p), None) => ("input_json_delta", p),
            ("thinking_delta", None, None, Some(t)) => ("thinking_delta", t),
            _ => return false,
        };
        self.events += 1;
        let index = ev.index as usize;
        let mut out = Vec::new();
        self.grammar
            .on_delta_parts(frame.index, index, dtype, &mut out);
        self.sink.extend(out);
        self.acc.append_delta(index, dtype, piece);
        self.note_content_delta(
            frame.index,
            dtype,
            dtype == "text_delta" && piece.is_empty(),
            frame.t_ms,
        );
        self.note_event(
            "content_block_delta",
            Some(ev.index),
            Some(dtype),
            frame.t_ms,
        );
        true
    }

    fn check_tool_input(&mut self, index: Option<u64>, loc: &str) {
        let Some(i) = index else { return };
        let Some(raw) = self.acc.take_invalid_input(i as usize) else {
            return;
        };
        let finding = Finding::new(
            ids::STREAM_GRAMMAR_PARTIAL_JSON,
            loc,
            "the `partial_json` pieces of this tool block do not join into a JSON object",
        )
        .expected("a JSON object")
        .actual(crate::text::truncate(&raw, 120))
        .reference(refs::STREAM_GRAMMAR);
        self.pending_partial.push((i, finding));
    }

    /// Judge tool inputs that did not parse: a `must`, unless `max_tokens` cut the last block.
    fn judge_partial_inputs(&mut self, stop_reason: Option<&str>) {
        for (index, mut f) in std::mem::take(&mut self.pending_partial) {
            if stop_reason == Some("max_tokens") && Some(index) == self.last_block_index {
                f = f.with_exception(Severity::Info);
                f.message =
                    "the last tool input is incomplete JSON: max_tokens cut it short (legal)"
                        .into();
            }
            self.sink.push(f);
        }
    }

    fn note_event(&mut self, kind: &str, index: Option<u64>, delta: Option<&str>, t_ms: f64) {
        if self.timing.first_event_ms.is_none() {
            self.timing.first_event_ms = Some(t_ms);
        }
        if let Some(last) = self.timing.last_event_ms {
            self.timing.max_gap_ms = self.timing.max_gap_ms.max(t_ms - last);
        }
        self.timing.last_event_ms = Some(t_ms);
        let full = self.runs.len() >= MAX_RUNS;
        if let Some(last) = self.runs.last_mut()
            && ((last.event == kind
                && last.index == index
                && last.delta.as_deref() == delta
                && matches!(kind, "content_block_delta" | "ping"))
                || full)
        {
            // Past MAX_RUNS the rest of a pathological stream counts into the last run, so
            // memory stays bounded by the message, not by the number of events.
            last.count += 1;
            return;
        }
        self.runs.push(EventRun {
            event: kind.to_string(),
            index,
            delta: delta.map(str::to_string),
            count: 1,
        });
    }

    /// Streaming that is not incremental: every content delta arrived at the same instant.
    fn check_incremental(&mut self) {
        if self.timing.content_deltas >= 3 && self.timing.delta_arrivals <= 1 {
            self.sink.push(
                Finding::new(
                    ids::STREAM_INCREMENTAL,
                    "whole stream",
                    format!(
                        "all {} content deltas arrived at once: the endpoint buffers the answer and streams nothing until the end",
                        self.timing.content_deltas
                    ),
                )
                .expected("deltas spread over time")
                .reference(refs::STREAM_FRAMING),
            );
        }
    }
}

/// The hot event shape, parsed without building a `Value` (see [`StreamCheck::fast_delta`]).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FastDelta<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    index: u64,
    #[serde(borrow)]
    delta: FastDeltaBody<'a>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FastDeltaBody<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(default, borrow)]
    text: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    partial_json: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    thinking: Option<std::borrow::Cow<'a, str>>,
}

/// Check a whole recorded body at once.
pub fn check_bytes(body: &[u8], options: StreamOptions) -> StreamOutcome {
    let mut c = StreamCheck::new(options);
    c.feed(body, 0.0);
    c.finish(0.0)
}

#[cfg(test)]
mod tests;
