//! The calibration cases made ready to run: a fault case's response captured from a fresh
//! mock with the fault (and the clean mock's, for a client that retries), a fixture case's
//! files read, each judged by conform into the checks it triggers and its ground truth.

use super::cases::{self, Captured, Judged, Truth, judge};
use super::clients::ClaudeExpect;
use super::serve;
use crate::mock_support;
use conform::reference_server::Fault;
use conform::reference_server::MockConfig;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The text of the clean mock's answer to Claude Code's "Say hello".
const HELLO: &str = "Here is a short answer about hello.";

/// One case, ready to run.
pub struct Case {
    pub decl: cases::CaseDecl,
    pub endpoint: String,
    pub api_key: String,
    pub body: Option<Value>,
    pub base_url: String,
    /// Where the pass-back goes: the live fault mock, or the fixture server.
    pub passback_url: String,
    /// What Claude Code runs against: the live fault mock, or the fixture server.
    pub claude_url: String,
    /// mode → its judged response (and the clean answer, for fault cases).
    pub judged: BTreeMap<String, (Judged, Option<Truth>)>,
    pub claude: ClaudeExpect,
    /// Mocks (fault cases) kept alive while the clients run.
    pub _mock: Option<conform::reference_server::MockHandle>,
}

impl Case {
    pub fn triggered(&self) -> BTreeSet<String> {
        self.judged
            .values()
            .flat_map(|(j, _)| j.checks.iter().cloned())
            .collect()
    }

    pub fn modes(&self) -> Vec<String> {
        let mut m: Vec<String> = self.judged.keys().cloned().collect();
        if self.endpoint == "messages" {
            m.push("passback".into());
        }
        m
    }
}

/// Send one request to a fresh mock with `faults` and capture the response.
async fn capture(
    faults: &[Fault],
    preset: &cases::Preset,
    stream: bool,
) -> (String, Option<Value>, Captured) {
    let m = mock_support::start_with(faults).await;
    let (path, body) = match preset.endpoint.as_str() {
        "count_tokens" => ("/v1/messages/count_tokens".to_string(), preset.body.clone()),
        "models" => ("/v1/models".to_string(), None),
        _ => {
            let mut b = preset.body.clone().expect("a messages preset has a body");
            if stream {
                b["stream"] = json!(true);
            }
            ("/v1/messages".to_string(), Some(b))
        }
    };
    let key = preset
        .api_key
        .clone()
        .unwrap_or_else(|| mock_support::KEY.to_string());
    let client = mock_support::client();
    let url = format!("{}{path}", m.base_url());
    let req = match &body {
        Some(b) => client.post(&url).json(b),
        None => client.get(&url),
    }
    .header("x-api-key", key)
    .header("anthropic-version", "2023-06-01");
    let resp = req.send().await.expect("the mock answers");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let headers = resp
        .headers()
        .iter()
        .filter(|(k, _)| *k != "content-type")
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let mut bytes = Vec::new();
    let mut cut = false;
    let mut resp = resp;
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => bytes.extend_from_slice(&c),
            Ok(None) => break,
            Err(_) => {
                cut = true;
                break;
            }
        }
    }
    (
        path,
        body,
        Captured {
            status,
            content_type,
            body: bytes,
            headers,
            cut,
        },
    )
}

/// A captured response as the fixture server replays it.
fn answer(c: &Captured) -> serve::Answer {
    serve::Answer {
        status: c.status,
        content_type: c.content_type.clone(),
        body: c.body.clone(),
        cut: c.cut,
    }
}

/// A fault case: its preset request is captured from a fresh mock with the fault (streamed
/// and not) and judged; the SDKs get exactly those bytes replayed by the fixture server (the
/// mock's answer depends on details of the request that differ between clients), and pass
/// content back to a live mock with the fault. Claude Code talks to the live mock.
pub async fn fault_case(
    decl: cases::CaseDecl,
    presets: &BTreeMap<String, cases::Preset>,
    canned: &mut BTreeMap<String, serve::Canned>,
) -> Case {
    let fault: Fault = decl
        .fault
        .as_deref()
        .unwrap()
        .parse()
        .expect("a known fault");
    let preset = presets
        .get(decl.request.as_deref().unwrap_or(""))
        .unwrap_or_else(|| panic!("{}: unknown request", decl.name))
        .clone();
    let mut judged = BTreeMap::new();
    let mut entry = serve::Canned {
        own_messages: preset
            .body
            .as_ref()
            .and_then(|b| b["messages"].as_array())
            .map_or(0, Vec::len),
        ..serve::Canned::default()
    };
    let streams: &[(&[&str], bool)] = if preset.endpoint == "messages" {
        &[
            (&["stream_final", "stream_raw"], true),
            (&["create"], false),
        ]
    } else {
        &[(&["call"], false)]
    };
    for &(modes, stream) in streams {
        let (path, body, got) = capture(&[fault], &preset, stream).await;
        let (_, _, clean) = capture(&[], &preset, stream).await;
        let j = judge(&path, body.as_ref(), &got);
        let clean = judge(&path, body.as_ref(), &clean).truth;
        match (preset.endpoint.as_str(), stream) {
            ("messages", true) => entry.sse = Some(answer(&got)),
            ("messages", false) => entry.json = Some(answer(&got)),
            _ => entry.other = Some(answer(&got)),
        }
        for mode in modes {
            judged.insert(mode.to_string(), (j.clone(), Some(clean.clone())));
        }
    }
    canned.insert(decl.name.clone(), entry);
    // Claude Code's own request is a streamed "Say hello": its truth is that of the fault's
    // answer to a streamed hello.
    let hello = presets.get("hello").expect("a hello request").clone();
    let (path, body, got) = capture(&[fault], &hello, true).await;
    let claude_truth = judge(&path, body.as_ref(), &got).truth;
    let mock = mock_support::start(MockConfig {
        faults: vec![fault],
        ..MockConfig::default()
    })
    .await;
    Case {
        endpoint: preset.endpoint.clone(),
        api_key: preset
            .api_key
            .clone()
            .unwrap_or_else(|| mock_support::KEY.to_string()),
        body: preset.body.clone(),
        base_url: String::new(),
        passback_url: mock.base_url(),
        claude_url: mock.base_url(),
        judged,
        claude: ClaudeExpect {
            texts: vec![HELLO.to_string()],
            truth: claude_truth,
        },
        _mock: Some(mock),
        decl,
    }
}

