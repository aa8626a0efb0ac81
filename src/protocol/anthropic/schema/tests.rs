//! Unit tests of `schema`.

use super::*;
use crate::check::Severity;
use serde_json::json;

fn message() -> Value {
    json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 3, "output_tokens": 2, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0,
                  "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                  "service_tier": "standard"}
    })
}

fn request() -> Value {
    json!({"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]})
}

/// The single finding of `severity` (panics with all findings otherwise).
fn only(findings: &[Finding], severity: Severity) -> &Finding {
    let of: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity() == severity)
        .collect();
    assert_eq!(
        of.len(),
        1,
        "expected one {severity} finding, got {findings:#?}"
    );
    of[0]
}

/// Whether a finding comes from the main (protocol) variant: `must`, or `schema.error`,
/// which the catalogue makes `should`.
fn is_main(f: &Finding) -> bool {
    f.severity() == Severity::Must || f.check == ids::SCHEMA_ERROR
}

fn musts(findings: &[Finding]) -> usize {
    findings
        .iter()
        .filter(|f| f.severity() == Severity::Must)
        .count()
}

fn with(mut v: Value, pointer: &str, new: Value) -> Value {
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = new;
    v
}

fn without(mut v: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    v.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    v
}

#[test]
fn every_schema_compiles_and_names_round_trip() {
    for shape in ALL_SHAPES {
        assert_eq!(Shape::from_name(shape.name()), Some(shape));
        if shape != Shape::Event {
            compiled(shape.def(), false);
            compiled(shape.def(), true);
        }
    }
    for t in [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    ] {
        compiled(Target::event(t).unwrap(), false);
        compiled(Target::event(t).unwrap(), true);
    }
    warm_up();
    assert_eq!(Shape::from_name("nope"), None);
}

#[test]
fn a_complete_message_has_no_finding() {
    assert_eq!(validate(Shape::Message, &message()), vec![]);
    assert!(is_valid(Shape::Message, &message()));
}

#[test]
fn stop_reason_of_the_wrong_type_is_a_must() {
    let f = validate(Shape::Message, &with(message(), "/stop_reason", json!(42)));
    let m = only(&f, Severity::Must);
    assert_eq!(
        (m.check.as_str(), m.location.as_str()),
        ("schema.message", "/stop_reason")
    );
    assert_eq!(m.actual.as_deref(), Some("42"));
    assert_eq!(
        m.reference,
        "https://platform.claude.com/docs/en/api/messages (response)"
    );
    assert!(!is_valid(
        Shape::Message,
        &with(message(), "/stop_reason", json!(42))
    ));
}

#[test]
fn null_stop_reason_is_a_must_in_a_message_but_fine_in_message_start() {
    let v = with(message(), "/stop_reason", Value::Null);
    assert_eq!(
        only(&validate(Shape::Message, &v), Severity::Must).location,
        "/stop_reason"
    );
    let start = with(v, "/content", json!([]));
    assert_eq!(validate(Shape::MessageStartMessage, &start), vec![]);
    let bad = with(start, "/role", json!("user"));
    let m = only(&validate(Shape::MessageStartMessage, &bad), Severity::Must).clone();
    assert_eq!(
        (m.check.as_str(), m.location.as_str()),
        ("schema.message_start_message", "/role")
    );
    assert_eq!(m.expected.as_deref(), Some("\"assistant\""));
}

#[test]
fn negative_input_tokens_is_a_must_with_expected_bound() {
    let f = validate(
        Shape::Message,
        &with(message(), "/usage/input_tokens", json!(-1)),
    );
    let m = only(&f, Severity::Must);
    assert_eq!(m.location, "/usage/input_tokens");
    assert_eq!(m.expected.as_deref(), Some(">= 0"));
    assert_eq!(
        m.reference,
        "https://platform.claude.com/docs/en/api/messages (usage)"
    );
    let u = validate(
        Shape::Usage,
        &json!({"input_tokens": -1, "output_tokens": 1}),
    );
    assert_eq!(only(&u, Severity::Must).check.as_str(), "schema.usage");
}

#[test]
fn missing_id_is_a_must_at_the_root() {
    let f = validate(Shape::Message, &without(message(), "/id"));
    let m = only(&f, Severity::Must);
    assert_eq!(m.location, "/");
    assert!(m.message.contains("\"id\""), "{m}");
}

#[test]
fn tool_use_input_as_a_string_is_a_must() {
    let block = json!({"type": "tool_use", "id": "toolu_1", "name": "f", "input": "{\"a\":1}"});
    let f = validate(
        Shape::Message,
        &with(message(), "/content", json!([block.clone()])),
    );
    let m = only(&f, Severity::Must);
    assert_eq!(m.location, "/content/0/input");
    assert_eq!(m.expected.as_deref(), Some("object"));
    assert_eq!(
        m.reference,
        "https://platform.claude.com/docs/en/api/messages (content blocks)"
    );
    assert_eq!(
        only(&validate(Shape::ContentBlock, &block), Severity::Must).check,
        ids::SCHEMA_CONTENT_BLOCK
    );
}

#[test]
fn block_errors_point_into_the_block_not_at_a_union() {
    let block = json!({"type": "thinking", "thinking": "hm"});
    let f = validate(Shape::ContentBlock, &block);
    let m = only(&f, Severity::Must);
    assert_eq!(m.location, "/");
    assert!(m.message.contains("signature"), "{m}");
}

#[test]
fn nullable_references_report_the_real_problem() {
    let v = with(
        message(),
        "/usage/cache_creation/ephemeral_5m_input_tokens",
        json!(-3),
    );
    let m = only(&validate(Shape::Message, &v), Severity::Must).clone();
    assert_eq!(
        m.location,
        "/usage/cache_creation/ephemeral_5m_input_tokens"
    );
    assert_eq!(m.expected.as_deref(), Some(">= 0"));
}

#[test]
fn unknown_fields_in_responses_are_info_only() {
    let mut v = message();
    v["timings"] = json!({"ms": 3});
    v["usage"]["extra"] = json!(1);
    let f = validate(Shape::Message, &v);
    assert_eq!(musts(&f), 0, "{f:#?}");
    let mut at: Vec<&str> = f.iter().map(|x| x.location.as_str()).collect();
    at.sort();
    assert_eq!(at, vec!["/timings", "/usage/extra"]);
    assert!(
        f.iter()
            .all(|x| x.severity() == Severity::Info && x.check.as_str() == "schema.unknown-field")
    );
    assert!(is_valid(Shape::Message, &v));
}

#[test]
fn unknown_field_inside_a_nullable_object_is_found() {
    let mut v = message();
    v["usage"]["cache_creation"]["ephemeral_2h_input_tokens"] = json!(0);
    let f = validate(Shape::Message, &v);
    assert_eq!(
        only(&f, Severity::Info).location,
        "/usage/cache_creation/ephemeral_2h_input_tokens"
    );
    assert_eq!(musts(&f), 0);
}

#[test]
fn unknown_block_and_delta_types_are_info() {
    let v = with(
        message(),
        "/content",
        json!([{"type": "hologram", "data": 1}]),
    );
    let f = validate(Shape::Message, &v);
    let i = only(&f, Severity::Info);
    assert_eq!(
        (i.check.as_str(), i.location.as_str()),
        ("schema.unknown-type", "/content/0/type")
    );
    assert_eq!(musts(&f), 0);
    let e = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "smell_delta", "x": 1}});
    let f = validate(Shape::Event, &e);
    assert_eq!(only(&f, Severity::Info).location, "/delta/type");
    assert_eq!(musts(&f), 0);
}

