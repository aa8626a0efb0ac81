use super::*;
use crate::exchange::{Chunk, TransportFailure};

const STREAM: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

fn exchange(chunks: Vec<Chunk>, transport: Option<TransportFailure>) -> Exchange {
    Exchange {
        label: "t".into(),
        request: RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/v1/messages".into(),
            headers: vec![],
            body: Some(r#"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#.into()),
        },
        retries: vec![],
        response: Some(RecordedResponse {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/event-stream".into()),
                ("request-id".into(), "req_1".into()),
            ],
            head_ms: 1.0,
            chunks,
            total_ms: 9.0,
        }),
        transport,
    }
}

fn checks(j: &Judgement) -> Vec<String> {
    j.validation
        .findings
        .iter()
        .map(|f| f.check.to_string())
        .collect()
}

#[test]
fn every_split_judges_alike() {
    let whole = judge_exchange(
        &exchange(vec![Chunk::new(2.0, STREAM.as_bytes())], None),
        Options::default(),
    );
    assert!(whole.infra.is_none());
    let bytes = STREAM.as_bytes();
    for cut in (1..bytes.len()).step_by(7) {
        let x = exchange(
            vec![
                Chunk::new(2.0, &bytes[..cut]),
                Chunk::new(2.0, &bytes[cut..]),
            ],
            None,
        );
        let j = judge_exchange(&x, Options::default());
        assert_eq!(checks(&j), checks(&whole), "cut at {cut}");
        assert_eq!(j.validation.message, whole.validation.message);
    }
}

#[test]
fn a_cut_body_is_the_endpoints_fault_but_a_limit_is_ours() {
    let half = &STREAM.as_bytes()[..STREAM.len() / 2];
    let reset = TransportFailure {
        kind: FailureKind::Interrupted,
        message: "connection reset".into(),
    };
    let j = judge_exchange(
        &exchange(vec![Chunk::new(2.0, half)], Some(reset)),
        Options::default(),
    );
    assert!(j.infra.is_none());
    assert!(checks(&j).contains(&"transport.incomplete".to_string()));
    let limit = TransportFailure {
        kind: FailureKind::BodyLimit,
        message: "body over 1 MiB".into(),
    };
    let j = judge_exchange(
        &exchange(vec![Chunk::new(2.0, half)], Some(limit)),
        Options::default(),
    );
    assert_eq!(j.infra.as_deref(), Some("body over 1 MiB"));
    assert!(checks(&j).contains(&"transport.body-limit".to_string()));
}

#[test]
fn retries_are_judged_with_the_exchange() {
    let mut x = exchange(vec![Chunk::new(2.0, STREAM.as_bytes())], None);
    x.retries.push(Retry {
        attempt: 1,
        t_ms: 1.0,
        status: Some(529),
        cause: "HTTP 529".into(),
        wait_ms: 5.0,
    });
    let j = judge_exchange(&x, Options::default());
    let f = j
        .validation
        .findings
        .iter()
        .find(|f| f.check.as_str() == "http.retried")
        .expect("retried");
    assert_eq!(f.actual.as_deref(), Some("HTTP 529"));
}

#[test]
fn no_response_is_infrastructure_without_findings() {
    let mut x = exchange(vec![], None);
    x.response = None;
    x.transport = Some(TransportFailure {
        kind: FailureKind::Connect,
        message: "connect error: refused".into(),
    });
    let j = judge_exchange(&x, Options::default());
    assert!(j.validation.findings.is_empty());
    assert_eq!(j.infra.as_deref(), Some("connect error: refused"));
}

#[test]
fn a_long_text_is_not_a_schema_violation() {
    let text = "a".repeat(6_000_000);
    let body = serde_json::json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 3, "output_tokens": 2_000_000}
    })
    .to_string();
    let mut x = exchange(vec![Chunk::new(2.0, body.as_bytes())], None);
    x.request.body = Some(
        r#"{"model":"m","max_tokens":4000000,"messages":[{"role":"user","content":"hi"}]}"#.into(),
    );
    x.response.as_mut().unwrap().headers[0].1 = "application/json".into();
    let j = judge_exchange(&x, Options::default());
    let musts: Vec<_> = j
        .validation
        .findings
        .iter()
        .filter(|f| f.severity() == crate::check::Severity::Must)
        .collect();
    assert!(musts.is_empty(), "{musts:?}");
}

#[test]
fn input_tokens_corrected_late_and_unknown_error_types_are_found() {
    let late = STREAM
        .replace(
            "\"usage\":{\"input_tokens\":3,\"output_tokens\":1}",
            "\"usage\":{\"input_tokens\":0,\"output_tokens\":1}",
        )
        .replace(
            "\"usage\":{\"output_tokens\":2}",
            "\"usage\":{\"input_tokens\":3,\"output_tokens\":2}",
        );
    let j = judge_exchange(
        &exchange(vec![Chunk::new(2.0, late.as_bytes())], None),
        Options::default(),
    );
    assert!(
        checks(&j).contains(&"stream.usage.input-tokens-late".to_string()),
        "{:?}",
        checks(&j)
    );
    let same = STREAM.replace(
        "\"usage\":{\"output_tokens\":2}",
        "\"usage\":{\"input_tokens\":3,\"output_tokens\":2}",
    );
    let j = judge_exchange(
        &exchange(vec![Chunk::new(2.0, same.as_bytes())], None),
        Options::default(),
    );
    assert!(!checks(&j).contains(&"stream.usage.input-tokens-late".to_string()));

    let mut x = exchange(
        vec![Chunk::new(
            2.0,
            br#"{"type":"error","error":{"type":"mock_error","message":"x"}}"#,
        )],
        None,
    );
    let r = x.response.as_mut().unwrap();
    r.status = 500;
    r.headers[0].1 = "application/json".into();
    let j = judge_exchange(&x, Options::default());
    assert!(
        checks(&j).contains(&"error.type-unknown".to_string()),
        "{:?}",
        checks(&j)
    );
}

#[test]
fn message_ids_in_another_form_are_found() {
    for (id, flagged) in [
        ("msg_01XFDUDYJgAACzvnptvVoYEL", false),
        ("msg_bdrk_01Abcdefghijklmnopqrstu", false),
        ("msg_123e4567-e89b-12d3-a456-426614174000", true),
        ("msg_1764633600000", true),
    ] {
        let s = STREAM.replace("msg_01", id);
        let j = judge_exchange(
            &exchange(vec![Chunk::new(2.0, s.as_bytes())], None),
            Options::default(),
        );
        assert_eq!(
            checks(&j).contains(&"message.id-form".to_string()),
            flagged,
            "{id}: {:?}",
            checks(&j)
        );
    }
}
