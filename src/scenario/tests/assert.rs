//! The assertion engine: every operator, negation, node-list rules, status and headers,
//! schemas, templates in operands, captures, and the conversion into findings.

use crate::check::Severity;
use crate::check::assert::{self, Env, Outcome, Subject};
use crate::scenario::template::Context;
use crate::scenario::{self, Feature};
use serde_json::{Value, json};
use std::path::Path;

/// Parse `expect:` YAML (indented for a step) into a scenario and return it.
fn scenario_with(expect: &str) -> scenario::Scenario {
    let text = format!(
        "id: t\nfeature: tools\ntitle: t\nreference: \"Tool use; tool_choice\"\nsteps:\n  - id: s\n    capture: {{first: \"$.content[0]\"}}\n    expect:\n{expect}"
    );
    let (s, d) = scenario::load::load_text(Path::new("scenarios/t.yaml"), &text);
    // Warnings (a path that may select several nodes) are expected in the node-list tests.
    assert!(
        d.iter().all(|d| !d.is_error()),
        "{}",
        d.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    s.unwrap()
}

fn body() -> Value {
    json!({
        "id": "msg_01",
        "type": "message",
        "model": "m-1",
        "content": [
            {"type": "text", "text": "Hello there"},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "text", "text": "Bye"}
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 12, "output_tokens": 30.0}
    })
}

fn run_with(
    expect: &str,
    body: &Value,
    headers: &[(String, String)],
    status: u16,
    ctx: &Context,
) -> Vec<Outcome> {
    let s = scenario_with(expect);
    let step = &s.doc.steps[0].value;
    let schemas = |name: &str, v: &Value| -> Option<Vec<crate::check::Finding>> {
        (name == "message").then(|| {
            if v.get("type") == Some(&json!("message")) {
                vec![]
            } else {
                vec![crate::check::Finding::new(
                    crate::check::catalogue::ids::SCHEMA_MESSAGE,
                    "/type",
                    "is not \"message\"",
                )]
            }
        })
    };
    let env = Env {
        ctx,
        schemas: &schemas,
        file: &s.file,
    };
    let subject = Subject {
        status,
        headers,
        body,
    };
    assert::check_expect(&step.expect, &subject, &env)
}

/// The outcomes of the `assert` list (after status), against the default body.
fn asserts(list: &str) -> Vec<Outcome> {
    let mut ctx = Context::default();
    ctx.target.insert("model".into(), "m-1".into());
    let expect = format!("      assert:\n{list}");
    let mut out = run_with(&expect, &body(), &[], 200, &ctx);
    out.remove(0);
    out
}

fn successes(list: &str) -> Vec<bool> {
    asserts(list).iter().map(|o| o.success).collect()
}

#[test]
fn equals_and_templates_in_operands() {
    let got = successes(
        "        - {path: $.stop_reason, equals: tool_use}\n        - {path: $.stop_reason, equals: end_turn}\n        - {path: $.usage.output_tokens, equals: 30}\n        - {path: $.model, equals: \"{{ target.model }}\"}\n        - {path: \"$.content[1].input\", equals: {city: Paris}}\n",
    );
    assert_eq!(got, vec![true, false, true, true, true]);
    let o = &asserts("        - {path: $.stop_reason, equals: end_turn}\n")[0];
    assert_eq!(o.expected, "equals \"end_turn\"");
    assert_eq!(o.actual, "\"tool_use\"");
    assert_eq!(o.op, "equals");
    assert_eq!(o.location, "$.stop_reason (scenarios/t.yaml:10:11)");
}

#[test]
fn negation_flips_any_operator() {
    let got = successes(
        "        - {path: $.stop_reason, not: {equals: end_turn}}\n        - {path: $.stop_reason, not: {equals: tool_use}}\n        - {path: $.id, not: {matches: \"^x\"}}\n        - {path: $.nope, not: {exists: true}}\n        - {path: $.content, not: {length: 3}}\n",
    );
    assert_eq!(got, vec![true, false, true, true, false]);
    let o = &asserts("        - {path: $.stop_reason, not: {equals: tool_use}}\n")[0];
    assert_eq!(o.expected, "not (equals \"tool_use\")");
    assert_eq!(o.op, "not");
}

