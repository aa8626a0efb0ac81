//! Hostile endpoints: a loopback server that misbehaves in every way a broken or malicious
//! provider can, one behaviour per server. Each run ends in the right verdict within its
//! timeouts, memory stays bounded, and the API key — which the server echoes back in bodies,
//! header values, header names, SSE events and split across frames — is in none of the
//! outputs (reports, exchanges).

use conform::AdHoc;
use conform::ExchangeSink;
use conform::ReportSink;
use conform::Settings;
use conform::Sink;
use conform::Target;
use conform::Verdict;
use conform::load_dir;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "sk-hostile-canary-0123456789";

/// What the server does after reading a request.
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    ResetAfterHeaders,
    TruncatedMidEvent,
    SlowDrip,
    HugeBody,
    EndlessStream,
    InvalidUtf8,
    WrongContentType,
    GzipBomb,
    EndlessHeaders,
    HugeHeader,
    Redirect,
    EchoKey,
    AbsurdRetryAfter,
    EmptyBody,
    Http10CloseDelimited,
    NoContent,
    Status999,
    Informational,
}

/// Read one request (head and content-length body); the request text.
async fn read_request(sock: &mut TcpStream) -> Option<String> {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        req.extend_from_slice(&buf[..n]);
        if let Some(i) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&req[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while req.len() < head_end + len {
        let n = sock.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        req.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&req).into_owned())
}

fn message_json(text: &str) -> String {
    serde_json::json!({
        "id": "msg_01hostile", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
        "stop_sequence": null, "usage": {"input_tokens": 3, "output_tokens": 2}
    })
    .to_string()
}

fn stream_events(text: &str) -> String {
    let ev = |n: &str, d: serde_json::Value| format!("event: {n}\ndata: {d}\n\n");
    [
        ev("message_start", serde_json::json!({"type":"message_start","message":{"id":"msg_01h","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}})),
        ev("content_block_start", serde_json::json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})),
        ev("content_block_delta", serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":text}})),
        ev("content_block_stop", serde_json::json!({"type":"content_block_stop","index":0})),
        ev("message_delta", serde_json::json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}})),
        ev("message_stop", serde_json::json!({"type":"message_stop"})),
    ]
    .concat()
}

