//! Compiling the embedded schema document: the merged `$defs` of every schema file, the strict
//! variant's rewrites, and one validator per target and variant, each built with only the
//! `$defs` it reaches and compiled on first use (or ahead, by [`warm_up`]).

use super::{SCHEMA_FILES, TARGET_COUNT, Target};
use jsonschema::Validator;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// The merged `$defs` of every schema file.
pub(super) fn merged_defs() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let mut defs = Map::new();
        for (file, text) in SCHEMA_FILES {
            let doc: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("embedded schema {file} is not JSON: {e}"));
            let Some(Value::Object(file_defs)) = doc.get("$defs") else {
                panic!("embedded schema {file} has no $defs");
            };
            for (name, def) in file_defs {
                assert!(
                    defs.insert(name.clone(), def.clone()).is_none(),
                    "$defs/{name} is defined twice (second time in {file})"
                );
            }
        }
        defs
    })
}

/// Rewrite the main document into its strict variant (see the module doc).
pub(super) fn make_strict(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("additionalProperties") == Some(&Value::Bool(true)) {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            if let Some(Value::Array(later)) = map.remove("x-later-required") {
                let mut required = match map.remove("required") {
                    Some(Value::Array(r)) => r,
                    _ => Vec::new(),
                };
                required.extend(later);
                map.insert("required".into(), Value::Array(required));
            }
            if let Some(known) = map.remove("x-known-values") {
                map.insert("enum".into(), known);
            }
            for v in map.values_mut() {
                make_strict(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(make_strict),
        _ => {}
    }
}

/// The `$defs` that `def` reaches through `#/$defs/…` references (itself included): each
/// target is compiled with only these, not the whole document (compiling meta-validates
/// the document given, and 18 targets × 2 variants of every def was most of a short run).
pub(super) fn reachable_defs(def: &str) -> Map<String, Value> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref")
                    && let Some(name) = r.strip_prefix("#/$defs/")
                {
                    out.push(name.to_string());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let all = merged_defs();
    let mut keep = Map::new();
    let mut todo = vec![def.to_string()];
    while let Some(name) = todo.pop() {
        if keep.contains_key(&name) {
            continue;
        }
        if let Some(d) = all.get(&name) {
            refs(d, &mut todo);
            keep.insert(name, d.clone());
        }
    }
    keep
}

pub(super) fn root_for(def: &str, strict: bool) -> Value {
    let mut defs = Value::Object(reachable_defs(def));
    if strict {
        make_strict(&mut defs);
    }
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/$defs/{def}"),
        "$defs": defs,
    })
}

pub(super) fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// The validator of `target`'s main variant (`strict == false`) or its strict variant, each
/// compiled on first use: a clean run needs only the strict one (its fast path), and a compile
/// costs more than validating a few hundred values.
pub(super) fn compiled(target: Target, strict: bool) -> &'static Validator {
    static MAIN: [OnceLock<Validator>; TARGET_COUNT] = [const { OnceLock::new() }; TARGET_COUNT];
    static STRICT: [OnceLock<Validator>; TARGET_COUNT] = [const { OnceLock::new() }; TARGET_COUNT];
    let cache = if strict { &STRICT } else { &MAIN };
    cache[target as usize].get_or_init(|| {
        let name = target.def_name();
        compile(&root_for(name, strict))
            .unwrap_or_else(|e| panic!("embedded schema $defs/{name} does not compile: {e}"))
    })
}

/// Compile ahead of use the validators that judging responses needs (messages, errors, stream
/// events), e.g. on a thread of its own while scenarios load, so the first responses of a run
/// do not wait for them. Any thread may call it, any number of times.
pub(crate) fn warm_up() {
    // Stream events take the main variant's fast path (`is_valid`); bodies, and message_delta
    // for its soft findings, start with the strict variant.
    for event in [
        Target::EventMessageStart,
        Target::EventContentBlockStart,
        Target::EventContentBlockDelta,
        Target::EventContentBlockStop,
        Target::EventMessageDelta,
        Target::EventMessageStop,
        Target::EventPing,
    ] {
        compiled(event, false);
    }
    for body in [Target::EventMessageDelta, Target::Message, Target::Error] {
        compiled(body, true);
    }
}
