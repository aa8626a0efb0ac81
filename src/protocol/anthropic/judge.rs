//! The judge: the one function that turns an exchange into findings, fed record by record.
//!
//! A [`Judge`] is an [`Observer`]: the live HTTP client, an exchange file, a captured `.sse` or
//! `.json` file and an in-memory [`Exchange`] all feed it the same records, so a live run,
//! `conform check`, `conform run --replay` and the proxy agree exactly. A streamed body goes
//! into the incremental [`StreamCheck`] chunk by chunk as it arrives (memory bounded by the
//! accumulated message); other bodies are buffered (the client bounds them) and judged at the
//! end. Transport outcomes — retries and their causes, a cut body, conform's own limits — are
//! part of the exchange and judged here too.

use super::grammar::Profile;
use super::schema::Shape;
use super::stream::{StreamCheck, StreamOptions};
use super::validate::{self, ShapeHint, Validation};
use super::wire::Endpoint;
use crate::check::Finding;
use crate::check::catalogue::ids;
use crate::exchange::{
    End, Exchange, FailureKind, Head, Observer, RecordedRequest, RecordedResponse, Retry,
};
use crate::http::sse::looks_like_event_stream;
use serde_json::Value;

/// What the judge may assume about its input.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub profile: Profile,
    /// Arrival times are real, so incrementality and timing can be judged.
    pub timing_known: bool,
    /// The status in the head is real (false for a captured body file).
    pub status_unknown: bool,
    /// The body is an event stream whatever the head says (a captured `.sse` file).
    pub force_stream: bool,
    /// For a body whose shape the request path does not say: a hint (from a file name).
    pub file_hint: Option<Shape>,
    /// `--max-body-mb` in bytes (default: [`crate::http::client::DEFAULT_MAX_BODY`]): a whole
    /// body whose parsed tree would cost more than [`crate::budget::TREE_FACTOR`] times it is
    /// not parsed, and the exchange is `error`.
    pub max_body: Option<usize>,
}

/// An exchange judged: what validation made of it, the exchange without its body, and why no
/// conformance statement can be made when that is so.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub validation: Validation,
    pub exchange: Exchange,
    /// Infrastructure or conform's own limit stood in the way (the verdict is `error`).
    pub infra: Option<String>,
}

enum Body {
    /// No head yet, or no body expected.
    None,
    Stream(Box<StreamCheck>),
    Buffer(Vec<u8>),
    /// A 200 to a streaming request without an event-stream content type: decided at the end
    /// by sniffing the body (chunk times kept for the stream check).
    Sniff(Vec<(f64, Vec<u8>)>),
}

/// Judges one exchange at a time; [`Judge::take`] returns the judgement after `end`.
pub struct Judge {
    opts: Options,
    exchange: Option<Exchange>,
    request: Option<Value>,
    wants_stream: bool,
    body: Body,
    done: Option<Judgement>,
}

impl Judge {
    pub fn new(opts: Options) -> Judge {
        Judge {
            opts,
            exchange: None,
            request: None,
            wants_stream: false,
            body: Body::None,
            done: None,
        }
    }

    /// The judgement of the exchange that ended last.
    pub fn take(&mut self) -> Option<Judgement> {
        self.done.take()
    }

    fn stream_check(&self) -> Box<StreamCheck> {
        Box::new(StreamCheck::new(StreamOptions {
            profile: self.opts.profile,
            timing_known: self.opts.timing_known,
            // A body without a real status is a captured file (`conform check NAME.sse`).
            saved_file: self.opts.status_unknown,
        }))
    }
}

/// Judge a whole exchange held in memory.
pub fn judge_exchange(x: &Exchange, opts: Options) -> Judgement {
    let mut j = Judge::new(opts);
    x.replay_into(&mut j);
    j.take().expect("replay_into always ends the exchange")
}

