//! Normalisation: runs that differ only in ids, text, numbers, chunking, pings or an unpinned
//! stop_reason give the same snapshot; a change of a pinned stop_reason, field set, block types
//! or event order does not.

use conform::Chunk;
use conform::Exchange;
use conform::RecordedRequest;
use conform::RecordedResponse;
use conform::judge::Options;
use conform::judge::judge_exchange;
use conform::snapshots::normalise;
use conform::snapshots::normalise_pinned;
use conform::snapshots::render;
use serde_json::{Value, json};

/// A tiny deterministic generator so "seeds" differ without a dependency.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn word(&mut self) -> String {
        let n = 3 + self.next() % 6;
        (0..n)
            .map(|_| (b'a' + (self.next() % 26) as u8) as char)
            .collect()
    }
    fn id(&mut self) -> String {
        (0..20)
            .map(|_| {
                let c = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789";
                c[(self.next() % c.len() as u64) as usize] as char
            })
            .collect()
    }
}

/// What a generated stream looks like.
#[derive(Clone)]
struct Shape {
    stop_reason: &'static str,
    extra_field: bool,
    thinking_block: bool,
    swap_stop_and_delta: bool,
}

const PLAIN: Shape = Shape {
    stop_reason: "end_turn",
    extra_field: false,
    thinking_block: false,
    swap_stop_and_delta: false,
};

fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// An SSE body in the Anthropic grammar, with seed-dependent ids, text, counts and pings.
fn sse(seed: u64, shape: &Shape) -> String {
    let mut r = Lcg(seed);
    let mut message = json!({"id": format!("msg_{}", r.id()), "type": "message", "role": "assistant",
        "model": "claude-test", "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": r.next() % 500, "output_tokens": 1}});
    if shape.extra_field {
        message["system_fingerprint"] = json!("fp");
    }
    let mut out = event(
        "message_start",
        json!({"type": "message_start", "message": message}),
    );
    out += &event("ping", json!({"type": "ping"}));
    let mut index = 0;
    if shape.thinking_block {
        out += &event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        );
        for _ in 0..(1 + r.next() % 4) {
            out += &event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "thinking_delta", "thinking": r.word()}}),
            );
        }
        out += &event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "signature_delta", "signature": r.id()}}),
        );
        out += &event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        );
        index = 1;
    }
    out += &event(
        "content_block_start",
        json!({"type": "content_block_start", "index": index,
            "content_block": {"type": "text", "text": ""}}),
    );
    let deltas = 2 + r.next() % 8;
    for i in 0..deltas {
        out += &event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index,
                "delta": {"type": "text_delta", "text": format!("{} ", r.word())}}),
        );
        if i == 1 && r.next().is_multiple_of(2) {
            out += &event("ping", json!({"type": "ping"}));
        }
    }
    let stop = event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    );
    let delta = event(
        "message_delta",
        json!({"type": "message_delta",
            "delta": {"stop_reason": shape.stop_reason, "stop_sequence": null},
            "usage": {"output_tokens": deltas + r.next() % 50}}),
    );
    if shape.swap_stop_and_delta {
        out += &delta;
        out += &stop;
    } else {
        out += &stop;
        out += &delta;
    }
    out += &event("message_stop", json!({"type": "message_stop"}));
    out
}

fn exchange(body: &str, seed: u64) -> Exchange {
    // Split the body into seed-dependent chunks, as a network would.
    let bytes = body.as_bytes();
    let step = 50 + (seed as usize % 97);
    let chunks = bytes
        .chunks(step)
        .enumerate()
        .map(|(i, c)| Chunk::new(i as f64 * 3.0, c))
        .collect();
    Exchange {
        label: "t".into(),
        request: RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/v1/messages".into(),
            headers: vec![],
            body: Some(
                json!({"model": "claude-test", "max_tokens": 64, "stream": true,
                "messages": [{"role": "user", "content": "hi"}]})
                .to_string(),
            ),
        },
        response: Some(RecordedResponse {
            status: 200,
            headers: vec![
                (
                    "content-type".into(),
                    "text/event-stream; charset=utf-8".into(),
                ),
                ("request-id".into(), format!("req_{seed}")),
            ],
            head_ms: 1.0,
            chunks,
            total_ms: 100.0 + seed as f64,
        }),
        retries: vec![],
        transport: None,
    }
}

fn snapshot_of(seed: u64, shape: &Shape) -> String {
    let x = exchange(&sse(seed, shape), seed);
    let v = judge_exchange(&x, Options::default()).validation;
    render(&normalise_pinned(&x, &v, &[], &["stop_reason".to_string()]))
}

