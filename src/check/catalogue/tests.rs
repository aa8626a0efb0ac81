//! The catalogue against the source: every check id the code can report is declared, every
//! declared id is reported somewhere, and every entry is complete.

use super::families::{EVENT_TYPES, FEATURES};
use super::*;
use crate::check::Severity;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One string literal of the library's non-test code, with where it stands.
struct Literal {
    file: PathBuf,
    line: usize,
    text: String,
    /// The literal is the check argument of a `Finding` constructor or a `check:` field.
    at_check_position: bool,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file before its test module(s); `tests.rs` files are test code entirely.
fn non_test_code(path: &Path) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("\n#[cfg(test)]") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Every plain string literal of `code` (raw strings and escapes beyond `\"` are not check
/// ids, so a simple scanner suffices), with its line and whether it sits where a check id goes.
fn literals(file: &Path, code: &str) -> Vec<Literal> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('"', '\'', 'x') or a lifetime: skip so quotes inside don't count.
                if bytes.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else if bytes.get(i + 1) == Some(&b'\\') && bytes.get(i + 3) == Some(&b'\'') {
                    i += 4;
                } else {
                    i += 1;
                }
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let before = code[..i].trim_end();
                let at_check_position = ["Finding::must(", "Finding::should(", "Finding::info("]
                    .iter()
                    .any(|c| before.ends_with(c))
                    || before.ends_with("check:")
                    || new_second_argument(before);
                out.push(Literal {
                    file: file.to_path_buf(),
                    line: code[..i].matches('\n').count() + 1,
                    text: code[start..j.min(bytes.len())].to_string(),
                    at_check_position,
                });
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether the text before a literal ends with `Finding::new(<severity>,`.
fn new_second_argument(before: &str) -> bool {
    let Some(comma) = before.strip_suffix(',') else {
        return false;
    };
    let Some(open) = comma.rfind("Finding::new(") else {
        return false;
    };
    let arg = &comma[open + "Finding::new(".len()..];
    !arg.contains([',', '(', ')', '"'])
}

fn library_literals() -> Vec<Literal> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .iter()
        .filter(|f| !f.starts_with(src.join("check/catalogue")))
        .flat_map(|f| {
            literals(
                f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap(),
                &non_test_code(f),
            )
        })
        .collect()
}

fn looks_like_check_id(s: &str) -> bool {
    let mut parts = s.split('.');
    parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && s.contains('.')
        && parts.all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        })
}

/// The first segments of the declared ids: `stream`, `schema`, `effect`, …
fn namespaces() -> BTreeSet<&'static str> {
    all()
        .filter_map(|e| e.id.as_str().split('.').next())
        .collect()
}

/// Every check id string outside the catalogue, in library code: each must be gone (a
/// declared id is written `ids::NAME`) — what remains is an undeclared id or a typo.
#[test]
fn no_check_id_string_exists_outside_the_catalogue() {
    let namespaces = namespaces();
    let mut stray = Vec::new();
    for lit in library_literals() {
        let ns = lit.text.split('.').next().unwrap_or("");
        let check_like =
            looks_like_check_id(&lit.text) && (lit.at_check_position || namespaces.contains(ns));
        let declared_fixed = get(&lit.text).is_some_and(|e| !e.is_family());
        if check_like && (declared_fixed || get(&lit.text).is_none()) {
            stray.push(format!(
                "{}:{}: {:?} ({})",
                lit.file.display(),
                lit.line,
                lit.text,
                if declared_fixed {
                    "write it as its `ids::` constant"
                } else {
                    "not in the catalogue"
                }
            ));
        } else if lit.at_check_position && !check_like {
            stray.push(format!(
                "{}:{}: {:?} is not a dotted check id",
                lit.file.display(),
                lit.line,
                lit.text
            ));
        }
    }
    assert!(
        stray.is_empty(),
        "check ids outside the catalogue:\n{}",
        stray.join("\n")
    );
}

