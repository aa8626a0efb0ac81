//! JSON values valid against a schema (tool inputs, structured output), filled from the prompt
//! where a field's name or format suggests it (emails, places, names, dates).

use serde_json::{Map, Value, json};

use super::text::WORDS;
use crate::mock::hash::Rng;

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut s = schema;
    for _ in 0..8 {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => match root.pointer(&r[1..]) {
                Some(t) => s = t,
                None => return s,
            },
            _ => return s,
        }
    }
    s
}

fn find_email(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || "()<>,;\"'".contains(c))
        .map(|w| w.trim_end_matches('.'))
        .find(|w| w.contains('@') && w.contains('.') && !w.starts_with('@'))
        .map(String::from)
}

fn proper_nouns(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut sentence_start = true;
    for w in text.split_whitespace() {
        let clean: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
        if !sentence_start
            && clean.chars().next().is_some_and(char::is_uppercase)
            && clean.chars().count() > 1
        {
            out.push(clean);
        }
        sentence_start =
            w.ends_with('.') || w.ends_with('?') || w.ends_with('!') || w.ends_with(':');
    }
    out
}

fn string_for(schema: &Value, key: &str, prompt: &str, words: &mut Rng) -> String {
    let lk = key.to_lowercase();
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let mut s = match format {
        "date" => "2026-11-25".to_string(),
        "date-time" => "2026-11-25T10:00:00Z".to_string(),
        "time" => "10:00:00".to_string(),
        "email" => find_email(prompt).unwrap_or_else(|| "jane@example.com".into()),
        "uri" | "url" => "https://example.com/resource".to_string(),
        "uuid" => format!(
            "{:08x}-0000-4000-8000-{:012x}",
            words.next_u64() as u32,
            words.next_u64() & 0xffff_ffff_ffff
        ),
        _ if lk.contains("email") => {
            find_email(prompt).unwrap_or_else(|| "jane@example.com".into())
        }
        _ if lk.contains("city")
            || lk.contains("location")
            || lk.contains("place")
            || lk.contains("country") =>
        {
            proper_nouns(prompt)
                .into_iter()
                .last()
                .unwrap_or_else(|| "Paris".into())
        }
        _ if lk == "name" || lk.ends_with("_name") => {
            let p = proper_nouns(prompt);
            if p.len() >= 2 {
                format!("{} {}", p[0], p[1])
            } else {
                "Ada Lovelace".into()
            }
        }
        _ => format!("{} {}", words.pick(WORDS), words.pick(WORDS)),
    };
    let min = schema
        .get("minLength")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(MAX_STRING_CHARS) as usize;
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    while s.chars().count() < min {
        s.push('x');
    }
    if let Some(max) = max {
        s = s.chars().take(max).collect();
    }
    s
}

fn number_bounds(schema: &Value) -> (f64, f64) {
    let mut lo = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN);
    let mut hi = schema
        .get("maximum")
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN);
    if let Some(x) = schema.get("exclusiveMinimum").and_then(Value::as_f64) {
        lo = x + 1.0;
    }
    if let Some(x) = schema.get("exclusiveMaximum").and_then(Value::as_f64) {
        hi = x - 1.0;
    }
    match (lo.is_nan(), hi.is_nan()) {
        (true, true) => (1.0, 100.0),
        (false, true) => (lo, lo + 100.0),
        (true, false) => ((hi - 100.0).min(hi).max(hi.min(1.0)), hi),
        (false, false) => (lo, hi.max(lo)),
    }
}

/// Generated arrays and strings stay below these sizes whatever the schema asks for.
const MAX_ARRAY_ITEMS: u64 = 64;
const MAX_STRING_CHARS: u64 = 10_000;

/// A JSON value valid against `schema` (objects, arrays, enums, numbers, nested, optional
/// fields, `$ref` to local definitions, `anyOf`/`oneOf`). `pattern` is not honoured.
pub(crate) fn value_for(
    schema: &Value,
    root: &Value,
    key: &str,
    prompt: &str,
    shape: &mut Rng,
    words: &mut Rng,
    depth: usize,
) -> Value {
    let mut budget = MAX_VALUE_NODES;
    value_at(schema, root, key, prompt, shape, words, depth, &mut budget)
}

/// At most this many JSON nodes per generated value (recursive `$ref`s cannot explode).
const MAX_VALUE_NODES: u32 = 10_000;

#[allow(clippy::too_many_arguments)]
fn value_at(
    schema: &Value,
    root: &Value,
    key: &str,
    prompt: &str,
    shape: &mut Rng,
    words: &mut Rng,
    depth: usize,
    budget: &mut u32,
) -> Value {
    let schema = resolve(schema, root);
    if depth > 8 || *budget == 0 {
        return Value::Null;
    }
    *budget -= 1;
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(e) = schema
        .get("enum")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    {
        return words.pick(e).clone();
    }
    for comb in ["anyOf", "oneOf", "allOf"] {
        if let Some(vs) = schema.get(comb).and_then(Value::as_array) {
            let pick = vs
                .iter()
                .find(|v| resolve(v, root).get("type").and_then(Value::as_str) != Some("null"))
                .or(vs.first());
            if let Some(v) = pick {
                return value_at(v, root, key, prompt, shape, words, depth + 1, budget);
            }
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ if schema.get("items").is_some() => "array",
        _ => "string",
    };
    match ty {
        "object" => {
            let props = schema
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            for (k, sub) in &props {
                if required.contains(&k.as_str()) || shape.coin() {
                    out.insert(
                        k.clone(),
                        value_at(sub, root, k, prompt, shape, words, depth + 1, budget),
                    );
                }
            }
            for r in required {
                if !out.contains_key(r) {
                    out.insert(r.to_string(), Value::String("value".into()));
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let max = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(3)
                .max(min);
            // Capped so a hostile schema cannot make the mock build a huge value.
            let n = shape
                .range(min.max(1).min(max), max.min(min.max(3)))
                .min(MAX_ARRAY_ITEMS);
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            let mut out = Vec::new();
            for i in 0..n {
                let v = value_at(&items, root, key, prompt, shape, words, depth + 1, budget);
                let unique = schema.get("uniqueItems").and_then(Value::as_bool) == Some(true);
                match v {
                    Value::String(s) if unique => out.push(Value::String(format!("{s} {i}"))),
                    Value::Number(_) if unique && resolve(&items, root).get("enum").is_none() => {
                        out.push(json!(
                            i as i64 + number_bounds(resolve(&items, root)).0 as i64
                        ))
                    }
                    other => {
                        if !(unique && out.contains(&other)) {
                            out.push(other)
                        }
                    }
                }
            }
            Value::Array(out)
        }
        "integer" => {
            let (lo, hi) = number_bounds(schema);
            let (lo, hi) = (lo.ceil() as i64, hi.floor() as i64);
            let span = (hi - lo).clamp(0, 1_000_000) as u64;
            json!(lo + words.range(0, span) as i64)
        }
        "number" => {
            let (lo, hi) = number_bounds(schema);
            let span = ((hi - lo) * 2.0).clamp(0.0, 1_000_000.0) as u64;
            json!(lo + words.range(0, span) as f64 / 2.0)
        }
        "boolean" => {
            let lp = prompt.to_lowercase();
            let hinted = key.split('_').any(|p| p.len() >= 4 && lp.contains(p));
            Value::Bool(hinted || words.coin())
        }
        "null" => Value::Null,
        _ => Value::String(string_for(schema, key, prompt, words)),
    }
}
