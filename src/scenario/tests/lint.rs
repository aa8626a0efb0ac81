//! `conform lint`: every scenario error found without sending anything, with positions and
//! hints; request bodies checked through a validator callback; exit codes of the CLI entry.

use crate::check::Finding;
use crate::check::catalogue::ids;
use crate::scenario::{self, Diagnostic, Pos};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn summary(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| format!("{} {}", d.location(), d.message))
        .collect()
}

#[test]
fn the_example_scenarios_are_clean() {
    let d = scenario::lint(Path::new("scenarios"));
    assert!(d.is_empty(), "{:#?}", summary(&d));
    assert_eq!(
        scenario::run_lint_cli_with(&[PathBuf::from("scenarios/anthropic")], None),
        crate::exit::OK
    );
}

#[test]
fn semantic_errors_are_all_reported_with_positions() {
    let d = scenario::lint(Path::new("tests/data/scenarios/semantic.yaml"));
    let f = "tests/data/scenarios/semantic.yaml";
    assert_eq!(
        summary(&d),
        vec![
            format!("{f}:9:17 unknown template variable `target.modle`"),
            format!("{f}:11:43 unknown template variable `steps.later.x`"),
            format!("{f}:14:18 invalid JSONPath `$.content[`: at position 9, parser error"),
            format!("{f}:15:35 invalid regex `(unclosed`: unclosed group"),
            format!("{f}:16:11 assertion with several operators: equals, exists"),
            format!("{f}:17:11 assertion without `path`"),
            format!("{f}:22:37 unknown template variable `steps.a.nope`"),
            format!("{f}:22:92 fixture `missing.png` used but no fixtures directory exists"),
        ]
    );
    assert_eq!(
        d[0].hint.as_deref(),
        Some("target variables: model, base_url, name, headers.NAME")
    );
    assert_eq!(d[6].hint.as_deref(), Some("step `a` captures: x"));
}

#[test]
fn a_directory_with_broken_files_fails_the_cli() {
    let d = scenario::lint(Path::new("tests/data/scenarios"));
    let files: std::collections::BTreeSet<String> = d
        .iter()
        .map(|d| d.file.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        vec![
            "bad-feature.yaml",
            "bad-yaml.yaml",
            "dup-b.yaml",
            "semantic.yaml",
            "unknown-key.yaml"
        ]
    );
    assert_eq!(
        scenario::run_lint_cli_with(&[PathBuf::from("tests/data/scenarios")], None),
        crate::exit::USAGE
    );
    assert_eq!(
        scenario::run_list_cli(Path::new("tests/data/scenarios"), true),
        crate::exit::USAGE
    );
    assert_eq!(
        scenario::run_list_cli(Path::new("scenarios"), false),
        crate::exit::OK
    );
}

/// Write one scenario into a fresh directory and lint it.
fn lint_one(yaml: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("fixtures")).unwrap();
    std::fs::write(dir.path().join("fixtures/cat.png"), b"png").unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(
        &file,
        format!("id: s\nfeature: image\ntitle: t\nreference: r\n{yaml}"),
    )
    .unwrap();
    scenario::lint(&file)
        .iter()
        .map(|d| format!("{}:{} {}", d.pos.line, d.pos.column, d.message))
        .collect()
}

#[test]
fn templates_fixtures_and_step_order() {
    let ok = lint_one(
        "steps:\n  - id: a\n    request:\n      headers: {x-h: \"{{ target.headers.anthropic-beta }}\"}\n      body: {model: \"{{ target.model }}\", img: \"{{ fixtures.cat.png }}\", b: \"{{ fixture('cat.png') }}\"}\n    capture: {c: $.content}\n    expect:\n      assert:\n        - {path: $.content, equals: \"{{ steps.a.c }}\"}\n  - id: b\n    request:\n      path: \"/v1/{{ target.name }}\"\n      body: {m: \"{{ steps.a.c }}\"}\n",
    );
    assert!(ok.is_empty(), "{ok:#?}");
    let bad = lint_one(
        "steps:\n  - id: a\n    request:\n      body: {own: \"x {{ steps.a.c }}\", dog: \"{{ fixtures.dog.png }}\", up: \"{{ fixtures.../s.yaml }}\", odd: \"{{ target }}\", open: \"{{ target.model\"}\n    capture: {c: $.content}\n",
    );
    assert_eq!(
        bad,
        vec![
            "8:22 unknown template variable `steps.a.c`",
            "8:46 fixture `dog.png` not found",
            "8:76 fixture `../s.yaml` not found",
            "8:109 invalid template expression `target`",
            "8:131 unclosed template: `{{` without `}}`",
        ]
    );
}

