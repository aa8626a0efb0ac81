//! Loading scenario files: the typed model with positions, YAML 1.2 values in bodies, and
//! diagnostics with file, line and column that never stop the other files.

use crate::scenario::model::{Auth, Node};
use crate::scenario::{self, Feature, Mode, Pos};
use crate::target::AuthStyle;
use serde_json::json;
use std::path::Path;

fn load(text: &str) -> (Option<scenario::Scenario>, Vec<scenario::Diagnostic>) {
    scenario::load::load_text(Path::new("mem.yaml"), text)
}

const MINIMAL: &str = "id: x\nfeature: basic\ntitle: t\nreference: r\n";

#[test]
fn example_scenario_loads_with_positions() {
    let (s, d) = scenario::load::load_file(Path::new("scenarios/anthropic/basic/hello.yaml"));
    assert!(d.is_empty(), "{d:?}");
    let s = s.unwrap();
    assert_eq!(s.id(), "basic/hello");
    assert_eq!(s.feature(), Feature::Basic);
    assert_eq!(s.modes(), &[Mode::Sync, Mode::Stream]);
    assert_eq!(s.doc.id.pos, Pos::new(1, 5));
    assert!(
        s.fixtures_dir
            .as_deref()
            .unwrap()
            .ends_with("scenarios/fixtures")
    );
    let step = &s.doc.steps[0].value;
    assert_eq!(step.request.method.value, "POST");
    assert_eq!(step.request.path.value, "/v1/messages");
    let body = step.request.body.as_ref().unwrap();
    assert_eq!(body.value.to_json()["max_tokens"], json!(64));
    // Every node of the body knows where it is.
    let (node, pos) = body
        .value
        .pointer_located("/messages/0/content", body.pos)
        .unwrap();
    assert_eq!(node, &Node::String("Say hello in one word.".into()));
    assert_eq!(pos, Pos::new(15, 35));
    assert_eq!(step.expect.asserts.len(), 7);
    assert_eq!(step.expect.asserts[0].pos, Pos::new(21, 11));
    assert_eq!(step.expect.statuses(), vec![200]);
    assert_eq!(step.capture["content"].value, "$.content");
}

#[test]
fn bodies_keep_yaml_1_2_meaning() {
    let text = format!(
        "{MINIMAL}steps:\n  - id: s\n    request:\n      body: {{a: NO, b: yes, c: 0755, d: on, e: true, f: 1.5, g: 007, h: ~, i: 12}}\n"
    );
    let (s, d) = load(&text);
    assert!(d.is_empty(), "{d:?}");
    let body = s.unwrap().doc.steps[0]
        .value
        .request
        .body
        .clone()
        .unwrap()
        .value
        .to_json();
    assert_eq!(
        body,
        json!({"a": "NO", "b": "yes", "c": "0755", "d": "on", "e": true, "f": 1.5, "g": "007", "h": null, "i": 12})
    );
}

#[test]
fn request_overrides_parse() {
    let text = format!(
        "{MINIMAL}modes: [stream]\nsteps:\n  - id: a\n    stream: false\n    modes: [stream]\n    request:\n      method: GET\n      path: /v1/models\n      auth: none\n      headers: {{anthropic-version: null, anthropic-beta: x}}\n    expect: {{status: [400, 401]}}\n  - id: b\n    request:\n      auth: {{key: sk-wrong}}\n      raw_body: '{{\"model\": '\n  - id: c\n    request: {{auth: bearer}}\n  - id: d\n    request: {{auth: x-api-key}}\n"
    );
    let (s, d) = load(&text);
    assert!(d.is_empty(), "{d:?}");
    let s = s.unwrap();
    let steps: Vec<_> = s.doc.steps.iter().map(|s| &s.value).collect();
    assert_eq!(steps[0].stream, Some(false));
    assert_eq!(steps[0].request.method.value, "GET");
    assert_eq!(steps[0].request.auth.as_ref().unwrap().value, Auth::None);
    assert_eq!(steps[0].request.headers["anthropic-version"].value, None);
    assert_eq!(
        steps[0].request.headers["anthropic-beta"].value.as_deref(),
        Some("x")
    );
    assert_eq!(steps[0].expect.statuses(), vec![400, 401]);
    assert_eq!(
        steps[1].request.auth.as_ref().unwrap().value,
        Auth::Key("sk-wrong".into())
    );
    assert_eq!(
        steps[1].request.raw_body.as_ref().unwrap().value,
        "{\"model\": "
    );
    assert_eq!(
        steps[2].request.auth.as_ref().unwrap().value,
        Auth::Style(AuthStyle::Bearer)
    );
    assert_eq!(
        steps[3].request.auth.as_ref().unwrap().value,
        Auth::Style(AuthStyle::XApiKey)
    );
}

