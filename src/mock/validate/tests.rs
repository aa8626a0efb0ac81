//! Unit tests of `validate`.

use super::*;

fn rules() -> Rules<'static> {
    Rules {
        version: Some("2023-06-01"),
        video: true,
        seed: 0,
        check_signatures: true,
    }
}

fn message(b: &Value) -> String {
    validate(b, Endpoint::Messages, &rules()).unwrap_err()
}

#[test]
fn accepts_a_basic_request() {
    let b = json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    validate(&b, Endpoint::Messages, &rules()).unwrap();
    let c = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    validate(&c, Endpoint::CountTokens, &rules()).unwrap();
}

#[test]
fn schema_errors_are_worded_like_anthropic() {
    let base = |extra: Value| {
        let mut b =
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases = [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
            "max_tokens: Field required",
        ),
        (
            base(json!({"bogus": 1})),
            "bogus: Extra inputs are not permitted",
        ),
        (
            base(json!({"tools": [{"name": "t", "input_schema": {}}]})),
            "tools.0.custom.input_schema.type: Field required",
        ),
        (
            base(json!({"thinking": {"type": "enabled", "budget_tokens": 10}})),
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ),
        (
            base(
                json!({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "x"}}]}]}),
            ),
            "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
        ),
        (
            base(
                json!({"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}),
            ),
            "messages.0.content.0.text: text content blocks must be non-empty",
        ),
        (
            base(json!({"stream": "yes"})),
            "stream: Input should be a valid boolean",
        ),
        (
            base(json!({"messages": [{"role": "user", "content": [{"type": "sound"}]}]})),
            "messages.0.content.0.type: Input should be 'text'",
        ),
    ];
    for (b, want) in cases {
        let got = message(&b);
        assert!(got.starts_with(want), "want `{want}`, got `{got}`");
    }
}

#[test]
fn sdk_pass_back_fields_are_accepted() {
    let b = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Calling.", "citations": null},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}, "caller": null, "toolset_name": null}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny"}]}]});
    validate(&b, Endpoint::Messages, &rules()).unwrap();
}

#[test]
fn semantic_rules_hold() {
    let pair = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}]},
            {"role": "user", "content": "no result"}]});
    assert!(message(&pair).starts_with("messages.1: `tool_use` ids"));
    let merged = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "one"}, {"role": "user", "content": "two"}]});
    validate(&merged, Endpoint::Messages, &rules()).unwrap();
    let signed = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "bad"}]}]});
    assert!(message(&signed).contains("Invalid `signature`"));
    let no_video = Rules {
        video: false,
        ..rules()
    };
    let video = json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
            {"type": "video", "source": {"type": "url", "url": "https://x/v.mp4"}}]}]});
    validate(&video, Endpoint::Messages, &rules()).unwrap();
    let e = validate(&video, Endpoint::Messages, &no_video).unwrap_err();
    assert!(
        e.starts_with("messages.0.content.0: Input tag 'video'"),
        "{e}"
    );
}
