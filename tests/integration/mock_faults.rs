//! Every fault of the catalogue changes the traffic as documented. The match in
//! [`check_fault`] is exhaustive, so a new fault cannot be added without its test.

use std::time::Duration;

use crate::mock_support::*;
use conform::reference_server::Fault;
use conform::reference_server::MockConfig;
use conform::reference_server::fault_catalogue;
use futures_util::StreamExt;
use serde_json::{Value, json};

fn streamed(body: Value) -> Value {
    with(body, json!({"stream": true}))
}

fn names(r: &Resp) -> Vec<String> {
    r.event_names()
}

fn raw_frames(r: &Resp) -> Vec<conform::judge::Frame> {
    conform::judge::decode_all(&r.body).0
}

fn tool_calls(j: &Value) -> Vec<Value> {
    j["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .cloned()
        .collect()
}

/// Reads a body chunk by chunk; returns the chunks and whether the body ended in an error.
async fn chunks(req: reqwest::RequestBuilder) -> (Vec<Vec<u8>>, bool) {
    let resp = req.send().await.expect("sent");
    let mut s = resp.bytes_stream();
    let mut out = Vec::new();
    let mut errored = false;
    while let Some(c) = s.next().await {
        match c {
            Ok(b) if !b.is_empty() => out.push(b.to_vec()),
            Ok(_) => {}
            Err(_) => {
                errored = true;
                break;
            }
        }
    }
    (out, errored)
}

fn stream_req(base: &str, body: &Value) -> reqwest::RequestBuilder {
    client()
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", KEY)
        .json(body)
}

/// The first turn of a sequential tool loop with thinking (it calls get_weather), and the
/// request of the second turn: that answer passed back with its tool result.
async fn thinking_loop(b: &str) -> (Value, Value) {
    let turn = with(
        thinking_request(),
        json!({"tools": weather_tools(), "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
            "messages": [{"role": "user", "content": "Find the weather in Paris, then the time there, one call at a time."}]}),
    );
    let first = messages(b, &turn).await.json();
    let id = tool_calls(&first)[0]["id"].clone();
    let mut next = turn.clone();
    next["messages"] = json!([turn["messages"][0], {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "Sunny."}]}]);
    (first, next)
}

