//! Fuzzing the scenario language on stable Rust: proptest targets with a fixed budget of
//! 5,000 generated inputs each, for the JSONPath guard + compile and templates. Each must end
//! without a panic or a stack overflow, and a template never reads a fixture from outside the
//! fixtures directory.

use crate::scenario::jsonpath;
use crate::scenario::template::{self, Context};
use proptest::prelude::*;
use serde_json::json;
use std::path::Path;

const CASES: u32 = 5000;

/// `fixtures/ok.txt`, with `secret.txt` beside the directory, made once for every case.
fn fixtures_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    &DIR.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let fixtures = root.path().join("fixtures");
        std::fs::create_dir_all(&fixtures).unwrap();
        std::fs::write(fixtures.join("ok.txt"), "ok").unwrap();
        std::fs::write(root.path().join("secret.txt"), "outside").unwrap();
        (root, fixtures)
    })
    .1
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // No regression files: a failure prints its minimal input, which becomes a unit test.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// JSONPaths from the grammar's alphabet, deep and long ones included: the guard is fast
    /// and whatever it lets through compiles (or fails) in bounded time and can be evaluated.
    #[test]
    fn fuzz_jsonpath(path in prop_oneof![
        "\\$[\\[\\]().?@*,:'\"a-c0-9=!<>&| -]{0,80}",
        proptest::collection::vec(prop::sample::select(&[
            "$", ".a", "..", "[", "]", "(", ")", "?", "@", "*", "[?@.b", "==", "&&", "||", "!",
            "'x'", "\"y\"", "length(", "match(", "count(", ",", ":", "-1", "0", "1e9", " ",
        ][..]), 0..60).prop_map(|v| v.concat()),
    ]) {
        let started = std::time::Instant::now();
        let value = json!({"a": {"b": [1, {"b": "x"}]}, "content": [{"type": "text", "text": "hi"}]});
        match jsonpath::compile(&path) {
            Ok(p) => {
                let _ = p.query(&value).all();
            }
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
        prop_assert!(started.elapsed() < std::time::Duration::from_secs(2), "{path}");
    }

    /// Templates: random text with braces, expressions and fixture names: parse and render
    /// never panic, and a fixture can never be read from outside the fixtures directory.
    #[test]
    fn fuzz_templates(text in proptest::collection::vec(prop::sample::select(&[
        "{{", "}}", "{", "}", " ", "target.model", "target.headers.X-A", "steps.a.b", "steps..",
        "fixture(\"", "\")", "fixtures.", "/etc/hostname", "../", "ok.txt", "'", "\"", ".", "é",
        "text ", "\\", "\0",
    ][..]), 0..30).prop_map(|v| v.concat())) {
        let mut ctx = Context { fixtures_dir: Some(fixtures_dir().to_path_buf()), ..Context::default() };
        ctx.target.insert("model".into(), "m".into());
        ctx.target_headers.insert("x-a".into(), "v".into());
        ctx.steps.entry("a".into()).or_default().insert("b".into(), json!({"k": [1]}));
        let _ = template::parse(&text);
        if let Ok(v) = ctx.render_str(&text) {
            let shown = v.to_string();
            // base64("outside")
            prop_assert!(!shown.contains("b3V0c2lkZQ"), "{text}: {shown}");
        }
    }
}
