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

// Upper and lower case: an HTTP header name carries it lower-cased.
const KEY: &str = "sk-Hostile-CANARY-0123456789";

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
    /// The key streamed token by token across consecutive text deltas (sync: in the text).
    EchoDeltas,
    /// The key base64-encoded, percent-encoded (mixed case, partly) and as `\u` escapes.
    EchoEncoded,
    /// The key in an error: a 400's `error.message` and `error.type`; an `error` event.
    EchoError,
    /// Markup and terminal control sequences in a message id, an unknown field's name, an
    /// error event's message and type.
    Inject,
}

/// The pieces [`Behaviour::EchoDeltas`] streams the key in.
fn key_pieces() -> Vec<&'static str> {
    vec!["sk", "-Host", "ile-", "CAN", "ARY-", "0123", "456789"]
}

/// The forms [`Behaviour::EchoEncoded`] sends the key in (as they appear in the JSON text).
fn encoded_forms() -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(KEY);
    let pct: String = KEY
        .bytes()
        .enumerate()
        .map(|(i, b)| match i % 3 {
            0 => format!("%{b:02X}"),
            1 => format!("%{b:02x}"),
            _ => (b as char).to_string(),
        })
        .collect();
    let u: String = KEY.bytes().map(|b| format!("\\u{b:04x}")).collect();
    vec![b64, pct, u]
}

fn delta(text: &str) -> String {
    format!(
        "event: content_block_delta\ndata: {}\n\n",
        serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":text}})
    )
}