async fn serve(mut sock: TcpStream, b: Behaviour, other: String) {
    let Some(req) = read_request(&mut sock).await else {
        return;
    };
    let streaming = req.contains("\"stream\":true");
    let w = |s: String| s.into_bytes();
    let ok_json = |body: &str| {
        w(format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nrequest-id: req_1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ))
    };
    let stream_head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nrequest-id: req_1\r\nconnection: close\r\n\r\n";
    let out: Vec<u8> = match b {
        Behaviour::ResetAfterHeaders => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{\"id\":")
                .await;
            return; // closed 4,994 bytes short of its content-length
        }
        Behaviour::TruncatedMidEvent => {
            let all = stream_events("hello");
            w(format!("{stream_head}{}", &all[..all.len() / 2]))
        }
        Behaviour::SlowDrip => {
            let _ = sock.write_all(stream_head.as_bytes()).await;
            for b in stream_events("drip").bytes() {
                if sock.write_all(&[b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            return;
        }
        Behaviour::HugeBody | Behaviour::EndlessStream => {
            let head = if matches!(b, Behaviour::HugeBody) {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
            } else {
                stream_head
            };
            let _ = sock.write_all(head.as_bytes()).await;
            let unit = if matches!(b, Behaviour::HugeBody) {
                vec![b'a'; 64 << 10]
            } else {
                b"event: ping\ndata: {\"type\":\"ping\"}\n\n".repeat(2000)
            };
            let stop = Instant::now() + Duration::from_secs(20);
            while Instant::now() < stop && sock.write_all(&unit).await.is_ok() {}
            return;
        }
        Behaviour::InvalidUtf8 => {
            let mut body = stream_head.as_bytes().to_vec();
            body.extend_from_slice(stream_events("bad \u{1F600} bytes").as_bytes());
            let at = body.len() - 40;
            body[at] = 0xff;
            body
        }
        Behaviour::WrongContentType => w(format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html>{}</html>",
            message_json("hi")
        )),
        Behaviour::GzipBomb => {
            // A small gzip member that claims a huge payload: never decompressed by conform.
            let mut body = w("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\nconnection: close\r\n\r\n".into());
            body.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
            body.extend_from_slice(&[0u8; 4096]);
            body
        }
        Behaviour::EndlessHeaders => {
            let _ = sock.write_all(b"HTTP/1.1 200 OK\r\n").await;
            let stop = Instant::now() + Duration::from_secs(20);
            let mut i = 0u64;
            while Instant::now() < stop {
                i += 1;
                if sock.write_all(format!("x-h{i}: {}\r\n", "v".repeat(100)).as_bytes()).await.is_err() {
                    return;
                }
            }
            return;
        }
        Behaviour::HugeHeader => w(format!(
            "HTTP/1.1 200 OK\r\nx-huge: {}\r\ncontent-length: 2\r\n\r\n{{}}",
            "h".repeat(2 << 20)
        )),
        Behaviour::Redirect => w(format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {other}/v1/messages\r\ncontent-length: 0\r\n\r\n"
        )),
        Behaviour::EchoKey => {
            // The key the client sent, echoed everywhere (a header name too).
            let key = req
                .lines()
                .find_map(|l| {
                    l.strip_prefix("x-api-key: ")
                        .or_else(|| l.strip_prefix("authorization: Bearer "))
                })
                .unwrap_or(KEY)
                .trim()
                .to_string();
            if streaming {
                let events = stream_events(&format!("your key is {key}"));
                let (a, b) = events.split_at(events.find(&key).unwrap() + 7);
                let _ = sock
                    .write_all(format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-echo: {key}\r\nx-{key}: 1\r\nconnection: close\r\n\r\n{a}").as_bytes())
                    .await;
                let _ = sock.flush().await;
                tokio::time::sleep(Duration::from_millis(30)).await;
                b.as_bytes().to_vec()
            } else {
                let body = message_json(&format!("your key is {key}")).replace("\"m\"", &format!("\"{key}\""));
                w(format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-echo: {key}\r\nx-{key}: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                ))
            }
        }
        Behaviour::AbsurdRetryAfter => w(
            "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 1e20\r\nretry-after-ms: 1e30\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".into(),
        ),
        Behaviour::EmptyBody => ok_json(""),
        Behaviour::Http10CloseDelimited if streaming => w(format!(
            "HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\r\nrequest-id: req_1\r\n\r\n{}",
            stream_events("old")
        )),
        Behaviour::Http10CloseDelimited => w(format!(
            "HTTP/1.0 200 OK\r\ncontent-type: application/json\r\nrequest-id: req_1\r\n\r\n{}",
            message_json("old")
        )),
        Behaviour::NoContent => w("HTTP/1.1 204 No Content\r\n\r\n".into()),
        // A 1xx before the real answer: informational, skipped by HTTP clients.
        Behaviour::Informational if streaming => w(format!(
            "HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n{stream_head}{}",
            stream_events("late")
        )),
        Behaviour::Informational => w(format!(
            "HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: application/json\r\nrequest-id: req_1\r\nconnection: close\r\n\r\n{}",
            message_json("late")
        )),
        Behaviour::Status999 => w(format!(
            "HTTP/1.1 999 Whatever\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
            message_json("x").len(),
            message_json("x")
        )),
    };
    let _ = sock.write_all(&out).await;
    let _ = sock.shutdown().await;
}

/// Start a server with behaviour `b`; its base URL.
async fn server(b: Behaviour, other: String) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(serve(s, b, other.clone()));
        }
    });
    url
}

/// A server that counts connections (the redirect's other origin: it must get none).
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let n = Arc::new(AtomicUsize::new(0));
    let c = n.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = l.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, n)
}

