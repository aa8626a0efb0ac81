//! Validation of one recorded exchange: status, headers, body shape, stream grammar, the final
//! message's consistency and the request-implied checks, in one place, for live runs and for
//! captured traffic alike.

use super::grammar::Ending;
use super::refs;
use super::schema::{self, Shape};
use super::stream::{EventRun, StreamTiming};
use super::{implied, semantics};
use crate::check::catalogue::ids;
use crate::check::{Finding, Severity};
use crate::exchange::Head;
use serde_json::Value;

/// What kind of body an exchange carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    Message,
    Stream,
    Error,
    CountTokens,
    ModelList,
    Model,
    /// Not JSON, not a stream.
    Unreadable,
    Empty,
}

/// What a stream looked like, for snapshots and timing.
#[derive(Debug, Clone)]
pub struct StreamSummary {
    pub runs: Vec<EventRun>,
    pub ending: Ending,
    pub timing: StreamTiming,
    pub error_event: Option<Value>,
    pub events: usize,
}

/// Everything validation learned about one exchange.
#[derive(Debug, Clone)]
pub struct Validation {
    pub kind: BodyKind,
    pub findings: Vec<Finding>,
    /// The JSON body (non-streamed responses).
    pub body: Option<Value>,
    /// The final message: the body, or the message accumulated from the stream.
    pub message: Option<Value>,
    pub stream: Option<StreamSummary>,
}

impl Validation {
    /// Nothing to validate (no response).
    pub(crate) fn empty() -> Validation {
        Validation {
            kind: BodyKind::Empty,
            findings: Vec::new(),
            body: None,
            message: None,
            stream: None,
        }
    }

    /// The value assertions and captures see: the accumulated message in stream mode, the body
    /// otherwise (for a stream that ended in an `error` event, that event's payload).
    pub(crate) fn subject(&self) -> Option<&Value> {
        if let Some(s) = &self.stream
            && s.ending == Ending::Error
        {
            return s.error_event.as_ref();
        }
        self.message.as_ref().or(self.body.as_ref())
    }
}

/// Judge a finished stream: its findings plus the message-level and request-implied checks.
pub(crate) fn validate_stream_outcome(
    o: super::stream::StreamOutcome,
    request: Option<&Value>,
) -> Validation {
    let mut findings = o.findings;
    if o.ending == Ending::Complete
        && let Some(m) = &o.message
    {
        findings.extend(
            semantics::check_message(m)
                .into_iter()
                .map(|f| f.located_in("accumulated message")),
        );
        if let Some(r) = request {
            findings.extend(
                implied::check(r, m)
                    .into_iter()
                    .map(|f| f.located_in("accumulated message")),
            );
        }
    }
    if let Some(e) = &o.error_event {
        check_error_type(e, "error event /error/type", &mut findings);
        findings.push(
            Finding::new(
                ids::STREAM_ERROR_EVENT,
                "end of stream",
                format!(
                    "the stream ended with an `error` event ({})",
                    e.pointer("/error/type")
                        .and_then(Value::as_str)
                        .unwrap_or("no type")
                ),
            )
            .reference(refs::STREAM_ERRORS),
        );
    }
    Validation {
        kind: BodyKind::Stream,
        findings,
        body: None,
        message: o.message,
        stream: Some(StreamSummary {
            runs: o.runs,
            ending: o.ending,
            timing: o.timing,
            error_event: o.error_event,
            events: o.events,
        }),
    }
}