#[test]
fn exists_matches_comparisons() {
    let got = successes(
        "        - {path: $.id, exists: true}\n        - {path: $.nope, exists: true}\n        - {path: $.nope, exists: false}\n        - {path: $.id, matches: \"^msg_\"}\n        - {path: $.usage, matches: \"x\"}\n        - {path: $.usage.input_tokens, gt: 11}\n        - {path: $.usage.input_tokens, gt: 12}\n        - {path: $.usage.input_tokens, gte: 12}\n        - {path: $.usage.input_tokens, lt: 12}\n        - {path: $.usage.input_tokens, lte: 12.0}\n        - {path: $.id, gt: 1}\n",
    );
    assert_eq!(
        got,
        vec![
            true, false, true, true, false, true, false, true, false, true, false
        ]
    );
}

#[test]
fn contains_length_count_type_one_of() {
    let got = successes(
        "        - {path: \"$.content[0].text\", contains: there}\n        - {path: \"$.content[*].type\", all: true, one_of: [text, tool_use]}\n        - {path: \"$.content[1].input\", contains: city}\n        - {path: \"$.content[0].text\", contains: nope}\n        - {path: $.content, length: 3}\n        - {path: \"$.content[0].text\", length: {gte: 5}}\n        - {path: \"$.content[0].text\", length: {lt: 5}}\n        - {path: \"$.content[*]\", count: 3}\n        - {path: \"$.content[?@.type=='text']\", count: {not: {equals: 2}}}\n        - {path: $.usage.input_tokens, type: integer}\n        - {path: $.usage.output_tokens, type: integer}\n        - {path: $.content, type: object}\n        - {path: $.stop_reason, one_of: [end_turn, stop_sequence]}\n",
    );
    assert_eq!(
        got,
        vec![
            true, true, true, false, true, true, false, true, false, true, true, false, false
        ]
    );
}

#[test]
fn node_lists_first_all_any() {
    // Default: the first node is tested.
    let got = successes(
        "        - {path: \"$.content[?@.type=='text'].text\", equals: Hello there}\n        - {path: \"$.content[?@.type=='text'].text\", equals: Bye}\n        - {path: \"$.content[?@.type=='text'].text\", any: true, equals: Bye}\n        - {path: \"$.content[?@.type=='text'].text\", all: true, equals: Bye}\n        - {path: \"$.content[*].type\", all: true, type: string}\n        - {path: \"$.content[?@.type=='image']\", all: true, type: object}\n        - {path: $.nope, equals: 1}\n",
    );
    assert_eq!(got, vec![true, false, true, false, true, false, false]);
    let out = asserts(
        "        - {path: \"$.content[?@.type=='text'].text\", all: true, equals: Bye}\n        - {path: $.nope, equals: 1}\n",
    );
    assert_eq!(out[0].actual, "node #0: \"Hello there\"");
    assert_eq!(out[1].actual, "no node selected");
}

#[test]
fn schemas_inline_and_named() {
    let got = successes(
        "        - {path: $.usage, schema: {type: object, required: [input_tokens], properties: {input_tokens: {type: integer, minimum: 0}}}}\n        - {path: $.usage, schema: {type: object, required: [cache_read_input_tokens]}}\n        - {path: $, schema: message}\n        - {path: \"$.content[0]\", schema: message}\n        - {path: $, schema: no-such-schema}\n",
    );
    assert_eq!(got, vec![true, false, true, false, false]);
    let out = asserts(
        "        - {path: $, schema: no-such-schema}\n        - {path: \"$.content[0]\", schema: message}\n",
    );
    assert_eq!(out[0].actual, "unknown schema `no-such-schema`");
    assert_eq!(out[1].actual, "/type: is not \"message\"");
}

