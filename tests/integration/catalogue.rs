//! `conform explain` end to end: an entry, the list, JSON, and an unknown id.

use std::process::{Command, Output};

fn explain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("explain")
        .args(args)
        .output()
        .expect("run conform")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn explain_prints_an_entry() {
    let o = explain(&["stream.grammar.truncated"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let s = stdout(&o);
    assert!(s.starts_with("stream.grammar.truncated (must)\n"), "{s}");
    assert!(
        s.contains("doc       https://platform.claude.com/docs/en/build-with-claude/streaming"),
        "{s}"
    );
    assert!(s.contains("fix       "), "{s}");
    assert!(s.contains("impact    python-sdk "), "{s}");
}

#[test]
fn explain_json_is_the_entry() {
    let o = explain(&["headers.request-id", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["id"], "headers.request-id");
    assert_eq!(v["kind"], "check");
    assert_eq!(v["severity"], "should");
    assert_eq!(v["doc"], "https://platform.claude.com/docs/en/api/overview");
    assert!(v["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(v["impact"]["python_sdk"].is_string());
    assert!(v.get("exceptions").is_none(), "{v}");
    // A declared exception: its severity and when it applies.
    let o = explain(&["stream.grammar.unclosed-block", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["severity"], "must");
    assert_eq!(v["exceptions"][0]["severity"], "info");
    assert!(
        v["exceptions"][0]["when"]
            .as_str()
            .is_some_and(|w| w.contains("max_tokens")),
        "{v}"
    );
}

#[test]
fn list_names_every_check_once_with_severity_and_title() {
    let o = explain(&["--list"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let s = stdout(&o);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines.len() >= 80, "{} lines", lines.len());
    let row = lines
        .iter()
        .find(|l| l.starts_with("implied.model-rewrite "))
        .expect("implied.model-rewrite listed");
    assert!(row.contains(" info ") && row.ends_with('.'), "{row}");
    assert!(lines.iter().any(|l| l.starts_with("assert.<operator> ")));
    let json = explain(&["--list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(lines.len()));
}

#[test]
fn an_unknown_id_exits_2_naming_the_closest() {
    let o = explain(&["stream.grammar.truncate"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown check id `stream.grammar.truncate`"),
        "{err}"
    );
    assert!(err.contains("closest: stream.grammar.truncated"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn explain_needs_an_id_or_list() {
    let o = explain(&[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}