/// The snapshot when the scenario pins nothing: the stop reason is the model's.
fn unpinned_snapshot_of(seed: u64, shape: &Shape) -> String {
    let x = exchange(&sse(seed, shape), seed);
    let v = judge_exchange(&x, Options::default()).validation;
    render(&normalise(&x, &v, &[]))
}

#[test]
fn different_seeds_give_the_same_snapshot() {
    let a = snapshot_of(1, &PLAIN);
    for seed in 2..20 {
        assert_eq!(a, snapshot_of(seed, &PLAIN), "seed {seed}");
    }
    let thinking = Shape {
        thinking_block: true,
        ..PLAIN
    };
    assert_eq!(snapshot_of(1, &thinking), snapshot_of(7, &thinking));
    // The shape is what we promise: placeholders, the collapsed event sequence, no pings.
    assert!(a.contains("\"[id msg_…]\""), "{a}");
    assert!(a.contains("\"content_block_delta[0] text_delta\""), "{a}");
    assert!(!a.contains("ping"), "{a}");
    assert!(a.contains("\"text\": \"[text]\""), "{a}");
    assert!(a.contains("\"output_tokens\": \"[int]\""), "{a}");
    assert!(a.contains("\"content_type\": \"text/event-stream\""), "{a}");
    assert!(a.contains("\"status\": 200"), "{a}");
}

#[test]
fn shape_changes_change_the_snapshot() {
    let base = snapshot_of(1, &PLAIN);
    let variants = [
        Shape {
            stop_reason: "max_tokens",
            ..PLAIN
        },
        Shape {
            extra_field: true,
            ..PLAIN
        },
        Shape {
            thinking_block: true,
            ..PLAIN
        },
        Shape {
            swap_stop_and_delta: true,
            ..PLAIN
        },
    ];
    for (i, v) in variants.iter().enumerate() {
        assert_ne!(base, snapshot_of(1, v), "variant {i} must differ");
    }
    let changed = snapshot_of(1, &variants[0]);
    assert!(changed.contains("\"stop_reason\": \"max_tokens\""));
    // Unpinned, the stop reason is the model's choice: a placeholder, the key still there.
    let unpinned = unpinned_snapshot_of(1, &PLAIN);
    assert_eq!(unpinned, unpinned_snapshot_of(1, &variants[0]));
    assert!(
        unpinned.contains("\"stop_reason\": \"[stop_reason]\""),
        "{unpinned}"
    );
    for (i, v) in variants.iter().enumerate().skip(1) {
        assert_ne!(
            unpinned,
            unpinned_snapshot_of(1, v),
            "variant {i} must differ"
        );
    }
}

#[test]
fn non_stream_bodies_and_redactions() {
    let body = |id: &str, text: &str, n: u64| {
        json!({"id": id, "type": "message", "role": "assistant", "model": "claude-test",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": null, "usage": {"input_tokens": n, "output_tokens": n + 1}})
        .to_string()
    };
    let x = |b: String| Exchange {
        label: "t".into(),
        request: RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/v1/messages".into(),
            headers: vec![],
            body: Some(
                json!({"model": "claude-test", "max_tokens": 64,
                "messages": [{"role": "user", "content": "hi"}]})
                .to_string(),
            ),
        },
        response: Some(RecordedResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            head_ms: 1.0,
            chunks: vec![Chunk::new(1.0, b.as_bytes())],
            total_ms: 2.0,
        }),
        retries: vec![],
        transport: None,
    };
    let shape = |xx: &Exchange, red: &[String]| {
        render(&normalise(
            xx,
            &judge_exchange(xx, Options::default()).validation,
            red,
        ))
    };
    let a = x(body("msg_abc", "hello", 5));
    let b = x(body("msg_XYZ123", "something else entirely", 900));
    assert_eq!(shape(&a, &[]), shape(&b, &[]));
    // The model name is kept, so a different model changes the shape unless redacted.
    let other_model = x(body("msg_abc", "hello", 5).replace("claude-test", "other-model"));
    assert_ne!(shape(&a, &[]), shape(&other_model, &[]));
    let red = vec!["$.model".to_string()];
    assert_eq!(shape(&a, &red), shape(&other_model, &red));
    assert!(shape(&a, &red).contains("\"model\": \"[redacted]\""));
    // An error body keeps its type but not its message.
    let err = |m: &str| {
        let mut e = x(
            json!({"type": "error", "error": {"type": "invalid_request_error", "message": m}})
                .to_string(),
        );
        e.response.as_mut().unwrap().status = 400;
        e
    };
    let e1 = shape(&err("max_tokens: field required"), &[]);
    assert_eq!(e1, shape(&err("something else"), &[]));
    assert!(e1.contains("\"type\": \"invalid_request_error\""), "{e1}");
    assert!(e1.contains("\"message\": \"[text]\""), "{e1}");
    assert!(e1.contains("\"status\": 400"), "{e1}");
}
