use super::*;

fn headers(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = [
        ("user-agent", "claude-cli/2.1.332 (external, sdk-cli)"),
        ("x-api-key", "sk-ant-secret"),
        ("authorization", "Bearer sk-ant-secret"),
        (
            "anthropic-beta",
            "claude-code-20250219,context-management-2025-06-27",
        ),
        ("anthropic-version", "2023-06-01"),
        ("x-stainless-retry-count", "0"),
        ("x-stainless-package-version", "0.128.0"),
        ("x-stainless-lang", "js"),
        (
            "x-claude-code-session-id",
            "5e91a12c-a438-4369-bfeb-4051fd87d84f",
        ),
        ("x-app", "cli"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    h
}

fn exchange(n: usize, body: Value, message: Value) -> Captured {
    Captured {
        n,
        method: "POST".into(),
        path: "/v1/messages?beta=true".into(),
        headers: headers(&[]),
        body: Some(body),
        status: Some(200),
        message: Some(message),
    }
}

const TOOL: &str =
    r#"{"name": "Read", "description": "Reads a file", "input_schema": {"type": "object"}}"#;

/// A Claude Code tool loop: a prompt answered with a tool call, then the call passed back with
/// its result.
fn tool_loop() -> Vec<Captured> {
    let tool: Value = serde_json::from_str(TOOL).unwrap();
    let first = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true, "tools": [tool],
        "thinking": {"type": "enabled", "budget_tokens": 31999},
        "metadata": {"user_id": "{\"device_id\":\"abababababababababababababababababababababababababababababababab\",\"session_id\":\"5e91a12c-a438-4369-bfeb-4051fd87d84f\"}"},
        "system": "You are claude-sonnet-4-5.",
        "messages": [{"role": "user", "content": "Read notes.txt in /tmp/tmp.AbCdEf1234"}]
    });
    let answer = json!({
        "role": "assistant", "stop_reason": "tool_use",
        "content": [
            {"type": "thinking", "thinking": "", "signature": "sig-1"},
            {"type": "tool_use", "id": "toolu_01AAA", "name": "Read", "input": {"file_path": "notes.txt"}}
        ]
    });
    let mut second = first.clone();
    second["messages"] = json!([
        {"role": "user", "content": "Read notes.txt in /tmp/tmp.AbCdEf1234"},
        {"role": "assistant", "content": answer["content"].clone()},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01AAA", "content": "meeting on Thursday"}]}
    ]);
    vec![
        exchange(1, first, answer),
        exchange(
            2,
            second,
            json!({"role": "assistant", "stop_reason": "end_turn", "content": [{"type": "text", "text": "Thursday."}]}),
        ),
    ]
}

fn planned(exchanges: &[Captured]) -> Plan {
    let mut vol = Volatile::new(Some("/nowhere/cwd"), None);
    plan(exchanges, &mut vol, &Client::of(exchanges))
}

#[test]
fn a_tool_loop_replays_its_first_turn_and_passes_its_answer_back_by_capture() {
    let p = planned(&tool_loop());
    assert_eq!(p.scenarios.len(), 2, "{:?}", p.skipped);
    let loop_ = &p.scenarios[1];
    assert_eq!(loop_.name, "turn-2-tools-thinking");
    assert_eq!(loop_.exchanges, vec![1, 2]);
    assert_eq!(loop_.feature, "claude-code");
    let [first, second] = &loop_.steps[..] else {
        panic!("two steps: {:?}", loop_.steps)
    };
    assert_eq!(
        first.captures,
        vec![
            ("content".to_string(), "$.content".to_string()),
            (
                "tool_1".to_string(),
                "$.content[?@.type == 'tool_use'].id".to_string()
            ),
        ]
    );
    assert_eq!(
        first.asserts,
        vec![json!({"path": "$.stop_reason", "equals": "tool_use", "requires": true})]
    );
    let body = second.body.as_ref().unwrap();
    assert_eq!(
        body["messages"][1]["content"],
        json!("{{ steps.turn1.content }}")
    );
    assert_eq!(
        body["messages"][2]["content"][0]["tool_use_id"],
        json!("{{ steps.turn1.tool_1 }}")
    );
    // The first turn alone is a scenario too, without captures.
    assert_eq!(p.scenarios[0].steps.len(), 1);
    assert!(p.scenarios[0].steps[0].captures.is_empty());
}

