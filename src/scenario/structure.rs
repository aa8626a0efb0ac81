//! Every structural error of a file in one pass. The typed parse (serde) stops at a file's
//! first error, so a file with a misspelt key, a misspelt operator, a missing `reference` and a
//! misspelt request field would take four rounds of `conform lint` to fix. When the typed parse
//! fails, this pass reads the file as a positioned YAML tree ([`Node`]) and checks it against
//! the format's JSON Schema (the one `conform schema scenario` prints), reporting every unknown
//! key, missing key and wrong value with its line and column; the request bodies found in the
//! tree are checked against the request schema too ([`super::lint::check_body`]).

use super::diagnostics::{Diagnostic, Pos};
use super::model::{Located, Node};
use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use std::path::Path;

/// The compiled scenario schema (compiled once per process).
fn validator() -> Option<&'static jsonschema::Validator> {
    static V: std::sync::OnceLock<Option<jsonschema::Validator>> = std::sync::OnceLock::new();
    V.get_or_init(|| jsonschema::validator_for(&super::scenario_json_schema()).ok())
        .as_ref()
}

/// The structural errors of a file the typed parse refused with `first`: `first` itself (serde's
/// message, the most precise), then every schema error on another line, in file order. A
/// `missing field` whose object has a misspelt key for it (`reqest` for `request`) is left out:
/// the unknown key already says it. Without a tree (invalid YAML) just `first`.
pub(crate) fn all_errors(
    file: &Path,
    text: &str,
    root: Option<&Located<Node>>,
    first: Diagnostic,
) -> Vec<Diagnostic> {
    let (Some(root), Some(v)) = (root, validator()) else {
        return vec![first];
    };
    let instance = root.value.to_json();
    let mut found: Vec<Diagnostic> = Vec::new();
    for e in v.iter_errors(&instance) {
        push(&mut found, file, text, root, &e);
    }
    let mut out = vec![first];
    for d in found {
        if !out
            .iter()
            .any(|o| o.pos.line == d.pos.line || o.message == d.message)
        {
            out.push(d);
        }
    }
    out.sort_by_key(|d| d.pos);
    out
}

/// One schema error as diagnostics (an `anyOf` whose branches all fail on more than the type
/// is reported through its most specific branch).
fn push(
    out: &mut Vec<Diagnostic>,
    file: &Path,
    text: &str,
    root: &Located<Node>,
    e: &ValidationError<'_>,
) {
    if let ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } =
        e.kind()
    {
        // The branch that got furthest: the one whose errors point deepest.
        let best = context.iter().filter(|b| !b.is_empty()).max_by_key(|b| {
            b.iter()
                .map(|s| s.instance_path().as_str().len())
                .max()
                .unwrap_or(0)
        });
        if let Some(branch) = best
            && branch.iter().any(|s| {
                s.instance_path().as_str().len() > e.instance_path().as_str().len()
                    || !matches!(s.kind(), ValidationErrorKind::Type { .. })
            })
        {
            for sub in branch {
                push(out, file, text, root, sub);
            }
            return;
        }
    }
    let pointer = e.instance_path().as_str();
    let (node, pos) = root
        .value
        .pointer_located(pointer, root.pos)
        .map_or((None, root.pos), |(n, p)| (Some(n), p));
    let (pos, message, hint) = match e.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for key in unexpected {
                let at = match node {
                    Some(Node::Map(entries)) => entries
                        .iter()
                        .find(|(k, _)| k == key)
                        .map_or(pos, |(_, v)| key_pos(text, v.pos, key)),
                    _ => pos,
                };
                let mut d =
                    Diagnostic::error(file, Some(text), at, format!("unknown field `{key}`"));
                let hint = match crate::text::closest(key, known_keys().iter().map(String::as_str))
                {
                    Some(c) => {
                        format!("did you mean `{c}`? `conform schema scenario` prints the format")
                    }
                    None => {
                        "check the spelling of the key; `conform schema scenario` prints the format"
                            .into()
                    }
                };
                d = d.hint(hint);
                out.push(d);
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let property = property.as_str().unwrap_or_default();
            // A misspelt key for it is reported already (as an unknown field).
            if let Some(Node::Map(entries)) = node
                && entries
                    .iter()
                    .any(|(k, _)| crate::text::closest(k, [property]).is_some())
            {
                return;
            }
            (
                pos,
                format!("missing field `{property}`"),
                "add the field; `conform schema scenario` prints the format".to_string(),
            )
        }
        ValidationErrorKind::Enum { options } => {
            let quoted = |v: &Value| match v {
                Value::String(s) => format!("`{s}`"),
                other => other.to_string(),
            };
            (
                pos,
                format!(
                    "unknown variant {}, expected one of {}",
                    quoted(&node.map(Node::to_json).unwrap_or(Value::Null)),
                    options
                        .as_array()
                        .map(|o| o.iter().map(quoted).collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                ),
                "use one of the listed values".to_string(),
            )
        }
        _ => (
            pos,
            e.to_string(),
            "`conform schema scenario` prints the format".to_string(),
        ),
    };
    out.push(Diagnostic::error(file, Some(text), pos, message).hint(hint));
}

/// The position of `key:` on the line of its value (or before it), else the value's position.
fn key_pos(text: &str, value: Pos, key: &str) -> Pos {
    let Some(line) = text.lines().nth((value.line as usize).wrapping_sub(1)) else {
        return value;
    };
    let upto: String = line.chars().take(value.column as usize).collect();
    match upto.rfind(&format!("{key}:")) {
        Some(i) => Pos::new(value.line, upto[..i].chars().count() as u32 + 1),
        None => value,
    }
}

/// Every property name of the scenario schema, for a "did you mean".
fn known_keys() -> &'static [String] {
    static KEYS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::Object(props)) = m.get("properties") {
                        out.extend(props.keys().cloned());
                    }
                    m.values().for_each(|x| walk(x, out));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&super::scenario_json_schema(), &mut out);
        out.sort();
        out.dedup();
        out
    })
}

/// The request-schema errors of the bodies in a file's tree (for a file the typed parse
/// refused): each `steps[i].request.body` whose step does not expect only 4xx statuses.
pub(crate) fn body_errors(
    file: &Path,
    text: &str,
    root: &Located<Node>,
    validate: super::lint::RequestValidator<'_>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some((Node::Seq(steps), _)) = root.value.pointer_located("/steps", root.pos) else {
        return out;
    };
    for step in steps {
        let at = |p: &str| step.value.pointer_located(p, step.pos);
        let Some((body, pos)) = at("/request/body") else {
            continue;
        };
        let statuses: Vec<u64> = match at("/expect/status").map(|(n, _)| n.to_json()) {
            Some(Value::Number(n)) => n.as_u64().into_iter().collect(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_u64).collect(),
            _ => vec![200],
        };
        if !statuses.is_empty() && statuses.iter().all(|c| *c >= 400) {
            continue;
        }
        let text_of = |p: &str| match at(p) {
            Some((Node::String(s), _)) => Some(s.clone()),
            _ => None,
        };
        let id = text_of("/id").unwrap_or_else(|| "?".into());
        let path = text_of("/request/path").unwrap_or_else(|| "/v1/messages".into());
        let body = Located::new(body.clone(), pos);
        out.extend(super::lint::check_body(
            file,
            Some(text),
            &id,
            &path,
            &body,
            validate,
        ));
    }
    out
}