#[test]
fn later_usage_fields_missing_are_should() {
    let v = without(
        without(message(), "/usage/cache_creation"),
        "/usage/service_tier",
    );
    let f = validate(Shape::Message, &v);
    assert_eq!(musts(&f), 0);
    let at: Vec<(&str, Severity)> = f
        .iter()
        .map(|x| (x.location.as_str(), x.severity()))
        .collect();
    assert_eq!(
        at,
        vec![
            ("/usage/cache_creation", Severity::Should),
            ("/usage/service_tier", Severity::Should)
        ]
    );
    assert!(f.iter().all(|x| x.check.as_str() == "schema.missing-field"));
    // Baseline fields missing stay must, and do not hide a missing later field beside them.
    let v = without(
        without(message(), "/usage/output_tokens"),
        "/usage/service_tier",
    );
    let f = validate(Shape::Message, &v);
    assert_eq!(only(&f, Severity::Must).location, "/usage");
    assert_eq!(only(&f, Severity::Should).location, "/usage/service_tier");
}

#[test]
fn text_delta_with_a_number_is_a_must_on_the_event_check() {
    let e = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": 5}});
    let m = only(&validate(Shape::Event, &e), Severity::Must).clone();
    assert_eq!(
        (m.check.as_str(), m.location.as_str()),
        ("schema.event.content_block_delta", "/delta/text")
    );
    assert_eq!(m.expected.as_deref(), Some("string"));
    assert!(!is_valid(Shape::Event, &e));
}

