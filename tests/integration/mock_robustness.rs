//! Misuse never crashes the mock: malformed and mistyped bodies get Anthropic-shaped errors,
//! slow, garbage and abandoned clients are dropped cleanly, hundreds of concurrent streams are
//! served, and the server keeps answering afterwards. Bounded loops on loopback only.

use std::time::Duration;

use crate::mock_support::*;
use conform::reference_server::MockConfig;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn still_serving(base: &str) {
    let r = messages(base, &basic("still there?")).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

fn assert_anthropic_error(r: &Resp) {
    let j = r.json();
    assert_eq!(j["type"], "error", "{j}");
    assert!(j["error"]["type"].is_string() && j["error"]["message"].is_string());
    assert!(j["request_id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_everywhere_get_400s() {
    let m = start(MockConfig::default()).await;
    let base = m.base_url();
    let valid = with(
        weather_request(),
        json!({"system": "s", "stop_sequences": ["x"], "thinking": {"type": "disabled"}, "metadata": {"user_id": "u"}, "stream": false}),
    );
    let replacements = [
        json!(null),
        json!(1),
        json!(-1.5),
        json!("s"),
        json!([]),
        json!({}),
        json!(true),
        json!([{}]),
        json!([null]),
    ];
    let pointers = [
        "/model",
        "/max_tokens",
        "/messages",
        "/messages/0",
        "/messages/0/role",
        "/messages/0/content",
        "/system",
        "/stop_sequences",
        "/tools",
        "/tools/0",
        "/tools/0/name",
        "/tools/0/input_schema",
        "/tools/0/input_schema/properties",
        "/thinking",
        "/thinking/type",
        "/metadata",
        "/metadata/user_id",
        "/stream",
    ];
    let mut count = 0;
    for p in pointers {
        for rep in &replacements {
            let mut body = valid.clone();
            *body.pointer_mut(p).unwrap() = rep.clone();
            let r = messages(&base, &body).await;
            assert!(
                matches!(r.status, 200 | 400 | 404),
                "{p} = {rep}: {} {}",
                r.status,
                r.text()
            );
            if r.status != 200 {
                assert_anthropic_error(&r);
            }
            count += 1;
        }
    }
    assert!(count > 100);
    // Raw garbage bodies.
    for raw in [
        &b"\xff\xfe\x00garbage"[..],
        b"{",
        b"{}}",
        b"{\"model\":\"conform-mock\",\"max_tokens\":1e400}",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ] {
        let r = send(
            client()
                .post(format!("{base}/v1/messages"))
                .header("x-api-key", KEY)
                .header("content-type", "application/json")
                .body(raw.to_vec()),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_anthropic_error(&r);
    }
    // Deep nesting does not overflow the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = send(
        client()
            .post(format!("{base}/v1/messages"))
            .header("x-api-key", KEY)
            .body(deep),
    )
    .await;
    assert_eq!(r.status, 400);
    still_serving(&base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_slow_and_garbage_clients_are_dropped_cleanly() {
    let m = start(MockConfig {
        chunk_delay_ms: 20,
        ..MockConfig::default()
    })
    .await;
    let base = m.base_url();
    // Streams abandoned after the first chunk.
    for _ in 0..20 {
        let resp = client()
            .post(format!("{base}/v1/messages"))
            .header("x-api-key", KEY)
            .json(&with(
                basic("Tell me about rivers."),
                json!({"stream": true}),
            ))
            .send()
            .await
            .unwrap();
        let mut s = resp.bytes_stream();
        let first = s.next().await.unwrap().unwrap();
        assert!(first.starts_with(b"event: message_start"));
        drop(s);
    }
    // A client that sends half a request and goes away; one that stalls; one that sends garbage.
    let addr = m.addr();
    let mut half = tokio::net::TcpStream::connect(addr).await.unwrap();
    half.write_all(
        b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{\"model\":",
    )
    .await
    .unwrap();
    drop(half);
    let mut stall = tokio::net::TcpStream::connect(addr).await.unwrap();
    stall
        .write_all(b"POST /v1/messages HTTP/1.1\r\n")
        .await
        .unwrap();
    let mut garbage = tokio::net::TcpStream::connect(addr).await.unwrap();
    garbage
        .write_all(b"\x16\x03\x01\x02\x00 definitely not http\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let _ = tokio::time::timeout(Duration::from_secs(5), garbage.read(&mut buf)).await;
    // A declared body over the limit is refused without reading it.
    let mut big = tokio::net::TcpStream::connect(addr).await.unwrap();
    big.write_all(format!("POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: {KEY}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\ncontent-length: 40000000\r\n\r\n").as_bytes()).await.unwrap();
    let mut head = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), big.read(&mut head))
        .await
        .expect("answered")
        .unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 413"));
    still_serving(&base).await;
    drop(stall);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_streams() {
    let m = start(MockConfig {
        chunk_delay_ms: 1,
        ..MockConfig::default()
    })
    .await;
    let base = m.base_url();
    let c = client();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = c.clone();
        let url = format!("{base}/v1/messages");
        tasks.push(tokio::spawn(async move {
            let body = with(
                basic(&format!("Question number {i} about rivers")),
                json!({"stream": true, "max_tokens": 40}),
            );
            let r = c
                .post(url)
                .header("x-api-key", KEY)
                .json(&body)
                .send()
                .await
                .expect("sent");
            assert_eq!(r.status(), 200);
            let bytes = r.bytes().await.expect("whole stream");
            let (frames, _) = conform::judge::decode_all(&bytes);
            let last: Value = serde_json::from_str(&frames.last().unwrap().data).unwrap();
            assert_eq!(last["type"], "message_stop");
        }));
    }
    let all = tokio::time::timeout(
        Duration::from_secs(120),
        futures_util::future::join_all(tasks),
    )
    .await
    .expect("streams finish");
    for t in all {
        t.expect("stream task");
    }
    still_serving(&base).await;
}
