//! Unit tests of `implied`.

use super::*;
use serde_json::json;

fn checks(req: Value, m: Value) -> Vec<String> {
    check(&req, &m)
        .into_iter()
        .map(|f| format!("{}:{}", f.severity(), f.check))
        .collect()
}

fn weather_req(choice: Value) -> Value {
    json!({"model":"m","max_tokens":100,"tool_choice":choice,"tools":[
            {"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
            {"name":"get_time","input_schema":{"type":"object"}}],
            "messages":[{"role":"user","content":"weather?"}]})
}

fn call(name: &str, input: Value) -> Value {
    json!({"type":"tool_use","id":"toolu_1","name":name,"input":input})
}

#[test]
fn tool_choice_rules() {
    let ok = json!({"model":"m","stop_reason":"tool_use","content":[call("get_weather", json!({"city":"Paris"}))],"usage":{"output_tokens":5}});
    assert!(
        checks(
            weather_req(json!({"type":"tool","name":"get_weather"})),
            ok.clone()
        )
        .is_empty()
    );
    assert_eq!(
        checks(
            weather_req(json!({"type":"tool","name":"get_time"})),
            ok.clone()
        ),
        vec!["must:effect.tool-choice"]
    );
    assert_eq!(
        checks(weather_req(json!({"type":"none"})), ok.clone()),
        vec!["must:effect.tool-choice"]
    );
    let text =
        json!({"model":"m","stop_reason":"end_turn","content":[{"type":"text","text":"hi"}]});
    assert_eq!(
        checks(weather_req(json!({"type":"any"})), text),
        vec!["must:effect.tool-choice"]
    );
    let two = json!({"model":"m","stop_reason":"tool_use","content":[call("get_weather", json!({"city":"A"})), call("get_time", json!({}))]});
    assert_eq!(
        checks(
            weather_req(json!({"type":"auto","disable_parallel_tool_use":true})),
            two
        ),
        vec!["must:effect.parallel-tool-use"]
    );
}

#[test]
fn tool_inputs_are_checked_against_their_schema_and_names() {
    let bad = json!({"model":"m","stop_reason":"tool_use","content":[call("get_weather", json!({"town":"Paris"})), call("nope", json!({}))]});
    assert_eq!(
        checks(weather_req(json!({"type":"auto"})), bad),
        vec!["must:implied.tool-input-schema", "must:implied.tool-name"]
    );
}

#[test]
fn thinking_rules() {
    let req = json!({"model":"m","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[]});
    let good = json!({"model":"m","stop_reason":"end_turn","content":[{"type":"thinking","thinking":"x","signature":"s"},{"type":"text","text":"a"}]});
    assert!(checks(req.clone(), good).is_empty());
    let unsigned = json!({"model":"m","stop_reason":"end_turn","content":[{"type":"thinking","thinking":"x","signature":""},{"type":"text","text":"a"}]});
    assert_eq!(
        checks(req.clone(), unsigned),
        vec!["must:implied.thinking-signature"]
    );
    let late = json!({"model":"m","stop_reason":"end_turn","content":[{"type":"text","text":"a"},{"type":"thinking","thinking":"x","signature":"s"}]});
    assert_eq!(
        checks(req.clone(), late),
        vec!["must:implied.thinking-order"]
    );
    let none = json!({"model":"m","stop_reason":"end_turn","content":[{"type":"text","text":"a"}]});
    assert_eq!(checks(req, none), vec!["must:effect.thinking"]);
    let unrequested = json!({"model":"m","stop_reason":"end_turn","content":[{"type":"thinking","thinking":"x","signature":"s"}]});
    assert_eq!(
        checks(json!({"model":"m","messages":[]}), unrequested.clone()),
        vec!["info:implied.thinking-unrequested"]
    );
    assert_eq!(
        checks(
            json!({"model":"m","thinking":{"type":"disabled"},"messages":[]}),
            unrequested
        ),
        vec!["should:implied.thinking-unrequested"]
    );
}

#[test]
fn stop_sequence_rules() {
    let req = json!({"model":"m","stop_sequences":["END"],"messages":[]});
    let good = json!({"model":"m","stop_reason":"stop_sequence","stop_sequence":"END","content":[{"type":"text","text":"a b "}]});
    assert!(checks(req.clone(), good).is_empty());
    let other = json!({"model":"m","stop_reason":"stop_sequence","stop_sequence":"STOP","content":[{"type":"text","text":"a"}]});
    assert_eq!(
        checks(req.clone(), other),
        vec!["must:implied.stop-sequence"]
    );
    let ignored = json!({"model":"m","stop_reason":"end_turn","stop_sequence":null,"content":[{"type":"text","text":"a END b"}]});
    assert_eq!(checks(req, ignored), vec!["must:effect.stop-sequences"]);
}

#[test]
fn structured_output_is_checked_in_either_spelling_and_a_null_format_asks_for_nothing() {
    let format = json!({"type":"json_schema","schema":{"type":"object","required":["a"]}});
    let prose = json!({"model":"m","stop_reason":"end_turn","content":[{"type":"text","text":"Sure! Here it is."}]});
    let json_text = json!({"model":"m","stop_reason":"end_turn","content":[{"type":"text","text":"{\"a\": 1}"}]});
    let not_json = vec!["must:effect.structured-output"];
    for req in [
        json!({"model":"m","messages":[],"output_config":{"format":format}}),
        json!({"model":"m","messages":[],"output_format":format}),
        // The SDKs send a non-null `output_format` whatever the null beside it.
        json!({"model":"m","messages":[],"output_config":{"format":null},"output_format":format}),
    ] {
        assert_eq!(checks(req.clone(), prose.clone()), not_json, "{req}");
        assert!(checks(req, json_text.clone()).is_empty());
    }
    let none =
        json!({"model":"m","messages":[],"output_config":{"format":null},"output_format":null});
    assert!(checks(none, prose).is_empty());
}

#[test]
fn max_tokens_model_and_prefill() {
    let req = json!({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"Once upon a time"}]});
    let m = json!({"model":"other","stop_reason":"end_turn","content":[{"type":"text","text":"Once upon a time there"}],"usage":{"output_tokens":9}});
    assert_eq!(
        checks(req, m),
        vec![
            "must:effect.max-tokens",
            "info:implied.model-rewrite",
            "should:implied.prefill-repeated"
        ]
    );
}

fn search_answer(result: Option<Value>, usage: Value, stop: &str) -> Value {
    let mut content = vec![
        json!({"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"rust"}}),
    ];
    if let Some(content_of_result) = result {
        content.push(json!({"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":content_of_result}));
    }
    content.push(json!({"type":"text","text":"Rust 1.90."}));
    json!({"type":"message","role":"assistant","content":content,"stop_reason":stop,"usage":usage})
}

#[test]
fn a_server_tool_call_needs_its_result_and_a_count_in_usage() {
    let req = json!({"model":"m","max_tokens":100,"tools":[{"type":"web_search_20250305","name":"web_search"}],
        "messages":[{"role":"user","content":"search"}]});
    let results =
        json!([{"type":"web_search_result","url":"https://x","title":"x","encrypted_content":"e"}]);
    let counted =
        json!({"input_tokens":1,"output_tokens":1,"server_tool_use":{"web_search_requests":1}});
    let uncounted = json!({"input_tokens":1,"output_tokens":1});
    // The genuine shape: the call, its result, the answer, the search counted.
    let ok = search_answer(Some(results.clone()), counted.clone(), "end_turn");
    assert!(checks(req.clone(), ok).is_empty());
    // The result left out of a finished turn; a paused or cut turn may lack it.
    let missing = search_answer(None, counted.clone(), "end_turn");
    assert_eq!(
        checks(req.clone(), missing),
        ["must:server-tools.result-missing"]
    );
    for stop in ["pause_turn", "max_tokens"] {
        let paused = search_answer(None, counted.clone(), stop);
        let found = checks(req.clone(), paused);
        assert!(
            !found.iter().any(|c| c.contains("server-tools")),
            "{stop}: {found:?}"
        );
    }
    // A finished turn ending on a call it never ran: a pause told as the end.
    let mut bare = search_answer(None, counted.clone(), "end_turn");
    bare["content"].as_array_mut().unwrap().pop();
    assert_eq!(checks(req.clone(), bare), ["must:stop.pause-turn"]);
    // A result naming another call does not count.
    let mut other = search_answer(Some(results.clone()), counted.clone(), "end_turn");
    other["content"][1]["tool_use_id"] = json!("srvtoolu_2");
    assert_eq!(
        checks(req.clone(), other),
        ["must:server-tools.result-missing"]
    );
    // Results returned but the search not counted; an error result need not be counted.
    let not_counted = search_answer(Some(results), uncounted.clone(), "end_turn");
    assert_eq!(
        checks(req.clone(), not_counted),
        ["should:usage.server-tool-use"]
    );
    let error = json!({"type":"web_search_tool_result_error","error_code":"unavailable"});
    assert!(
        checks(
            req.clone(),
            search_answer(Some(error), uncounted.clone(), "end_turn")
        )
        .is_empty()
    );
    // No usage object at all is the schema's finding, not this one's.
    let mut no_usage = search_answer(
        Some(
            json!([{"type":"web_search_result","url":"https://x","title":"x","encrypted_content":"e"}]),
        ),
        uncounted.clone(),
        "end_turn",
    );
    no_usage.as_object_mut().unwrap().remove("usage");
    assert!(
        !checks(req.clone(), no_usage)
            .iter()
            .any(|c| c.contains("server-tool-use"))
    );
    // Code execution is not counted in usage.server_tool_use.
    let code = json!({"type":"message","role":"assistant","stop_reason":"end_turn","usage":uncounted,"content":[
        {"type":"server_tool_use","id":"srvtoolu_9","name":"bash_code_execution","input":{"command":"ls"}},
        {"type":"bash_code_execution_tool_result","tool_use_id":"srvtoolu_9","content":{"type":"bash_code_execution_result","stdout":"","stderr":"","return_code":0,"content":[]}},
        {"type":"text","text":"done"}]});
    assert!(checks(req, code).is_empty());
}
