//! The Exchange: the raw wire record of one request and its response.
//!
//! Everything after `execute` in the pipeline works on an Exchange, so a live run, a replay of
//! recorded exchanges and `conform check` of captured traffic go through the same validators.
//! The response body is kept as the chunks that arrived, each with its arrival time, so that a
//! stream can be re-decoded with its timing. On disk an exchange is one JSON object per line
//! (NDJSON); secrets are redacted before anything is written.

use crate::secrets::Redactor;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{self, Write};
use std::path::Path;

/// One request and what came back (or the transport error that came instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// What this exchange belongs to, e.g. `tools/forced-choice@stream step call`.
    #[serde(default)]
    pub label: String,
    pub request: RecordedRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// A transport failure (connect, timeout, reset) in place of or in the middle of a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_error: Option<String>,
    /// How many attempts were made (retries included).
    #[serde(default = "one")]
    pub attempts: u32,
}

fn one() -> u32 {
    1
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
    pub fn body_json(&self) -> Option<Value> {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
    }
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
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
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
}

/// The value of the first header with this name (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
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

    pub fn bytes(&self) -> Vec<u8> {
        if let Some(t) = &self.text {
            return t.as_bytes().to_vec();
        }
        self.b64
            .as_deref()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_default()
    }
}

impl Exchange {
    /// A copy with every secret and sensitive header value replaced by `[REDACTED]`.
    pub fn redacted(&self, redactor: &Redactor) -> Exchange {
        let mut x = self.clone();
        x.label = redactor.redact(&x.label);
        x.request.url = redactor.redact(&x.request.url);
        x.request.headers = redactor.redact_headers(&x.request.headers);
        x.request.body = x.request.body.as_deref().map(|b| redactor.redact(b));
        if let Some(r) = &mut x.response {
            r.headers = redactor.redact_headers(&r.headers);
            for c in &mut r.chunks {
                if let Some(t) = &c.text {
                    c.text = Some(redactor.redact(t));
                }
            }
        }
        x.transport_error = x.transport_error.as_deref().map(|e| redactor.redact(e));
        x
    }
}

/// Write exchanges as NDJSON, redacted, atomically (temp file + rename).
pub fn write_ndjson(path: &Path, exchanges: &[Exchange], redactor: &Redactor) -> io::Result<()> {
    let mut buf = Vec::new();
    for x in exchanges {
        serde_json::to_writer(&mut buf, &x.redacted(redactor))?;
        buf.push(b'\n');
    }
    crate::fsutil::write_atomic(path, &buf)
}

/// Read an NDJSON exchange file. A line that is not an exchange is an error naming the line.
pub fn read_ndjson(path: &Path) -> io::Result<Vec<Exchange>> {
    parse_ndjson(&std::fs::read(path)?)
}

/// Parse NDJSON exchanges (one per line; blank lines skipped).
pub fn parse_ndjson(bytes: &[u8]) -> io::Result<Vec<Exchange>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8: {e}")))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let x: Exchange = serde_json::from_str(line).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("line {}: not an exchange: {e}", i + 1),
            )
        })?;
        out.push(x);
    }
    Ok(out)
}

/// Append one exchange line to a writer (used by the runner while a run is in progress).
pub fn write_line(w: &mut impl Write, x: &Exchange, redactor: &Redactor) -> io::Result<()> {
    serde_json::to_writer(&mut *w, &x.redacted(redactor))?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Exchange {
        Exchange {
            label: "basic/hello@sync".into(),
            request: RecordedRequest {
                method: "POST".into(),
                url: "http://127.0.0.1:1/v1/messages".into(),
                headers: vec![
                    ("x-api-key".into(), "sk-canary-123".into()),
                    ("anthropic-version".into(), "2023-06-01".into()),
                ],
                body: Some(r#"{"model":"m","note":"sk-canary-123"}"#.into()),
            },
            response: Some(RecordedResponse {
                status: 200,
                headers: vec![(
                    "content-type".into(),
                    "text/event-stream; charset=utf-8".into(),
                )],
                head_ms: 1.0,
                chunks: vec![
                    Chunk::new(1.5, b"event: ping\n"),
                    Chunk::new(2.0, &[0xff, 0x0a]),
                ],
                total_ms: 2.0,
            }),
            transport_error: None,
            attempts: 1,
        }
    }

    #[test]
    fn roundtrip_through_ndjson_redacts_and_keeps_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ndjson");
        let redactor = Redactor::new(vec!["sk-canary-123".to_string()]);
        write_ndjson(&path, &[sample(), sample()], &redactor).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("sk-canary-123"));
        assert_eq!(text.lines().count(), 2);
        let back = read_ndjson(&path).unwrap();
        assert_eq!(back.len(), 2);
        let r = back[0].response.as_ref().unwrap();
        assert_eq!(r.body_bytes(), b"event: ping\n\xff\n".to_vec());
        assert!(r.is_event_stream());
        assert_eq!(back[0].request.headers[0].1, "[REDACTED]");
    }

    #[test]
    fn a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ndjson");
        std::fs::write(&path, "{}\n").unwrap();
        let err = read_ndjson(&path).unwrap_err();
        assert!(err.to_string().starts_with("line 1:"), "{err}");
    }
}
