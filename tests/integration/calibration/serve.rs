//! The fixture server of the calibration: one in-process loopback server that answers
//! `/case/NAME/v1/messages` with case NAME's committed fixture — the `.sse` to a streaming
//! request, the `.json` (with the case's status) otherwise; a stream-only case answers a
//! non-streaming request with conform's accumulation of its stream. A request that passes an
//! assistant turn back beyond the case's own conversation (the SDKs' `passback` mode, Claude Code's tool loop) is validated as a
//! Messages request — a `must` finding gives a 400, as Anthropic would — and otherwise gets a
//! clean follow-up answer. The server stands for the vendor that sent the fixture, so it
//! accepts its own extensions back (unknown fields and block types in the assistant turns).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use conform::Severity;
use conform::judge::Shape;
use conform::judge::ViolationKind;
use conform::judge::validate;
use conform::judge::violations;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The text of the follow-up answer to a pass-back.
pub const FOLLOW_UP: &str = "Sunny and 18 degrees in Hangzhou.";

const REQUEST_ID: header::HeaderName = header::HeaderName::from_static("request-id");
/// The request id of every answer (the calibration judges fixtures with it too).
pub const ID: &str = "req_011CalibrationFixture0001";

/// One recorded answer: status, content type, body, and whether the connection broke after it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub cut: bool,
}

/// What the server answers for one case.
#[derive(Debug, Clone, Default)]
pub struct Canned {
    /// The answer to a streaming request.
    pub sse: Option<Answer>,
    /// The answer to a non-streaming request.
    pub json: Option<Answer>,
    /// The answer on `count_tokens` or `/v1/models` (fault cases of those endpoints).
    pub other: Option<Answer>,
    /// The messages of the case's own request (a conversation case sends earlier turns
    /// itself): only a request with more is a pass-back.
    pub own_messages: usize,
}

type Cases = Arc<BTreeMap<String, Canned>>;

pub struct Server {
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// The base URL the clients use for a case.
    pub fn case_url(&self, name: &str) -> String {
        format!("{}/case/{name}", self.base)
    }
}

pub async fn start(cases: BTreeMap<String, Canned>) -> Server {
    let app = Router::new()
        .route("/case/{name}/v1/messages", post(messages))
        .route("/case/{name}/v1/messages/count_tokens", post(other))
        .route("/case/{name}/v1/models", any(other))
        .route("/case/{name}/{*rest}", any(not_found))
        .with_state(Arc::new(cases));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server { base, task }
}

fn error(status: u16, kind: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        [(header::CONTENT_TYPE, "application/json"), (REQUEST_ID, ID)],
        json!({"type": "error", "error": {"type": kind, "message": message}}).to_string(),
    )
        .into_response()
}

async fn not_found() -> Response {
    error(
        404,
        "not_found_error",
        "not served by the calibration server",
    )
}

async fn other(State(cases): State<Cases>, Path(name): Path<String>) -> Response {
    match cases.get(&name).and_then(|c| c.other.clone()) {
        Some(a) => replay(a),
        None => (
            [(header::CONTENT_TYPE, "application/json"), (REQUEST_ID, ID)],
            json!({"input_tokens": 12}).to_string(),
        )
            .into_response(),
    }
}

/// A recorded answer as it came: a cut one breaks the connection after its bytes.
fn replay(a: Answer) -> Response {
    let stream = futures_util::stream::iter(
        std::iter::once(Ok::<_, std::io::Error>(Bytes::from(a.body))).chain(
            a.cut
                .then(|| Err(std::io::Error::other("connection cut as recorded"))),
        ),
    );
    let mut r = Response::new(axum::body::Body::from_stream(stream));
    *r.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    let h = r.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&a.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(REQUEST_ID, header::HeaderValue::from_static(ID));
    r
}

fn sse_response(bytes: Vec<u8>) -> Response {
    replay(Answer {
        status: 200,
        content_type: "text/event-stream".into(),
        body: bytes,
        cut: false,
    })
}

fn json_response(status: u16, bytes: Vec<u8>) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json"), (REQUEST_ID, ID)],
        bytes,
    )
        .into_response()
}

