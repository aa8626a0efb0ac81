//! Shared helpers of the `mock_*` integration tests: start a mock on an ephemeral loopback
//! port, send requests with reqwest, decode streams.
#![allow(dead_code)]

use std::net::SocketAddr;

use conform::reference_server::Fault;
use conform::reference_server::MockConfig;
use conform::reference_server::MockHandle;
use conform::reference_server::spawn;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const KEY: &str = "conform-test-key";

pub async fn start(config: MockConfig) -> MockHandle {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    spawn(config, addr).await.expect("mock starts")
}

pub async fn start_with(faults: &[Fault]) -> MockHandle {
    start(MockConfig {
        faults: faults.to_vec(),
        ..MockConfig::default()
    })
    .await
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Every request carries `anthropic-version`, as the SDKs send it: the reference server
    // answers 400 without it (see `mock_http::a_request_without_anthropic_version_is_400`).
    let mut headers = HeaderMap::new();
    headers.insert(
        "anthropic-version",
        reqwest::header::HeaderValue::from_static("2023-06-01"),
    );
    reqwest::Client::builder()
        .no_proxy()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }

    /// The SSE events as (event name, data JSON or Null).
    pub fn events(&self) -> Vec<(Option<String>, Value)> {
        let (frames, _) = conform::judge::decode_all(&self.body);
        frames
            .into_iter()
            .map(|f| {
                (
                    f.event.map(|e| e.to_string()),
                    serde_json::from_str(&f.data).unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    pub fn event_names(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .map(|(e, _)| e.unwrap_or_default())
            .collect()
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> Resp {
    let r = req.send().await.expect("request sent");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    Resp {
        status,
        headers,
        body,
    }
}

pub async fn post(base: &str, path: &str, body: &Value) -> Resp {
    send(
        client()
            .post(format!("{base}{path}"))
            .header("x-api-key", KEY)
            .header("anthropic-version", "2023-06-01")
            .json(body),
    )
    .await
}

pub async fn messages(base: &str, body: &Value) -> Resp {
    post(base, "/v1/messages", body).await
}

pub fn basic(content: &str) -> Value {
    json!({"model": "conform-mock", "max_tokens": 256, "messages": [{"role": "user", "content": content}]})
}

pub fn with(mut body: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

pub fn weather_tools() -> Value {
    json!([{"name": "get_weather", "description": "Get weather information for a specified city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
           {"name": "get_time", "description": "Current time in a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
}

pub fn weather_request() -> Value {
    with(
        basic("What's the weather like in Hangzhou today?"),
        json!({"tools": weather_tools()}),
    )
}

pub fn thinking_request() -> Value {
    with(
        basic("Analyze the future prospects of quantum computing."),
        json!({"max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}}),
    )
}
