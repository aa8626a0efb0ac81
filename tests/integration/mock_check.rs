//! `conform check` (the validation core) gives no `must` and no `should` finding on anything
//! the clean mock produces, across features, sync and stream; and each fault that a single
//! exchange can show is flagged.

use std::time::Instant;

use crate::mock_support::*;
use conform::Chunk;
use conform::Exchange;
use conform::RecordedRequest;
use conform::RecordedResponse;
use conform::Severity;
use conform::judge::Options;
use conform::judge::judge_exchange;
use conform::reference_server::Fault;
use conform::reference_server::MockConfig;
use futures_util::StreamExt;
use serde_json::{Value, json};

async fn record(base: &str, method: &str, path: &str, body: Option<&Value>) -> Exchange {
    let url = format!("{base}{path}");
    let headers = vec![
        ("x-api-key".to_string(), KEY.to_string()),
        ("anthropic-version".to_string(), "2023-06-01".to_string()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    let mut req = if method == "GET" {
        client().get(&url)
    } else {
        client().post(&url)
    };
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let body_text = body.map(|b| b.to_string());
    if let Some(b) = &body_text {
        req = req.body(b.clone());
    }
    let t0 = Instant::now();
    let resp = req.send().await.expect("sent");
    let head_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let status = resp.status().as_u16();
    let rh: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let mut chunks = Vec::new();
    let mut transport_error = None;
    let mut s = resp.bytes_stream();
    while let Some(c) = s.next().await {
        match c {
            Ok(b) => chunks.push(Chunk::new(t0.elapsed().as_secs_f64() * 1000.0, &b)),
            Err(e) => {
                transport_error = Some(e.to_string());
                break;
            }
        }
    }
    Exchange {
        label: path.to_string(),
        request: RecordedRequest {
            method: method.into(),
            url,
            headers,
            body: body_text,
        },
        response: Some(RecordedResponse {
            status,
            headers: rh,
            head_ms,
            chunks,
            total_ms: t0.elapsed().as_secs_f64() * 1000.0,
        }),
        retries: vec![],
        transport: transport_error.map(|message| conform::TransportFailure {
            kind: conform::FailureKind::Interrupted,
            message,
        }),
    }
}

fn feature_requests() -> Vec<(&'static str, Value)> {
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"}, "ok": {"type": "boolean"}}, "required": ["name", "email", "ok"], "additionalProperties": false});
    let long = "<Your Code Here>".repeat(400);
    vec![
        (
            "basic",
            with(
                basic("Who are you?"),
                json!({"system": "You are a helpful assistant", "thinking": {"type": "disabled"}}),
            ),
        ),
        ("tools", weather_request()),
        (
            "tools-parallel",
            with(
                basic("What's the weather and the time in Paris?"),
                json!({"tools": weather_tools()}),
            ),
        ),
        (
            "tools-single",
            with(
                basic("What's the weather and the time in Paris?"),
                json!({"tools": weather_tools(), "tool_choice": {"type": "auto", "disable_parallel_tool_use": true}}),
            ),
        ),
        (
            "tools-forced",
            with(
                basic("Say hello."),
                json!({"tools": weather_tools(), "tool_choice": {"type": "tool", "name": "get_time"}}),
            ),
        ),
        (
            "tools-none",
            with(weather_request(), json!({"tool_choice": {"type": "none"}})),
        ),
        ("thinking", thinking_request()),
        (
            "thinking-tools",
            with(
                weather_request(),
                json!({"max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}}),
            ),
        ),
        (
            "stop",
            with(basic("Count"), json!({"stop_sequences": ["zebra"]})),
        ),
        (
            "max-tokens",
            with(basic("Tell me a story"), json!({"max_tokens": 4})),
        ),
        (
            "prefill",
            json!({"model": "conform-mock", "max_tokens": 100, "stop_sequences": ["```"], "messages": [{"role": "user", "content": "Very short function"}, {"role": "assistant", "content": "```python"}]}),
        ),
        (
            "structured",
            with(
                basic("Extract: John Smith (john@example.com)."),
                json!({"output_config": {"format": {"type": "json_schema", "schema": schema}}}),
            ),
        ),
        (
            "cache",
            with(
                basic("What does this code do?"),
                json!({"system": [{"type": "text", "text": long, "cache_control": {"type": "ephemeral"}}]}),
            ),
        ),
        (
            "image",
            with(
                basic("x"),
                json!({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}}, {"type": "text", "text": "Describe."}]}]}),
            ),
        ),
    ]
}