#[test]
fn stated_checks_are_rules_of_the_catalogue() {
    let ok = lint_one(
        "steps:\n  - id: a\n    expect:\n      status: 401\n      status_check: auth.invalid-key-accepted\n      assert:\n        - {path: $.stop_reason, equals: stop_sequence, check: stop.reason-end-turn-after-stop-sequence}\n        - {path: $.id, matches: ^msg_, check: message.id-prefix}\n        - {path: $.content, count: 1, effect: true, check: effect.tool-choice}\n",
    );
    assert!(ok.is_empty(), "{ok:#?}");
    let bad = lint_one(
        "steps:\n  - id: a\n    expect:\n      status: [200, 400]\n      status_check: auth.invalid-key-accepted\n      assert:\n        - {path: $.a, equals: 1, check: no.such-check}\n        - {path: $.a, equals: 1, check: assert.equals}\n        - {path: $.a, equals: 1, check: effect.tool-choice}\n        - {path: $.a, equals: 1, effect: true, check: message.id-prefix}\n        - {path: $.a, equals: 1, severity: info, check: message.id-prefix}\n        - {path: $.a, not: {equals: 1, check: message.id-prefix}}\n",
    );
    assert_eq!(
        bad,
        vec![
            "9:21 `status_check` names the rule a success status breaks (a step expecting a rejection) or a rejection breaks (a step expecting success); this step expects both",
            "11:41 `no.such-check` is not a check of the catalogue",
            "12:41 `assert.equals` is a generic check; name the rule the assertion proves instead",
            "13:41 `effect.tool-choice`: an `effect.*` check needs `effect: true`",
            "14:55 `message.id-prefix`: an effect check names an `effect.*` check (its failure means `ignored`)",
            "15:57 `message.id-prefix` cannot be reported as info: its catalogue entry does not allow it",
            "16:28 `all`, `any`, `effect`, `severity`, `message` and `check` belong on the outer assertion",
        ]
    );
}

#[test]
fn assertion_shapes() {
    let bad = lint_one(
        "steps:\n  - id: a\n    expect:\n      headers:\n        request-id: {path: $.x, exists: true}\n      assert:\n        - {path: $.a, not: {path: $.b, equals: 1}}\n        - {path: $.a, all: true, any: true, exists: true}\n        - {path: $.a, length: {matches: x}}\n        - {path: $.a, gt: ten}\n        - {path: $.a, schema: {type: 12}}\n        - {path: $.a, schema: [1]}\n        - {path: $.a, one_of: []}\n        - {path: $.a, not: {equals: 1, effect: true}}\n        - {path: $.a}\n",
    );
    assert_eq!(
        bad,
        vec![
            "9:28 `path` is not allowed in a header assertion",
            "11:35 `path` is not allowed in a nested assertion",
            "12:11 `all` and `any` cannot both be true",
            "13:31 `matches` cannot compare a length",
            "14:27 a comparison needs a number",
            "15:31 invalid JSON Schema: 12 is not valid under any of the schemas listed in the 'anyOf' keyword",
            "16:31 `schema` is an inline JSON Schema (object) or a protocol schema name (string)",
            "17:31 `one_of` needs at least one value",
            "18:28 `all`, `any`, `effect`, `severity`, `message` and `check` belong on the outer assertion",
            "19:11 assertion without an operator",
        ]
    );
}

#[test]
fn request_shapes() {
    let bad = lint_one(
        "steps:\n  - id: a\n    request:\n      method: post\n      path: v1/messages\n      headers: {\"bad header\": x}\n      body: {}\n      raw_body: \"{\"\n    expect: {status: []}\n  - id: a\n    modes: [stream]\n",
    );
    assert_eq!(
        bad,
        vec![
            "8:15 invalid HTTP method `post`",
            "9:13 the request path `v1/messages` must start with `/`",
            "10:31 invalid header name `bad header`",
            "12:17 `body` and `raw_body` cannot both be set",
            "13:22 a status is a number from 100 to 599 or a non-empty list of them",
            "14:5 step `a` runs in none of the scenario's modes",
            "14:9 duplicate step id `a`",
        ]
    );
}

