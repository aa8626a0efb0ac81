//! Unit tests of `validate`.

use super::*;

fn rules() -> Rules<'static> {
    Rules {
        version: Some("2023-06-01"),
        video: true,
        seed: 0,
        check_signatures: true,
        accept_unsigned: false,
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
    // A server that signs only some of its thinking accepts an unsigned block, never a bad one.
    let some_unsigned = Rules {
        accept_unsigned: true,
        ..rules()
    };
    let unsigned = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": ""}]}]});
    assert!(message(&unsigned).contains("Invalid `signature`"));
    validate(&unsigned, Endpoint::Messages, &some_unsigned).unwrap();
    assert!(validate(&signed, Endpoint::Messages, &some_unsigned).is_err());
    // A redacted_thinking block passed back must be one the server wrote.
    let sealed = crate::mock::hash::seal_redacted(0, b"opaque thinking");
    let redacted = |data: &str| {
        json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [{"type": "redacted_thinking", "data": data}]}]})
    };
    validate(&redacted(&sealed), Endpoint::Messages, &rules()).unwrap();
    let edited = format!("A{}", &sealed[1..]);
    assert!(message(&redacted(&edited)).contains("Invalid `data`"));
    assert!(message(&redacted("not base64!")).contains("Invalid `data`"));
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

/// Each documented change of 2026-10-21: rejected under it, accepted under 2023-06-01 (and
/// without the header, which is taken as 2023-06-01).
#[test]
fn the_2026_10_21_removals_apply_under_that_version_only() {
    let cite = json!({"type": "char_location", "cited_text": "Paris", "document_index": 0,
        "document_title": null, "start_char_index": 0, "end_char_index": 5});
    let doc = json!({"type": "document", "source": {"type": "text", "media_type": "text/plain",
        "data": "Paris is the capital of France."}});
    let cases = [
        (
            json!({"model": "m", "max_tokens": 5, "temperature": 1.0,
                "messages": [{"role": "user", "content": "hi"}]}),
            "temperature: this parameter is not supported",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "top_k": 5,
                "messages": [{"role": "user", "content": "hi"}]}),
            "top_k: this parameter is not supported",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [
                {"role": "user", "content": "Summarise."},
                {"role": "assistant", "content": [doc]},
                {"role": "user", "content": "Go on."}]}),
            "messages.1.content.0: document blocks are not allowed in assistant messages",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "Paris, says the source.", "citations": [cite]}]}]}),
            "messages.0.content.0.text.citations: citations are not allowed on user text blocks",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
                {"type": "search_result", "source": "https://example.com/a", "title": "A",
                 "content": [{"type": "text", "text": "Paris.", "citations": [cite]}]},
                {"type": "text", "text": "Where?"}]}]}),
            "messages.0.content.0.search_result.content.0.citations: citations are not allowed",
        ),
    ];
    for (body, message) in cases {
        for old in [Some("2023-06-01"), Some("2023-01-01")] {
            let r = Rules {
                version: old,
                ..rules()
            };
            validate(&body, Endpoint::Messages, &r)
                .unwrap_or_else(|e| panic!("{old:?} rejected {body}: {e}"));
        }
        let r = Rules {
            version: Some("2026-10-21"),
            ..rules()
        };
        let got = validate(&body, Endpoint::Messages, &r).unwrap_err();
        assert!(got.starts_with(message), "{got}");
    }
    // Citations that are empty, or in an assistant turn, stay legal under 2026-10-21.
    let fine = json!({"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Where?", "citations": []}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Paris.", "citations": [cite]}]},
        {"role": "user", "content": "Thanks."}]});
    let r = Rules {
        version: Some("2026-10-21"),
        ..rules()
    };
    validate(&fine, Endpoint::Messages, &r).unwrap();
}

#[test]
fn server_tools_are_typed_and_their_domain_lists_exclusive() {
    let with_tool = |tool: Value| {
        json!({"model": "m", "max_tokens": 5, "tools": [tool],
            "messages": [{"role": "user", "content": "hi"}]})
    };
    let ok = with_tool(
        json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 3,
        "allowed_domains": ["example.com"], "blocked_domains": null, "user_location": null}),
    );
    validate(&ok, Endpoint::Messages, &rules()).unwrap();
    let both = with_tool(json!({"type": "web_search_20250305", "name": "web_search",
        "allowed_domains": ["a.example"], "blocked_domains": ["b.example"]}));
    assert_eq!(
        message(&both),
        "tools.0.web_search_20250305: Cannot specify both allowed_domains and blocked_domains"
    );
    let zero = with_tool(json!({"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 0}));
    assert!(message(&zero).contains("max_uses"), "{}", message(&zero));
}
