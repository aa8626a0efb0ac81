//! Unit tests of `grammar`.

use super::*;
use serde_json::json;

fn checks(events: &[Value], profile: Profile) -> Vec<String> {
    let mut g = Grammar::new(profile);
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        g.on_event(i, e, &mut out);
    }
    g.finish(events.len(), &mut out);
    out.into_iter()
        .map(|f| format!("{}:{}", f.severity(), f.check))
        .collect()
}

fn start() -> Value {
    json!({"type":"message_start","message":{"content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":2}}})
}
fn bstart(i: usize, t: &str) -> Value {
    json!({"type":"content_block_start","index":i,"content_block":{"type":t}})
}
fn delta(i: usize, t: &str) -> Value {
    json!({"type":"content_block_delta","index":i,"delta":{"type":t}})
}
fn bstop(i: usize) -> Value {
    json!({"type":"content_block_stop","index":i})
}
fn mdelta(sr: &str, out: u64) -> Value {
    json!({"type":"message_delta","delta":{"stop_reason":sr,"stop_sequence":null},"usage":{"output_tokens":out}})
}
fn mstop() -> Value {
    json!({"type":"message_stop"})
}
fn ping() -> Value {
    json!({"type":"ping"})
}

#[test]
fn a_clean_stream_has_no_findings() {
    let ev = vec![
        start(),
        bstart(0, "thinking"),
        ping(),
        delta(0, "thinking_delta"),
        delta(0, "signature_delta"),
        bstop(0),
        bstart(1, "text"),
        delta(1, "text_delta"),
        bstop(1),
        bstart(2, "tool_use"),
        delta(2, "input_json_delta"),
        bstop(2),
        mdelta("tool_use", 10),
        mstop(),
    ];
    assert!(checks(&ev, Profile::Strict).is_empty());
}