impl Observer for Judge {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        self.request = request.body_json();
        self.wants_stream = self
            .request
            .as_ref()
            .and_then(|r| r.get("stream"))
            .and_then(Value::as_bool)
            == Some(true);
        self.exchange = Some(Exchange::new(label, request.clone()));
        self.body = Body::None;
        self.done = None;
    }

    fn retry(&mut self, retry: &Retry) {
        if let Some(x) = &mut self.exchange {
            x.retries.push(retry.clone());
        }
    }

    fn head(&mut self, head: &Head) {
        let Some(x) = &mut self.exchange else { return };
        x.response = Some(RecordedResponse {
            status: head.status,
            headers: head.headers.clone(),
            head_ms: head.head_ms,
            chunks: Vec::new(),
            total_ms: head.head_ms,
        });
        let ok = head.status == 200 || self.opts.status_unknown;
        self.body = if self.opts.force_stream
            || ok && head.media_type().as_deref() == Some("text/event-stream")
        {
            Body::Stream(self.stream_check())
        } else if ok && (self.wants_stream || self.opts.status_unknown) {
            Body::Sniff(Vec::new())
        } else {
            Body::Buffer(Vec::new())
        };
    }

    fn chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        match &mut self.body {
            Body::None => {}
            Body::Stream(c) => c.feed(bytes, t_ms),
            Body::Buffer(b) => b.extend_from_slice(bytes),
            Body::Sniff(parts) => parts.push((t_ms, bytes.to_vec())),
        }
    }

    fn end(&mut self, end: &End) {
        let Some(mut x) = self.exchange.take() else {
            return;
        };
        if let Some(r) = &mut x.response {
            r.total_ms = end.total_ms;
        }
        x.transport = end.transport.clone();
        let body = std::mem::replace(&mut self.body, Body::None);
        let request = self.request.as_ref();
        let mut v = match (&x.response, body) {
            (None, _) => Validation::empty(),
            (Some(r), Body::Stream(c)) => {
                validate::validate_stream_outcome(c.finish(r.total_ms), request)
            }
            (Some(r), Body::Sniff(parts)) => {
                let first = parts
                    .iter()
                    .find(|(_, b)| !b.iter().all(u8::is_ascii_whitespace));
                if first.is_some_and(|(_, b)| looks_like_event_stream(b)) {
                    let mut c = self.stream_check();
                    for (t, b) in &parts {
                        c.feed(b, *t);
                    }
                    validate::validate_stream_outcome(c.finish(r.total_ms), request)
                } else {
                    let bytes: Vec<u8> = parts.into_iter().flat_map(|(_, b)| b).collect();
                    self.validate_within_budget(&mut x, &bytes)
                }
            }
            (Some(_), Body::Buffer(bytes)) => self.validate_within_budget(&mut x, &bytes),
            (Some(_), Body::None) => self.validate_body(&x, &[]),
        };
        if let Some(r) = &x.response {
            v.findings
                .extend(validate::check_headers(&r.head(), self.wants_stream));
        }
        let infra = transport_findings(&x, &mut v.findings);
        self.done = Some(Judgement {
            validation: v,
            exchange: x,
            infra,
        });
    }
}

impl Judge {
    /// Validate a whole body, unless its parsed tree would exceed the memory budget
    /// ([`crate::budget`]): then it is not parsed, and the exchange ends as `error` like a body
    /// beyond `--max-body-mb` (unless it already ended otherwise).
    fn validate_within_budget(&self, x: &mut Exchange, bytes: &[u8]) -> Validation {
        let max_body = self
            .opts
            .max_body
            .unwrap_or(crate::http::client::DEFAULT_MAX_BODY);
        match crate::budget::over_budget(bytes, max_body) {
            None => self.validate_body(x, bytes),
            Some(why) => {
                if x.transport.is_none() {
                    x.transport = Some(crate::exchange::TransportFailure {
                        kind: FailureKind::BodyLimit,
                        message: why,
                    });
                }
                Validation::empty()
            }
        }
    }

    fn validate_body(&self, x: &Exchange, bytes: &[u8]) -> Validation {
        let status = x.response.as_ref().map(|r| r.status);
        let expected =
            Endpoint::of(&x.request.method, x.request.path()).map(Endpoint::response_shape);
        let hint = expected.map_or(ShapeHint::Recognise(self.opts.file_hint), ShapeHint::Known);
        let status = if self.opts.status_unknown {
            None
        } else {
            status
        };
        validate::validate_body(bytes, status, hint, self.request.as_ref())
    }
}

/// Why an attempt was retried, in a few words: a timeout is never called a rate limit.
fn retry_reason(r: &crate::exchange::Retry) -> String {
    match r.status {
        Some(429) => "rate limited".into(),
        Some(503 | 529) => "overloaded".into(),
        Some(s) => format!("HTTP {s}"),
        None if r.cause.contains("timeout") => "timed out".into(),
        None if r.cause.starts_with("connect error") => "no connection".into(),
        None => "dropped".into(),
    }
}

/// Findings about how the exchange travelled (retries, a cut body); the reason no conformance
/// statement can be made, when infrastructure or conform's own limits stood in the way.
fn transport_findings(x: &Exchange, out: &mut Vec<Finding>) -> Option<String> {
    if !x.retries.is_empty() {
        // An endpoint that needs retries to answer a single request is something every
        // client will notice.
        let causes: Vec<&str> = x.retries.iter().map(|r| r.cause.as_str()).collect();
        let mut why: Vec<String> = Vec::new();
        for r in &x.retries {
            let w = retry_reason(r);
            if !why.contains(&w) {
                why.push(w);
            }
        }
        out.push(
            Finding::new(
                ids::HTTP_RETRIED,
                "",
                format!(
                    "the request needed {} attempts ({})",
                    x.attempts(),
                    why.join(", ")
                ),
            )
            .actual(causes.join("; "))
            .reference(super::refs::ERRORS),
        );
    }
    let t = x.transport.as_ref()?;
    if x.response.is_none() {
        return Some(t.message.clone());
    }
    match t.kind {
        FailureKind::Interrupted => {
            out.push(
                Finding::new(
                    ids::TRANSPORT_INCOMPLETE,
                    "",
                    format!("the response was cut off: {}", t.message),
                )
                .reference(super::refs::STREAM_GRAMMAR),
            );
            None
        }
        FailureKind::BodyLimit => {
            out.push(
                Finding::new(ids::TRANSPORT_BODY_LIMIT, "", t.message.clone())
                    .expected("a response within conform's body limit (--max-body-mb)"),
            );
            Some(t.message.clone())
        }
        _ => Some(t.message.clone()),
    }
}

#[cfg(test)]
mod tests;
