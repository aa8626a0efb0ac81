//! Property tests: random bytes and random chunkings never panic the decoder or the
//! validators, and chunking never changes what is decoded.

use crate::support::chunked;
use conform::judge::Profile;
use conform::judge::ShapeHint;
use conform::judge::SseDecoder;
use conform::judge::StreamCheck;
use conform::judge::StreamOptions;
use conform::judge::check_bytes;
use conform::judge::decode_all;
use conform::judge::validate_body;
use proptest::prelude::*;

const CLEAN: &str = concat!(
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"f\",\"input\":{}}}\n\n",
    "event: ping\ndata: {\"type\": \"ping\"}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\": \\\"h\u{e9}\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"llo\\\"}\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
);

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decoder_is_chunking_invariant_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let (whole, whole_findings) = decode_all(&bytes);
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in chunked(&bytes, &cuts) {
            d.feed(&c, 0.0, &mut out);
        }
        out.extend(d.finish(0.0));
        prop_assert_eq!(out, whole);
        prop_assert_eq!(d.take_findings(), whole_findings);
    }

    #[test]
    fn decoder_is_chunking_invariant_on_sse_like_text(lines in proptest::collection::vec("(event|data|id|retry|:c|x)(: ?)[a-z{}\" ]{0,6}(\r\n|\n|\r|\n\n|\r\r)", 0..30), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let bytes = lines.concat().into_bytes();
        let (whole, _) = decode_all(&bytes);
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in chunked(&bytes, &cuts) {
            d.feed(&c, 0.0, &mut out);
        }
        out.extend(d.finish(0.0));
        prop_assert_eq!(out, whole);
    }

    #[test]
    fn stream_check_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = check_bytes(&bytes, StreamOptions::default());
    }

    /// Mutate a clean stream (drop, duplicate or corrupt a byte range) and check it in random
    /// chunks: never a panic, and the findings equal those of checking it whole.
    #[test]
    fn stream_check_is_robust_and_chunking_invariant_on_mutated_streams(start in 0usize..2000, len in 0usize..40, op in 0u8..3, cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let mut bytes = CLEAN.as_bytes().to_vec();
        let s = start % bytes.len();
        let e = (s + len).min(bytes.len());
        match op {
            0 => { bytes.drain(s..e); }
            1 => { let dup = bytes[s..e].to_vec(); bytes.splice(s..s, dup); }
            _ => { for b in &mut bytes[s..e] { *b = b.wrapping_add(7); } }
        }
        let whole = check_bytes(&bytes, StreamOptions::default());
        let mut c = StreamCheck::new(StreamOptions { profile: Profile::Strict, ..StreamOptions::default() });
        for chunk in chunked(&bytes, &cuts) {
            c.feed(&chunk, 0.0);
        }
        let parts = c.finish(0.0);
        prop_assert_eq!(parts.findings, whole.findings);
        prop_assert_eq!(parts.message, whole.message);
    }

    #[test]
    fn body_validation_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), status in prop_oneof![Just(200u16), Just(400u16), Just(422u16), Just(529u16)]) {
        let _ = validate_body(&bytes, Some(status), ShapeHint::Recognise(None), None);
    }

    #[test]
    fn body_validation_never_panics_on_json(v in arb_json()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        let _ = validate_body(&bytes, Some(200), ShapeHint::Recognise(None), Some(&v));
        let _ = validate_body(&bytes, None, ShapeHint::Recognise(None), None);
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("message"),
            Just("text"),
            Just("tool_use"),
            Just("error"),
            Just("end_turn"),
            Just("stop_sequence"),
            Just("x")
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("type"),
                        Just("content"),
                        Just("stop_reason"),
                        Just("stop_sequence"),
                        Just("usage"),
                        Just("input"),
                        Just("tools"),
                        Just("tool_choice"),
                        Just("thinking"),
                        Just("messages"),
                        Just("error"),
                        Just("id"),
                        Just("name"),
                        Just("output_tokens")
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}
