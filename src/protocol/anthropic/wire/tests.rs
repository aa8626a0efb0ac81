//! Unit tests of `wire`.

use super::*;

#[test]
fn rejections_are_well_formed_4xx_errors_about_the_request() {
    let good: Value = serde_json::from_str(
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"no video"},"request_id":"req_1"}"#,
    )
    .unwrap();
    let good = Some(&good);
    assert!(is_rejection(400, good));
    assert!(is_rejection(404, good));
    assert!(
        !is_rejection(401, good),
        "auth errors are not about the feature"
    );
    assert!(!is_rejection(429, good));
    assert!(!is_rejection(500, good));
    let bad = serde_json::json!({"error": "bad"});
    assert!(
        !is_rejection(400, Some(&bad)),
        "not the Anthropic error shape"
    );
    assert!(!is_rejection(400, None), "no JSON body");
}

#[test]
fn auth_styles_name_their_header_and_parse_their_spelling() {
    assert_eq!(
        AuthStyle::XApiKey.header("k"),
        ("x-api-key".to_string(), "k".to_string())
    );
    assert_eq!(
        AuthStyle::Bearer.header("k"),
        ("authorization".to_string(), "Bearer k".to_string())
    );
    assert_eq!(CREDENTIAL_HEADERS, ["x-api-key", "authorization"]);
    assert_eq!("bearer".parse(), Ok(AuthStyle::Bearer));
    assert_eq!("x-api-key".parse(), Ok(AuthStyle::XApiKey));
    assert_eq!(
        "Bearer".parse::<AuthStyle>(),
        Err(r#"unknown auth style "Bearer" (expected "x-api-key" or "bearer")"#.to_string())
    );
}

#[test]
fn the_output_format_in_either_spelling_and_null_as_absent() {
    let f = serde_json::json!({"type": "json_schema", "schema": {"type": "object"}});
    let g = serde_json::json!({"type": "json_schema", "schema": {}});
    let read = |r: Value| output_format(&r).cloned();
    assert_eq!(
        read(serde_json::json!({"output_config": {"format": f}})),
        Some(f.clone())
    );
    assert_eq!(
        read(serde_json::json!({"output_format": f})),
        Some(f.clone())
    );
    assert_eq!(
        read(serde_json::json!({"output_config": {"format": f}, "output_format": g})),
        Some(f.clone()),
        "output_config.format first"
    );
    assert_eq!(
        read(serde_json::json!({"output_config": {"format": null}, "output_format": f})),
        Some(f.clone()),
        "a null format is left out, not a request for none"
    );
    assert_eq!(
        read(serde_json::json!({"output_config": {"format": null}})),
        None
    );
    assert_eq!(
        read(serde_json::json!({"output_config": null, "output_format": null})),
        None
    );
    assert_eq!(
        read(serde_json::json!({"output_config": {"effort": "low"}})),
        None
    );
    assert_eq!(read(serde_json::json!({})), None);
}

#[test]
fn infrastructure_statuses_and_their_reasons() {
    let of = InfrastructureStatus::of;
    for s in [200, 400, 404, 413, 422] {
        assert_eq!(of(s, 3), None, "{s} is about the request");
    }
    assert_eq!(
        of(401, 1).map(|i| i.to_string()).as_deref(),
        Some("HTTP 401: the endpoint rejected the credentials (check the key and the auth style)")
    );
    assert_eq!(
        of(403, 3),
        Some(InfrastructureStatus::CredentialsRejected { status: 403 })
    );
    assert_eq!(
        of(429, 3).map(|i| i.to_string()).as_deref(),
        Some("HTTP 429 after 3 attempts: still rate limited when the retries ran out")
    );
    assert_eq!(
        of(529, 1).map(|i| i.to_string()).as_deref(),
        Some("HTTP 529: the endpoint failed or was overloaded when the retries ran out")
    );
    for s in [408, 409, 500, 503, 599] {
        assert_eq!(
            of(s, 2),
            Some(InfrastructureStatus::Failed {
                status: s,
                attempts: 2
            })
        );
    }
}

#[test]
fn server_errors_that_may_be_the_request_own() {
    let of = |s, a| InfrastructureStatus::of(s, a).and_then(InfrastructureStatus::server_error);
    assert_eq!(of(500, 3), Some(500));
    assert_eq!(of(502, 2), Some(502));
    assert_eq!(of(500, 1), None, "not repeated: no retry was made");
    assert_eq!(of(529, 3), None, "overloaded is about capacity");
    for s in [401, 403, 408, 409, 429] {
        assert_eq!(of(s, 3), None, "{s}");
    }
}

#[test]
fn endpoints_by_method_and_path() {
    use Endpoint::*;
    let of = Endpoint::of;
    assert_eq!(of("POST", "/v1/messages"), Some(Messages));
    assert_eq!(of("POST", "/v1/messages?beta=true"), Some(Messages));
    assert_eq!(of("POST", "/v1/messages/#x"), Some(Messages));
    assert_eq!(of("POST", "/apps/anthropic/v1/messages"), Some(Messages));
    assert_eq!(of("POST", "/v1/messages/count_tokens/"), Some(CountTokens));
    assert_eq!(
        of("POST", "/v1/messages/count_tokens?beta=true"),
        Some(CountTokens)
    );
    assert_eq!(of("GET", "/v1/models?limit=1"), Some(Models));
    assert_eq!(of("get", "/v1/models/"), Some(Models));
    assert_eq!(of("GET", "/v1/models/claude-x"), Some(Model));
    assert_eq!(of("POST", "/v1/models"), None, "models answer GET only");
    assert_eq!(
        of("POST", "/messages"),
        None,
        "the API's paths start with /v1"
    );
    assert_eq!(of("POST", "/v1/messages/batches"), None);
    assert_eq!(of("POST", "/v1/complete"), None);
}

#[test]
fn only_the_messages_endpoint_streams_and_each_has_its_shapes() {
    use Endpoint::*;
    let all = [Messages, CountTokens, Models, Model];
    let streams: Vec<bool> = all.iter().map(|e| e.streams()).collect();
    assert_eq!(streams, [true, false, false, false]);
    assert_eq!(Messages.request_shape(), Some(Shape::Request));
    assert_eq!(CountTokens.request_shape(), Some(Shape::CountTokensRequest));
    assert_eq!(Models.request_shape(), None);
    let responses: Vec<Shape> = all.iter().map(|e| e.response_shape()).collect();
    assert_eq!(
        responses,
        [
            Shape::Message,
            Shape::CountTokens,
            Shape::ModelList,
            Shape::Model
        ]
    );
}
