//! `conform check` end to end: recognises inputs, finds the request beside them, reports
//! findings with file and location, and maps results to exit codes.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_conform");

fn check(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .current_dir(dir)
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const STREAM: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},\"service_tier\":\"standard\"}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: ping\ndata: {\"type\": \"ping\"}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"1, 2, 3 END\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":7}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

#[test]
fn clean_stream_passes_and_its_request_enables_the_implied_checks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.sse"), STREAM).unwrap();
    assert_eq!(check(dir.path(), &["a.sse"]).0, 0);
    // With the request beside it, the text running past the stop sequence is an effect finding.
    std::fs::write(dir.path().join("a.request.json"), r#"{"model":"m","max_tokens":50,"stop_sequences":["END"],"messages":[{"role":"user","content":"count"}]}"#).unwrap();
    let (code, out) = check(dir.path(), &["a.sse"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("a.sse: must [effect.stop-sequences]"), "{out}");
}

#[test]
fn framing_violations_are_named_with_their_event() {
    let dir = tempfile::tempdir().unwrap();
    let broken = STREAM.replace(
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        "data: [DONE]\n\n",
    );
    std::fs::write(dir.path().join("b.sse"), broken).unwrap();
    let (code, out) = check(dir.path(), &["b.sse", "--format", "json"]);
    assert_eq!(code, 1);
    let reports: serde_json::Value = serde_json::from_str(&out).unwrap();
    let checks: Vec<&str> = reports[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(checks.contains(&"stream.sse.done-sentinel"), "{checks:?}");
    assert!(checks.contains(&"stream.grammar.truncated"), "{checks:?}");
}

#[test]
fn json_bodies_are_recognised_by_shape_and_unknown_shapes_are_a_must() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("err.json"), r#"{"type":"error","error":{"type":"not_found_error","message":"no"},"request_id":"req_1"}"#).unwrap();
    std::fs::write(dir.path().join("ct.json"), r#"{"input_tokens": 12}"#).unwrap();
    std::fs::write(
        dir.path().join("openai.json"),
        r#"{"error":{"message":"bad","type":"invalid_request_error","code":null}}"#,
    )
    .unwrap();
    assert_eq!(check(dir.path(), &["err.json", "ct.json"]).0, 0);
    let (code, out) = check(dir.path(), &["openai.json"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("schema.error"),
        "judged against the closest shape, the error body: {out}"
    );
}

#[test]
fn unreadable_input_exits_2_and_the_other_files_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.sse"), STREAM).unwrap();
    std::fs::write(dir.path().join("junk.bin"), [0u8, 159, 146, 150, 7, 1]).unwrap();
    let (code, out) = check(dir.path(), &["junk.bin", "missing.json", "a.sse"]);
    assert_eq!(code, 2);
    assert!(
        out.contains("junk.bin: error: neither JSON nor an event stream"),
        "{out}"
    );
    assert!(out.contains("missing.json: error: cannot read"), "{out}");
    assert!(out.contains("checked 3 input(s)"), "{out}");
}

/// Inputs that used to pass silently: an empty exchange file, a companion request that cannot
/// be read, and `NAME.request.json` files named on the command line (`corpus/*.json`), which
/// are requests, not responses.
#[test]
fn empty_unreadable_and_companion_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.ndjson"), "").unwrap();
    let (code, out) = check(dir.path(), &["empty.ndjson"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no exchange"), "{out}");

    std::fs::write(dir.path().join("b.sse"), STREAM).unwrap();
    std::fs::write(dir.path().join("b.request.json"), "{not json").unwrap();
    let (code, out) = check(dir.path(), &["b.sse"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("b.request.json is not JSON"), "{out}");

    std::fs::write(dir.path().join("c.sse"), STREAM).unwrap();
    std::fs::write(
        dir.path().join("c.request.json"),
        r#"{"model":"m","max_tokens":50,"messages":[{"role":"user","content":"count"}]}"#,
    )
    .unwrap();
    let (code, out) = check(dir.path(), &["c.sse", "c.request.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("checked 1 input(s)"),
        "the companion is not judged: {out}"
    );
    assert!(!out.contains("c.request.json:"), "{out}");
}