/// A stream with these deltas (raw `data` JSON text for the last one when `raw_last`).
fn stream_with(deltas: &[String]) -> Vec<String> {
    let all = stream_events("x");
    let frames: Vec<&str> = all.split_inclusive("\n\n").collect();
    let mut out = vec![frames[0].to_string(), frames[1].to_string()];
    out.extend(deltas.iter().cloned());
    out.extend(frames[3..].iter().map(|f| f.to_string()));
    out
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
        Behaviour::EchoDeltas if streaming => {
            let _ = sock.write_all(stream_head.as_bytes()).await;
            let mut pieces = vec![delta("your key is ")];
            pieces.extend(key_pieces().iter().map(|p| delta(p)));
            pieces.push(delta(" — keep it safe"));
            // One frame per write, each flushed apart: the key is in no chunk and no event.
            for f in stream_with(&pieces) {
                if sock.write_all(f.as_bytes()).await.is_err() {
                    return;
                }
                let _ = sock.flush().await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let _ = sock.shutdown().await;
            return;
        }
        Behaviour::EchoDeltas => ok_json(&message_json(&format!("your key is {KEY}"))),
        Behaviour::EchoEncoded => {
            // Written by hand: the `\u` escapes must reach the wire as escapes.
            let text = encoded_forms().join(" / ");
            if streaming {
                let raw = format!(
                    "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{text}\"}}}}\n\n"
                );
                w(format!("{stream_head}{}", stream_with(&[raw]).concat()))
            } else {
                let body = message_json("PLACEHOLDER").replace("PLACEHOLDER", &text);
                ok_json(&body)
            }
        }
        Behaviour::EchoError if streaming => {
            let err = serde_json::json!({"type":"error","error":{"type":"overloaded_error","message":format!("bad key {KEY}")}});
            let all = stream_events("x");
            let first = all.split_inclusive("\n\n").next().unwrap_or_default().to_string();
            w(format!("{stream_head}{first}event: error\ndata: {err}\n\n"))
        }
        Behaviour::EchoError => {
            let body = serde_json::json!({"type":"error","error":{"type":KEY,"message":format!("invalid x-api-key {KEY}")}}).to_string();
            w(format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nrequest-id: req_1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ))
        }
        Behaviour::Inject if streaming => {
            let err = serde_json::json!({"type":"error","error":{"type":"<b>t</b>\u{1b}[31m","message":"[click](javascript:alert(1)) \u{1b}]0;pwned\u{7} \u{1b}]8;;https://evil.example\u{1b}\\link\u{1b}]8;;\u{1b}\\ <script>alert(2)</script> \u{9b}31m"}});
            let all = stream_events("x");
            let first = all.split_inclusive("\n\n").next().unwrap_or_default().to_string();
            w(format!("{stream_head}{first}event: error\ndata: {err}\n\n"))
        }
        Behaviour::Inject => {
            let mut v: serde_json::Value = serde_json::from_str(&message_json("hi \u{1b}]0;title\u{7}")).unwrap();
            v["id"] = serde_json::json!("msg_<script>alert(1)</script>\u{1b}[2J");
            v["<img src=x onerror=alert(1)>"] = serde_json::json!(1);
            v["![t](https://track.example/p.gif)"] = serde_json::json!(2);
            ok_json(&v.to_string())
        }
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
        (EchoDeltas, &[Verdict::Pass, Verdict::Warn]),
        (EchoEncoded, &[Verdict::Pass, Verdict::Warn]),
        (
            EchoError,
            &[
                Verdict::Pass,
                Verdict::Fail,
                Verdict::Unsupported,
                Verdict::Error,
            ],
        ),
        (Inject, &[Verdict::Fail, Verdict::Warn]),
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
            snapshots_dir: Some(dir.path().join(format!("{b:?}/snapshots"))),
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
            problems.extend(leaks(&bytes, &format!("{b:?}: {}", entry.display())));
            problems.extend(raw_controls(&bytes, &format!("{b:?}: {}", entry.display())));
        }
        // What a Markdown renderer reads as markup: everything outside code spans and blocks.
        // Escaped brackets (`\[`, `\]`) make no link.
        let md =
            outside_code(&std::fs::read_to_string(out_dir.join("report.md")).unwrap_or_default())
                .replace("\\[", "")
                .replace("\\]", "");
        for injected in ["<script", "<img", "<b>", "](javascript:", "](https://track"] {
            if let Some(at) = md.find(injected) {
                let line = md[..at].rfind('\n').map_or(0, |i| i + 1);
                let end = md[at..].find('\n').map_or(md.len(), |i| at + i);
                problems.push(format!(
                    "{b:?}: report.md holds the injected {injected:?}: {}",
                    &md[line..end]
                ));
            }
        }
    }
    assert_eq!(
        other_hits.load(Ordering::SeqCst),
        0,
        "a redirect was followed"
    );
    // The peak is the whole test process's (tests run side by side in it); 453 MiB was seen in
    // a full run once the library held 194 cases, two of them Claude Code captures of 130 KB.
    if let Some(mib) = peak_rss_mib() {
        assert!(mib < 512, "peak RSS {mib} MiB");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The Markdown text outside fenced code blocks and inline code spans (CommonMark: a fence
/// closes at a line of at least as many backticks; a span at the next run of as many).
fn outside_code(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<usize> = None;
    for line in md.lines() {
        let trimmed = line.trim_start();
        let ticks = trimmed.chars().take_while(|&c| c == '`').count();
        match fence {
            Some(n) if ticks >= n && trimmed[ticks..].trim().is_empty() => fence = None,
            Some(_) => {}
            None if ticks >= 3 => fence = Some(ticks),
            None => {
                let b = line.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'`' {
                        let n = b[i..].iter().take_while(|&&c| c == b'`').count();
                        let mut j = i + n;
                        let mut closed = None;
                        while j < b.len() {
                            if b[j] == b'`' {
                                let m = b[j..].iter().take_while(|&&c| c == b'`').count();
                                if m == n {
                                    closed = Some(j + m);
                                    break;
                                }
                                j += m;
                            } else {
                                j += 1;
                            }
                        }
                        match closed {
                            Some(end) => i = end,
                            None => {
                                out.push_str(&line[i..i + n]);
                                i += n;
                            }
                        }
                    } else {
                        let next = line[i..].find('`').map_or(line.len(), |k| i + k);
                        out.push_str(&line[i..next]);
                        i = next;
                    }
                }
                out.push('\n');
            }
        }
    }
    out
}

/// Where `bytes` hold the key in any form the hostile server sent it (case ignored, encoded,
/// or one of the pieces it was streamed in as a whole delta text).
fn leaks(bytes: &[u8], what: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    // JSON strings in JSON strings (an event in a chunk of an exchange file, an excerpt in
    // report.json) unescaped, so a delta's text is found however deep it sits.
    let lower = text
        .to_ascii_lowercase()
        .replace("\\\\", "\\")
        .replace("\\\"", "\"")
        .replace("\\\"", "\"");
    let mut found = Vec::new();
    let mut needles: Vec<String> = vec![KEY.to_ascii_lowercase()];
    for f in encoded_forms() {
        // As sent, and escaped once more inside a JSON string (an exchange file's chunk).
        let again = serde_json::to_string(&f).unwrap();
        needles.push(f.to_ascii_lowercase());
        needles.push(again[1..again.len() - 1].to_ascii_lowercase());
    }
    // The pieces streamed, as delta texts (one piece per event).
    needles.extend(
        key_pieces()
            .iter()
            .filter(|p| p.len() >= 3)
            .map(|p| format!("\"text\":\"{}\"", p.to_ascii_lowercase())),
    );
    for n in needles {
        if let Some(at) = lower.find(&n) {
            let from = lower[..at]
                .char_indices()
                .rev()
                .nth(60)
                .map_or(0, |(i, _)| i);
            let to = (at + n.len() + 20).min(lower.len());
            found.push(format!(
                "{what}: the key leaked ({n}): …{}…",
                lower.get(from..to).unwrap_or("?")
            ));
        }
    }
    found
}

/// Where `bytes` hold a raw control character (C0 but `\n` and `\t`, DEL, C1).
fn raw_controls(bytes: &[u8], what: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.char_indices()
        .find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t')
        .map(|(i, c)| {
            let from = text[..i].char_indices().rev().nth(40).map_or(0, |(j, _)| j);
            vec![format!(
                "{what}: raw control U+{:04X} after …{}",
                c as u32,
                &text[from..i]
            )]
        })
        .unwrap_or_default()
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

/// `conform proxy` without `--api-key-env` (the README's example): the client's own key, sent
/// as `x-api-key` or as a Bearer token, is learned from its requests, and an upstream that
/// echoes it (plainly, in a header name, token by token across deltas) leaks it into no report,
/// no `proxy.ndjson`, and nothing conform prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_learns_the_clients_key_and_redacts_it_everywhere() {
    let (other, _) = counting_server().await;
    for b in [Behaviour::EchoKey, Behaviour::EchoDeltas] {
        let upstream = server(b, other.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let body = |stream: bool| {
            format!(
                r#"{{"model":"m","max_tokens":16,"stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#
            )
        };
        let script = format!(
            "curl -s -o /dev/null -H 'x-api-key: {KEY}' -H 'content-type: application/json' -d '{}' \"$ANTHROPIC_BASE_URL/v1/messages\"; \
             curl -s -o /dev/null -H 'authorization: Bearer {KEY}' -H 'content-type: application/json' -d '{}' \"$ANTHROPIC_BASE_URL/v1/messages\"",
            body(false),
            body(true)
        );
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::process::Command::new(env!("CARGO_BIN_EXE_conform"))
                .current_dir(dir.path())
                .args([
                    "proxy",
                    "--upstream",
                    &upstream,
                    "--report-dir",
                    "rep",
                    "--",
                    "sh",
                    "-c",
                ])
                .arg(&script)
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("the proxy ends with its command")
        .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{b:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("2 exchange(s) judged"), "{b:?}: {stderr}");
        let mut problems = leaks(&out.stdout, &format!("{b:?}: stdout"));
        problems.extend(leaks(&out.stderr, &format!("{b:?}: stderr")));
        let files = walk(&dir.path().join("rep"));
        assert!(
            files.iter().any(|f| f.ends_with("proxy.ndjson")),
            "{files:?}"
        );
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            problems.extend(leaks(&bytes, &format!("{b:?}: {}", f.display())));
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

/// `conform proxy --upstream` with credentials in the URL is refused, as `run --base-url` is,
/// and the password is printed nowhere.
#[test]
fn the_proxy_refuses_an_upstream_with_userinfo_without_printing_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .current_dir(dir.path())
        .args([
            "proxy",
            "--upstream",
            &format!("http://user:{KEY}@127.0.0.1:9/"),
            "--report-dir",
            "rep",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("contains credentials"), "{stderr}");
    let mut problems = leaks(&out.stdout, "stdout");
    problems.extend(leaks(&out.stderr, "stderr"));
    for f in walk(dir.path()) {
        problems.extend(leaks(&std::fs::read(&f).unwrap(), &f.display().to_string()));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `conform check` of a stream whose error event carries terminal control sequences (window
/// title, OSC 8 link, colours, BEL, a C1 CSI) prints none of them raw.
#[test]
fn conform_check_prints_no_control_sequence_the_endpoint_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let err = serde_json::json!({"type":"error","error":{"type":"x\u{1b}[31m","message":"\u{1b}]0;pwned\u{7} \u{1b}]8;;https://evil.example\u{1b}\\link\u{1b}]8;;\u{1b}\\ \u{9b}2J"}});
    let all = stream_events("x");
    let first = all.split_inclusive("\n\n").next().unwrap().to_string();
    std::fs::write(
        dir.path().join("s.sse"),
        format!("{first}event: error\ndata: {err}\n\n"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .current_dir(dir.path())
        .args(["check", "s.sse"])
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("\\u001b"),
        "the sequences are shown escaped: {stdout}"
    );
    let mut problems = raw_controls(&out.stdout, "stdout");
    problems.extend(raw_controls(&out.stderr, "stderr"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
