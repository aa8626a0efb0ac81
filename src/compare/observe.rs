//! What one exchange of a comparison showed, reduced to the facts the metrics need: the live
//! judge's `must` findings, the tool calls, the text, the stop reason, timing, usage, and the
//! model id and request id the endpoint echoed. The same reduction serves a live exchange, a
//! replayed one and (in the simulation) a message generated in-process, so they score alike.

use serde_json::Value;

use super::workload::Family;
use crate::check::Severity;
use crate::check::catalogue::ids;
use crate::protocol::anthropic::judge::Judgement;

/// One tool call of an answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Call {
    pub name: String,
    pub id: String,
    pub input: Value,
}

/// One exchange, observed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Obs {
    pub endpoint: String,
    pub task: String,
    pub family: Family,
    pub repeat: u32,
    /// The turn of an agent loop (0 otherwise).
    pub turn: u32,
    pub status: Option<u16>,
    /// Why no answer came (transport failure, conform's own limit, a replay gap).
    pub error: Option<String>,
    /// The check ids of the judge's `must` findings.
    pub must: Vec<String>,
    pub model: Option<String>,
    pub request_id: Option<String>,
    pub stop_reason: Option<String>,
    pub calls: Vec<Call>,
    /// The `partial_json` of a tool call did not join into a JSON object.
    pub invalid_json: bool,
    pub text: String,
    /// Time to the first content delta, in milliseconds.
    pub ttft_ms: Option<f64>,
    /// Output tokens per second between the first and the last event.
    pub output_tps: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_creation_tokens: Option<u64>,
    /// `count_tokens` for the same request (ladder tasks).
    pub count_tokens: Option<u64>,
    /// The answer's content blocks, passed back in an agent loop's next turn.
    #[serde(skip)]
    pub content: Option<Value>,
}

impl Obs {
    /// An observation with nothing seen yet.
    pub(crate) fn new(endpoint: &str, task: &str, family: Family, repeat: u32, turn: u32) -> Obs {
        Obs {
            endpoint: endpoint.to_string(),
            task: task.to_string(),
            family,
            repeat,
            turn,
            status: None,
            error: None,
            must: Vec::new(),
            model: None,
            request_id: None,
            stop_reason: None,
            calls: Vec::new(),
            invalid_json: false,
            text: String::new(),
            ttft_ms: None,
            output_tps: None,
            input_tokens: None,
            output_tokens: None,
            cache_read_tokens: None,
            cache_creation_tokens: None,
            count_tokens: None,
            content: None,
        }
    }

    /// Whether the exchange is clean: answered 200 with no `must` finding.
    pub(crate) fn reliable(&self) -> bool {
        self.error.is_none() && self.status == Some(200) && self.must.is_empty()
    }

    /// Fill in what the judge made of the exchange.
    pub(crate) fn judged(mut self, j: &Judgement) -> Obs {
        let x = &j.exchange;
        self.status = x.response.as_ref().map(|r| r.status);
        self.error = x
            .transport_error()
            .map(String::from)
            .or_else(|| j.infra.clone());
        self.request_id = x
            .response
            .as_ref()
            .and_then(|r| r.header("request-id").or_else(|| r.header("x-request-id")))
            .map(String::from);
        self.must = j
            .validation
            .findings
            .iter()
            .filter(|f| f.severity() == Severity::Must)
            .map(|f| f.check.to_string())
            .collect();
        self.invalid_json = j
            .validation
            .findings
            .iter()
            .any(|f| f.check == ids::STREAM_GRAMMAR_PARTIAL_JSON);
        if let Some(s) = &j.validation.stream {
            self.ttft_ms = s.timing.first_token_ms;
        }
        if self.status == Some(200)
            && let Some(n) = j
                .validation
                .body
                .as_ref()
                .and_then(|b| b.get("input_tokens"))
        {
            // A count_tokens answer.
            self.input_tokens = n.as_u64();
        }
        if self.status == Some(200)
            && let Some(m) = &j.validation.message
        {
            self.read_message(m);
            if let (Some(s), Some(out)) = (&j.validation.stream, self.output_tokens)
                && let (Some(first), Some(last)) = (s.timing.first_token_ms, s.timing.last_event_ms)
                && last - first >= 1.0
            {
                self.output_tps = Some(out as f64 / ((last - first) / 1000.0));
            }
        }
        self
    }

    /// Read the calls, text, stop reason, model and usage of a final message.
    pub(crate) fn read_message(&mut self, m: &Value) {
        self.model = m.get("model").and_then(Value::as_str).map(String::from);
        self.stop_reason = m
            .get("stop_reason")
            .and_then(Value::as_str)
            .map(String::from);
        let blocks = m.get("content").and_then(Value::as_array);
        for b in blocks.into_iter().flatten() {
            match b.get("type").and_then(Value::as_str) {
                Some("text") => self
                    .text
                    .push_str(b.get("text").and_then(Value::as_str).unwrap_or_default()),
                Some("tool_use") => {
                    let input = b.get("input").cloned().unwrap_or(Value::Null);
                    if !input.is_object() {
                        self.invalid_json = true;
                    }
                    self.calls.push(Call {
                        name: b
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        id: b
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        input,
                    })
                }
                _ => {}
            }
        }
        self.content = m.get("content").cloned();
        let usage = |k: &str| m.pointer(&format!("/usage/{k}")).and_then(Value::as_u64);
        self.input_tokens = usage("input_tokens");
        self.output_tokens = usage("output_tokens");
        self.cache_read_tokens = usage("cache_read_input_tokens");
        self.cache_creation_tokens = usage("cache_creation_input_tokens");
    }

    /// Input tokens billed in all (plain, cache reads and cache writes).
    pub(crate) fn total_input(&self) -> Option<u64> {
        Some(
            self.input_tokens?
                + self.cache_read_tokens.unwrap_or(0)
                + self.cache_creation_tokens.unwrap_or(0),
        )
    }

    /// The decision under `auto`: the first tool called, or none.
    pub(crate) fn decision(&self) -> Option<String> {
        self.calls.first().map(|c| c.name.clone())
    }
}
