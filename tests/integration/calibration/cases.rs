//! The calibration cases (tests/calibration/cases.json): every mock fault with the request
//! that shows it, and hand-made violations served from fixture files. Each case's response is
//! captured, judged by conform's judge (which checks it triggers) and reduced to its ground
//! truth: what an application should get out of it.
//!
//! Ground truth is conform's own reading of the same response — the accumulated message, the
//! error it carries, or an incomplete stream — because the question is whether the client
//! *parses* the traffic as conform does; whether the server's data is itself wrong (a wrong
//! stop reason, an ignored feature) is the documented contract, carried by the catalogue's
//! `contract` marker. One exception: when the response is a retryable error (429, 5xx) and
//! the client returned a message, it retried as invited, so its message is compared with the
//! clean server's answer to the same request.

use conform::Chunk;
use conform::Exchange;
use conform::RecordedRequest;
use conform::RecordedResponse;
use conform::judge::Ending;
use conform::judge::Options;
use conform::judge::judge_exchange;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/calibration")
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub requests: BTreeMap<String, Preset>,
    pub cases: Vec<CaseDecl>,
}

/// A request a fault case sends.
#[derive(Debug, Clone, Deserialize)]
pub struct Preset {
    /// `messages`, `count_tokens` or `models`.
    pub endpoint: String,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub body: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseDecl {
    pub name: String,
    /// A mock fault (the case runs against a mock with it)…
    #[serde(default)]
    pub fault: Option<String>,
    /// The request a fault case sends, or a fixture case answers (default `hello`).
    #[serde(default)]
    pub request: Option<String>,
    /// … or fixture files, relative to tests/calibration.
    #[serde(default)]
    pub stream: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    /// The `content-type` the fixtures are served with (default: `text/event-stream` for
    /// `stream`, `application/json` for `message`).
    #[serde(default)]
    pub content_type: Option<String>,
    /// The check ids the judge must report for this case.
    pub targets: Vec<String>,
    /// For a fault no judge check catches: the scenario that does.
    #[serde(default)]
    pub scenario: Option<String>,
    #[serde(default)]
    pub about: Option<String>,
}

pub fn manifest() -> Manifest {
    let text = std::fs::read_to_string(dir().join("cases.json")).expect("cases.json");
    serde_json::from_str(&text).expect("cases.json parses")
}

/// What the application visibly gets from a message (the SDK scripts print the same shape).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Summary {
    pub text: String,
    pub thinking: String,
    pub tools: Vec<Value>,
    pub stop_reason: Option<String>,
    pub usage: BTreeMap<String, Option<i64>>,
}

impl Summary {
    pub fn of(message: &Value) -> Summary {
        let mut s = Summary {
            text: String::new(),
            thinking: String::new(),
            tools: Vec::new(),
            stop_reason: message["stop_reason"].as_str().map(String::from),
            usage: BTreeMap::new(),
        };
        for b in message["content"].as_array().into_iter().flatten() {
            match b["type"].as_str() {
                Some("text") => s.text.push_str(b["text"].as_str().unwrap_or("")),
                Some("thinking") => s.thinking.push_str(b["thinking"].as_str().unwrap_or("")),
                Some("tool_use") => s.tools.push(b["input"].clone()),
                _ => {}
            }
        }
        let u = &message["usage"];
        for k in ["input_tokens", "output_tokens"] {
            s.usage.insert(k.into(), u[k].as_i64());
        }
        // Absent, null and 0 are one rule for the cache counts.
        for k in ["cache_creation_input_tokens", "cache_read_input_tokens"] {
            s.usage.insert(k.into(), Some(u[k].as_i64().unwrap_or(0)));
        }
        s
    }