#[test]
fn status_and_headers() {
    let headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("retry-after".to_string(), "7".to_string()),
        ("x-multi".to_string(), "a".to_string()),
        ("X-Multi".to_string(), "b".to_string()),
    ];
    let expect = "      status: [200, 201]\n      headers:\n        content-type: {matches: \"^application/json\"}\n        retry-after: {gte: 5}\n        request-id: {exists: true, severity: should}\n        x-multi: {any: true, equals: b}\n        x-absent: {exists: false}\n";
    let out = run_with(expect, &body(), &headers, 201, &Context::default());
    let got: Vec<(String, bool)> = out
        .iter()
        .map(|o| (o.location.clone(), o.success))
        .collect();
    assert_eq!(
        got,
        vec![
            ("status (scenarios/t.yaml:9:15)".to_string(), true),
            (
                "header content-type (scenarios/t.yaml:11:23)".to_string(),
                true
            ),
            (
                "header request-id (scenarios/t.yaml:13:21)".to_string(),
                false
            ),
            (
                "header retry-after (scenarios/t.yaml:12:22)".to_string(),
                true
            ),
            ("header x-absent (scenarios/t.yaml:15:19)".to_string(), true),
            ("header x-multi (scenarios/t.yaml:14:18)".to_string(), true),
        ]
    );
    assert_eq!(out[2].severity, Severity::Should);
    let out = run_with(
        "      status: 200\n",
        &body(),
        &[],
        404,
        &Context::default(),
    );
    assert!(!out[0].success);
    assert_eq!(
        (out[0].expected.as_str(), out[0].actual.as_str()),
        ("200", "404")
    );
    // No `status`: 200 is expected.
    let out = run_with("      assert: []\n", &body(), &[], 500, &Context::default());
    assert!(!out[0].success);
}

#[test]
fn outcomes_become_findings() {
    let out = asserts(
        "        - {path: $.stop_reason, equals: end_turn}\n        - {path: $.stop_reason, equals: end_turn, effect: true, message: \"tool_choice was ignored\"}\n        - {path: $.id, matches: \"^x\", severity: info}\n",
    );
    let f = out[0].to_finding(Feature::Tools, "Tool use; tool_choice");
    assert_eq!(f.check.as_str(), "assert.equals");
    assert_eq!(f.severity(), Severity::Must);
    assert_eq!(f.location, "$.stop_reason (scenarios/t.yaml:10:11)");
    assert_eq!(f.expected.as_deref(), Some("equals \"end_turn\""));
    assert_eq!(f.actual.as_deref(), Some("\"tool_use\""));
    assert_eq!(f.reference, "Tool use; tool_choice");
    let f = out[1].to_finding(Feature::Tools, "ref");
    assert_eq!(f.check.as_str(), "effect.tools");
    assert_eq!(f.message, "tool_choice was ignored");
    let f = out[2].to_finding(Feature::Tools, "ref");
    assert_eq!(
        (f.check.as_str(), f.severity()),
        ("assert.matches", Severity::Info)
    );
}

#[test]
fn a_stated_check_names_the_finding() {
    let out = asserts(
        "        - {path: $.stop_reason, equals: stop_sequence, check: stop.reason-end-turn-after-stop-sequence}\n        - {path: $.id, matches: \"^x\", check: message.id-prefix}\n        - {path: $.stop_reason, equals: x, effect: true, check: effect.tool-choice}\n",
    );
    let f = out[0].to_finding(Feature::StopSequences, "ref");
    assert_eq!(
        (f.check.as_str(), f.severity()),
        ("stop.reason-end-turn-after-stop-sequence", Severity::Must)
    );
    // Without `severity:` the entry's own (message.id-prefix is should).
    let f = out[1].to_finding(Feature::Basic, "ref");
    assert_eq!(
        (f.check.as_str(), f.severity()),
        ("message.id-prefix", Severity::Should)
    );
    let f = out[2].to_finding(Feature::MaxTokens, "ref");
    assert_eq!(f.check.as_str(), "effect.tool-choice");
    // A step's status_check names a success status only; another status stays assert.status.
    let expect = "      status: 401\n      status_check: auth.invalid-key-accepted\n";
    let ok = run_with(expect, &body(), &[], 200, &Context::default());
    assert_eq!(
        ok[0].to_finding(Feature::Errors, "ref").check.as_str(),
        "auth.invalid-key-accepted"
    );
    let other = run_with(expect, &body(), &[], 500, &Context::default());
    assert_eq!(
        other[0].to_finding(Feature::Errors, "ref").check.as_str(),
        "assert.status"
    );
    // On a step expecting success it names the rule a rejection (4xx) breaks.
    let expect = "      status_check: request.documented-field-rejected\n";
    let rejected = run_with(expect, &body(), &[], 400, &Context::default());
    assert_eq!(
        rejected[0].to_finding(Feature::Basic, "ref").check.as_str(),
        "request.documented-field-rejected"
    );
    let failed = run_with(expect, &body(), &[], 500, &Context::default());
    assert_eq!(
        failed[0].to_finding(Feature::Basic, "ref").check.as_str(),
        "assert.status"
    );
}