#[test]
fn every_event_type_is_checked() {
    let bad = [
        json!({"type": "message_start", "message": {"id": "m"}}),
        json!({"type": "content_block_start", "index": -1, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": null}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": 1}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "citations_delta", "citation": {"type": "char_location"}}}),
        json!({"type": "content_block_stop"}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "done", "stop_sequence": null}, "usage": {"output_tokens": 1}}),
        json!({"type": "message_delta", "delta": {"stop_reason": null, "stop_sequence": null}, "usage": {"output_tokens": "1"}}),
        json!({"type": "error", "error": {"message": "x"}}),
    ];
    for e in bad {
        let f = validate(Shape::Event, &e);
        let t = e["type"].as_str().unwrap();
        assert!(musts(&f) >= 1, "{e}: {f:#?}");
        assert!(
            f.iter()
                .all(|x| x.check.as_str() == format!("schema.event.{t}")),
            "{f:#?}"
        );
    }
    let good = [
        json!({"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "x",
               "content": [], "stop_reason": null, "stop_sequence": null,
               "usage": {"input_tokens": 1, "output_tokens": 1, "cache_creation_input_tokens": 0,
                         "cache_read_input_tokens": 0, "cache_creation": null, "service_tier": "standard"}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": ""}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 9}}),
        json!({"type": "message_stop"}),
        json!({"type": "ping"}),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    ];
    for e in good {
        assert_eq!(validate(Shape::Event, &e), vec![], "{e}");
    }
}

#[test]
fn events_without_a_usable_type() {
    let f = validate(Shape::Event, &json!({"index": 0}));
    assert_eq!(only(&f, Severity::Must).check.as_str(), "schema.event");
    let f = validate(Shape::Event, &json!([1]));
    assert_eq!(only(&f, Severity::Must).actual.as_deref(), Some("array"));
    let f = validate(Shape::Event, &json!({"type": 7}));
    assert_eq!(only(&f, Severity::Must).location, "/type");
    let f = validate(Shape::Event, &json!({"type": "telemetry", "x": 1}));
    assert_eq!(
        only(&f, Severity::Info).check.as_str(),
        "schema.unknown-type"
    );
    assert!(is_valid(Shape::Event, &json!({"type": "telemetry"})));
}

#[test]
fn error_body_without_error_type_is_a_should() {
    // The catalogue's severity of `schema.error`: the clients raise on the status anyway.
    let f = validate(
        Shape::Error,
        &json!({"type": "error", "error": {"message": "boom"}}),
    );
    assert_eq!(musts(&f), 0);
    let m = only(&f, Severity::Should);
    assert_eq!(
        (m.check.as_str(), m.location.as_str()),
        ("schema.error", "/error")
    );
    assert_eq!(
        m.reference,
        "https://platform.claude.com/docs/en/api/errors (error shapes)"
    );
    let f = validate(
        Shape::Error,
        &json!({"type": "error", "error": {"type": "teapot_error", "message": "x"}}),
    );
    assert_eq!(
        only(&f, Severity::Info).check.as_str(),
        "schema.unknown-type"
    );
    assert_eq!(musts(&f), 0);
}

#[test]
fn count_tokens_and_models() {
    let model = json!({"type": "model", "display_name": "X", "created_at": "2025-02-19T00:00:00Z"});
    let m = only(&validate(Shape::Model, &model), Severity::Must).clone();
    assert_eq!(
        (m.check.as_str(), m.location.as_str()),
        ("schema.model", "/")
    );
    assert!(m.message.contains("\"id\""), "{m}");
    assert_eq!(
        validate(Shape::CountTokens, &json!({"input_tokens": 5})),
        vec![]
    );
    assert_eq!(
        only(
            &validate(Shape::CountTokens, &json!({"input_tokens": 1.5})),
            Severity::Must
        )
        .location,
        "/input_tokens"
    );
    let model = json!({"type": "model", "id": "claude-x", "display_name": "X", "created_at": "2025-02-19T00:00:00Z"});
    assert_eq!(validate(Shape::Model, &model), vec![]);
    let list =
        json!({"data": [model], "has_more": false, "first_id": "claude-x", "last_id": "claude-x"});
    assert_eq!(validate(Shape::ModelList, &list), vec![]);
    let bad = with(list.clone(), "/data/0/created_at", json!("yesterday"));
    let m = only(&validate(Shape::ModelList, &bad), Severity::Must).clone();
    assert_eq!(
        (m.check.as_str(), m.location.as_str()),
        ("schema.model_list", "/data/0/created_at")
    );
    assert_eq!(
        only(
            &validate(Shape::ModelList, &without(list, "/has_more")),
            Severity::Must
        )
        .location,
        "/"
    );
}

#[test]
fn a_minimal_request_is_valid_and_the_envelope_is_closed() {
    assert_eq!(validate(Shape::Request, &request()), vec![]);
    let mut v = request();
    v["betas"] = json!(["x"]);
    let m = only(&validate(Shape::Request, &v), Severity::Must).clone();
    assert_eq!(
        (m.check.as_str(), m.location.as_str()),
        ("schema.request", "/")
    );
    assert!(m.message.contains("betas"), "{m}");
}

#[test]
fn request_violations_are_specific() {
    let cases = [
        (
            with(
                request(),
                "/messages/0/content",
                json!([{"type": "video", "source": {"type": "url", "url": "u"}}]),
            ),
            "/messages/0/content/0/type",
        ),
        (
            with(
                request(),
                "/messages/0/content",
                json!([{"type": "text", "text": ""}]),
            ),
            "/messages/0/content/0/text",
        ),
        (
            with(
                request(),
                "/messages/0/content",
                json!([{"type": "text", "text": "a", "colour": 1}]),
            ),
            "/messages/0/content/0",
        ),
        (
            with(request(), "/messages/0/role", json!("robot")),
            "/messages/0/role",
        ),
        (with(request(), "/max_tokens", json!("10")), "/max_tokens"),
        (with(request(), "/model", json!("")), "/model"),
    ];
    for (v, at) in cases {
        let f = validate(Shape::Request, &v);
        assert_eq!(only(&f, Severity::Must).location, at, "{v}");
    }
    let mut v = request();
    v["temperature"] = json!(1.5);
    assert_eq!(
        only(&validate(Shape::Request, &v), Severity::Must).location,
        "/temperature"
    );
    let mut v = request();
    v["thinking"] = json!({"type": "enabled", "budget_tokens": 100});
    assert_eq!(
        only(&validate(Shape::Request, &v), Severity::Must).location,
        "/thinking/budget_tokens"
    );
    let mut v = request();
    v["tool_choice"] = json!({"type": "tool"});
    assert_eq!(
        only(&validate(Shape::Request, &v), Severity::Must).location,
        "/tool_choice"
    );
    let mut v = request();
    v["tools"] = json!([{"name": "bad name", "input_schema": {"type": "object"}}]);
    assert_eq!(
        only(&validate(Shape::Request, &v), Severity::Must).location,
        "/tools/0/name"
    );
    let mut v = request();
    v["output_config"] = json!({"format": {"type": "json_schema", "schema": {}, "name": "x"}});
    assert_eq!(
        only(&validate(Shape::Request, &v), Severity::Must).location,
        "/output_config/format"
    );
    let mut v = request();
    v["cache_control"] = json!({"type": "ephemeral", "ttl": "2h"});
    assert_eq!(
        only(&validate(Shape::Request, &v), Severity::Must).location,
        "/cache_control/ttl"
    );
}

#[test]
fn newer_request_fields_are_accepted() {
    let mut v = request();
    for (k, x) in [
        (
            "output_config",
            json!({"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}}),
        ),
        (
            "output_format",
            json!({"type": "json_schema", "schema": {"type": "object"}}),
        ),
        ("cache_control", json!({"type": "ephemeral", "ttl": "1h"})),
        ("service_tier", json!("auto")),
        ("container", json!("cntr_1")),
        (
            "mcp_servers",
            json!([{"type": "url", "url": "https://x", "name": "x"}]),
        ),
        ("inference_geo", json!("us")),
        ("speed", json!("fast")),
        (
            "thinking",
            json!({"type": "adaptive", "display": "summarized"}),
        ),
        (
            "tools",
            json!([{"name": "f", "input_schema": {"type": "object", "$defs": {}}, "strict": true},
                         {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]),
        ),
    ] {
        v[k] = x;
    }
    assert_eq!(validate(Shape::Request, &v), vec![]);
}

#[test]
fn count_tokens_request_rejects_generation_fields() {
    let v = json!({"model": "x", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(validate(Shape::CountTokensRequest, &v), vec![]);
    let m = only(
        &validate(Shape::CountTokensRequest, &request()),
        Severity::Must,
    )
    .clone();
    assert_eq!(m.check.as_str(), "schema.count_tokens_request");
    assert!(m.message.contains("max_tokens"), "{m}");
}

#[test]
fn long_values_are_truncated_in_findings() {
    let v = with(message(), "/model", json!("x".repeat(10_000)));
    let v = with(v, "/role", json!("y".repeat(10_000)));
    let m = only(&validate(Shape::Message, &v), Severity::Must).clone();
    assert!(m.actual.as_ref().unwrap().len() < 200, "{m}");
    assert!(m.message.len() < 400, "{m}");
}

#[test]
fn user_schemas() {
    let schema =
        json!({"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}});
    assert_eq!(
        validate_against(&schema, &json!({"city": "Paris"})).unwrap(),
        vec![]
    );
    let f = validate_against(&schema, &json!({"city": 3})).unwrap();
    let m = only(&f, Severity::Must);
    assert_eq!(
        (m.check.as_str(), m.location.as_str()),
        ("schema.user", "/city")
    );
    let usage = json!({"properties": {"usage": {"type": "string"}}});
    let f = validate_against(&usage, &json!({"usage": 1})).unwrap();
    assert_eq!(
        only(&f, Severity::Must).reference,
        "the request's schema (tools input_schema, output_config.format)"
    );
    assert!(validate_against(&json!({"type": 12}), &json!(1)).is_err());
}

fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "[a-z_]{0,12}".prop_map(Value::String),
        Just(json!("text")),
        Just(json!("message_start")),
        Just(json!("content_block_delta")),
        Just(json!("tool_use")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("type".to_string()),
                    Just("index".to_string()),
                    Just("delta".to_string()),
                    Just("usage".to_string()),
                    Just("content".to_string()),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
    #[test]
    fn random_values_never_panic_and_fast_path_agrees(v in arb_json()) {
        for shape in ALL_SHAPES {
            let f = validate(shape, &v);
            let has_main = f.iter().any(is_main);
            proptest::prop_assert_eq!(is_valid(shape, &v), !has_main, "{:?} {} {:?}", shape, v, f);
        }
    }

    #[test]
    fn random_values_inside_a_message_never_panic(v in arb_json(), at in 0usize..6) {
        let pointer = ["/content/0", "/usage", "/usage/cache_creation", "/stop_reason", "/content", "/id"][at];
        let m = with(message(), pointer, v);
        let f = validate(Shape::Message, &m);
        proptest::prop_assert_eq!(is_valid(Shape::Message, &m), !f.iter().any(|x| x.severity() == Severity::Must));
    }
}

#[test]
fn message_delta_without_stop_sequence_is_a_should() {
    // Two popular gateways omit the key; the official clients keep message_start's null
    // (docs/client-impact.md, case message-delta-no-stop-sequence).
    let e = json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}});
    assert!(is_valid(Shape::Event, &e));
    let f = validate(Shape::Event, &e);
    assert_eq!(musts(&f), 0, "{f:#?}");
    let s = only(&f, Severity::Should);
    assert_eq!(
        (s.check.as_str(), s.location.as_str()),
        ("schema.missing-field", "/delta/stop_sequence")
    );
    // A missing stop_reason stays a must.
    let e = json!({"type": "message_delta", "delta": {"stop_sequence": null}, "usage": {"output_tokens": 3}});
    assert_eq!(
        only(&validate(Shape::Event, &e), Severity::Must)
            .check
            .as_str(),
        "schema.event.message_delta"
    );
}
