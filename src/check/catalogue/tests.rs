//! The catalogue against the source: every declared id is reported somewhere, family members
//! are the names the code uses, ids resolve to one entry, and every entry is complete. (That
//! every reported id is declared is the type's doing: a [`CheckId`] comes only from here.)

use super::families::{ASSERT, EFFECT, MEMBERS, SCHEMA_EVENT};
use super::*;
use crate::check::Severity;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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

/// `NAME = "id"` pairs as the catalogue's data files declare them: those reported by the code
/// (`rules` false) or the rules the scenarios state (`rules.rs`, `rules` true).
fn declared_names(rules: bool) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check/catalogue");
    let mut out = Vec::new();
    for f in std::fs::read_dir(dir).unwrap().flatten() {
        if (f.file_name() == "rules.rs") != rules {
            continue;
        }
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
fn every_declared_id_is_reported_somewhere() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let code: String = files
        .iter()
        .filter(|f| !f.starts_with(src.join("check/catalogue")))
        .map(|f| non_test_code(f))
        .collect();
    let names = declared_names(false);
    assert!(
        names.len() >= 80,
        "only {} declared names found",
        names.len()
    );
    let dead: Vec<&str> = names
        .iter()
        .filter(|(name, _)| {
            !code
                .split(&format!("ids::{name}"))
                .skip(1)
                .any(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
        })
        .map(|(_, id)| id.as_str())
        .collect();
    assert!(dead.is_empty(), "declared but never reported: {dead:?}");
}

/// Every rule of `rules.rs` is the `check:` or `status_check:` of some scenario.
#[test]
fn every_stated_rule_is_named_by_a_scenario() {
    fn yaml(dir: &Path, out: &mut String) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                yaml(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut text = String::new();
    yaml(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/anthropic"),
        &mut text,
    );
    let names = declared_names(true);
    assert!(names.len() >= 5, "{names:?}");
    let unnamed: Vec<&str> = names
        .iter()
        .filter(|(_, id)| !text.contains(&format!("check: {id}")))
        .map(|(_, id)| id.as_str())
        .collect();
    assert!(unnamed.is_empty(), "rules no scenario names: {unnamed:?}");
}

/// Every assertion of the built-in library names the rule it proves (`check:`), except a
/// probe's precondition (`requires: true`) and an effect check (`effect: true`, reported as
/// `effect.<feature>` when it names none); every step that expects a rejection names the rule
/// a success answer breaks (`status_check:`). So a deviation reads as what is wrong and groups
/// by meaning, never as `assert.<operator>`.
#[test]
fn every_library_assertion_and_expected_rejection_names_a_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/anthropic");
    let (scenarios, diagnostics) = crate::scenario::load_dir(&dir);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert!(scenarios.len() >= 70, "only {} scenarios", scenarios.len());
    let mut unnamed = Vec::new();
    let (mut named, mut rejections) = (0, 0);
    for sc in &scenarios {
        for step in &sc.doc.steps {
            let expect = &step.value.expect;
            let assertions = expect.headers.values().chain(&expect.asserts);
            for a in assertions {
                match &a.value.check {
                    Some(id) => {
                        let check = CheckId::parse(&id.value);
                        assert!(
                            check.is_some_and(
                                |c| !c.entry().is_family() || c.namespace() == "effect"
                            ),
                            "{}: `{}` is not a rule of the catalogue",
                            sc.at(id.pos),
                            id.value
                        );
                        named += 1;
                    }
                    None if a.value.requires || a.value.effect => {}
                    None => unnamed.push(sc.at(a.pos)),
                }
            }
            if expect.statuses().iter().all(|c| !(200..300).contains(c)) {
                rejections += 1;
                match &expect.status_check {
                    Some(id) => assert!(
                        CheckId::parse(&id.value).is_some(),
                        "{}: `{}` is not a check of the catalogue",
                        sc.at(id.pos),
                        id.value
                    ),
                    None => unnamed.push(format!(
                        "{} (step `{}`: status)",
                        sc.file().display(),
                        step.value.id.value
                    )),
                }
            }
        }
    }
    assert!(
        named >= 200 && rejections >= 20,
        "{named} named, {rejections} rejections"
    );
    assert!(
        unnamed.is_empty(),
        "assertions or expected statuses that name no catalogue check: {unnamed:#?}"
    );
}

#[test]
fn ids_are_unique_and_families_do_not_swallow_other_entries() {
    let mut seen = BTreeSet::new();
    for e in all() {
        assert!(seen.insert(e.id), "{} declared twice", e.id);
        assert_eq!(
            get(e.id).map(|g| g.id),
            if e.is_family() { None } else { Some(e.id) }
        );
    }
    // A fixed entry wins over a family that would also match it.
    assert_eq!(get("effect.thinking").unwrap().id, "effect.thinking");
    assert_eq!(get("effect.tools").unwrap().id, "effect.<feature>");
    assert_eq!(get("schema.event.ping").unwrap().id, "schema.event.<type>");
    assert!(get("schema.event.bogus").is_none());
    assert!(get("assert.bogus").is_none());
    assert!(get("").is_none());
}

#[test]
fn check_ids_parse_to_one_value_per_string() {
    // Every fixed id and every family member parses, prints back the same, and carries the
    // entry `get` finds.
    let mut n = 0;
    for e in all() {
        let names: Vec<String> = match e.kind {
            Kind::Check => vec![e.id.to_string()],
            Kind::Family { ids, .. } => ids.iter().map(|s| s.to_string()).collect(),
        };
        for s in names {
            let id = CheckId::parse(&s).unwrap_or_else(|| panic!("{s} does not parse"));
            assert_eq!(id.as_str(), s);
            assert_eq!(id.to_string(), s);
            assert_eq!(id.entry().id, get(&s).unwrap().id);
            n += 1;
        }
    }
    assert!(n >= 120, "{n} ids");
    // A member that is also a fixed id is the fixed id, however it is reached.
    let thinking = EFFECT.member("thinking").unwrap();
    assert_eq!(thinking, ids::EFFECT_THINKING);
    assert_eq!(thinking.entry().id, "effect.thinking");
    assert_eq!(
        CheckId::parse("effect.thinking"),
        Some(ids::EFFECT_THINKING)
    );
    let tools = EFFECT.member("tools").unwrap();
    assert_eq!(tools.as_str(), "effect.tools");
    assert_eq!(tools.entry().id, "effect.<feature>");
    assert_eq!(tools.namespace(), "effect");
    assert_eq!(
        SCHEMA_EVENT.member("ping").unwrap().as_str(),
        "schema.event.ping"
    );
    assert_eq!(families::ASSERT_NONE, ASSERT.member("none").unwrap());
    assert_eq!(families::ASSERT_STATUS, ASSERT.member("status").unwrap());
    assert!(ASSERT.contains(families::ASSERT_STATUS) && !ASSERT.contains(ids::SCHEMA_ERROR));
    assert!(ASSERT.member("bogus").is_none());
    assert!(CheckId::parse("assert.<operator>").is_none());
    assert!(CheckId::parse("assert.").is_none());
    // Family id lists are the prefix and the member names.
    for e in all() {
        if let Kind::Family {
            prefix,
            members,
            ids,
        } = e.kind
        {
            let joined: Vec<String> = members.iter().map(|m| format!("{prefix}{m}")).collect();
            assert_eq!(joined, ids, "{}", e.id);
        }
    }
}

#[test]
fn every_entry_is_complete() {
    for e in all() {
        let id = e.id;
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
        let mut severities = BTreeSet::from([e.severity]);
        for x in e.exceptions {
            assert!(
                severities.insert(x.severity),
                "{id}: {} declared twice (or is the default)",
                x.severity
            );
            assert!(x.when.len() > 10, "{id}: exception {:?}", x.when);
        }
        if let Some(note) = e.note {
            assert!(!note.is_empty(), "{id}: empty note");
        }
        if let Kind::Family {
            prefix, members, ..
        } = e.kind
        {
            assert!(!members.is_empty() && prefix.ends_with('.'), "{id}");
            assert!(id.starts_with(prefix) && id.ends_with('>'), "{id}: pattern");
        }
    }
}

#[test]
fn family_members_are_the_names_the_code_uses() {
    use crate::protocol::anthropic::schema::{Shape, validate};
    use crate::scenario::model::{Assertion, Feature};
    let [(operators, _), (features, _), (event_types, _)] = MEMBERS;
    // Every feature name parses as a Feature and prints back the same, and every Feature of
    // the scenario schema is listed.
    for f in features {
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
    assert_eq!(names, features.iter().copied().collect(), "{schema}");
    // Every operator an assertion can have is listed (plus `status`, the status check, and
    // `none`, an assertion without an operator).
    let every_op: Assertion = serde_saphyr::from_str(
        "{path: $, equals: 1, not: {equals: 1}, exists: true, matches: x, gt: 1, gte: 1, lt: 1, \
         lte: 1, contains: x, length: 1, count: 1, type: string, one_of: [1], schema: message}",
    )
    .unwrap();
    let all_ops = every_op.ops();
    assert_eq!(Assertion::default().op(), "none");
    for op in all_ops.iter().chain(&["none", "status"]) {
        assert!(
            operators.contains(op),
            "operator {op} is not an assert.<operator> member"
        );
        assert_eq!(ASSERT.member(op).unwrap().as_str(), format!("assert.{op}"));
    }
    assert_eq!(operators.len(), all_ops.len() + 2, "{all_ops:?}");
    // Every event type has a schema: an empty object of that type is judged by
    // `schema.event.<type>`, an unknown type is not.
    for t in event_types {
        let f = validate(
            Shape::Event,
            &serde_json::json!({"type": t, "x-unknown": {}}),
        );
        let id = SCHEMA_EVENT.member(t).unwrap();
        assert!(
            f.iter()
                .all(|f| f.check == id || f.severity() != Severity::Must),
            "{t}: {f:?}"
        );
        assert!(
            f.iter().any(|f| f.check.namespace() == "schema"),
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
    assert_eq!(f[0].check, ids::SCHEMA_UNKNOWN_TYPE);
    assert_eq!(f[0].severity(), f[0].check.entry().severity);
    assert_eq!(
        ids::STREAM_GRAMMAR_TRUNCATED.entry().severity,
        Severity::Must
    );
    assert_eq!(ids::HEADERS_REQUEST_ID.entry().severity, Severity::Should);
    assert_eq!(ids::IMPLIED_MODEL_REWRITE.entry().severity, Severity::Info);
}