/// Validate a non-streamed body with its status. `expected` is the shape the request path
/// implies (None when unknown: the shape is then recognised from the body).
pub fn validate_body(
    bytes: &[u8],
    status: Option<u16>,
    hint: ShapeHint,
    request: Option<&Value>,
) -> Validation {
    let mut findings = Vec::new();
    let known_status = status;
    let status = status.unwrap_or(0);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        findings.push(
            Finding::new(ids::BODY_EMPTY, "body", "the response has no body")
                .expected(if status >= 400 {
                    "an error object"
                } else {
                    "a JSON object"
                })
                .reference(if status >= 400 {
                    refs::ERRORS
                } else {
                    refs::MESSAGE
                }),
        );
        return Validation {
            kind: BodyKind::Empty,
            findings,
            body: None,
            message: None,
            stream: None,
        };
    }
    let body: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            let text = String::from_utf8_lossy(bytes);
            // An error status is still an error to every client (they raise on the status);
            // only its type and message are lost: should. A success body that does not parse
            // is no answer at all: must.
            let finding = if status >= 400 {
                Finding::new(
                    ids::BODY_ERROR_JSON,
                    "body",
                    format!("the error body is not JSON: {e}"),
                )
                .expected("{\"type\":\"error\",\"error\":{…}}")
                .reference(refs::ERRORS)
            } else {
                Finding::new(ids::BODY_JSON, "body", format!("the body is not JSON: {e}"))
                    .expected("a JSON object")
                    .reference(refs::MESSAGE)
            };
            findings.push(finding.actual(crate::text::truncate(text.trim(), 80)));
            return Validation {
                kind: BodyKind::Unreadable,
                findings,
                body: None,
                message: None,
                stream: None,
            };
        }
    };
    let is_error_shape = body.get("type").and_then(Value::as_str) == Some("error");
    let shape = if status >= 400 || (known_status.is_none() && is_error_shape) {
        Shape::Error
    } else if is_error_shape {
        findings.push(
            Finding::new(
                ids::ERROR_STATUS,
                "status",
                "an error body with a success status; clients treat it as a result and fail to parse it",
            )
            .expected("a 4xx/5xx status with an error body")
            .actual(status.to_string())
            .reference(refs::ERRORS),
        );
        Shape::Error
    } else {
        match hint {
            ShapeHint::Known(shape) => shape,
            ShapeHint::Recognise(file_hint) => {
                let (shape, exact) = recognise(&body, file_hint);
                if !exact {
                    findings.push(
                Finding::new(
                    ids::SHAPE_UNKNOWN,
                    "/",
                        format!(
                            "the body matches none of the protocol's response shapes; judged as `{}`",
                            shape.name()
                        ),
                    )
                    .reference(refs::MESSAGE),
                    );
                }
                shape
            }
        }
    };
    if status >= 400 {
        check_error_status(status, &body, &mut findings);
    }
    // An error body's schema is `schema.error`, `should` in the catalogue: the clients raise
    // on the error status whatever the body says (measured, see docs/client-impact.md).
    findings.extend(schema::validate(shape, &body));
    let mut message = None;
    if shape == Shape::Message && body.is_object() {
        findings.extend(semantics::check_message(&body));
        if let Some(r) = request {
            findings.extend(implied::check(r, &body));
        }
        message = Some(body.clone());
    }
    let kind = match shape {
        Shape::Message => BodyKind::Message,
        Shape::Error => BodyKind::Error,
        Shape::CountTokens => BodyKind::CountTokens,
        Shape::ModelList => BodyKind::ModelList,
        Shape::Model => BodyKind::Model,
        _ => BodyKind::Message,
    };
    Validation {
        kind,
        findings,
        body: Some(body),
        message,
        stream: None,
    }
}

/// What decides the shape a non-streamed body is judged as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeHint {
    /// The request path says it (`/v1/messages` → a message).
    Known(Shape),
    /// Unknown (captured traffic): recognise it from the body, with an optional file-name hint
    /// as the last resort; a body that matches no shape exactly is a `must` finding.
    Recognise(Option<Shape>),
}

