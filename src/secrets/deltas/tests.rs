//! Unit tests of `secrets::deltas`.

use super::*;

const KEY: &str = "sk-ant-api03-SECRET-0123456789";

fn frame(index: usize, kind: &str, field: &str, text: &str) -> String {
    let d = serde_json::json!({"type": "content_block_delta", "index": index,
        "delta": {"type": kind, field: text}});
    format!("event: content_block_delta\ndata: {d}\n\n")
}

fn stream_of(pieces: &[&str]) -> String {
    let mut s = String::from("event: ping\ndata: {\"type\":\"ping\"}\n\n");
    for p in pieces {
        s.push_str(&frame(0, "text_delta", "text", p));
    }
    s.push_str("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    s
}

/// Run `chunks` through a mask, then the byte redactor; the output and the chunk times.
fn mask(r: &Redactor, chunks: &[&[u8]]) -> (Vec<u8>, Vec<f64>) {
    let mut m = DeltaMask::new(r);
    let mut out = Vec::new();
    let mut times = Vec::new();
    let mut take = |v: Vec<(f64, Vec<u8>)>| {
        for (t, b) in v {
            times.push(t);
            out.extend(b);
        }
    };
    for (i, c) in chunks.iter().enumerate() {
        take(m.push(i as f64, c));
    }
    take(m.finish());
    (r.redact_bytes(&out), times)
}

/// The concatenated delta text of a stream.
fn text_of(stream: &[u8]) -> String {
    let mut text = String::new();
    for f in String::from_utf8_lossy(stream).split("\n\n") {
        if let Some((_, t)) = delta_text(f.as_bytes()) {
            text.push_str(&t);
        }
    }
    text
}

#[test]
fn a_key_streamed_token_by_token_is_masked_in_every_event() {
    let r = Redactor::new(vec![KEY.into()]);
    let pieces = [
        "your key is ",
        "sk",
        "-ant",
        "-api03-",
        "SECRET",
        "-0123",
        "456789",
        " ok",
    ];
    let s = stream_of(&pieces);
    // Whole, frame by frame, and byte by byte.
    let frames: Vec<String> = s.split_inclusive("\n\n").map(str::to_string).collect();
    let frame_refs: Vec<&[u8]> = frames.iter().map(|f| f.as_bytes()).collect();
    let bytes: Vec<&[u8]> = s.as_bytes().chunks(1).collect();
    for chunks in [vec![s.as_bytes()], frame_refs, bytes] {
        let (out, _) = mask(&r, &chunks);
        let text = text_of(&out);
        assert!(text.starts_with("your key is "), "{text}");
        assert!(text.ends_with(" ok"), "{text}");
        assert!(!text.contains("sk-ant"), "{text}");
        for p in &pieces[1..7] {
            assert!(
                !String::from_utf8_lossy(&out).contains(&format!("\"{p}\"")),
                "{p} left"
            );
        }
        assert!(text.contains(REDACTED));
    }
}

#[test]
fn tool_input_and_thinking_deltas_are_masked_too_and_blocks_are_apart() {
    let r = Redactor::new(vec![KEY.into()]);
    let (a, b) = KEY.split_at(10);
    let s = [
        frame(0, "thinking_delta", "thinking", a),
        frame(1, "input_json_delta", "partial_json", "{\"k\": \""),
        frame(0, "thinking_delta", "thinking", b),
        frame(1, "input_json_delta", "partial_json", a),
        frame(1, "input_json_delta", "partial_json", b),
        frame(1, "input_json_delta", "partial_json", "\"}"),
    ]
    .concat();
    let (out, _) = mask(&r, &[s.as_bytes()]);
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains(&format!("\"{a}\"")), "{out}");
    assert!(!out.contains(&format!("\"{b}\"")), "{out}");
    assert!(out.contains("{\\\"k\\\": \\\""), "{out}");
}

#[test]
fn arrival_times_and_unrelated_bytes_are_kept() {
    let r = Redactor::new(vec![KEY.into()]);
    let s = stream_of(&["hello ", "world"]);
    let (a, b) = s.split_at(s.len() / 2);
    let (out, times) = mask(&r, &[a.as_bytes(), b.as_bytes()]);
    assert_eq!(out, s.as_bytes());
    assert_eq!(times, vec![0.0, 1.0]);
}

#[test]
fn percent_encoded_pieces_across_events_are_masked() {
    let r = Redactor::new(vec![KEY.into()]);
    let enc: String = KEY.bytes().map(|b| format!("%{b:02x}")).collect();
    let (a, b) = enc.split_at(20);
    let s = stream_of(&[a, b]);
    let (out, _) = mask(&r, &[s.as_bytes()]);
    let text = text_of(&out);
    assert!(!r.contains_secret(text.as_bytes()), "{text}");
    assert!(!text.contains(a) && !text.contains(b), "{text}");
}

#[test]
fn a_long_stream_is_linear_and_holds_little() {
    let r = Redactor::new(vec![KEY.into()]);
    let mut m = DeltaMask::new(&r);
    let f = frame(0, "text_delta", "text", "s");
    let mut total = 0;
    for i in 0..50_000 {
        total += m.push(i as f64, f.as_bytes()).len();
        assert!(m.held_bytes <= HOLD_LIMIT + f.len());
    }
    total += m.finish().len();
    assert_eq!(total, 50_000);
}