#[test]
fn missing_capture_in_an_operand_fails_with_its_name() {
    let s = scenario_with(
        "      assert:\n        - {path: \"$.content[0]\", equals: \"{{ steps.s.first }}\"}\n",
    );
    let step = &s.doc.steps[0].value;
    let b = body();
    let env = Env {
        ctx: &Context::default(),
        schemas: &assert::no_schemas,
        file: &s.file,
    };
    let o = assert::check_body(&step.expect.asserts[0], &b, &env);
    assert!(!o.success);
    assert_eq!(o.actual, "error: unknown template variable `steps.s.first`");
    // With the capture run, the same assertion passes and keeps the captured object's type.
    let mut ctx = Context::default();
    ctx.steps
        .insert("s".into(), assert::capture(step, &b).unwrap());
    assert_eq!(
        ctx.steps["s"]["first"],
        json!({"type": "text", "text": "Hello there"})
    );
    let env = Env {
        ctx: &ctx,
        schemas: &assert::no_schemas,
        file: &s.file,
    };
    assert!(assert::check_body(&step.expect.asserts[0], &b, &env).success);
}

#[test]
fn captures_that_select_nothing_are_errors() {
    let s = scenario_with("      assert: []\n");
    let err = assert::capture(&s.doc.steps[0].value, &json!({"content": []})).unwrap_err();
    assert_eq!(err, "capture `first`: `$.content[0]` selected nothing");
}

#[test]
fn a_rejection_naming_a_documented_parameter_is_read_by_its_meaning() {
    let s = scenario_with("      status: 200\n");
    let expect = &s.doc.steps[0].value.expect;
    let error = |m: &str| json!({"type": "error", "error": {"type": "invalid_request_error", "message": m}});
    let sent = json!({"model": "m", "max_tokens": 5, "metadata": {"user_id": "u"}, "messages": []});
    // The error names `metadata`, which the request carries: the parameter's rejection.
    let read = assert::by_meaning(
        expect,
        400,
        Some(&sent),
        &error("metadata: Extra inputs are not permitted"),
    )
    .expect("read by its meaning");
    assert_eq!(
        read.status_check.as_ref().map(|c| c.value.as_str()),
        Some("request.documented-field-rejected")
    );
    // Not when the request does not carry it, the message names another field, the status is
    // not a 4xx, or the step names its own rule.
    let bare = json!({"model": "m", "max_tokens": 5, "messages": []});
    assert!(
        assert::by_meaning(expect, 400, Some(&bare), &error("metadata: Extra inputs")).is_none()
    );
    assert!(
        assert::by_meaning(
            expect,
            400,
            Some(&sent),
            &error("max_tokens: Field required")
        )
        .is_none()
    );
    assert!(
        assert::by_meaning(expect, 500, Some(&sent), &error("metadata: Extra inputs")).is_none()
    );
    let named = scenario_with("      rejected_check: agent-loop.passback-rejected\n");
    let named = &named.doc.steps[0].value.expect;
    assert!(
        assert::by_meaning(named, 400, Some(&sent), &error("metadata: Extra inputs")).is_none()
    );
}