    /// The fields where `other` differs from this one.
    pub fn diff(&self, other: &Summary) -> Vec<String> {
        let mut d = Vec::new();
        if self.text != other.text {
            d.push(format!("text {:?}", clip(&other.text, 40)));
        }
        if self.thinking != other.thinking {
            d.push(format!("thinking {:?}", clip(&other.thinking, 40)));
        }
        if self.tools != other.tools {
            d.push(format!(
                "tool input {}",
                clip(&json!(other.tools).to_string(), 60)
            ));
        }
        if self.stop_reason != other.stop_reason {
            d.push(format!("stop_reason {:?}", other.stop_reason));
        }
        for (k, v) in &self.usage {
            let got = other.usage.get(k).cloned().flatten();
            if *v != got {
                d.push(format!("usage.{k} {got:?} (expected {v:?})"));
            }
        }
        d
    }
}

pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// What the application should get out of a response.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    Message(Summary),
    /// An error response or `error` event; `retryable` for 429/5xx/529.
    Error {
        status: u16,
        retryable: bool,
    },
    /// A stream that ended without `message_stop` or `error`: what had arrived; or a success
    /// answer whose body is not JSON (nothing arrived).
    Incomplete(Summary),
    /// Another endpoint's answer (count_tokens, models), compared as JSON.
    Value(Value),
}

/// A captured response.
#[derive(Debug, Clone)]
pub struct Captured {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Response headers besides the content type.
    pub headers: Vec<(String, String)>,
    /// The transport broke before the body was complete.
    pub cut: bool,
}

/// One judged response: the checks it triggers and its ground truth.
#[derive(Debug, Clone)]
pub struct Judged {
    pub checks: BTreeSet<String>,
    pub truth: Truth,
}

/// Judge `captured` as the answer to `body` sent to `path`.
pub fn judge(path: &str, body: Option<&Value>, captured: &Captured) -> Judged {
    let mut x = Exchange::new(
        "calibration",
        RecordedRequest {
            method: if body.is_some() { "POST" } else { "GET" }.into(),
            url: format!("http://127.0.0.1{path}"),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.map(Value::to_string),
        },
    );
    x.response = Some(RecordedResponse {
        status: captured.status,
        headers: std::iter::once(("content-type".to_string(), captured.content_type.clone()))
            .chain(captured.headers.iter().cloned())
            .collect(),
        head_ms: 0.0,
        chunks: vec![Chunk::new(0.0, &captured.body)],
        total_ms: 0.0,
    });
    if captured.cut {
        x.transport = Some(conform::TransportFailure {
            kind: conform::FailureKind::Interrupted,
            message: "connection closed mid-body".into(),
        });
    }
    let j = judge_exchange(&x, Options::default());
    let v = &j.validation;
    let checks = v.findings.iter().map(|f| f.check.to_string()).collect();
    let status = captured.status;
    let retryable = status == 429 || status >= 500;
    let truth = if let Some(s) = &v.stream {
        let summary = v.message.as_ref().map(Summary::of);
        match s.ending {
            Ending::Error => Truth::Error {
                status,
                retryable: false,
            },
            // No message to accumulate (no `message_start`): nothing an application can use.
            Ending::Complete => match summary {
                Some(s) => Truth::Message(s),
                None => Truth::Incomplete(Summary::of(&json!({}))),
            },
            Ending::Truncated => {
                Truth::Incomplete(summary.unwrap_or_else(|| Summary::of(&json!({}))))
            }
        }
    } else if status != 200 || v.body.as_ref().is_some_and(|b| b["type"] == "error") {
        Truth::Error { status, retryable }
    } else if path.ends_with("/v1/messages") {
        match &v.message {
            Some(m) => Truth::Message(Summary::of(m)),
            // A success status with a body that is not JSON: no error, and nothing an
            // application can use.
            None if v.body.is_none() => Truth::Incomplete(Summary::of(&json!({}))),
            None => Truth::Error { status, retryable },
        }
    } else {
        Truth::Value(v.body.clone().unwrap_or(Value::Null))
    };
    Judged { checks, truth }
}

/// A fixture file's bytes.
pub fn fixture(rel: &str) -> Vec<u8> {
    let p: &Path = &dir().join(rel);
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