#[test]
fn each_rule_has_its_finding() {
    let cases: Vec<(Vec<Value>, &str)> = vec![
        (
            vec![bstart(0, "text"), bstop(0), mdelta("end_turn", 3), mstop()],
            "must:stream.grammar.first-event",
        ),
        (
            vec![start(), start(), mdelta("end_turn", 3), mstop()],
            "must:stream.grammar.message-start-once",
        ),
        (
            vec![
                start(),
                bstart(1, "text"),
                ping(),
                bstop(1),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "must:stream.grammar.block-index",
        ),
        (
            vec![
                start(),
                bstart(0, "text"),
                ping(),
                bstart(1, "text"),
                bstop(0),
                bstop(1),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "should:stream.grammar.block-order",
        ),
        (
            vec![
                start(),
                bstart(0, "text"),
                ping(),
                delta(0, "input_json_delta"),
                bstop(0),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "must:stream.grammar.delta-type",
        ),
        (
            vec![
                start(),
                bstart(0, "text"),
                ping(),
                bstop(0),
                delta(0, "text_delta"),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "must:stream.grammar.delta-outside-block",
        ),
        (
            vec![
                start(),
                bstart(0, "thinking"),
                ping(),
                delta(0, "thinking_delta"),
                bstop(0),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "must:stream.grammar.signature",
        ),
        (
            vec![
                start(),
                bstart(0, "thinking"),
                ping(),
                delta(0, "signature_delta"),
                delta(0, "thinking_delta"),
                bstop(0),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "should:stream.grammar.signature-order",
        ),
        (
            vec![
                start(),
                bstart(0, "text"),
                ping(),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "must:stream.grammar.unclosed-block",
        ),
        (
            vec![
                start(),
                bstart(0, "text"),
                ping(),
                bstop(0),
                json!({"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":3}}),
                mstop(),
            ],
            "must:stream.grammar.stop-reason",
        ),
        (
            vec![
                start(),
                bstart(0, "text"),
                ping(),
                bstop(0),
                mdelta("end_turn", 3),
                mstop(),
                ping(),
                mdelta("end_turn", 3),
            ],
            "must:stream.grammar.after-stop",
        ),
        (
            vec![
                start(),
                bstart(0, "text"),
                ping(),
                bstop(0),
                mdelta("end_turn", 3),
            ],
            "must:stream.grammar.truncated",
        ),
        (
            vec![
                start(),
                bstart(0, "text"),
                ping(),
                bstop(0),
                mdelta("end_turn", 1),
                mstop(),
            ],
            "must:stream.usage.cumulative",
        ),
        (
            vec![
                start(),
                bstart(0, "text"),
                bstop(0),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "should:stream.ping-missing",
        ),
        (
            vec![
                start(),
                json!({"type":"error","error":{"type":"overloaded_error","message":"x"}}),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "should:stream.grammar.after-error",
        ),
        (
            vec![
                start(),
                json!({"type":"future_event"}),
                bstart(0, "text"),
                ping(),
                bstop(0),
                mdelta("end_turn", 3),
                mstop(),
            ],
            "info:stream.grammar.unknown-event",
        ),
        (
            vec![start(), bstart(0, "text"), ping(), bstop(0), mstop()],
            "must:stream.grammar.message-delta-missing",
        ),
        (vec![], "must:stream.grammar.empty"),
    ];
    for (events, want) in cases {
        let got = checks(&events, Profile::Strict);
        assert!(
            got.contains(&want.to_string()),
            "want {want}, got {got:?} for {events:?}"
        );
    }
}

#[test]
fn interleaving_is_allowed_in_the_tolerant_profile() {
    let ev = vec![
        start(),
        bstart(0, "tool_use"),
        ping(),
        bstart(1, "tool_use"),
        bstop(0),
        bstop(1),
        mdelta("tool_use", 3),
        mstop(),
    ];
    assert!(checks(&ev, Profile::Tolerant).is_empty());
    assert!(!checks(&ev, Profile::Strict).is_empty());
}

#[test]
fn an_error_event_ends_the_stream_legally() {
    let ev = [
        start(),
        bstart(0, "text"),
        ping(),
        json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}),
    ];
    let mut g = Grammar::new(Profile::Strict);
    let mut out = Vec::new();
    for (i, e) in ev.iter().enumerate() {
        g.on_event(i, e, &mut out);
    }
    assert_eq!(g.finish(ev.len(), &mut out), Ending::Error);
    assert!(out.is_empty(), "{out:?}");
}

/// Genuine Anthropic traffic (corpus sdkpy__incomplete_partial_json_response.sse) leaves
/// the tool block open when max_tokens cuts its input: only an info note.
#[test]
fn unclosed_block_at_max_tokens_is_only_a_note() {
    let ev = vec![
        start(),
        bstart(0, "tool_use"),
        ping(),
        delta(0, "input_json_delta"),
        mdelta("max_tokens", 9),
        mstop(),
    ];
    assert_eq!(
        checks(&ev, Profile::Strict),
        vec!["info:stream.grammar.unclosed-block"]
    );
}

/// A `message_delta` that ends the turn with `input_tokens` as its usage (and `extra` merged
/// into that usage).
fn mdelta_input(input: u64, extra: Value) -> Value {
    let mut usage = json!({"input_tokens": input, "output_tokens": 9});
    if let (Some(u), Some(x)) = (usage.as_object_mut(), extra.as_object()) {
        u.extend(x.clone());
    }
    json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":usage})
}

/// The blocks of a web search turn, as Anthropic streams them.
fn web_search_blocks() -> Vec<Value> {
    vec![
        bstart(0, "server_tool_use"),
        bstop(0),
        bstart(1, "web_search_tool_result"),
        bstop(1),
        bstart(2, "text"),
        bstop(2),
    ]
}

/// Genuine web search, code execution, MCP and compaction streams (corpus
/// pyd__test_anthropic_web_search_tool_stream__0 and 14 more) raise `input_tokens` in
/// `message_delta`: the results of the server-side steps are input. Only a rise after such
/// steps is excused; a rise without them, or a fall, keeps the `should`.
#[test]
fn input_tokens_may_rise_only_after_server_side_steps() {
    let stream = |blocks: Vec<Value>, delta: Value| {
        let mut ev = vec![start(), ping()];
        ev.extend(blocks);
        ev.extend([delta, mstop()]);
        checks(&ev, Profile::Strict)
    };
    let late = |s: &str| vec![format!("{s}:stream.usage.input-tokens-late")];
    assert_eq!(
        stream(web_search_blocks(), mdelta_input(9000, json!({}))),
        late("info")
    );
    let mcp = vec![
        bstart(0, "mcp_tool_use"),
        bstop(0),
        bstart(1, "mcp_tool_result"),
        bstop(1),
    ];
    assert_eq!(stream(mcp, mdelta_input(40, json!({}))), late("info"));
    // Compaction reports its sampling steps in `usage.iterations`.
    let iterations = json!({"iterations": [{"type": "compaction"}, {"type": "message"}]});
    let text = vec![bstart(0, "text"), bstop(0)];
    assert_eq!(
        stream(text.clone(), mdelta_input(181, iterations)),
        late("info")
    );
    assert_eq!(
        stream(text.clone(), mdelta_input(181, json!({}))),
        late("should")
    );
    let tool = vec![bstart(0, "tool_use"), bstop(0)];
    assert_eq!(stream(tool, mdelta_input(181, json!({}))), late("should"));
    assert_eq!(
        stream(web_search_blocks(), mdelta_input(1, json!({}))),
        late("should")
    );
    assert!(stream(text, mdelta_input(3, json!({}))).is_empty());
}

/// Three genuine web search streams (corpus llm__test_web_search__0 and two more) carry no
/// ping; every other genuine stream does.
#[test]
fn a_missing_ping_is_only_a_note_after_server_side_steps() {
    let without_ping = |blocks: Vec<Value>| {
        let mut ev = vec![start()];
        ev.extend(blocks);
        ev.extend([mdelta("end_turn", 3), mstop()]);
        checks(&ev, Profile::Strict)
    };
    assert_eq!(
        without_ping(web_search_blocks()),
        vec!["info:stream.ping-missing"]
    );
    assert_eq!(
        without_ping(vec![bstart(0, "text"), bstop(0)]),
        vec!["should:stream.ping-missing"]
    );
}