pub fn fixture_case(
    decl: cases::CaseDecl,
    presets: &BTreeMap<String, cases::Preset>,
    canned: &mut BTreeMap<String, serve::Canned>,
) -> Case {
    let request = decl.request.as_deref().unwrap_or("hello");
    let hello = presets[request].body.clone().expect("a messages request");
    let mut judged = BTreeMap::new();
    let mut entry = serve::Canned::default();
    let mut texts = vec![serve::FOLLOW_UP.to_string()];
    let mut claude_truth = None;
    if let Some(rel) = &decl.stream {
        let bytes = cases::fixture(rel);
        let mut body = hello.clone();
        body["stream"] = json!(true);
        let got = Captured {
            status: 200,
            content_type: decl
                .content_type
                .clone()
                .unwrap_or_else(|| "text/event-stream".into()),
            body: bytes.clone(),
            headers: fixture_headers(),
            cut: false,
        };
        let j = judge("/v1/messages", Some(&body), &got);
        if let Truth::Message(s) | Truth::Incomplete(s) = &j.truth {
            texts.push(s.text.clone());
        }
        claude_truth = Some(j.truth.clone());
        // A stream-only case answers a non-streaming request with its accumulation.
        if decl.message.is_none() {
            let acc = conform::judge::judge_exchange(&exchange_of(&body, &got), Default::default())
                .validation
                .message;
            if let Some(m) = acc {
                entry.json = Some(serve::Answer {
                    status: 200,
                    content_type: "application/json".into(),
                    body: m.to_string().into_bytes(),
                    cut: false,
                });
            }
        }
        entry.sse = Some(answer(&got));
        judged.insert("stream_final".into(), (j.clone(), None));
        judged.insert("stream_raw".into(), (j, None));
    }
    if let Some(rel) = &decl.message {
        let bytes = cases::fixture(rel);
        let status = decl.status.unwrap_or(200);
        let got = Captured {
            status,
            content_type: decl
                .content_type
                .clone()
                .unwrap_or_else(|| "application/json".into()),
            body: bytes.clone(),
            headers: fixture_headers(),
            cut: false,
        };
        let j = judge("/v1/messages", Some(&hello), &got);
        if let Truth::Message(s) = &j.truth {
            texts.push(s.text.clone());
        }
        claude_truth.get_or_insert(j.truth.clone());
        entry.json = Some(answer(&got));
        judged.insert("create".into(), (j, None));
    }
    canned.insert(decl.name.clone(), entry);
    texts.retain(|t| !t.is_empty());
    Case {
        endpoint: "messages".into(),
        api_key: mock_support::KEY.into(),
        body: Some(hello),
        base_url: String::new(),
        passback_url: String::new(),
        claude_url: String::new(),
        judged,
        claude: ClaudeExpect {
            texts,
            truth: claude_truth.expect("a fixture case has a stream or a message"),
        },
        _mock: None,
        decl,
    }
}

/// What the fixture server sends besides the content type.
fn fixture_headers() -> Vec<(String, String)> {
    vec![("request-id".into(), serve::ID.into())]
}

fn exchange_of(body: &Value, got: &Captured) -> conform::Exchange {
    let mut x = conform::Exchange::new(
        "fixture",
        conform::RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1/v1/messages".into(),
            headers: vec![],
            body: Some(body.to_string()),
        },
    );
    x.response = Some(conform::RecordedResponse {
        status: got.status,
        headers: vec![("content-type".into(), got.content_type.clone())],
        head_ms: 0.0,
        chunks: vec![conform::Chunk::new(0.0, &got.body)],
        total_ms: 0.0,
    });
    x
}