/// Recognise a body's shape: `(shape, exact)`; when nothing matches exactly, the closest shape
/// by its `type`, else by the fields it has, else by the file-name hint.
pub(crate) fn recognise(body: &Value, file_hint: Option<Shape>) -> (Shape, bool) {
    let t = body.get("type").and_then(Value::as_str);
    let has = |k: &str| body.get(k).is_some();
    match t {
        Some("message") => return (Shape::Message, true),
        Some("error") => return (Shape::Error, true),
        Some("model") => return (Shape::Model, true),
        _ => {}
    }
    if let Some(o) = body.as_object() {
        if t.is_none() && o.len() == 1 && has("input_tokens") {
            return (Shape::CountTokens, true);
        }
        if t.is_none() && body.get("data").is_some_and(Value::is_array) && has("has_more") {
            return (Shape::ModelList, true);
        }
    }
    let closest = if has("error") {
        Shape::Error
    } else if has("content") || has("role") || has("choices") || has("stop_reason") {
        Shape::Message
    } else if has("data") {
        Shape::ModelList
    } else if has("input_tokens") {
        Shape::CountTokens
    } else if let Some(h) = file_hint {
        h
    } else {
        Shape::Message
    };
    (closest, false)
}

/// The `error.type` values Anthropic uses with each status (docs/protocol.md §5.2).
pub(crate) fn error_types_for_status(status: u16) -> Option<&'static [&'static str]> {
    Some(match status {
        400 => &["invalid_request_error"],
        401 => &["authentication_error"],
        402 => &["billing_error"],
        403 => &["permission_error"],
        404 => &["not_found_error"],
        409 => &["conflict_error", "invalid_request_error"],
        413 => &["request_too_large", "invalid_request_error"],
        429 => &["rate_limit_error"],
        500 => &["api_error"],
        504 => &["timeout_error"],
        529 => &["overloaded_error"],
        _ => return None,
    })
}

/// The `error.type` values Anthropic documents.
pub(crate) const ERROR_TYPES: [&str; 11] = [
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
    "conflict_error",
];

/// An `error.type` outside Anthropic's set (`mock_error`, `auth_error`), in a body or an
/// `error` event: SDKs pick exceptions by status, but code that matches on the type breaks.
pub(crate) fn check_error_type(error: &Value, location: &str, out: &mut Vec<Finding>) {
    if let Some(t) = error.pointer("/error/type").and_then(Value::as_str)
        && !ERROR_TYPES.contains(&t)
    {
        out.push(
            Finding::new(
                ids::ERROR_TYPE_UNKNOWN,
                location,
                "an error type Anthropic does not use",
            )
            .expected(ERROR_TYPES.join(", "))
            .actual(t)
            .reference(refs::ERRORS),
        );
    }
}

fn check_error_status(status: u16, body: &Value, out: &mut Vec<Finding>) {
    check_error_type(body, "/error/type", out);
    let etype = body.pointer("/error/type").and_then(Value::as_str);
    match (error_types_for_status(status), etype) {
        (Some(allowed), Some(t)) if !allowed.contains(&t) => out.push(
            Finding::new(
                ids::ERROR_STATUS_TYPE,
                "/error/type",
                format!("HTTP {status} goes with a different error type; SDKs pick the exception by status"),
            )
            .expected(allowed.join(" or "))
            .actual(t)
            .reference("https://platform.claude.com/docs/en/api/errors (HTTP errors)"),
        ),
        (None, _) => {
            let sev_must = (400..500).contains(&status);
            let f = if sev_must {
                Finding::new(
                    ids::ERROR_STATUS_TYPE,
                    "status",
                    format!("HTTP {status} is not a status the Anthropic API uses; validation errors are 400 `invalid_request_error`"),
                )
            } else {
                Finding::new(ids::ERROR_STATUS_TYPE, "status", format!("HTTP {status} is not a status the Anthropic API documents"))
                    .with_exception(Severity::Should)
            };
            out.push(f.actual(status.to_string()).reference("https://platform.claude.com/docs/en/api/errors (HTTP errors)"));
        }
        _ => {}
    }
}

