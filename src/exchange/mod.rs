//! The Exchange: the raw wire record of one request and what came back.
//!
//! Everything after `execute` in the pipeline works on an exchange, and it reaches every
//! consumer the same way: as a sequence of [`Record`]s (begin, retries, response head, body
//! chunks with their arrival times, end with the transport outcome), delivered to an
//! [`Observer`]. The live HTTP client, an exchange file on disk ([`read`]) and an in-memory
//! [`Exchange`] all produce that sequence, so the judge that consumes it gives identical
//! findings whatever the source (ARCHITECTURE.md, "Bird's-eye view": judged once, live).
//!
//! On disk ([`write`]) an exchange is one NDJSON line per record, so neither writing nor
//! reading ever holds a whole body in memory; secrets are redacted before anything is written,
//! across chunk boundaries too.

mod cap;
pub(crate) mod read;
pub(crate) mod spool;
pub(crate) mod write;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) use cap::{Capped, body_limit};
pub(crate) use read::{ReadError, for_each_exchange};
pub(crate) use write::Recorder;

/// One request and what came back (or the transport failure that came instead), held whole.
/// The runner never holds these whole for a run: it streams records to disk and keeps the
/// judge's copy, which has no body chunks ([`crate::protocol::anthropic::judge::Judgement`]);
/// whole exchanges serve tests, `conform check` of small inputs, and callers that want a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// What this exchange belongs to, e.g. `tools/forced-choice@stream step call`.
    #[serde(default)]
    pub label: String,
    pub request: RecordedRequest,
    /// Attempts that were answered with something retryable, before the final one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<Retry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// How the final attempt ended when it did not end normally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportFailure>,
}

impl Exchange {
    /// A fresh exchange for a request, nothing received yet.
    pub fn new(label: impl Into<String>, request: RecordedRequest) -> Exchange {
        Exchange {
            label: label.into(),
            request,
            retries: Vec::new(),
            response: None,
            transport: None,
        }
    }

    /// How many attempts were sent (0 when the request could not be sent at all).
    pub fn attempts(&self) -> u32 {
        let invalid = self
            .transport
            .as_ref()
            .is_some_and(|t| t.kind == FailureKind::InvalidRequest);
        if invalid && self.retries.is_empty() {
            0
        } else {
            self.retries.len() as u32 + 1
        }
    }

    /// The transport failure's message, if any.
    pub fn transport_error(&self) -> Option<&str> {
        self.transport.as_ref().map(|t| t.message.as_str())
    }

    /// Deliver this exchange, record by record, to an observer.
    pub(crate) fn replay_into(&self, obs: &mut impl Observer) {
        obs.begin(&self.label, &self.request);
        for r in &self.retries {
            obs.retry(r);
        }
        let mut total_ms = 0.0;
        if let Some(resp) = &self.response {
            obs.head(&resp.head());
            for c in &resp.chunks {
                obs.chunk(c.t_ms, &c.bytes());
            }
            total_ms = resp.total_ms;
        }
        obs.end(&End {
            total_ms,
            transport: self.transport.clone(),
        });
    }

    /// A copy with every secret and sensitive header value replaced by `[REDACTED]`.
    #[cfg(test)]
    pub(crate) fn redacted(&self, redactor: &crate::secrets::Redactor) -> Exchange {
        let mut c = Collector::default();
        let mut rec = write::Redacting::new(redactor, &mut c);
        self.replay_into(&mut rec);
        c.into_exchanges().pop().unwrap_or_else(|| self.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body exactly as sent (it may be deliberately malformed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl RecordedRequest {
    /// The body parsed as JSON, when it is JSON.
    pub(crate) fn body_json(&self) -> Option<Value> {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
    }

    /// The path and query of the URL (`/v1/messages?beta=true`).
    pub(crate) fn path(&self) -> &str {
        let rest = self
            .url
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.url);
        rest.find('/').map(|i| &rest[i..]).unwrap_or("/")
    }
}

/// An attempt that got a retryable answer (or a transport error) and was tried again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    /// 1-based number of the attempt that failed.
    pub attempt: u32,
    /// Milliseconds from the first attempt to this attempt's answer.
    pub t_ms: f64,
    /// The status that made it retry, when there was a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why: `HTTP 529`, `connect error: …`.
    pub cause: String,
    /// How long the client waited before the next attempt.
    pub wait_ms: f64,
}

/// The response head of the final attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Milliseconds from sending the final attempt to its response head.
    #[serde(default)]
    pub head_ms: f64,
}

impl Head {
    /// The value of the first header with this name (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The media type of `content-type` without parameters, lowercased.
    pub(crate) fn media_type(&self) -> Option<String> {
        media_type(&self.headers)
    }
}

/// The end of an exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    /// Milliseconds from sending the final attempt to the end of the body.
    #[serde(default)]
    pub total_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportFailure>,
}

/// Why an exchange did not end normally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransportFailure {
    pub kind: FailureKind,
    pub message: String,
}

/// The kinds of transport failure. Only [`FailureKind::Interrupted`] after a response head is
/// the endpoint's doing in a way that is judged (a cut response); the others are
/// infrastructure or conform's own limits, and make a result `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// DNS, TCP, TLS: nothing was answered.
    Connect,
    /// No response head within the first-byte limit.
    FirstByteTimeout,
    /// No body data within the idle limit.
    IdleTimeout,
    /// The exchange's total time limit.
    TotalTimeout,
    /// The connection was reset or the body ended abnormally.
    Interrupted,
    /// The body exceeded conform's body limit and was cut.
    BodyLimit,
    /// The request could not be built (e.g. an unsendable header).
    InvalidRequest,
    /// The run was interrupted (Ctrl-C, SIGTERM) while this exchange was in flight.
    Cancelled,
    /// `--replay`: no recorded exchange answers this request.
    Replay,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Milliseconds from sending the request to the response head.
    #[serde(default)]
    pub head_ms: f64,
    /// The body as it arrived.
    #[serde(default)]
    pub chunks: Vec<Chunk>,
    /// Milliseconds from sending the request to the end of the body.
    #[serde(default)]
    pub total_ms: f64,
}