#[test]
fn the_model_is_templated_and_credentials_and_volatile_headers_are_left_out() {
    let p = planned(&tool_loop());
    let step = &p.scenarios[0].steps[0];
    let body = step.body.as_ref().unwrap();
    assert_eq!(body["model"], json!("{{ target.model }}"));
    assert_eq!(body["system"], json!("You are {{ target.model }}."));
    assert!(body.get("stream").is_none(), "the mode sets it");
    assert!(p.scenarios[0].stream);
    let names: Vec<&str> = step.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["user-agent", "anthropic-beta", "anthropic-version", "x-app"]
    );
    let text = format!("{:?}", p.scenarios);
    for gone in [
        "sk-ant-secret",
        "5e91a12c",
        "abababab",
        "/tmp/tmp.",
        "toolu_01AAA",
    ] {
        assert!(!text.contains(gone), "{gone} left in {text}");
    }
    assert!(
        body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .ends_with("/home/user/project")
    );
}

#[test]
fn requests_of_one_shape_make_one_file_and_the_rest_are_named() {
    let mut x = tool_loop();
    let mut again = x[0].clone();
    again.n = 3;
    again.body.as_mut().unwrap()["messages"][0]["content"] = json!("Another prompt entirely");
    again.body.as_mut().unwrap()["max_tokens"] = json!(512);
    x.push(again);
    let mut rejected = x[0].clone();
    rejected.n = 4;
    rejected.status = Some(400);
    x.push(rejected);
    let mut telemetry = x[0].clone();
    telemetry.n = 5;
    telemetry.path = "/api/event_logging/batch".into();
    x.push(telemetry);
    let p = planned(&x);
    assert_eq!(p.scenarios.len(), 2);
    let skipped: Vec<usize> = p.skipped.iter().map(|(n, _)| *n).collect();
    assert_eq!(skipped, vec![4, 5, 3], "{:?}", p.skipped);
    assert!(p.skipped[2].1.contains("same request shape"));
    assert!(p.skipped[0].1.contains("400"));
}

#[test]
fn an_assistant_turn_no_answer_gave_keeps_fixed_ids_and_loses_its_thinking() {
    let body = json!({
        "model": "m", "max_tokens": 64, "metadata": {"user_id": "user-42"},
        "messages": [
            {"role": "user", "content": "Weather? {{not a template}}"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "x", "signature": "elsewhere"},
                {"type": "tool_use", "id": "toolu_X", "name": "w", "input": {}}
            ]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_X", "content": "sun"}]}
        ]
    });
    let mut x = exchange(1, body, json!({"content": []}));
    x.headers = vec![("user-agent".into(), "curl/8.5.0".into())];
    let p = planned(&[x]);
    let s = &p.scenarios[0];
    assert_eq!(s.feature, "multi-turn");
    assert!(
        s.description.contains("Thinking blocks"),
        "{}",
        s.description
    );
    let b = s.steps[0].body.as_ref().unwrap();
    assert_eq!(b["metadata"]["user_id"], json!("conform-capture-user"));
    assert_eq!(
        b["messages"][1]["content"],
        json!([{"type": "tool_use", "id": "toolu_capture_01", "name": "w", "input": {}}])
    );
    assert_eq!(
        b["messages"][2]["content"][0]["tool_use_id"],
        json!("toolu_capture_01")
    );
    assert_eq!(
        b["messages"][0]["content"],
        json!("Weather? {{ '{{' }}not a template}}")
    );
    // Without tools the answer must have text.
    assert!(
        s.steps[0]
            .asserts
            .iter()
            .any(|a| a["check"] == "answer.no-text")
    );
}

#[test]
fn count_tokens_and_the_client_are_recognised() {
    let mut x = tool_loop().remove(0);
    x.path = "/v1/messages/count_tokens?beta=true".into();
    x.message = Some(json!({"input_tokens": 12}));
    let client = Client::of(std::slice::from_ref(&x));
    assert!(client.is_claude_code());
    assert_eq!(client.sdk.as_deref(), Some("js 0.128.0"));
    assert_eq!(client.short(), "claude-cli/2.1.332");
    let p = planned(&[x]);
    let s = &p.scenarios[0];
    assert_eq!(s.name, "count-tokens-tools-thinking");
    assert_eq!(s.steps[0].id, "count");
    assert_eq!(
        s.steps[0].asserts,
        vec![json!({"path": "$.input_tokens", "gt": 0, "check": "count-tokens.zero"})]
    );
}