fn single_error(text: &str) -> scenario::Diagnostic {
    let (s, d) = load(text);
    assert!(s.is_none());
    assert_eq!(d.len(), 1, "{d:?}");
    d.into_iter().next().unwrap()
}

#[test]
fn unknown_keys_are_errors_with_line_and_column() {
    let d = single_error(&format!("{MINIMAL}steps:\n  - id: s\n    reqest: {{}}\n"));
    assert!(
        d.message
            .starts_with("unknown field `reqest`, expected one of"),
        "{}",
        d.message
    );
    assert_eq!(d.pos, Pos::new(7, 5));
    let shown = d.to_string();
    assert!(shown.contains(" --> mem.yaml:7:5\n"), "{shown}");
    assert!(shown.contains("7 |     reqest: {}\n  |     ^"), "{shown}");
    assert!(shown.contains("hint:"), "{shown}");

    let d = single_error(&format!(
        "{MINIMAL}steps:\n  - id: s\n    expect:\n      assert:\n        - {{path: $.a, equal: 1}}\n"
    ));
    assert!(d.message.contains("unknown field `equal`"), "{}", d.message);
    assert_eq!(d.pos.line, 9);
}

#[test]
fn wrong_types_duplicates_and_syntax_are_located() {
    let d = single_error(&format!("{MINIMAL}modes: [sync, batch]\nsteps: []\n"));
    assert!(
        d.message.contains("unknown variant `batch`"),
        "{}",
        d.message
    );
    assert_eq!(d.pos, Pos::new(5, 15));

    let d = single_error(&format!(
        "{MINIMAL}steps:\n  - id: s\n    expect: {{status: two hundred}}\n"
    ));
    assert_eq!(d.pos.line, 7);

    let d = single_error("id: a\nid: b\nfeature: basic\ntitle: t\nreference: r\nsteps: []\n");
    assert!(d.message.contains("duplicate"), "{}", d.message);
    assert_eq!(d.pos.line, 2);

    let d = single_error("id: \"unterminated\nfeature: basic\n");
    assert!(d.pos.is_known(), "{d}");

    let d = single_error("id: x\ntitle: t\nreference: r\nsteps: []\n");
    assert!(
        d.message.contains("missing field `feature`"),
        "{}",
        d.message
    );
}

#[test]
fn broken_files_do_not_stop_the_others() {
    let (scenarios, diagnostics) = scenario::load_dir(Path::new("tests/data/scenarios"));
    // dup-a is the only valid file; dup-b repeats its id.
    let ids: Vec<&str> = scenarios.iter().map(|s| s.id()).collect();
    assert_eq!(ids, vec!["broken/dup"]);
    let at: Vec<String> = diagnostics.iter().map(|d| d.location()).collect();
    for expected in [
        "tests/data/scenarios/bad-feature.yaml:2:10",
        "tests/data/scenarios/bad-yaml.yaml:3:8",
        "tests/data/scenarios/dup-b.yaml:1:5",
        "tests/data/scenarios/semantic.yaml:9:17",
        "tests/data/scenarios/unknown-key.yaml:5:1",
    ] {
        assert!(
            at.iter().any(|a| a == expected),
            "missing {expected} in {at:#?}"
        );
    }
    assert!(diagnostics.iter().all(|d| d.is_error()));
}

#[test]
fn load_dir_skips_fixtures_and_reads_nested_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("fixtures")).unwrap();
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::fs::write(root.join("fixtures/not-a-scenario.yaml"), "just: data\n").unwrap();
    std::fs::write(
        root.join("a/b/one.yaml"),
        format!("{MINIMAL}steps: [{{id: s}}]\n").replace("id: x", "id: one"),
    )
    .unwrap();
    std::fs::write(
        root.join("a/two.yml"),
        format!("{MINIMAL}steps: [{{id: s}}]\n").replace("id: x", "id: two"),
    )
    .unwrap();
    let (scenarios, diagnostics) = scenario::load_dir(root);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let mut ids: Vec<&str> = scenarios.iter().map(|s| s.id()).collect();
    ids.sort();
    assert_eq!(ids, vec!["one", "two"]);
    assert_eq!(
        scenarios[0].fixtures_dir.as_deref(),
        Some(root.join("fixtures").as_path())
    );
}