impl RecordedResponse {
    /// The value of the first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The media type of `content-type` without parameters, lowercased.
    pub(crate) fn media_type(&self) -> Option<String> {
        media_type(&self.headers)
    }

    pub fn is_event_stream(&self) -> bool {
        self.media_type().as_deref() == Some("text/event-stream")
    }

    /// The whole body, chunks joined.
    pub fn body_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for c in &self.chunks {
            out.extend_from_slice(&c.bytes());
        }
        out
    }

    /// The head of this response.
    pub(crate) fn head(&self) -> Head {
        Head {
            status: self.status,
            headers: self.headers.clone(),
            head_ms: self.head_ms,
        }
    }
}

/// The value of the first header with this name (case-insensitive).
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn media_type(headers: &[(String, String)]) -> Option<String> {
    header(headers, "content-type").map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

/// A piece of the body with its arrival time. Text when the bytes are UTF-8, base64 otherwise,
/// so an exchange file stays readable and still reproduces the exact bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Milliseconds from sending the request.
    pub t_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b64: Option<String>,
}

impl Chunk {
    pub fn new(t_ms: f64, bytes: &[u8]) -> Self {
        use base64::Engine as _;
        match std::str::from_utf8(bytes) {
            Ok(s) => Chunk {
                t_ms,
                text: Some(s.to_string()),
                b64: None,
            },
            Err(_) => Chunk {
                t_ms,
                text: None,
                b64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            },
        }
    }

    /// The bytes of this chunk (an undecodable `b64` yields none).
    pub(crate) fn bytes(&self) -> Vec<u8> {
        use base64::Engine as _;
        if let Some(t) = &self.text {
            return t.as_bytes().to_vec();
        }
        self.b64
            .as_deref()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_default()
    }
}

/// One line of an exchange file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rec", rename_all = "snake_case")]
pub(crate) enum Record {
    Begin {
        #[serde(default)]
        label: String,
        request: RecordedRequest,
    },
    Retry(Retry),
    Head(Head),
    Chunk(Chunk),
    End(End),
}

/// Receives an exchange as it happens (or as it is read back): `begin`, any `retry`, at most
/// one `head`, its body `chunk`s, then `end`.
pub trait Observer {
    fn begin(&mut self, label: &str, request: &RecordedRequest);
    fn retry(&mut self, retry: &Retry);
    fn head(&mut self, head: &Head);
    fn chunk(&mut self, t_ms: f64, bytes: &[u8]);
    fn end(&mut self, end: &End);
}

/// Two observers fed the same records (judge and recorder of a live run).
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        self.0.begin(label, request);
        self.1.begin(label, request);
    }
    fn retry(&mut self, retry: &Retry) {
        self.0.retry(retry);
        self.1.retry(retry);
    }
    fn head(&mut self, head: &Head) {
        self.0.head(head);
        self.1.head(head);
    }
    fn chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        self.0.chunk(t_ms, bytes);
        self.1.chunk(t_ms, bytes);
    }
    fn end(&mut self, end: &End) {
        self.0.end(end);
        self.1.end(end);
    }
}

impl<T: Observer + ?Sized> Observer for &mut T {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        (**self).begin(label, request);
    }
    fn retry(&mut self, retry: &Retry) {
        (**self).retry(retry);
    }
    fn head(&mut self, head: &Head) {
        (**self).head(head);
    }
    fn chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        (**self).chunk(t_ms, bytes);
    }
    fn end(&mut self, end: &End) {
        (**self).end(end);
    }
}

/// Collects records into whole [`Exchange`]s.
#[derive(Debug, Default)]
pub struct Collector {
    done: Vec<Exchange>,
    current: Option<Exchange>,
}

impl Collector {
    /// The exchanges collected so far (an unfinished one included).
    pub fn into_exchanges(mut self) -> Vec<Exchange> {
        self.done.extend(self.current.take());
        self.done
    }
}

impl Observer for Collector {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        self.done.extend(self.current.take());
        self.current = Some(Exchange::new(label, request.clone()));
    }
    fn retry(&mut self, retry: &Retry) {
        if let Some(x) = &mut self.current {
            x.retries.push(retry.clone());
        }
    }
    fn head(&mut self, head: &Head) {
        if let Some(x) = &mut self.current {
            x.response = Some(RecordedResponse {
                status: head.status,
                headers: head.headers.clone(),
                head_ms: head.head_ms,
                chunks: Vec::new(),
                total_ms: head.head_ms,
            });
        }
    }
    fn chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        if let Some(r) = self.current.as_mut().and_then(|x| x.response.as_mut()) {
            r.chunks.push(Chunk::new(t_ms, bytes));
        }
    }
    fn end(&mut self, end: &End) {
        if let Some(mut x) = self.current.take() {
            if let Some(r) = &mut x.response {
                r.total_ms = end.total_ms;
            }
            x.transport = end.transport.clone();
            self.done.push(x);
        }
    }
}

#[cfg(test)]
mod tests;
