//! The clean reference server over HTTP: validation, auth, errors, determinism, accounting,
//! caching, streaming shape and the observable effect of each feature.

use crate::mock_support::*;
use conform::reference_server::MockConfig;
use serde_json::{Value, json};

fn assert_invalid(r: &Resp, field: &str) {
    assert_eq!(r.status, 400, "{}", r.text());
    let j = r.json();
    assert_eq!(j["type"], "error");
    assert_eq!(j["error"]["type"], "invalid_request_error");
    let msg = j["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with(field),
        "expected a message naming `{field}`, got `{msg}`"
    );
    assert!(j["request_id"].as_str().unwrap().starts_with("req_"));
    assert_eq!(r.header("request-id").as_deref(), j["request_id"].as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_table() {
    let m = start(MockConfig::default()).await;
    let base = m.base_url();
    let user = |c: Value| json!({"role": "user", "content": c});
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"max_tokens": 10, "messages": [user(json!("hi"))]}),
            "model:",
        ),
        (
            json!({"model": 5, "max_tokens": 10, "messages": [user(json!("hi"))]}),
            "model:",
        ),
        (
            json!({"model": "conform-mock", "messages": [user(json!("hi"))]}),
            "max_tokens:",
        ),
        (with(basic("hi"), json!({"max_tokens": 0})), "max_tokens:"),
        (
            with(basic("hi"), json!({"max_tokens": "10"})),
            "max_tokens:",
        ),
        (
            with(basic("hi"), json!({"max_tokens": 10_000_000})),
            "max_tokens:",
        ),
        (
            with(basic("hi"), json!({"temperature": 1.5})),
            "temperature:",
        ),
        (with(basic("hi"), json!({"top_k": -1})), "top_k:"),
        (with(basic("hi"), json!({"stream": "yes"})), "stream:"),
        (
            with(
                basic("hi"),
                json!({"max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 512}}),
            ),
            "thinking.enabled.budget_tokens:",
        ),
        (
            with(
                basic("hi"),
                json!({"max_tokens": 1500, "thinking": {"type": "enabled", "budget_tokens": 2000}}),
            ),
            "thinking.enabled.budget_tokens:",
        ),
        (
            with(basic("hi"), json!({"thinking": {"type": "sometimes"}})),
            "thinking.type:",
        ),
        (
            with(
                basic("hi"),
                json!({"messages": [{"role": "system", "content": "x"}]}),
            ),
            "messages.0.role:",
        ),
        (
            with(
                basic("hi"),
                json!({"messages": [{"role": "assistant", "content": "x"}]}),
            ),
            "messages.0.role:",
        ),
        (with(basic("hi"), json!({"messages": []})), "messages:"),
        (with(basic("hi"), json!({"messages": "hi"})), "messages:"),
        (
            with(
                basic("hi"),
                json!({"messages": [user(json!([{"type": "text", "text": ""}]))]}),
            ),
            "messages.0.content.0.text:",
        ),
        (
            with(
                basic("hi"),
                json!({"messages": [user(json!([{"type": "sound", "data": "x"}]))]}),
            ),
            "messages.0.content.0.type:",
        ),
        (
            with(basic("hi"), json!({"messages": [user(json!(""))]})),
            "messages.0:",
        ),
        (
            with(
                basic("hi"),
                json!({"messages": [{"role": "user", "content": "x", "name": "bob"}]}),
            ),
            "messages.0.name:",
        ),
        (
            with(
                basic("hi"),
                json!({"tools": weather_tools(), "tool_choice": {"type": "tool", "name": "nope"}}),
            ),
            "tool_choice.tool.name:",
        ),
        (
            with(basic("hi"), json!({"tool_choice": {"type": "any"}})),
            "tool_choice:",
        ),
        (
            with(
                basic("hi"),
                json!({"tools": [{"name": "x", "description": "no schema"}]}),
            ),
            "tools.0.custom.input_schema:",
        ),
        (
            with(
                basic("hi"),
                json!({"tools": [{"name": "bad name!", "input_schema": {"type": "object"}}]}),
            ),
            "tools.0.custom.name:",
        ),
        (
            with(
                basic("hi"),
                json!({"messages": [
            user(json!("weather?")),
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
            user(json!([{"type": "tool_result", "tool_use_id": "toolu_2", "content": "x"}]))]}),
            ),
            "messages.2.content.0:",
        ),
        (
            with(
                basic("hi"),
                json!({"messages": [
            user(json!("weather?")),
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
            user(json!("no result"))]}),
            ),
            "messages.1:",
        ),
        (
            with(
                basic("hi"),
                json!({"system": [
            {"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "c", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "d", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "e", "cache_control": {"type": "ephemeral"}}]}),
            ),
            "cache_control:",
        ),
        (
            with(
                basic("hi"),
                json!({"system": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral", "ttl": "2h"}}]}),
            ),
            "system.0.cache_control.ttl:",
        ),
        (
            with(
                basic("hi"),
                json!({"messages": [user(json!([{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "***"}}]))]}),
            ),
            "messages.0.content.0.image.source.base64.data:",
        ),
        (
            with(
                basic("hi"),
                json!({"messages": [user(json!([{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": png}}]))]}),
            ),
            "messages.0.content.0.image.source.base64.media_type:",
        ),
        (
            with(
                basic("hi"),
                json!({"messages": [user(json!([{"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": png}}]))]}),
            ),
            "messages.0.content.0.image.source.base64:",
        ),
        (with(basic("hi"), json!({"bogus": true})), "bogus:"),
        (
            with(basic("hi"), json!({"stop_sequences": [1]})),
            "stop_sequences.0:",
        ),
        (
            with(
                basic("hi"),
                json!({"metadata": {"user_id": "u", "email": "x"}}),
            ),
            "metadata.email:",
        ),
        (
            with(
                basic("hi"),
                json!({"output_config": {"format": {"type": "json_schema"}}}),
            ),
            "output_config.format.schema:",
        ),
    ];
    for (body, field) in &cases {
        let r = messages(&base, body).await;
        assert_invalid(&r, field);
    }
    // The 2026-10-21 API version removed the sampling parameters.
    let r = send(
        client()
            .post(format!("{base}/v1/messages"))
            .bearer_auth(KEY)
            .header("anthropic-version", "2026-10-21")
            .json(&with(basic("hi"), json!({"temperature": 0.5}))),
    )
    .await;
    assert_invalid(&r, "temperature:");
    // Malformed JSON and a non-object body.
    for raw in ["{\"model\": ", "[1,2]", "", "null"] {
        let r = send(
            client()
                .post(format!("{base}/v1/messages"))
                .header("x-api-key", KEY)
                .header("content-type", "application/json")
                .body(raw),
        )
        .await;
        assert_eq!(r.status, 400, "{raw}");
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    }
    // A valid image passes.
    let ok = messages(
        &base,
        &with(
            basic("hi"),
            json!({"messages": [user(json!([
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
        {"type": "text", "text": "What is this?"}]))]}),
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_accepts_x_api_key_and_bearer_only_with_the_right_key() {
    let m = start(MockConfig {
        api_key: "secret-1".into(),
        ..MockConfig::default()
    })
    .await;
    let url = format!("{}/v1/messages", m.base_url());
    let body = basic("hi");
    let ok1 = send(
        client()
            .post(&url)
            .header("x-api-key", "secret-1")
            .json(&body),
    )
    .await;
    assert_eq!(ok1.status, 200);
    let ok2 = send(client().post(&url).bearer_auth("secret-1").json(&body)).await;
    assert_eq!(ok2.status, 200);
    for req in [
        client().post(&url).json(&body),
        client().post(&url).header("x-api-key", KEY).json(&body),
        client().post(&url).bearer_auth("nope").json(&body),
    ] {
        let r = send(req).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["error"]["type"], "authentication_error");
        assert!(r.header("request-id").unwrap().starts_with("req_"));
    }
    let models = send(client().get(format!("{}/v1/models", m.base_url()))).await;
    assert_eq!(models.status, 401);
}

/// As Anthropic: `anthropic-version` is required on every endpoint (issue 24, point 14).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_anthropic_version_is_400() {
    let m = start(MockConfig::default()).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bare = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = m.base_url();
    for req in [
        bare.post(format!("{base}/v1/messages")).json(&basic("hi")),
        bare.post(format!("{base}/v1/messages/count_tokens")).json(
            &json!({"model": "conform-mock", "messages": [{"role": "user", "content": "hi"}]}),
        ),
        bare.get(format!("{base}/v1/models")),
    ] {
        let r = send(req.header("x-api-key", KEY)).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(
            r.json(),
            json!({"type": "error", "error": {"type": "invalid_request_error",
                "message": "anthropic-version: header is required"}, "request_id": r.json()["request_id"]}),
        );
    }
    // The key is checked first: no key and no version is 401.
    let r = send(bare.post(format!("{base}/v1/messages")).json(&basic("hi"))).await;
    assert_eq!(r.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_model_is_404_and_models_are_listed() {
    let m = start(MockConfig {
        models: vec!["qwen3.7-plus".into()],
        ..MockConfig::default()
    })
    .await;
    let base = m.base_url();
    let r = messages(&base, &with(basic("hi"), json!({"model": "gpt-nope"}))).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["type"], "not_found_error");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gpt-nope")
    );
    let ok = messages(&base, &with(basic("hi"), json!({"model": "qwen3.7-plus"}))).await;
    assert_eq!(ok.json()["model"], "qwen3.7-plus");
    let list = send(
        client()
            .get(format!("{base}/v1/models?limit=1"))
            .header("x-api-key", KEY),
    )
    .await
    .json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["has_more"], true);
    assert_eq!(list["data"][0]["type"], "model");
    let all = send(
        client()
            .get(format!("{base}/v1/models?beta=true"))
            .header("x-api-key", KEY),
    )
    .await
    .json();
    let ids: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["conform-mock", "qwen3.7-plus"]);
    let one = send(
        client()
            .get(format!("{base}/v1/models/qwen3.7-plus"))
            .header("x-api-key", KEY),
    )
    .await;
    assert_eq!(one.json()["id"], "qwen3.7-plus");
    let missing = send(
        client()
            .get(format!("{base}/v1/models/zzz"))
            .header("x-api-key", KEY),
    )
    .await;
    assert_eq!(missing.status, 404);
    let nowhere = send(
        client()
            .get(format!("{base}/v2/nothing"))
            .header("x-api-key", KEY),
    )
    .await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.json()["error"]["type"], "not_found_error");
    let wrong_method = send(
        client()
            .get(format!("{base}/v1/messages"))
            .header("x-api-key", KEY),
    )
    .await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.json()["type"], "error");
    assert!(wrong_method.header("request-id").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_32_mb_is_413() {
    let m = start(MockConfig::default()).await;
    let big = "a".repeat(33 * 1024 * 1024);
    let body = serde_json::to_vec(&basic(&big)).unwrap();
    let r = send(
        client()
            .post(format!("{}/v1/messages", m.base_url()))
            .header("x-api-key", KEY)
            .header("content-type", "application/json")
            .body(body),
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["type"], "request_too_large");
    // The same without a content-length (chunked upload).
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..34).map(|_| Ok(vec![b' '; 1024 * 1024])).collect();
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let r = send(
        client()
            .post(format!("{}/v1/messages", m.base_url()))
            .header("x-api-key", KEY)
            .body(streamed),
    )
    .await;
    assert_eq!(r.status, 413);
    // Still serving.
    assert_eq!(messages(&m.base_url(), &basic("hi")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deterministic_per_seed_and_shape_stable_across_seeds() {
    let a = start(MockConfig::default()).await;
    let b = start(MockConfig::default()).await;
    let c = start(MockConfig {
        seed: 42,
        ..MockConfig::default()
    })
    .await;
    for body in [
        basic("Tell me about rivers."),
        weather_request(),
        thinking_request(),
    ] {
        let ra = messages(&a.base_url(), &body).await;
        let rb = messages(&b.base_url(), &body).await;
        assert_eq!(ra.body, rb.body);
        let sa = messages(&a.base_url(), &with(body.clone(), json!({"stream": true}))).await;
        let sb = messages(&b.base_url(), &with(body.clone(), json!({"stream": true}))).await;
        assert_eq!(sa.body, sb.body);
        let rc = messages(&c.base_url(), &body).await;
        let (ja, jc) = (ra.json(), rc.json());
        assert_ne!(ja["id"], jc["id"]);
        assert_ne!(ja["content"], jc["content"]);
        let types = |j: &Value| {
            j["content"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["type"].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(types(&ja), types(&jc));
        assert_eq!(ja["stop_reason"], jc["stop_reason"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_tokens_equals_usage_input_tokens() {
    let m = start(MockConfig::default()).await;
    let base = m.base_url();
    let bodies = [
        basic("Count me, please."),
        with(
            basic("What's the weather like in Hangzhou today?"),
            json!({"tools": weather_tools(), "system": "Be brief."}),
        ),
        with(
            basic("x"),
            json!({"system": [{"type": "text", "text": "System block one."}, {"type": "text", "text": "Two."}],
            "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}}, {"type": "text", "text": "Describe."}]}]}),
        ),
    ];
    for body in bodies {
        let mut count_body = body.clone();
        count_body.as_object_mut().unwrap().remove("max_tokens");
        let counted = post(&base, "/v1/messages/count_tokens", &count_body).await;
        assert_eq!(counted.status, 200, "{}", counted.text());
        let usage = messages(&base, &body).await.json()["usage"].clone();
        assert_eq!(counted.json()["input_tokens"], usage["input_tokens"]);
        assert!(usage["input_tokens"].as_u64().unwrap() > 0);
    }
    let bad = post(&base, "/v1/messages/count_tokens", &basic("hi")).await;
    assert_invalid(&bad, "max_tokens:");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_write_then_read() {
    let m = start(MockConfig::default()).await;
    let base = m.base_url();
    let long = "<Your Code Here>".repeat(400);
    let req = |q: &str, ttl: Option<&str>| {
        let mut cc = json!({"type": "ephemeral"});
        if let Some(t) = ttl {
            cc["ttl"] = json!(t);
        }
        with(
            basic(q),
            json!({"system": [{"type": "text", "text": long, "cache_control": cc}]}),
        )
    };
    let first = messages(&base, &req("What does this code do?", None))
        .await
        .json()["usage"]
        .clone();
    assert!(
        first["cache_creation_input_tokens"].as_u64().unwrap() >= 1024,
        "{first}"
    );
    assert_eq!(first["cache_read_input_tokens"], 0);
    assert_eq!(
        first["cache_creation"]["ephemeral_5m_input_tokens"],
        first["cache_creation_input_tokens"]
    );
    let second_body = req("How can this code be optimized?", None);
    let second = messages(&base, &second_body).await.json()["usage"].clone();
    assert_eq!(
        second["cache_read_input_tokens"],
        first["cache_creation_input_tokens"]
    );
    assert_eq!(second["cache_creation_input_tokens"], 0);
    let mut count_body = second_body.clone();
    count_body.as_object_mut().unwrap().remove("max_tokens");
    let total = post(&base, "/v1/messages/count_tokens", &count_body)
        .await
        .json()["input_tokens"]
        .as_u64()
        .unwrap();
    let sum = second["input_tokens"].as_u64().unwrap()
        + second["cache_read_input_tokens"].as_u64().unwrap()
        + second["cache_creation_input_tokens"].as_u64().unwrap();
    assert_eq!(total, sum);
    // A 1h write on a different prefix reports in ephemeral_1h.
    let hour = messages(&base, &with(req("q", Some("1h")), json!({"system": [{"type": "text", "text": format!("{long} v2"), "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}))).await.json()["usage"].clone();
    assert_eq!(
        hour["cache_creation"]["ephemeral_1h_input_tokens"],
        hour["cache_creation_input_tokens"]
    );
    assert!(hour["cache_creation_input_tokens"].as_u64().unwrap() > 1024);
    // Below the minimum: silently not cached.
    let short = messages(&base, &with(basic("q"), json!({"system": [{"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}]}))).await.json()["usage"].clone();
    assert_eq!(short["cache_creation_input_tokens"], 0);
}

/// Rebuilds the message from stream events like the SDK accumulators do, checking the shape.
fn accumulate(events: &[(Option<String>, Value)]) -> Value {
    let names: Vec<&str> = events
        .iter()
        .map(|(e, _)| e.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(names[0], "message_start");
    assert_eq!(names[1], "content_block_start");
    assert_eq!(names[2], "ping");
    assert_eq!(names[names.len() - 2], "message_delta");
    assert_eq!(names[names.len() - 1], "message_stop");
    let mut msg = Value::Null;
    let mut json_bufs: Vec<String> = Vec::new();
    let mut first_json_delta: Vec<Option<String>> = Vec::new();
    let mut open: Option<u64> = None;
    for (name, data) in events {
        let name = name.as_deref().unwrap();
        assert_eq!(data["type"], name, "event name equals data.type");
        match name {
            "message_start" => {
                msg = data["message"].clone();
                assert_eq!(msg["content"], json!([]));
                assert!(msg["stop_reason"].is_null());
            }
            "content_block_start" => {
                let i = data["index"].as_u64().unwrap();
                assert_eq!(open, None, "blocks are not interleaved");
                assert_eq!(
                    i as usize,
                    msg["content"].as_array().unwrap().len(),
                    "indices are consecutive"
                );
                open = Some(i);
                msg["content"]
                    .as_array_mut()
                    .unwrap()
                    .push(data["content_block"].clone());
                json_bufs.push(String::new());
                first_json_delta.push(None);
                if data["content_block"]["type"] == "thinking" {
                    assert_eq!(data["content_block"]["signature"], "");
                }
            }
            "content_block_delta" => {
                let i = data["index"].as_u64().unwrap() as usize;
                assert_eq!(open, Some(i as u64));
                let b = &mut msg["content"][i];
                let d = &data["delta"];
                match d["type"].as_str().unwrap() {
                    "text_delta" => {
                        assert_eq!(b["type"], "text");
                        b["text"] = json!(format!(
                            "{}{}",
                            b["text"].as_str().unwrap(),
                            d["text"].as_str().unwrap()
                        ));
                    }
                    "thinking_delta" => {
                        assert_eq!(b["type"], "thinking");
                        assert_eq!(b["signature"], "", "no thinking after the signature");
                        b["thinking"] = json!(format!(
                            "{}{}",
                            b["thinking"].as_str().unwrap(),
                            d["thinking"].as_str().unwrap()
                        ));
                    }
                    "signature_delta" => {
                        assert_eq!(b["signature"], "", "exactly one signature_delta");
                        b["signature"] = d["signature"].clone();
                    }
                    "input_json_delta" => {
                        let p = d["partial_json"].as_str().unwrap();
                        if first_json_delta[i].is_none() {
                            first_json_delta[i] = Some(p.to_string());
                        }
                        json_bufs[i].push_str(p);
                    }
                    other => panic!("unexpected delta {other}"),
                }
            }
            "content_block_stop" => {
                let i = data["index"].as_u64().unwrap() as usize;
                assert_eq!(open, Some(i as u64));
                open = None;
                let b = &mut msg["content"][i];
                if b["type"] == "tool_use" {
                    assert_eq!(
                        first_json_delta[i].as_deref(),
                        Some(""),
                        "first input_json_delta is empty"
                    );
                    b["input"] = serde_json::from_str(&json_bufs[i])
                        .expect("partial_json concatenates to JSON");
                }
                if b["type"] == "thinking" {
                    assert_ne!(b["signature"], "", "signature_delta right before the stop");
                }
            }
            "message_delta" => {
                assert_eq!(open, None);
                msg["stop_reason"] = data["delta"]["stop_reason"].clone();
                msg["stop_sequence"] = data["delta"]["stop_sequence"].clone();
                let start_out = msg["usage"]["output_tokens"].as_u64().unwrap();
                assert!(data["usage"]["output_tokens"].as_u64().unwrap() >= start_out);
                for (k, v) in data["usage"].as_object().unwrap() {
                    msg["usage"][k] = v.clone();
                }
            }
            "ping" | "message_stop" => {}
            other => panic!("unexpected event {other}"),
        }
    }
    msg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_shape_matches_real_traffic_and_the_sync_answer() {
    let m = start(MockConfig::default()).await;
    let base = m.base_url();
    let bodies = [
        basic("Give a brief introduction to artificial intelligence."),
        weather_request(),
        with(
            weather_request(),
            json!({"max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}}),
        ),
        thinking_request(),
        with(basic("Count to ten"), json!({"stop_sequences": ["ten"]})),
    ];
    for body in bodies {
        let sync = messages(&base, &body).await;
        assert_eq!(
            sync.header("content-type").as_deref(),
            Some("application/json")
        );
        let stream = messages(&base, &with(body.clone(), json!({"stream": true}))).await;
        assert_eq!(stream.status, 200);
        assert!(
            stream
                .header("content-type")
                .unwrap()
                .starts_with("text/event-stream")
        );
        assert!(stream.header("request-id").unwrap().starts_with("req_"));
        assert!(
            stream
                .header("anthropic-ratelimit-requests-limit")
                .is_some()
        );
        let (_, findings) = conform::judge::decode_all(&stream.body);
        assert!(findings.is_empty(), "{findings:?}");
        let events = stream.events();
        let text_deltas = events
            .iter()
            .filter(|(_, d)| d["delta"]["type"] == "text_delta")
            .count();
        assert!(text_deltas >= 2, "text arrives in several deltas");
        let acc = accumulate(&events);
        let sync = sync.json();
        assert_eq!(acc["content"], sync["content"]);
        assert_eq!(acc["stop_reason"], sync["stop_reason"]);
        assert_eq!(
            acc["usage"]["output_tokens"],
            sync["usage"]["output_tokens"]
        );
        assert_eq!(acc["usage"]["input_tokens"], sync["usage"]["input_tokens"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn features_have_observable_effects() {
    let m = start(MockConfig {
        video: false,
        ..MockConfig::default()
    })
    .await;
    let base = m.base_url();
    // stop_sequences
    let r = messages(
        &base,
        &with(
            basic("Say something"),
            json!({"stop_sequences": ["zebra", "STOP"]}),
        ),
    )
    .await
    .json();
    assert_eq!(r["stop_reason"], "stop_sequence");
    assert_eq!(r["stop_sequence"], "zebra");
    assert!(!r["content"][0]["text"].as_str().unwrap().contains("zebra"));
    // tool_choice variants
    let none = messages(
        &base,
        &with(weather_request(), json!({"tool_choice": {"type": "none"}})),
    )
    .await
    .json();
    assert_eq!(none["stop_reason"], "end_turn");
    assert!(
        none["content"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["type"] == "text")
    );
    let forced = messages(
        &base,
        &with(
            basic("Say hello."),
            json!({"tools": weather_tools(), "tool_choice": {"type": "tool", "name": "get_time"}}),
        ),
    )
    .await
    .json();
    assert_eq!(forced["stop_reason"], "tool_use");
    assert_eq!(forced["content"][0]["type"], "tool_use");
    assert_eq!(forced["content"][0]["name"], "get_time");
    let auto_unrelated = messages(
        &base,
        &with(basic("Say hello."), json!({"tools": weather_tools()})),
    )
    .await
    .json();
    assert_eq!(auto_unrelated["stop_reason"], "end_turn");
    let both = messages(
        &base,
        &with(
            basic("What's the weather and the time in Paris?"),
            json!({"tools": weather_tools()}),
        ),
    )
    .await
    .json();
    let calls = |j: &Value| {
        j["content"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "tool_use")
            .count()
    };
    assert_eq!(calls(&both), 2);
    let single = messages(&base, &with(basic("What's the weather and the time in Paris?"), json!({"tools": weather_tools(), "tool_choice": {"type": "auto", "disable_parallel_tool_use": true}}))).await.json();
    assert_eq!(calls(&single), 1);
    // prefill continues without repeating
    let pre = messages(&base, &with(basic("Write a poem"), json!({"messages": [{"role": "user", "content": "Write a poem"}, {"role": "assistant", "content": "Roses are red"}]}))).await.json();
    let t = pre["content"][0]["text"].as_str().unwrap();
    assert!(t.starts_with(' ') && !t.contains("Roses are red"), "{t}");
    // max_tokens, in text and inside a tool input
    let short = messages(
        &base,
        &with(basic("Tell me a story"), json!({"max_tokens": 3})),
    )
    .await
    .json();
    assert_eq!(short["stop_reason"], "max_tokens");
    assert!(short["usage"]["output_tokens"].as_u64().unwrap() <= 3);
    let cut_tool = messages(
        &base,
        &with(
            weather_request(),
            json!({"max_tokens": 6, "tool_choice": {"type": "any"}}),
        ),
    )
    .await
    .json();
    assert_eq!(cut_tool["stop_reason"], "max_tokens");
    assert_eq!(cut_tool["content"][0]["type"], "tool_use");
    assert!(cut_tool["content"][0]["input"].is_object());
    // thinking: on → first block signed; off/absent → none
    let think = messages(&base, &thinking_request()).await.json();
    assert_eq!(think["content"][0]["type"], "thinking");
    assert!(
        !think["content"][0]["signature"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    let off = messages(
        &base,
        &with(basic("hi"), json!({"thinking": {"type": "disabled"}})),
    )
    .await
    .json();
    assert!(
        off["content"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["type"] != "thinking")
    );
    // thinking passed back: intact accepted, tampered rejected
    let turn = |content: Value| {
        with(
            thinking_request(),
            json!({"messages": [
        {"role": "user", "content": "Analyze the future prospects of quantum computing."},
        {"role": "assistant", "content": content},
        {"role": "user", "content": "Go on."}]}),
        )
    };
    assert_eq!(
        messages(&base, &turn(think["content"].clone()))
            .await
            .status,
        200
    );
    let mut tampered = think["content"].clone();
    tampered[0]["thinking"] = json!("I secretly changed this.");
    let r = messages(&base, &turn(tampered)).await;
    assert_invalid(&r, "messages.1.content.0:");
    // structured output: valid JSON against the schema, in both spellings
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"},
        "plan_interest": {"type": "string"}, "demo_requested": {"type": "boolean"}, "seats": {"type": "integer", "minimum": 1, "maximum": 5},
        "tags": {"type": "array", "items": {"enum": ["a", "b"]}}},
        "required": ["name", "email", "plan_interest", "demo_requested"], "additionalProperties": false});
    let validator = jsonschema::validator_for(&schema).unwrap();
    for extra in [
        json!({"output_config": {"format": {"type": "json_schema", "schema": schema}}}),
        json!({"output_format": {"type": "json_schema", "schema": schema}}),
    ] {
        let r = messages(
            &base,
            &with(
                basic("Extract: John Smith (john@example.com) wants a demo."),
                extra,
            ),
        )
        .await
        .json();
        let v: Value = serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
        assert!(validator.is_valid(&v), "{v}");
        assert_eq!(v["email"], "john@example.com");
    }
    // documents, metadata, service tier
    let doc = messages(&base, &with(basic("x"), json!({"metadata": {"user_id": "u-1"}, "service_tier": "auto", "messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "A plain document."}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"}},
        {"type": "text", "text": "Summarise."}]}]}))).await;
    assert_eq!(doc.status, 200, "{}", doc.text());
    assert_eq!(doc.json()["usage"]["service_tier"], "standard");
    // video rejected with --no-video
    let video = messages(&base, &with(basic("x"), json!({"messages": [{"role": "user", "content": [
        {"type": "video", "source": {"type": "url", "url": "https://example.com/v.mp4"}}, {"type": "text", "text": "Describe."}]}]}))).await;
    assert_invalid(&video, "messages.0.content.0:");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttft_and_chunk_delay_shape_timing() {
    use futures_util::StreamExt;
    use std::time::{Duration, Instant};
    let m = start(MockConfig {
        ttft_ms: 150,
        chunk_delay_ms: 10,
        ..MockConfig::default()
    })
    .await;
    let t0 = Instant::now();
    let resp = client()
        .post(format!("{}/v1/messages", m.base_url()))
        .header("x-api-key", KEY)
        .json(&with(
            basic("Tell me about rivers."),
            json!({"stream": true}),
        ))
        .send()
        .await
        .unwrap();
    let mut s = resp.bytes_stream();
    let mut arrivals = Vec::new();
    let mut body = Vec::new();
    while let Some(c) = s.next().await {
        let c = c.unwrap();
        arrivals.push(t0.elapsed());
        body.extend_from_slice(&c);
    }
    let frames = conform::judge::decode_all(&body).0.len();
    assert!(arrivals[0] >= Duration::from_millis(150), "{arrivals:?}");
    assert!(arrivals.len() >= 5, "events arrive incrementally");
    let total = *arrivals.last().unwrap();
    assert!(
        total >= Duration::from_millis(150 + 10 * (frames as u64 - 1)),
        "{total:?} for {frames} frames"
    );
    // Non-streaming answers wait for the TTFT too.
    let t1 = Instant::now();
    assert_eq!(messages(&m.base_url(), &basic("hi")).await.status, 200);
    assert!(t1.elapsed() >= Duration::from_millis(150));
}

/// The context window (200,000 tokens): a longer prompt is a 400 `prompt is too long`; a
/// prompt that leaves less room than `max_tokens` is answered and stops at the window with
/// `model_context_window_exceeded`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_window_rejects_long_prompts_and_stops_answers_at_its_end() {
    let m = start(MockConfig::default()).await;
    let b = m.base_url();
    let prompt = |words: usize| format!("Tell me a long story. {}", "word ".repeat(words));
    let count = |words: usize| {
        let b = b.clone();
        let p = prompt(words);
        async move {
            post(
                &b,
                "/v1/messages/count_tokens",
                &json!({"model": "conform-mock",
                "messages": [{"role": "user", "content": p}]}),
            )
            .await
            .json()["input_tokens"]
                .as_u64()
                .unwrap()
        }
    };
    let r = messages(&b, &basic(&prompt(210_000))).await;
    assert_invalid(&r, "prompt is too long");
    // Pad the prompt until it leaves a few tokens of room (the count is linear in the words).
    let mut words = 190_000;
    for _ in 0..4 {
        let c = count(words).await;
        if (199_990..200_000).contains(&c) {
            break;
        }
        words = (words as i64 + 199_995 - c as i64) as usize;
    }
    let c = count(words).await;
    assert!((199_990..200_000).contains(&c), "{c}");
    let j = messages(
        &b,
        &with(basic(&prompt(words)), json!({"max_tokens": 4096})),
    )
    .await
    .json();
    assert_eq!(j["stop_reason"], "model_context_window_exceeded", "{j}");
    assert!(j["usage"]["output_tokens"].as_u64().unwrap() <= 200_000 - c);
    let fits = messages(&b, &basic("Say hello.")).await.json();
    assert_eq!(fits["stop_reason"], "end_turn");
}