/// A vendor accepts its own extensions back: in the assistant turns, fields the protocol does
/// not define are dropped from content blocks, and blocks of a type it does not know are
/// dropped, before the request is validated. Anything else wrong in a passed-back block (a
/// missing field, a wrong type) stays and is rejected.
fn own_extensions_removed(mut req: Value) -> Value {
    // Each round removes what the validator reports; a removed block can shift nothing else
    // into view but its neighbours' own extensions, so a few rounds settle it.
    for _ in 0..4 {
        let mut changed = false;
        let mut drop_blocks: Vec<(usize, usize)> = Vec::new();
        for v in violations(Shape::Request, &req) {
            let p: Vec<&str> = v.path.iter().map(String::as_str).collect();
            let (Some(i), Some(j)) = (
                p.get(1).and_then(|s| s.parse::<usize>().ok()),
                p.get(3).and_then(|s| s.parse::<usize>().ok()),
            ) else {
                continue;
            };
            if p.first() != Some(&"messages")
                || p.get(2) != Some(&"content")
                || req["messages"][i]["role"] != "assistant"
            {
                continue;
            }
            match (&v.kind, &p[4..]) {
                (ViolationKind::Unexpected(fields), []) => {
                    if let Some(block) = req["messages"][i]["content"][j].as_object_mut() {
                        for f in fields {
                            changed |= block.remove(f).is_some();
                        }
                    }
                }
                (ViolationKind::NotOneOf(_), ["type"]) => drop_blocks.push((i, j)),
                _ => {}
            }
        }
        drop_blocks.sort_unstable();
        drop_blocks.dedup();
        for &(i, j) in drop_blocks.iter().rev() {
            if let Some(blocks) = req["messages"][i]["content"].as_array_mut() {
                blocks.remove(j);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    req
}

/// The clean follow-up answer, as a message and as its event stream.
pub fn follow_up_message() -> Value {
    json!({
        "id": "msg_01FoLLowUpAnswer0000000001", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": FOLLOW_UP}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 9}
    })
}

fn follow_up_stream() -> Vec<u8> {
    let mut start = follow_up_message();
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    let events = [
        json!({"type": "message_start", "message": start}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": FOLLOW_UP}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 9}}),
        json!({"type": "message_stop"}),
    ];
    let mut out = String::new();
    for e in events {
        out.push_str(&format!(
            "event: {}\ndata: {e}\n\n",
            e["type"].as_str().unwrap()
        ));
    }
    out.into_bytes()
}

async fn messages(State(cases): State<Cases>, Path(name): Path<String>, body: Bytes) -> Response {
    let Some(case) = cases.get(&name) else {
        return not_found().await;
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "invalid_request_error", "the body is not JSON");
    };
    let stream = req["stream"].as_bool() == Some(true);
    let passes_back = req["messages"]
        .as_array()
        .is_some_and(|m| m.len() > case.own_messages && m.iter().any(|m| m["role"] == "assistant"));
    if passes_back {
        let req = own_extensions_removed(req);
        let rejected: Vec<String> = validate(Shape::Request, &req)
            .into_iter()
            .filter(|f| f.severity() == Severity::Must)
            .map(|f| format!("{}: {}", f.location, f.message))
            .collect();
        if !rejected.is_empty() {
            return error(400, "invalid_request_error", &rejected.join("; "));
        }
        return if stream {
            sse_response(follow_up_stream())
        } else {
            json_response(200, follow_up_message().to_string().into_bytes())
        };
    }
    match (stream, &case.sse, &case.json) {
        (true, Some(sse), _) => replay(sse.clone()),
        (_, _, Some(answer)) => replay(answer.clone()),
        (false, Some(_), None) => error(500, "api_error", "no non-streaming answer for this case"),
        (_, None, None) => not_found().await,
    }
}

#[test]
fn a_vendors_own_extensions_are_accepted_back_but_nothing_else() {
    let turn = |content: Value| {
        json!({"model": "m", "max_tokens": 10, "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": content},
            {"role": "user", "content": "again"},
        ]})
    };
    let must = |req: &Value| {
        validate(Shape::Request, req)
            .into_iter()
            .filter(|f| f.severity() == Severity::Must)
            .count()
    };
    // An extra field and a block of an unknown type: dropped, the turn is then valid.
    let r = own_extensions_removed(turn(json!([
        {"type": "vendor_trace", "id": "t1"},
        {"type": "text", "text": "Hello", "vendor_score": 0.9},
    ])));
    assert_eq!(
        r["messages"][1]["content"],
        json!([{"type": "text", "text": "Hello"}])
    );
    assert_eq!(must(&r), 0);
    // A text block without its text, a tool input that is a string: still rejected.
    for bad in [
        json!([{"type": "text"}]),
        json!([{"type": "tool_use", "id": "toolu_1", "name": "f", "input": "{}"}]),
    ] {
        assert!(
            must(&own_extensions_removed(turn(bad.clone()))) > 0,
            "{bad}"
        );
    }
    // The user's own turns are not touched.
    let mut req = turn(json!("Hello"));
    req["messages"][0]["content"] = json!([{"type": "text", "text": "hi", "extra": 1}]);
    assert!(must(&own_extensions_removed(req)) > 0);
}
