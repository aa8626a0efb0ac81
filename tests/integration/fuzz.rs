//! Fuzzing on stable Rust (issue 12): proptest targets with a fixed budget of 5,000 generated
//! inputs each, for the SSE decoder, the scenario loader, `conform.toml` and the redactor
//! (JSONPath guard + compile and templates: `src/scenario/tests/fuzz.rs`). Each target must end without a panic or a stack overflow
//! (an overflow aborts the whole binary, so a green run proves there was none). Inputs mix
//! random bytes with mutations of valid documents, so the generators reach the deep parts of
//! each parser and not only its first error.

use crate::support::chunked;
use conform::Config;
use conform::Redactor;
use conform::judge::SseDecoder;
use conform::judge::decode_all;
use proptest::prelude::*;
use std::path::Path;

const CASES: u32 = 5000;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // No regression files: a failure prints its minimal input, which becomes a unit test.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Pieces SSE is made of, so random streams are mostly well-formed lines.
fn sse_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"event: message_start\n".to_vec()),
        Just(b"event: content_block_delta\n".to_vec()),
        Just(b"data: {\"type\":\"ping\"}\n".to_vec()),
        Just(b"data: ".to_vec()),
        Just(b"id: 7\n".to_vec()),
        Just(b"retry: 99999999999999999999\n".to_vec()),
        Just(b": comment\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"\xe4\xb8".to_vec()),
        Just(b"\xad".to_vec()),
        Just(b"\0".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
        "[a-z:{}\" ]{0,12}".prop_map(String::into_bytes),
    ]
}

fn sse_stream() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(sse_piece(), 0..40).prop_map(|v| v.concat())
}

const SCENARIO: &str = r#"id: tools/forced-choice
feature: tools
title: tool_choice forces a call
reference: "Tool use"
modes: [sync, stream]
redact: ["$.id"]
steps:
  - id: call
    request:
      headers: {anthropic-beta: x}
      body:
        model: "{{ target.model }}"
        max_tokens: 64
        tool_choice: {type: tool, name: get_weather}
        tools: [{name: get_weather, input_schema: {type: object, properties: {city: {type: string}}}}]
        messages: [{role: user, content: "Say hello."}]
    expect:
      status: 200
      headers:
        request-id: {exists: true, severity: should}
      assert:
        - {path: "$.stop_reason", equals: tool_use, effect: true}
        - {path: "$.content[*].type", all: true, one_of: [text, tool_use]}
        - {path: "$.usage.output_tokens", lte: 64}
    capture:
      tool_id: "$.content[?@.type=='tool_use'].id"
  - id: answer
    request:
      body:
        model: "{{ target.model }}"
        max_tokens: 64
        messages:
          - {role: user, content: [{type: tool_result, tool_use_id: "{{ steps.call.tool_id }}", content: "Sunny"}]}
"#;

/// Replace, insert or delete a few slices of a valid document with YAML-ish fragments.
fn mutated(
    base: &'static str,
    fragments: &'static [&'static str],
) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (any::<usize>(), 0usize..3, 0usize..12, 0..fragments.len()),
        1..6,
    )
    .prop_map(move |edits| {
        let mut text = base.as_bytes().to_vec();
        for (at, kind, len, frag) in edits {
            let at = at % (text.len() + 1);
            let frag = fragments[frag].as_bytes();
            match kind {
                0 => {
                    text.splice(at..at, frag.iter().copied());
                }
                1 => {
                    let end = (at + len).min(text.len());
                    text.splice(at..end, frag.iter().copied());
                }
                _ => {
                    let end = (at + len).min(text.len());
                    text.drain(at..end);
                }
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    })
}

const YAML_FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "  ",
    "&a ",
    "*a",
    "!!str ",
    "!tag ",
    "'",
    "\"",
    "#",
    "|",
    ">",
    "? ",
    ",",
    "{{",
    "}}",
    "{{ steps.x.y }}",
    "$..[?@",
    "((((",
    "~",
    "null",
    "1e999",
    "0x1F",
    "\t",
    "---\n",
    "...\n",
    "<<: *a",
    "\u{feff}",
    "é",
    "\\u0000",
];

const TOML: &str = r#"
[targets.a]
base_url = "https://example.com/anthropic/"
api_key_env = "FUZZ_KEY"
auth = "bearer"
model = "m"
headers = { "x-trace" = "1" }
expect_unsupported = ["video", "tools/*"]
secret_headers = ["x-auth"]
rpm = 30
idle_timeout_ms = 5000
retries = 1

[targets.b]
extends = "a"
models = ["x", "y/z"]
"#;

const TOML_FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    " = ",
    "\"",
    "'''",
    "\"\"\"",
    "\n",
    ".",
    ",",
    "#",
    "extends = \"b\"",
    "extends = \"a\"",
    "base_url = \"http://u:p@h\"",
    "model = \"\"",
    "rpm = -1",
    "retries = 99999999999999999999",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
    "\\u0000",
    "é",
    "targets",
    "[targets.c]",
    "api_key = \"k\"",
    "total_timeout_ms = 0",
    "*",
    "@",
];