#[test]
fn unreadable_and_missing_paths_are_diagnostics() {
    let (s, d) = scenario::load::load_file(Path::new("tests/data/scenarios/does-not-exist.yaml"));
    assert!(s.is_none());
    assert!(
        d[0].message.starts_with("cannot read the file"),
        "{}",
        d[0].message
    );
    let (s, d) = scenario::load_dir(Path::new("tests/data/no-such-dir"));
    assert!(s.is_empty() && d.len() == 1);
}

#[test]
fn list_rows_and_table() {
    let (scenarios, diagnostics) = scenario::load_dir(Path::new("scenarios"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    // The two example files (the library around them grows; its own test is
    // tests/integration/detection.rs).
    let rows: Vec<_> = scenario::list_entries(&scenarios)
        .into_iter()
        .filter(|r| r.id == "basic/hello" || r.id == "basic/two-turns")
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].id, "basic/hello");
    assert_eq!(rows[1].feature, Feature::MultiTurn);
    let table = scenario::list_table(&rows);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "ID               FEATURE     MODES        TITLE");
    assert_eq!(
        lines[1],
        "basic/hello      basic       sync,stream  A one-turn text request gets a well-formed text answer"
    );
    let json = serde_json::to_value(&rows).unwrap();
    assert_eq!(json[0]["modes"], json!(["sync", "stream"]));
    assert_eq!(json[1]["feature"], json!("multi-turn"));
}

#[test]
fn json_schema_describes_the_format_and_accepts_the_examples() {
    let schema = scenario::scenario_json_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    for file in [
        "scenarios/anthropic/basic/hello.yaml",
        "scenarios/anthropic/basic/two-turns.yaml",
    ] {
        let text = std::fs::read_to_string(file).unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
    let bad: serde_json::Value =
        json!({"id": "x", "feature": "telepathy", "title": "t", "reference": "r", "steps": []});
    assert!(!validator.is_valid(&bad));
    let extra: serde_json::Value = json!({"id": "x", "feature": "basic", "title": "t", "reference": "r", "steps": [], "stepz": 1});
    assert!(!validator.is_valid(&extra));
}

#[test]
fn statuses_documents_and_aliases() {
    let d = single_error(&format!(
        "{MINIMAL}steps:\n  - id: s\n    expect: {{status: 99999}}\n"
    ));
    assert_eq!(d.message, "99999 is not an HTTP status (100 to 599)");
    assert_eq!(d.pos, Pos::new(7, 22));
    let d = single_error(&format!(
        "{MINIMAL}steps:\n  - id: s\n    expect: {{status: [400, x]}}\n"
    ));
    assert_eq!(d.pos.line, 7);
    let (s, d) = load(&format!(
        "{MINIMAL}steps:\n  - id: s\n    expect: {{status: [400, 422]}}\n"
    ));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        s.unwrap().doc.steps[0].value.expect.statuses(),
        vec![400, 422]
    );
    // One scenario per file.
    let d = single_error(&format!("{MINIMAL}steps: []\n---\nid: y\n"));
    assert!(d.pos.is_known(), "{d}");
    // A self-referencing alias is refused, not expanded forever.
    let d = single_error(&format!(
        "{MINIMAL}steps:\n  - id: s\n    request:\n      body: &a [*a]\n"
    ));
    assert_eq!(d.pos.line, 8);
    // Anchors and aliases otherwise work in bodies.
    let (s, d) = load(&format!(
        "{MINIMAL}steps:\n  - id: s\n    request:\n      body: {{a: &m {{role: user, content: hi}}, messages: [*m, *m]}}\n"
    ));
    assert!(d.is_empty(), "{d:?}");
    let body = s.unwrap().doc.steps[0]
        .value
        .request
        .body
        .clone()
        .unwrap()
        .value
        .to_json();
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "hi"}, {"role": "user", "content": "hi"}])
    );
}