async fn traffic(base: &str) -> Vec<Exchange> {
    let mut out = Vec::new();
    for (_, body) in feature_requests() {
        out.push(record(base, "POST", "/v1/messages", Some(&body)).await);
        out.push(
            record(
                base,
                "POST",
                "/v1/messages",
                Some(&with(body, json!({"stream": true}))),
            )
            .await,
        );
    }
    out.push(
        record(
            base,
            "POST",
            "/v1/messages",
            Some(&with(basic("hi"), json!({"max_tokens": 0}))),
        )
        .await,
    );
    out.push(
        record(
            base,
            "POST",
            "/v1/messages",
            Some(&with(basic("hi"), json!({"model": "nope"}))),
        )
        .await,
    );
    out.push(
        record(
            base,
            "POST",
            "/v1/messages/count_tokens",
            Some(
                &json!({"model": "conform-mock", "messages": [{"role": "user", "content": "hi"}]}),
            ),
        )
        .await,
    );
    out.push(record(base, "GET", "/v1/models", None).await);
    out.push(record(base, "GET", "/v1/models/conform-mock", None).await);
    out
}

fn opts() -> Options {
    Options {
        timing_known: true,
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_traffic_has_no_must_or_should_findings() {
    let m = start(MockConfig::default()).await;
    for x in traffic(&m.base_url()).await {
        let v = judge_exchange(&x, opts()).validation;
        let bad: Vec<_> = v
            .findings
            .iter()
            .filter(|f| f.severity() >= Severity::Should)
            .collect();
        assert!(bad.is_empty(), "{} {:?}: {bad:#?}", x.label, x.request.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_exchange_faults_are_flagged() {
    // Faults that need several exchanges, timing or a scenario's intent are proven elsewhere.
    let multi = [
        Fault::StopSequenceEndTurn,
        Fault::CacheIgnored,
        Fault::AuthIgnored,
        Fault::RateLimit,
        // A window of time: shown by the runner's pause and retries.
        Fault::Cooldown,
        Fault::SignatureUnchecked,
        Fault::UnknownModelRemap,
        // Seen only against the other mode's answer to the same request.
        Fault::StreamInputTokensZero,
        Fault::StreamDropsDelta,
        // Seen only on a step that sends the key as Bearer (headers/auth-styles).
        Fault::BearerRejected,
        // Seen only by the run's access preflight, on a request with 2026-10-21 (this traffic
        // sends 2023-06-01).
        Fault::NewVersionRejected,
        // Seen only against a scenario's intent: server tools or citations the request enables
        // and the answer lacks (effect checks), a 400 on a search_result block (the step's
        // status_check), a turn of more searches than the server's loop runs (stop.pause-turn).
        Fault::ServerToolDropped,
        Fault::CitationsDropped,
        Fault::SearchResultRejected,
        Fault::PauseTurnAsEndTurn,
        // Seen only in an agent loop's later turns (a scenario's steps pass the history back).
        Fault::ThinkingPassbackRejected,
        Fault::ThinkingRequiredAfterTool,
        Fault::SignatureDroppedAfterToolTurn,
        Fault::ThinkingStopsAfterToolTurn,
        // Seen only against a scenario's intent or a request this traffic does not send:
        // effort compared across two levels, documented optional fields, a 1h cache write, a
        // refusal's trigger, context edits compared with the full prompt.
        Fault::EffortIgnored,
        Fault::IgnoredFieldsRejected,
        Fault::CacheTtlIgnored,
        Fault::RefusalWithoutStopDetails,
        Fault::ContextEditsIgnored,
        // Seen only against a scenario's intent: a conversation counted as its newest turn.
        Fault::HistoryDropped,
        // Rate-limit headers are asked of a scenario step (headers/response), not of every
        // answer: a local server need not send them.
        Fault::RatelimitHeadersMissing,
    ];
    for info in conform::reference_server::fault_catalogue() {
        if multi.contains(&info.fault) {
            continue;
        }
        let m = start_with(&[info.fault]).await;
        let mut flagged = false;
        for x in traffic(&m.base_url()).await {
            let v = judge_exchange(&x, opts()).validation;
            flagged |= v.findings.iter().any(|f| {
                f.severity() >= Severity::Should
                    || (f.severity() == Severity::Info
                        && matches!(info.fault, Fault::ModelRewrite | Fault::ExtraFields))
            });
        }
        assert!(
            flagged,
            "fault {} is not flagged by the validation core",
            info.name
        );
    }
}