async fn check_fault(fault: Fault) {
    let config = MockConfig {
        faults: vec![fault],
        chunk_delay_ms: if fault == Fault::FakeStreaming { 15 } else { 0 },
        ..MockConfig::default()
    };
    let m = start(config).await;
    let base = m.base_url();
    let b = base.as_str();
    let invalid = with(basic("hi"), json!({"max_tokens": 0}));
    match fault {
        Fault::NoMessageStart => {
            let n = names(&messages(b, &streamed(basic("hi"))).await);
            assert!(!n.contains(&"message_start".to_string()));
            assert_eq!(n[0], "content_block_start");
        }
        Fault::NoMessageStop => {
            let n = names(&messages(b, &streamed(basic("hi"))).await);
            assert!(!n.contains(&"message_stop".to_string()));
            assert_eq!(n.last().unwrap(), "message_delta");
        }
        Fault::NoPing => {
            let n = names(&messages(b, &streamed(basic("hi"))).await);
            assert!(!n.contains(&"ping".to_string()) && n.contains(&"message_stop".to_string()));
        }
        Fault::EventNameMismatch => {
            let r = messages(b, &streamed(basic("hi"))).await;
            assert!(
                r.events()
                    .iter()
                    .any(|(e, d)| e.as_deref() != d["type"].as_str())
            );
        }
        Fault::DataOnlyEvents => {
            let r = messages(b, &streamed(basic("hi"))).await;
            let frames = raw_frames(&r);
            assert!(!frames.is_empty() && frames.iter().all(|f| f.event.is_none()));
        }
        Fault::DoneSentinel => {
            let r = messages(b, &streamed(basic("hi"))).await;
            assert_eq!(raw_frames(&r).last().unwrap().data, "[DONE]");
        }
        Fault::WrongDeltaType => {
            let r = messages(b, &streamed(basic("hi"))).await;
            let ev = r.events();
            let start = ev
                .iter()
                .find(|(e, _)| e.as_deref() == Some("content_block_start"))
                .unwrap();
            assert_eq!(start.1["content_block"]["type"], "text");
            assert!(
                ev.iter()
                    .any(|(_, d)| d["index"] == 0 && d["delta"]["type"] == "thinking_delta")
            );
        }
        Fault::IndexGap => {
            let r = messages(b, &streamed(basic("hi"))).await;
            let first = r
                .events()
                .into_iter()
                .find(|(e, _)| e.as_deref() == Some("content_block_start"))
                .unwrap();
            assert_eq!(first.1["index"], 1);
        }
        Fault::InterleavedBlocks => {
            let n = names(&messages(b, &streamed(weather_request())).await);
            let second_start = n
                .iter()
                .enumerate()
                .filter(|(_, e)| *e == "content_block_start")
                .nth(1)
                .unwrap()
                .0;
            let first_stop = n.iter().position(|e| e == "content_block_stop").unwrap();
            assert!(second_start < first_stop, "{n:?}");
        }
        Fault::UnclosedBlock => {
            let n = names(&messages(b, &streamed(basic("hi"))).await);
            let starts = n.iter().filter(|e| *e == "content_block_start").count();
            let stops = n.iter().filter(|e| *e == "content_block_stop").count();
            assert_eq!(starts, stops + 1);
        }
        Fault::EmptyTextDelta => {
            let r = messages(b, &streamed(basic("hi"))).await;
            assert!(
                r.events()
                    .iter()
                    .any(|(_, d)| d["delta"]["type"] == "text_delta" && d["delta"]["text"] == "")
            );
        }
        Fault::UsageMissing => {
            assert!(
                messages(b, &basic("hi"))
                    .await
                    .json()
                    .get("usage")
                    .is_none()
            );
            let r = messages(b, &streamed(basic("hi"))).await;
            assert!(
                r.events()
                    .iter()
                    .all(|(_, d)| d.get("usage").is_none() && d["message"].get("usage").is_none())
            );
        }
        Fault::UsageNotCumulative => {
            let ev = messages(b, &streamed(basic("Tell me about rivers.")))
                .await
                .events();
            let start = ev
                .iter()
                .find(|(e, _)| e.as_deref() == Some("message_start"))
                .unwrap()
                .1["message"]["usage"]
                .clone();
            let delta = ev
                .iter()
                .find(|(e, _)| e.as_deref() == Some("message_delta"))
                .unwrap()
                .1["usage"]
                .clone();
            assert!(delta["output_tokens"].as_u64() < start["output_tokens"].as_u64());
            assert_eq!(delta["input_tokens"], 0);
            assert!(start["input_tokens"].as_u64().unwrap() > 0);
        }
        Fault::StreamInputTokensZero => {
            let ev = messages(b, &streamed(basic("Tell me about rivers.")))
                .await
                .events();
            let usage = |name: &str| {
                ev.iter()
                    .find(|(e, _)| e.as_deref() == Some(name))
                    .unwrap()
                    .1
                    .clone()
            };
            assert_eq!(
                usage("message_start")["message"]["usage"]["input_tokens"],
                0
            );
            let delta = usage("message_delta")["usage"].clone();
            assert!(delta.get("input_tokens").is_none(), "{delta}");
            assert!(delta["output_tokens"].as_u64().unwrap() > 0);
            // The non-streamed answer counts the prompt.
            let j = messages(b, &basic("Tell me about rivers.")).await.json();
            assert!(j["usage"]["input_tokens"].as_u64().unwrap() > 0);
        }
        Fault::StreamDropsDelta => {
            let prompt = "Repeat exactly this line and nothing else: one two three café four five six naïve seven eight nine ten";
            let ev = messages(b, &streamed(basic(prompt))).await.events();
            let streamed_text: String = ev
                .iter()
                .filter(|(e, d)| {
                    e.as_deref() == Some("content_block_delta")
                        && d["delta"]["type"] == "text_delta"
                })
                .map(|(_, d)| d["delta"]["text"].as_str().unwrap().to_string())
                .collect();
            let whole = messages(b, &basic(prompt)).await.json()["content"][0]["text"]
                .as_str()
                .unwrap()
                .to_string();
            // A piece is missing inside the text; the start and the end are intact.
            assert!(streamed_text.len() < whole.len(), "{streamed_text:?}");
            assert!(whole.starts_with(&streamed_text[..2]) && whole.ends_with("ten"));
            assert!(streamed_text.ends_with("ten"), "{streamed_text:?}");
            // ASCII text is untouched.
            let ascii =
                "Repeat exactly this line and nothing else: one two three four five six seven";
            let ev = messages(b, &streamed(basic(ascii))).await.events();
            let n: usize = ev
                .iter()
                .filter(|(e, _)| e.as_deref() == Some("content_block_delta"))
                .map(|(_, d)| d["delta"]["text"].as_str().unwrap_or("").len())
                .sum();
            assert_eq!(n, "one two three four five six seven".len());
        }
        Fault::NullOptionalFields => {
            let j = messages(b, &basic("hi")).await.json();
            assert!(
                j["usage"]["cache_creation"].is_null()
                    && j["usage"].get("cache_creation").is_some()
            );
            assert!(j.get("stop_details").is_some_and(Value::is_null));
            assert!(j["content"][0].get("citations").is_some_and(Value::is_null));
        }
        Fault::WrongStopReason => {
            let j = messages(b, &weather_request()).await.json();
            assert!(!tool_calls(&j).is_empty());
            assert_eq!(j["stop_reason"], "end_turn");
        }
        Fault::NoSignature => {
            let j = messages(b, &thinking_request()).await.json();
            assert_eq!(j["content"][0]["type"], "thinking");
            assert_eq!(j["content"][0]["signature"], "");
            let r = messages(b, &streamed(thinking_request())).await;
            assert!(
                !r.events()
                    .iter()
                    .any(|(_, d)| d["delta"]["type"] == "signature_delta")
            );
        }
        Fault::ThinkingIgnored => {
            let j = messages(b, &thinking_request()).await.json();
            assert!(
                j["content"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|b| b["type"] != "thinking")
            );
        }
        Fault::StopSequenceIgnored | Fault::StopSequenceEndTurn => {
            let j = messages(
                b,
                &with(basic("Say something"), json!({"stop_sequences": ["zebra"]})),
            )
            .await
            .json();
            assert_eq!(j["stop_reason"], "end_turn");
            assert!(j["stop_sequence"].is_null());
            let runs_through = j["content"][0]["text"].as_str().unwrap().contains("zebra");
            assert_eq!(runs_through, fault == Fault::StopSequenceIgnored);
        }
        Fault::ToolChoiceIgnored => {
            let j = messages(
                b,
                &with(weather_request(), json!({"tool_choice": {"type": "none"}})),
            )
            .await
            .json();
            assert!(!tool_calls(&j).is_empty());
            let forced = messages(b, &with(basic("Say hello."), json!({"tools": weather_tools(), "tool_choice": {"type": "tool", "name": "get_time"}}))).await.json();
            assert!(tool_calls(&forced).is_empty());
        }
        Fault::ToolInputString => {
            let j = messages(b, &weather_request()).await.json();
            let input = &tool_calls(&j)[0]["input"];
            assert!(input.is_string());
            assert!(
                serde_json::from_str::<Value>(input.as_str().unwrap())
                    .unwrap()
                    .is_object()
            );
        }
        Fault::PartialJsonInvalid => {
            let ev = messages(b, &streamed(weather_request())).await.events();
            let json: String = ev
                .iter()
                .filter_map(|(_, d)| d["delta"]["partial_json"].as_str())
                .collect();
            assert!(!json.is_empty());
            assert!(serde_json::from_str::<Value>(&json).is_err(), "{json}");
        }
        Fault::MaxTokensIgnored => {
            let j = messages(b, &with(basic("Tell me a story"), json!({"max_tokens": 3})))
                .await
                .json();
            assert!(j["usage"]["output_tokens"].as_u64().unwrap() > 3);
            assert_eq!(j["stop_reason"], "end_turn");
        }
        Fault::CacheIgnored => {
            let long = "<Your Code Here>".repeat(400);
            let body = with(
                basic("q"),
                json!({"system": [{"type": "text", "text": long, "cache_control": {"type": "ephemeral"}}]}),
            );
            for _ in 0..2 {
                let u = messages(b, &body).await.json()["usage"].clone();
                assert_eq!(u["cache_creation_input_tokens"], 0);
                assert_eq!(u["cache_read_input_tokens"], 0);
                assert!(u["input_tokens"].as_u64().unwrap() > 1024);
            }
        }
        Fault::StructuredOutputIgnored => {
            let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
            let j = messages(
                b,
                &with(
                    basic("x"),
                    json!({"output_config": {"format": {"type": "json_schema", "schema": schema}}}),
                ),
            )
            .await
            .json();
            assert!(
                serde_json::from_str::<Value>(j["content"][0]["text"].as_str().unwrap()).is_err()
            );
        }
        Fault::OpenaiErrors => {
            let r = messages(b, &invalid).await;
            assert_eq!(r.status, 400);
            let j = r.json();
            assert!(
                j.get("type").is_none()
                    && j["error"]["message"].is_string()
                    && j["error"].get("param").is_some()
            );
        }
        Fault::ErrorAs200 => {
            let r = messages(b, &invalid).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.json()["type"], "error");
        }
        Fault::WrongErrorStatus => {
            assert_eq!(messages(b, &invalid).await.status, 422);
            assert_eq!(
                messages(b, &with(basic("hi"), json!({"model": "nope"})))
                    .await
                    .status,
                500
            );
        }
        Fault::TextPlainErrors => {
            let r = messages(b, &invalid).await;
            assert_eq!(r.status, 400);
            assert!(r.header("content-type").unwrap().starts_with("text/plain"));
            assert!(serde_json::from_slice::<Value>(&r.body).is_err());
        }
        Fault::MidStreamErrorAsMessage => {
            let n = names(&messages(b, &streamed(basic("Tell me about rivers."))).await);
            let e = n.iter().position(|x| x == "error").expect("error event");
            assert_eq!(&n[e + 1..], ["message_delta", "message_stop"]);
        }
        Fault::TruncatedStream => {
            let (parts, errored) =
                chunks(stream_req(b, &streamed(basic("Tell me about rivers.")))).await;
            let all: Vec<u8> = parts.concat();
            let text = String::from_utf8_lossy(&all);
            assert!(errored, "the connection is cut, not closed cleanly");
            assert!(text.contains("message_start") && !text.contains("message_stop"));
        }
        Fault::FakeStreaming => {
            let (parts, _) = chunks(stream_req(b, &streamed(basic("Tell me about rivers.")))).await;
            assert!(
                String::from_utf8_lossy(&parts[0]).contains("message_stop"),
                "everything arrives at once"
            );
        }
        Fault::NonAnthropicIds => {
            let j = messages(b, &weather_request()).await.json();
            assert!(j["id"].as_str().unwrap().starts_with("chatcmpl-"));
            assert!(
                tool_calls(&j)[0]["id"]
                    .as_str()
                    .unwrap()
                    .starts_with("call_")
            );
        }
        Fault::ModelRewrite => {
            let j = messages(b, &basic("hi")).await.json();
            assert_ne!(j["model"], "conform-mock");
        }
        Fault::ExtraFields => {
            let j = messages(b, &basic("hi")).await.json();
            assert!(j.get("timings").is_some());
        }
        Fault::NoRequestId => {
            let r = messages(b, &basic("hi")).await;
            assert!(r.header("request-id").is_none());
            let e = messages(b, &invalid).await;
            assert!(e.header("request-id").is_none() && e.json().get("request_id").is_none());
        }
        Fault::CountTokensMissing => {
            assert_eq!(post(b, "/v1/messages/count_tokens", &json!({"model": "conform-mock", "messages": [{"role": "user", "content": "x"}]})).await.status, 404);
        }
        Fault::ModelsMissing => {
            assert_eq!(
                send(
                    client()
                        .get(format!("{b}/v1/models"))
                        .header("x-api-key", KEY)
                )
                .await
                .status,
                404
            );
        }
        Fault::UnknownModelRemap => {
            let r = messages(b, &with(basic("hi"), json!({"model": "gpt-opus-9"}))).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.json()["model"], "conform-mock");
        }
        Fault::AuthIgnored => {
            let r = send(client().post(format!("{b}/v1/messages")).json(&basic("hi"))).await;
            assert_eq!(r.status, 200);
        }
        Fault::RateLimit => {
            let first = messages(b, &basic("hi")).await;
            assert_eq!(first.status, 429);
            assert_eq!(first.json()["error"]["type"], "rate_limit_error");
            assert!(first.header("retry-after").is_some());
            assert_eq!(messages(b, &basic("hi")).await.status, 200);
            assert_eq!(messages(b, &basic("hi")).await.status, 429);
        }
        Fault::Cooldown => {
            let first = messages(b, &basic("hi")).await;
            assert_eq!(first.status, 429);
            assert_eq!(first.json()["error"]["type"], "rate_limit_error");
            assert!(first.header("retry-after").is_none());
            assert_eq!(messages(b, &basic("hi")).await.status, 429);
            tokio::time::sleep(Duration::from_secs(6)).await;
            assert_eq!(messages(b, &basic("hi")).await.status, 200);
        }
        Fault::ThinkingByDefault => {
            let j = messages(
                b,
                &with(basic("hi"), json!({"thinking": {"type": "disabled"}})),
            )
            .await
            .json();
            assert_eq!(j["content"][0]["type"], "thinking");
        }
        Fault::ParallelToolsIgnored => {
            let j = messages(b, &with(basic("What's the weather and the time in Paris?"), json!({"tools": weather_tools(), "tool_choice": {"type": "auto", "disable_parallel_tool_use": true}}))).await.json();
            assert_eq!(tool_calls(&j).len(), 2);
        }
        Fault::SignatureUnchecked => {
            let first = messages(b, &thinking_request()).await.json();
            let mut content = first["content"].clone();
            content[0]["thinking"] = json!("tampered");
            let body = with(
                thinking_request(),
                json!({"messages": [
                {"role": "user", "content": "Analyze."}, {"role": "assistant", "content": content}, {"role": "user", "content": "More."}]}),
            );
            assert_eq!(messages(b, &body).await.status, 200);
        }
        Fault::BearerRejected => {
            let bearer = |key: &str| {
                client()
                    .post(format!("{b}/v1/messages"))
                    .header("authorization", format!("Bearer {key}"))
                    .json(&basic("hi"))
            };
            let r = send(bearer(KEY)).await;
            assert_eq!(r.status, 401);
            assert_eq!(r.json()["error"]["type"], "authentication_error");
            assert_eq!(messages(b, &basic("hi")).await.status, 200);
        }
        Fault::NewVersionRejected => {
            let version = |v: &str| {
                client()
                    .post(format!("{b}/v1/messages"))
                    .header("authorization", format!("Bearer {KEY}"))
                    .header("anthropic-version", v)
                    .json(&basic("hi"))
            };
            let r = send(version("2026-10-21")).await;
            assert_eq!(r.status, 400);
            assert_eq!(r.json()["error"]["type"], "invalid_request_error");
            assert!(
                r.json()["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("anthropic-version"),
                "{}",
                r.json()
            );
            assert_eq!(send(version("2023-06-01")).await.status, 200);
        }
        Fault::ServerErrorOnBlocks => {
            let blocks = with(
                basic("hi"),
                json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}),
            );
            let r = messages(b, &blocks).await;
            assert_eq!(r.status, 500);
            assert!(r.header("content-type").unwrap().starts_with("text/plain"));
            assert_eq!(messages(b, &basic("hi")).await.status, 200);
        }
        Fault::ThinkingPassbackRejected => {
            let (first, next) = thinking_loop(b).await;
            let r = messages(b, &next).await;
            assert_eq!(r.status, 400);
            assert_eq!(r.json()["error"]["type"], "invalid_request_error");
            // The same turn without the thinking block is answered.
            let calls: Vec<Value> = first["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| b["type"] != "thinking")
                .cloned()
                .collect();
            let mut bare = next.clone();
            bare["messages"][1]["content"] = Value::Array(calls);
            assert_eq!(messages(b, &bare).await.status, 200);
        }
        Fault::ThinkingRequiredAfterTool => {
            let (_, next) = thinking_loop(b).await;
            assert_eq!(messages(b, &next).await.status, 200);
            let mut bare = next.clone();
            bare["messages"][1]["content"] = json!([
                {"type": "tool_use", "id": next["messages"][2]["content"][0]["tool_use_id"], "name": "get_weather", "input": {"city": "Paris"}}]);
            let r = messages(b, &bare).await;
            assert_eq!(r.status, 400);
            assert!(r.json()["error"]["message"].as_str().unwrap().contains(
                "reasoning_content is missing in assistant tool call message at index 1"
            ));
        }
        Fault::SignatureDroppedAfterToolTurn => {
            let (first, next) = thinking_loop(b).await;
            assert_ne!(first["content"][0]["signature"], "");
            let second = messages(b, &next).await.json();
            assert_eq!(second["content"][0]["type"], "thinking");
            assert_eq!(second["content"][0]["signature"], "");
            let r = messages(b, &streamed(next)).await;
            assert!(
                !r.events()
                    .iter()
                    .any(|(_, d)| d["delta"]["type"] == "signature_delta")
            );
        }
        Fault::ThinkingStopsAfterToolTurn => {
            let (first, next) = thinking_loop(b).await;
            assert_eq!(first["content"][0]["type"], "thinking");
            let second = messages(b, &next).await.json();
            assert!(
                second["content"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|b| b["type"] != "thinking"),
                "{second}"
            );
            assert_eq!(tool_calls(&second).len(), 1);
        }
        Fault::EffortIgnored => {
            let ask = |effort: &str| {
                with(
                    basic("Analyze the future prospects of quantum computing."),
                    json!({"output_config": {"effort": effort}}),
                )
            };
            let low = messages(b, &ask("low")).await.json();
            let high = messages(b, &ask("high")).await.json();
            assert_eq!(low["content"], high["content"]);
            assert_eq!(
                low["usage"]["output_tokens"],
                high["usage"]["output_tokens"]
            );
        }
        Fault::IgnoredFieldsRejected => {
            for (field, value) in [
                ("service_tier", json!("auto")),
                ("container", json!("container_011CQ")),
                (
                    "mcp_servers",
                    json!([{"type": "url", "url": "https://example.com/mcp", "name": "x"}]),
                ),
                ("inference_geo", json!("global")),
                ("metadata", json!({"user_id": "u"})),
            ] {
                let r = messages(b, &with(basic("hi"), json!({field: value}))).await;
                assert_eq!(r.status, 400, "{field}");
                assert_eq!(r.json()["error"]["type"], "invalid_request_error");
                assert!(
                    r.json()["error"]["message"]
                        .as_str()
                        .unwrap()
                        .starts_with(field)
                );
            }
            assert_eq!(messages(b, &basic("hi")).await.status, 200);
        }
        Fault::CacheTtlIgnored => {
            let long = "<Your Code Here>".repeat(400);
            let body = with(
                basic("q"),
                json!({"system": [{"type": "text", "text": long, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}),
            );
            let u = messages(b, &body).await.json()["usage"].clone();
            let written = u["cache_creation_input_tokens"].as_u64().unwrap();
            assert!(written > 1024);
            assert_eq!(u["cache_creation"]["ephemeral_5m_input_tokens"], written);
            assert_eq!(u["cache_creation"]["ephemeral_1h_input_tokens"], 0);
        }
        Fault::RefusalWithoutStopDetails => {
            let refused = basic("Please answer conform-refusal-probe.");
            let j = messages(b, &refused).await.json();
            assert_eq!(j["stop_reason"], "refusal");
            assert!(j.get("stop_details").is_none(), "{j}");
            let r = messages(b, &streamed(refused)).await;
            assert!(!String::from_utf8_lossy(&r.body).contains("stop_details"));
        }
        Fault::ContextEditsIgnored => {
            let long = "result ".repeat(400);
            let mut turns = vec![json!({"role": "user", "content": "Look these up."})];
            for n in 0..3 {
                let id = format!("toolu_01Edit{n}");
                turns.push(json!({"role": "assistant", "content": [{"type": "tool_use", "id": id, "name": "lookup", "input": {}}]}));
                turns.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": long}]}));
            }
            let tools = json!([{"name": "lookup", "input_schema": {"type": "object"}}]);
            let full = with(basic("x"), json!({"messages": turns, "tools": tools}));
            let edited = with(
                full.clone(),
                json!({"context_management": {"edits": [{"type": "clear_tool_uses_20250919",
                    "trigger": {"type": "input_tokens", "value": 500}, "keep": {"type": "tool_uses", "value": 1}}]}}),
            );
            let a = messages(b, &full).await.json();
            let e = messages(b, &edited).await.json();
            assert_eq!(a["usage"]["input_tokens"], e["usage"]["input_tokens"]);
            assert!(e.get("context_management").is_none(), "{e}");
        }
        Fault::HistoryDropped => {
            let newest = basic("What is my name?");
            let conversation = with(
                basic("x"),
                json!({"messages": [
                    {"role": "user", "content": "My name is Ada and I write notes on engines."},
                    {"role": "assistant", "content": "Hello Ada."},
                    {"role": "user", "content": "What is my name?"}]}),
            );
            let alone = messages(b, &newest).await.json();
            let all = messages(b, &conversation).await.json();
            assert_eq!(alone["usage"]["input_tokens"], all["usage"]["input_tokens"]);
            // The same conversation on a clean server is counted in full.
            let clean = start(MockConfig::default()).await;
            let full = messages(&clean.base_url(), &conversation).await.json();
            assert!(
                full["usage"]["input_tokens"].as_u64() > all["usage"]["input_tokens"].as_u64(),
                "{full} against {all}"
            );
        }
        Fault::RatelimitHeadersMissing => {
            let r = messages(b, &basic("hi")).await;
            assert_eq!(r.status, 200);
            assert!(r.header("anthropic-ratelimit-requests-limit").is_none());
            assert!(r.header("anthropic-ratelimit-tokens-remaining").is_none());
            assert!(r.header("request-id").is_some());
        }
        Fault::ServerToolDropped => {
            let search = with(
                basic("Search the web for \"conform\"."),
                json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
            );
            let j = messages(b, &search).await.json();
            let types: Vec<&str> = j["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["type"].as_str())
                .collect();
            assert_eq!(types, ["text"], "{j}");
            assert!(j["usage"].get("server_tool_use").is_none(), "{j}");
        }
        Fault::CitationsDropped => {
            let cited = with(
                basic("x"),
                json!({"messages": [{"role": "user", "content": [
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "The grass is green. The sky is blue."}, "citations": {"enabled": true}},
                    {"type": "text", "text": "What colour is the grass?"}]}]}),
            );
            let j = messages(b, &cited).await.json();
            let blocks = j["content"].as_array().unwrap();
            assert!(
                blocks.iter().any(|c| c["text"] == "The grass is green."),
                "{j}"
            );
            assert!(blocks.iter().all(|c| c.get("citations").is_none()), "{j}");
        }
        Fault::SearchResultRejected => {
            let result = json!({"type": "search_result", "source": "https://example.com/a", "title": "A",
                "content": [{"type": "text", "text": "A is b."}]});
            let r = messages(
                b,
                &with(
                    basic("x"),
                    json!({"messages": [{"role": "user", "content": [result, {"type": "text", "text": "What is A?"}]}]}),
                ),
            )
            .await;
            assert_eq!(r.status, 400);
            assert_eq!(r.json()["error"]["type"], "invalid_request_error");
            assert!(
                r.json()["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("search_result")
            );
            assert_eq!(messages(b, &basic("hi")).await.status, 200);
        }
        Fault::PauseTurnAsEndTurn => {
            let queries: Vec<String> = (1..=12).map(|i| format!("\"topic {i}\"")).collect();
            let long = with(
                basic(&format!("Do 12 separate searches: {}.", queries.join(", "))),
                json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
            );
            let j = messages(b, &long).await.json();
            assert_eq!(j["stop_reason"], "end_turn");
            assert_eq!(
                j["content"].as_array().unwrap().last().unwrap()["type"],
                "web_search_tool_result"
            );
            assert_eq!(j["usage"]["server_tool_use"]["web_search_requests"], 10);
        }
    }
    // Whatever the fault, the server keeps serving.
    let _ = send(
        client()
            .get(format!("{b}/v1/models"))
            .header("x-api-key", KEY)
            .timeout(Duration::from_secs(10)),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_changes_the_traffic_as_documented() {
    for info in fault_catalogue() {
        println!("fault {}", info.name);
        check_fault(info.fault).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_combine() {
    let m = start_with(&[
        Fault::DataOnlyEvents,
        Fault::DoneSentinel,
        Fault::NonAnthropicIds,
        Fault::NoRequestId,
    ])
    .await;
    let r = messages(&m.base_url(), &streamed(basic("hi"))).await;
    let frames = raw_frames(&r);
    assert!(frames.iter().all(|f| f.event.is_none()));
    assert_eq!(frames.last().unwrap().data, "[DONE]");
    assert!(r.header("request-id").is_none());
    let start: Value = serde_json::from_str(&frames[0].data).unwrap();
    assert!(
        start["message"]["id"]
            .as_str()
            .unwrap()
            .starts_with("chatcmpl-")
    );
}

#[test]
fn unknown_fault_names_are_rejected_with_the_list() {
    let err = "no-such-thing".parse::<Fault>().unwrap_err().to_string();
    assert!(err.contains("no-such-thing") && err.contains("rate-limit"));
}