pub(crate) fn check_headers(resp: &Head, wants_stream: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    if resp.headers.is_empty() {
        return out; // captured body without headers
    }
    if resp.header("request-id").is_none() {
        out.push(
            Finding::new(
                ids::HEADERS_REQUEST_ID,
                "request-id",
                "no `request-id` header; SDKs expose it for support requests",
            )
            .expected("req_…")
            .reference(refs::HEADERS),
        );
    }
    let media = resp.media_type().unwrap_or_default();
    let want = if resp.status == 200 && wants_stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    if media != want {
        // Measured (docs/client-impact.md): on an error status the clients raise the status's
        // error whatever the label; a success's label is the catalogue's severity.
        let f = if (200..300).contains(&resp.status) {
            Finding::new(
                ids::HEADERS_CONTENT_TYPE,
                "content-type",
                "the content type does not match the body the request implies",
            )
        } else {
            Finding::new(
                ids::HEADERS_ERROR_CONTENT_TYPE,
                "content-type",
                "an error response that is not labelled `application/json`",
            )
        };
        out.push(
            f.expected(want)
                .actual(if media.is_empty() {
                    "none".to_string()
                } else {
                    media
                })
                .reference(refs::HEADERS),
        );
    }
    if resp.status == 429
        && resp.header("retry-after").is_none()
        && resp.header("retry-after-ms").is_none()
    {
        out.push(
            Finding::new(
                ids::HEADERS_RETRY_AFTER,
                "retry-after",
                "a 429 without `retry-after`; clients cannot pace their retries",
            )
            .reference(refs::HEADERS),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckId;

    fn found(bytes: &[u8], status: u16) -> Vec<(Severity, CheckId)> {
        validate_body(bytes, Some(status), ShapeHint::Known(Shape::Message), None)
            .findings
            .into_iter()
            .map(|f| (f.severity(), f.check))
            .collect()
    }

    #[test]
    fn a_wrong_content_type_is_must_on_success_and_should_on_an_error_status() {
        // Measured (docs/client-impact.md): the TypeScript SDK hands a `text/plain` Message to
        // the application as a string; on an error status every client raises the status's
        // error whatever the label.
        let labelled = |status: u16, media: &str, stream: bool| -> Vec<(Severity, CheckId)> {
            let head = Head {
                status,
                headers: vec![
                    ("content-type".into(), media.into()),
                    ("request-id".into(), "req_1".into()),
                ],
                head_ms: 0.0,
            };
            check_headers(&head, stream)
                .into_iter()
                .map(|f| (f.severity(), f.check))
                .collect()
        };
        let must = vec![(Severity::Must, ids::HEADERS_CONTENT_TYPE)];
        assert_eq!(labelled(200, "text/plain", false), must);
        assert_eq!(labelled(200, "application/json", true), must);
        assert_eq!(
            labelled(400, "text/plain", false),
            vec![(Severity::Should, ids::HEADERS_ERROR_CONTENT_TYPE)]
        );
        assert!(labelled(200, "text/event-stream; charset=utf-8", true).is_empty());
        assert!(labelled(529, "application/json", true).is_empty());
    }

    #[test]
    fn a_body_that_is_not_json_is_must_on_success_and_should_on_an_error_status() {
        // Measured (docs/client-impact.md): every client raises on a non-JSON success body;
        // on an error status they raise the status's error whatever the body.
        assert_eq!(
            found(b"<html>welcome</html>", 200),
            vec![(Severity::Must, ids::BODY_JSON)]
        );
        assert_eq!(
            found(b"model not found", 404),
            vec![(Severity::Should, ids::BODY_ERROR_JSON)]
        );
    }

    #[test]
    fn an_error_body_that_breaks_its_schema_is_should() {
        let f = found(
            br#"{"error":{"message":"m","type":"invalid_request_error","param":null,"code":null}}"#,
            400,
        );
        assert!(f.contains(&(Severity::Should, ids::SCHEMA_ERROR)), "{f:?}");
        assert!(!f.iter().any(|(s, _)| *s == Severity::Must), "{f:?}");
    }
}