/// A stand-in for the protocol's request schema: `max_tokens` must be an integer and every
/// message content must be a string or an array.
fn validator(path: &str, body: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    if path != "/v1/messages" {
        return out;
    }
    if !body["max_tokens"].is_u64() {
        out.push(Finding::new(
            ids::SCHEMA_REQUEST,
            "/max_tokens",
            "is not an integer",
        ));
    }
    for (i, m) in body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if !(m["content"].is_string() || m["content"].is_array()) {
            out.push(Finding::new(
                ids::SCHEMA_REQUEST,
                format!("/messages/{i}/content"),
                "is not a string or array",
            ));
        }
    }
    if body.get("extra").is_some() {
        out.push(Finding::new(
            ids::SCHEMA_REQUEST,
            "",
            "additional property `extra`",
        ));
    }
    out
}

#[test]
fn request_bodies_are_validated_at_the_offending_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v.yaml");
    std::fs::write(
        &file,
        "id: v\nfeature: basic\ntitle: t\nreference: r\nsteps:\n  - id: a\n    request:\n      body:\n        max_tokens: \"12\"\n        messages:\n          - {role: user, content: 5}\n    capture: {c: $.content}\n  - id: b\n    request:\n      body:\n        max_tokens: 1\n        extra: 1\n        messages:\n          - {role: assistant, content: \"{{ steps.a.c }}\"}\n  - id: c\n    request:\n      body: {max_tokens: nope}\n    expect: {status: 400}\n  - id: d\n    request:\n      path: /v1/messages/count_tokens\n      body: {max_tokens: nope}\n",
    )
    .unwrap();
    let d = scenario::lint_with(&file, Some(&validator));
    let got: Vec<(Pos, String)> = d.iter().map(|d| (d.pos, d.message.clone())).collect();
    assert_eq!(
        got,
        vec![
            (Pos::new(9, 21), "request body of step `a` violates the request schema at `/max_tokens`: is not an integer".into()),
            (Pos::new(11, 35), "request body of step `a` violates the request schema at `/messages/0/content`: is not a string or array".into()),
            (Pos::new(16, 9), "request body of step `b` violates the request schema: additional property `extra`".into()),
        ]
    );
    assert_eq!(
        d[0].hint.as_deref(),
        Some("expect a 4xx status if the body is invalid on purpose")
    );
}

#[test]
fn diagnostics_render_like_rustc() {
    let d = scenario::lint(Path::new("tests/data/scenarios/unknown-key.yaml"));
    assert_eq!(d.len(), 1);
    let shown = d[0].to_string();
    let expected_head = "error: unknown field `stepz`, expected one of id, feature, title, reference, description, modes, tags, redact, steps\n --> tests/data/scenarios/unknown-key.yaml:5:1\n  |\n5 | stepz: []\n  | ^\n  = hint: ";
    assert!(shown.starts_with(expected_head), "{shown}");
}

#[test]
fn paths_that_may_select_several_nodes_warn_without_all_or_any() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.yaml");
    std::fs::write(
        &file,
        "id: w\nfeature: basic\ntitle: t\nreference: r\nsteps:\n  - id: a\n    expect:\n      assert:\n        - {path: \"$.content[*].type\", equals: text}\n        - {path: \"$.content[*].type\", all: true, equals: text}\n        - {path: \"$..text\", exists: true}\n        - {path: \"$.content[0,1]\", count: 2}\n        - {path: \"$.content[0].text\", equals: x}\n        - {path: \"$.content[?@.type=='text']\", type: object}\n",
    )
    .unwrap();
    let d = scenario::lint(&file);
    let got: Vec<(String, u32)> = d
        .iter()
        .map(|d| (format!("{:?}", d.level), d.pos.line))
        .collect();
    assert_eq!(
        got,
        vec![("Warning".to_string(), 9), ("Warning".to_string(), 14)]
    );
    // Warnings do not make a scenario unusable.
    let (s, _) = scenario::load::load_file(&file);
    assert!(s.is_some());
    assert_eq!(scenario::run_lint_cli_with(&[file], None), crate::exit::OK);
}

#[test]
fn repeated_modes_and_header_names() {
    let bad = lint_one(
        "modes: [sync, sync]\nsteps:\n  - id: a\n    request:\n      headers: {Anthropic-Version: \"1\", anthropic-version: \"2\"}\n    expect:\n      headers:\n        Request-Id: {exists: true}\n        request-id: {exists: false}\n",
    );
    assert_eq!(
        bad,
        vec![
            "1:5 `modes` lists a mode twice",
            "9:60 header `anthropic-version` repeats `Anthropic-Version` (names are case-insensitive)",
            "13:21 header `request-id` repeats `Request-Id` (names are case-insensitive)",
        ]
    );
}