/// `NAME = "id"` pairs as the catalogue's data files declare them.
fn declared_names() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check/catalogue");
    let mut out = Vec::new();
    for f in std::fs::read_dir(dir).unwrap().flatten() {
        let text = std::fs::read_to_string(f.path()).unwrap();
        for line in text.lines() {
            let t = line.trim();
            if let Some((name, rest)) = t.split_once(" = \"")
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && let Some((id, _)) = rest.split_once('"')
            {
                out.push((name.to_string(), id.to_string()));
            }
        }
    }
    out
}

#[test]
fn ids_built_at_run_time_have_a_declared_prefix() {
    // `format!("effect.{feature}")`, `format!("schema.event.{t}")`, …: the static part before
    // the first placeholder must be a family prefix or a prefix of declared ids.
    let namespaces = namespaces();
    let mut bad = Vec::new();
    let mut seen = 0;
    for lit in library_literals() {
        let Some((stem, _)) = lit.text.split_once('{') else {
            continue;
        };
        let ns = stem.split('.').next().unwrap_or("");
        if !stem.ends_with('.')
            || !namespaces.contains(ns)
            || !looks_like_check_id(&format!("{stem}x"))
        {
            continue;
        }
        seen += 1;
        let declared = all().any(|e| match e.kind {
            Kind::Family { prefix, .. } => prefix == stem,
            Kind::Check => e.id.as_str().starts_with(stem),
        });
        if !declared {
            bad.push(format!(
                "{}:{}: {:?}",
                lit.file.display(),
                lit.line,
                lit.text
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "built ids with no declared family:\n{}",
        bad.join("\n")
    );
    assert!(
        seen >= 3,
        "expected the effect/assert/schema builders, found {seen}"
    );
}

#[test]
fn every_declared_id_is_reported_somewhere() {
    use crate::protocol::anthropic::schema::Shape;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let code: String = files
        .iter()
        .filter(|f| !f.starts_with(src.join("check/catalogue")))
        .map(|f| non_test_code(f))
        .collect();
    let names = declared_names();
    assert!(
        names.len() >= 80,
        "only {} declared names found",
        names.len()
    );
    let dead: Vec<&str> = names
        .iter()
        .filter(|(name, id)| {
            // `schema.<shape>` ids are built from the shape names.
            let built = id
                .strip_prefix("schema.")
                .and_then(Shape::from_name)
                .is_some();
            let used = code.contains(&format!("ids::{name}"))
                && code
                    .split(&format!("ids::{name}"))
                    .skip(1)
                    .any(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
            !built && !used
        })
        .map(|(_, id)| id.as_str())
        .collect();
    assert!(dead.is_empty(), "declared but never reported: {dead:?}");
}

#[test]
fn ids_are_unique_and_families_do_not_swallow_other_entries() {
    let mut seen = BTreeSet::new();
    for e in all() {
        assert!(seen.insert(e.id.as_str()), "{} declared twice", e.id);
        assert_eq!(
            get(e.id.as_str()).map(|g| g.id),
            if e.is_family() { None } else { Some(e.id) }
        );
    }
    // A fixed entry wins over a family that would also match it.
    assert_eq!(get("effect.thinking").unwrap().id, ids::EFFECT_THINKING);
    assert_eq!(get("effect.tools").unwrap().id.as_str(), "effect.<feature>");
    assert_eq!(
        get("schema.event.ping").unwrap().id.as_str(),
        "schema.event.<type>"
    );
    assert!(get("schema.event.bogus").is_none());
    assert!(get("assert.bogus").is_none());
    assert!(get("").is_none());
}

#[test]
fn every_entry_is_complete() {
    for e in all() {
        let id = e.id.as_str();
        assert!(
            e.title.len() > 10 && e.title.ends_with('.'),
            "{id}: title {:?}",
            e.title
        );
        assert!(
            // The canonical public pages (the ones the official SDKs link to).
            e.doc.starts_with("https://platform.claude.com/docs/en/")
                || e.doc.starts_with("https://code.claude.com/docs/en/"),
            "{id}: doc {:?}",
            e.doc
        );
        assert!(!e.doc.contains('§'), "{id}: cites an internal section");
        assert!(e.fix.len() > 10, "{id}: fix {:?}", e.fix);
        if let Some(note) = e.severity_note {
            assert!(!note.is_empty(), "{id}: empty severity note");
        }
        if let Kind::Family { prefix, members } = e.kind {
            assert!(!members.is_empty() && prefix.ends_with('.'), "{id}");
            assert!(id.starts_with(prefix) && id.ends_with('>'), "{id}: pattern");
        }
    }
}

#[test]
fn family_members_are_the_names_the_code_uses() {
    use crate::protocol::anthropic::schema::{Shape, validate};
    use crate::scenario::model::Feature;
    // Every feature name parses as a Feature and prints back the same, and every Feature of
    // the scenario schema is listed.
    for f in FEATURES {
        let parsed: Feature = serde_json::from_value(serde_json::json!(f)).unwrap();
        assert_eq!(parsed.as_str(), *f);
    }
    let schema = serde_json::to_value(schemars::schema_for!(Feature)).unwrap();
    let names: BTreeSet<&str> = schema["enum"]
        .as_array()
        .or_else(|| schema["oneOf"].as_array())
        .map(|v| {
            v.iter()
                .filter_map(|x| x.as_str().or_else(|| x["const"].as_str()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, FEATURES.iter().copied().collect(), "{schema}");
    // Every event type has a schema: an empty object of that type is judged by
    // `schema.event.<type>`, an unknown type is not.
    for t in EVENT_TYPES {
        let f = validate(
            Shape::Event,
            &serde_json::json!({"type": t, "x-unknown": {}}),
        );
        assert!(
            f.iter()
                .all(|f| f.check == format!("schema.event.{t}") || f.severity != Severity::Must),
            "{t}: {f:?}"
        );
        assert!(
            f.iter().any(|f| f.check.starts_with("schema.")),
            "{t}: {f:?}"
        );
    }
}

#[test]
fn severities_follow_the_code() {
    // Spot checks of the default severity against what the validators report.
    let f = crate::protocol::anthropic::schema::validate(
        crate::protocol::anthropic::schema::Shape::Event,
        &serde_json::json!({"type": "not-an-event"}),
    );
    assert_eq!(f[0].check, ids::SCHEMA_UNKNOWN_TYPE.as_str());
    assert_eq!(f[0].severity, get(&f[0].check).unwrap().severity);
    assert_eq!(
        get("stream.grammar.truncated").unwrap().severity,
        Severity::Must
    );
    assert_eq!(
        get("headers.request-id").unwrap().severity,
        Severity::Should
    );
    assert_eq!(
        get("implied.model-rewrite").unwrap().severity,
        Severity::Info
    );
}

#[test]
fn ids_convert_to_the_finding_check_string() {
    let f = crate::check::Finding::must(ids::STREAM_GRAMMAR_BLOCK_ORDER, "loc", "msg");
    assert_eq!(f.check, "stream.grammar.block-order");
    assert!(ids::STREAM_GRAMMAR_BLOCK_ORDER == *"stream.grammar.block-order");
}

#[test]
fn the_scanner_sees_check_positions_and_skips_comments_and_chars() {
    let code = r#"
        // Finding::must("commented.out", ..)
        let q = '"';
        out.push(Finding::must(
            "stream.grammar.block-order", loc, "x"));
        Finding::new(sev, "effect.temperature", "", "");
        Finding { check: "implied.tool-name".into(), ..f };
        let path = "thinking.enabled";
    "#;
    let lits = literals(Path::new("x.rs"), code);
    let at: Vec<(&str, usize)> = lits
        .iter()
        .filter(|l| l.at_check_position)
        .map(|l| (l.text.as_str(), l.line))
        .collect();
    assert_eq!(
        at,
        [
            ("stream.grammar.block-order", 5),
            ("effect.temperature", 6),
            ("implied.tool-name", 7)
        ]
    );
    assert!(lits.iter().all(|l| l.text != "commented.out"));
    assert!(
        lits.iter()
            .any(|l| l.text == "thinking.enabled" && !l.at_check_position)
    );
    // `effect.temperature` (a made-up id in a verdict test) is not declared: the scan of the
    // real source would report it.
    assert!(get("effect.temperature").is_none());
}