proptest! {
    #![proptest_config(config())]

    /// Random SSE-ish byte streams, cut anywhere: never a panic, and the chunking never changes
    /// the frames or the findings.
    #[test]
    fn fuzz_sse_decoder(bytes in sse_stream(), cuts in proptest::collection::vec(any::<usize>(), 0..10)) {
        let (whole, whole_findings) = decode_all(&bytes);
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in chunked(&bytes, &cuts) {
            d.feed(&c, 1.0, &mut out);
        }
        out.extend(d.finish(2.0));
        prop_assert_eq!(out.len(), whole.len());
        for (a, b) in out.iter().zip(&whole) {
            prop_assert_eq!(&a.event, &b.event);
            prop_assert_eq!(&a.data, &b.data);
        }
        prop_assert_eq!(d.take_findings().len(), whole_findings.len());
    }

    /// Mutated scenario files and random text: every outcome is a scenario or diagnostics,
    /// and every error diagnostic names the file.
    #[test]
    fn fuzz_scenario_loader(text in prop_oneof![
        mutated(SCENARIO, YAML_FRAGMENTS),
        "[ -~\n]{0,200}",
        proptest::collection::vec(prop::sample::select(YAML_FRAGMENTS), 0..60).prop_map(|v| v.concat()),
    ]) {
        let (scenario, diagnostics) = conform::load_text(Path::new("fuzz.yaml"), &text);
        prop_assert!(scenario.is_some() || diagnostics.iter().any(|d| d.is_error()));
        for d in &diagnostics {
            prop_assert!(d.to_string().contains("fuzz.yaml"));
        }
    }

    /// Mutated and random `conform.toml`: parse and resolve end in a config or an error, never
    /// a panic; credentials in a URL are never echoed.
    #[test]
    fn fuzz_conform_toml(text in prop_oneof![
        mutated(TOML, TOML_FRAGMENTS),
        "[ -~\n]{0,200}",
    ]) {
        if let Ok(c) = Config::parse(&text, Path::new("conform.toml")) {
            let env = |v: &str| (v == "FUZZ_KEY").then(|| "sk-fuzz-key-0123".to_string());
            for name in c.names() {
                match c.resolve_with(&name, &env) {
                    Ok(targets) => {
                        for t in targets {
                            let _ = t.redactor().redact("sk-fuzz-key-0123");
                        }
                    }
                    Err(e) => {
                        let e = e.to_string();
                        prop_assert!(!e.contains("u:p@"), "{e}");
                    }
                }
            }
        }
    }

    /// The redactor on random bytes with the key (raw or encoded) planted and the stream cut
    /// anywhere: no form of the key survives, and chunked redaction equals whole redaction.
    #[test]
    fn fuzz_redactor(
        noise in proptest::collection::vec(any::<u8>(), 0..120),
        at in any::<usize>(),
        form in 0usize..6,
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        use base64::Engine as _;
        let key = "sk-ant-fuzz/Key+01~";
        let r = Redactor::new(vec![key.to_string()]);
        let planted: Vec<u8> = match form {
            0 => key.as_bytes().to_vec(),
            1 => base64::engine::general_purpose::STANDARD.encode(key).into_bytes(),
            2 => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key).into_bytes(),
            3 => b"sk-ant-fuzz%2FKey%2B01~".to_vec(),
            // Percent-encoded byte by byte in mixed case, and `\u` escapes.
            4 => key.bytes().enumerate().flat_map(|(i, b)| if i % 2 == 0 { format!("%{b:02x}") } else { format!("%{b:02X}") }.into_bytes()).collect(),
            _ => key.bytes().flat_map(|b| format!("\\u{b:04x}").into_bytes()).collect(),
        };
        let mut bytes = noise.clone();
        let at = at % (bytes.len() + 1);
        bytes.splice(at..at, planted.iter().copied());
        let whole = r.redact_bytes(&bytes);
        prop_assert!(!r.contains_secret(&whole));
        let mut s = r.stream();
        let mut out = Vec::new();
        for c in chunked(&bytes, &cuts) {
            out.extend(s.push(&c));
        }
        out.extend(s.finish());
        prop_assert_eq!(out, whole);
    }

    /// The exchange reader on recorded exchanges with random edits (bytes replaced, lines cut
    /// or dropped) and on noise: never a panic, an error names its line, and an untouched
    /// recording reads back as it was written.
    #[test]
    fn fuzz_exchange_reader(
        text in "[ -~\\n]{0,40}",
        chunk_count in 0usize..4,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        drop_line in proptest::option::of(any::<usize>()),
    ) {
        use conform::Chunk;
use conform::Exchange;
use conform::RecordedRequest;
use conform::RecordedResponse;
use conform::parse_ndjson;
use conform::write_ndjson;
        let x = Exchange {
            label: "fuzz@stream step a".into(),
            request: RecordedRequest {
                method: "POST".into(),
                url: "http://127.0.0.1:1/v1/messages".into(),
                headers: vec![("x".into(), text.clone())],
                body: Some(format!("{{\"t\":{}}}", serde_json::Value::from(text.clone()))),
            },
            retries: vec![],
            response: Some(RecordedResponse {
                status: 200,
                headers: vec![("content-type".into(), "text/event-stream".into())],
                head_ms: 1.0,
                chunks: (0..chunk_count).map(|i| Chunk::new(i as f64, text.as_bytes())).collect(),
                total_ms: 9.0,
            }),
            transport: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ndjson");
        write_ndjson(&path, std::slice::from_ref(&x), &Redactor::default()).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let back = parse_ndjson(&bytes).unwrap();
        prop_assert_eq!(back.len(), 1);
        prop_assert_eq!(&back[0].request.body, &x.request.body);
        let joined = back[0].response.as_ref().unwrap().body_bytes();
        prop_assert_eq!(joined, text.repeat(chunk_count).into_bytes());
        let mut mutated = bytes.clone();
        for (at, b) in &edits {
            if !mutated.is_empty() {
                let i = at % mutated.len();
                mutated[i] = *b;
            }
        }
        let mut lines: Vec<&[u8]> = mutated.split(|b| *b == b'\n').collect();
        if let Some(d) = drop_line {
            let i = d % lines.len();
            lines.remove(i);
        }
        let mutated = lines.join(&b'\n');
        if let Err(e) = parse_ndjson(&mutated) {
            prop_assert!(e.to_string().starts_with("line ") || e.to_string().contains("longer"), "{}", e);
        }
    }

    /// A key streamed token by token: cut at random points into consecutive `text_delta`
    /// events (with ordinary text before and after), the stream chunked anywhere, recorded
    /// with the key's redactor. The recorded deltas, put back together, hold no part of the
    /// key long enough to name it, and the text around it is kept.
    #[test]
    fn fuzz_key_across_deltas(
        key_cuts in proptest::collection::vec(any::<usize>(), 0..8),
        chunk_cuts in proptest::collection::vec(any::<usize>(), 0..8),
        pings in proptest::collection::vec(any::<bool>(), 0..8),
    ) {
        use conform::Chunk;
        use conform::Exchange;
        use conform::RecordedRequest;
        use conform::RecordedResponse;
        use conform::parse_ndjson;
        use conform::write_ndjson;
        let key = "sk-ant-api03-Fuzz-KEY-0123456789";
        let r = Redactor::new(vec![key.to_string()]);
        let delta = |t: &str| format!(
            "event: content_block_delta\ndata: {}\n\n",
            serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":t}})
        );
        let mut stream = String::from("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
        stream.push_str(&delta("before "));
        for (i, piece) in chunked(key.as_bytes(), &key_cuts).iter().enumerate() {
            if pings.get(i).copied().unwrap_or(false) {
                stream.push_str("event: ping\ndata: {\"type\":\"ping\"}\n\n");
            }
            if !piece.is_empty() {
                stream.push_str(&delta(std::str::from_utf8(piece).unwrap()));
            }
        }
        stream.push_str(&delta(" after"));
        stream.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
        let x = Exchange {
            label: "fuzz@stream step a".into(),
            request: RecordedRequest {
                method: "POST".into(),
                url: "http://127.0.0.1:1/v1/messages".into(),
                headers: vec![],
                body: None,
            },
            retries: vec![],
            response: Some(RecordedResponse {
                status: 200,
                headers: vec![("content-type".into(), "text/event-stream".into())],
                head_ms: 1.0,
                chunks: chunked(stream.as_bytes(), &chunk_cuts)
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Chunk::new(i as f64, c))
                    .collect(),
                total_ms: 9.0,
            }),
            transport: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ndjson");
        write_ndjson(&path, std::slice::from_ref(&x), &r).unwrap();
        let back = parse_ndjson(&std::fs::read(&path).unwrap()).unwrap();
        let body = back[0].response.as_ref().unwrap().body_bytes();
        let body = String::from_utf8_lossy(&body);
        let mut text = String::new();
        for frame in body.split("\n\n") {
            let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
            let v: serde_json::Value = serde_json::from_str(data).unwrap();
            if let Some(t) = v["delta"]["text"].as_str() {
                text.push_str(t);
            }
        }
        prop_assert!(text.starts_with("before "), "{}", text);
        prop_assert!(text.ends_with(" after"), "{}", text);
        prop_assert!(text.contains("[REDACTED]"), "{}", text);
        // No 8 consecutive characters of the key are left.
        for w in key.as_bytes().windows(8) {
            let w = std::str::from_utf8(w).unwrap();
            prop_assert!(!text.contains(w), "{} left in {}", w, text);
        }
    }
}