fn peak_rss_mib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib >> 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_endpoint_ends_in_a_clear_verdict_without_leaking_the_key() {
    use Behaviour::*;
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("scenarios/t");
    std::fs::create_dir_all(&scen).unwrap();
    std::fs::write(
        scen.join("hello.yaml"),
        "id: t/hello\nfeature: basic\ntitle: a plain call\nreference: \"Messages API\"\nmodes: [sync, stream]\nsteps:\n  - id: ask\n    request:\n      body:\n        model: \"{{ target.model }}\"\n        max_tokens: 64\n        messages: [{role: user, content: \"Say hello.\"}]\n",
    )
    .unwrap();
    let (scenarios, diags) = load_dir(&dir.path().join("scenarios"));
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    let (other, other_hits) = counting_server().await;
    // (behaviour, acceptable verdicts)
    let cases: &[(Behaviour, &[Verdict])] = &[
        (ResetAfterHeaders, &[Verdict::Fail]),
        (TruncatedMidEvent, &[Verdict::Fail]),
        (SlowDrip, &[Verdict::Error]),
        (HugeBody, &[Verdict::Error]),
        (EndlessStream, &[Verdict::Error]),
        (InvalidUtf8, &[Verdict::Fail]),
        (WrongContentType, &[Verdict::Fail]),
        (GzipBomb, &[Verdict::Fail]),
        (EndlessHeaders, &[Verdict::Error]),
        (HugeHeader, &[Verdict::Error]),
        (Redirect, &[Verdict::Fail]),
        (EchoKey, &[Verdict::Pass, Verdict::Warn]),
        (AbsurdRetryAfter, &[Verdict::Error]),
        (EmptyBody, &[Verdict::Fail]),
        (Http10CloseDelimited, &[Verdict::Pass, Verdict::Warn]),
        (NoContent, &[Verdict::Fail]),
        (Status999, &[Verdict::Fail, Verdict::Error]),
        (Informational, &[Verdict::Pass, Verdict::Warn]),
    ];
    let mut problems = Vec::new();
    for (b, allowed) in cases {
        let url = server(*b, other.clone()).await;
        let mut target = Target::ad_hoc_with(
            AdHoc {
                name: Some("hostile".into()),
                base_url: url,
                model: "m".into(),
                api_key_env: Some("HOSTILE_KEY".into()),
                auth: None,
                headers: Vec::new(),
            },
            &|v| (v == "HOSTILE_KEY").then(|| KEY.to_string()),
        )
        .unwrap();
        target.timeouts.first_byte = Duration::from_secs(2);
        target.timeouts.idle = Duration::from_secs(1);
        target.timeouts.total = Duration::from_secs(3);
        target.retries = 1;
        let out_dir = dir.path().join(format!("{b:?}"));
        let settings = Settings {
            jobs: 2,
            repeat: 1,
            quiet: true,
            max_body: 1 << 20,
            redactor: conform::redactor(std::slice::from_ref(&target)),
            ..Settings::default()
        };
        let mut exchanges = ExchangeSink::new(&out_dir);
        let mut reports = ReportSink::new(&out_dir, settings.redactor.clone());
        let mut sinks: [&mut dyn Sink; 2] = [&mut exchanges, &mut reports];
        let start = Instant::now();
        let outcome = tokio::time::timeout(
            Duration::from_secs(15),
            conform::execute(
                scenarios.clone(),
                vec![target],
                &settings,
                &mut sinks,
                std::future::pending(),
            ),
        )
        .await
        .unwrap_or_else(|_| panic!("{b:?}: no verdict within 15 s"))
        .unwrap();
        for r in &outcome.report.results {
            if !allowed.contains(&r.verdict) {
                problems.push(format!(
                    "{b:?} {}: {} (allowed {allowed:?}) {:?} {:?}",
                    r.mode,
                    r.verdict,
                    r.error,
                    r.findings.iter().map(|f| &f.check).collect::<Vec<_>>()
                ));
            }
        }
        assert_eq!(outcome.report.results.len(), 2, "{b:?}: both modes judged");
        assert!(
            start.elapsed() < Duration::from_secs(12),
            "{b:?}: {:?}",
            start.elapsed()
        );
        for entry in walk(&out_dir) {
            let bytes = std::fs::read(&entry).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            if let Some(at) = text.find(KEY) {
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(60)
                    .map_or(0, |(i, _)| i);
                problems.push(format!(
                    "{b:?}: the key leaked into {}: …{}",
                    entry.display(),
                    &text[from..(at + KEY.len()).min(text.len())]
                ));
            }
        }
    }
    assert_eq!(
        other_hits.load(Ordering::SeqCst),
        0,
        "a redirect was followed"
    );
    if let Some(mib) = peak_rss_mib() {
        assert!(mib < 400, "peak RSS {mib} MiB");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
