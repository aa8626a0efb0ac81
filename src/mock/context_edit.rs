//! Context editing (`context_management.edits`), applied server-side before the prompt is
//! counted, cached and answered, as Anthropic does (docs: Context editing).
//!
//! Implemented: `clear_tool_uses_20250919`. When the prompt's input tokens exceed the edit's
//! `trigger` (`{type: input_tokens, value}`, default 100,000), the oldest tool results are
//! replaced by a placeholder, keeping the most recent `keep` tool uses (`{type: tool_uses,
//! value}`, default 3) and those of the tools in `exclude_tools`; `clear_tool_inputs: true`
//! also empties the calls' inputs. An edit that would clear fewer tokens than
//! `clear_at_least` (`{type: input_tokens, value}`) is not applied. The answer reports each
//! applied edit in `context_management.applied_edits` (`{type, cleared_tool_uses,
//! cleared_input_tokens}`) and counts the edited prompt in `usage`. Other edit types
//! (`clear_thinking_20251015`, compaction) are accepted and not applied here.

use serde_json::{Value, json};

use super::cache;

/// The edit type this module applies.
const CLEAR_TOOL_USES: &str = "clear_tool_uses_20250919";
/// What a cleared tool result says instead.
pub(crate) const PLACEHOLDER: &str = "[tool result cleared by context editing]";
const DEFAULT_TRIGGER: u64 = 100_000;
const DEFAULT_KEEP: usize = 3;

/// The prompt after the request's context edits, and the edits applied (`None` when none was).
pub(crate) fn apply(body: &Value) -> Option<(Value, Vec<Value>)> {
    let edits = body.pointer("/context_management/edits")?.as_array()?;
    let mut edited = body.clone();
    let mut applied = Vec::new();
    for edit in edits {
        if edit.get("type").and_then(Value::as_str) == Some(CLEAR_TOOL_USES)
            && let Some(report) = clear_tool_uses(&mut edited, edit)
        {
            applied.push(report);
        }
    }
    (!applied.is_empty()).then_some((edited, applied))
}

fn input_tokens(body: &Value) -> u64 {
    cache::segments(body).iter().map(|s| s.tokens).sum()
}

fn value_of(edit: &Value, key: &str) -> Option<u64> {
    edit.get(key)?.get("value")?.as_u64()
}

/// One `clear_tool_uses_20250919` edit on `body`; its report when it cleared something.
fn clear_tool_uses(body: &mut Value, edit: &Value) -> Option<Value> {
    let before = input_tokens(body);
    if before <= value_of(edit, "trigger").unwrap_or(DEFAULT_TRIGGER) {
        return None;
    }
    let keep = value_of(edit, "keep").map_or(DEFAULT_KEEP, |v| v as usize);
    let excluded: Vec<&str> = edit
        .get("exclude_tools")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let clear_inputs = edit.get("clear_tool_inputs").and_then(Value::as_bool) == Some(true);
    // The tool uses in order: (message, block, id), with the tools not excluded.
    let msgs = body.get("messages")?.as_array()?;
    let mut uses: Vec<(usize, usize, String)> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        for (j, b) in m["content"].as_array().into_iter().flatten().enumerate() {
            if b["type"] == "tool_use"
                && !excluded.contains(&b["name"].as_str().unwrap_or_default())
            {
                uses.push((i, j, b["id"].as_str().unwrap_or_default().to_string()));
            }
        }
    }
    let cleared = uses.len().saturating_sub(keep);
    if cleared == 0 {
        return None;
    }
    let mut copy = body.clone();
    let messages = copy.get_mut("messages")?.as_array_mut()?;
    for (i, j, id) in &uses[..cleared] {
        if clear_inputs {
            messages[*i]["content"][*j]["input"] = json!({});
        }
        for m in messages.iter_mut().skip(i + 1) {
            for b in m["content"].as_array_mut().into_iter().flatten() {
                if b["type"] == "tool_result" && b["tool_use_id"] == id.as_str() {
                    b["content"] = json!(PLACEHOLDER);
                }
            }
        }
    }
    let after = input_tokens(&copy);
    let saved = before.saturating_sub(after);
    if saved == 0 || value_of(edit, "clear_at_least").is_some_and(|least| saved < least) {
        return None;
    }
    *body = copy;
    Some(
        json!({"type": CLEAR_TOOL_USES, "cleared_tool_uses": cleared, "cleared_input_tokens": saved}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(edit: Value) -> Value {
        let long = "result ".repeat(300);
        let mut messages = vec![json!({"role": "user", "content": "Look these up."})];
        for n in 0..4 {
            let id = format!("toolu_0{n}");
            messages.push(json!({"role": "assistant", "content": [
                {"type": "tool_use", "id": id, "name": if n == 0 { "keep_me" } else { "lookup" }, "input": {"n": n}}]}));
            messages.push(json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": id, "content": long}]}));
        }
        json!({"model": "m", "max_tokens": 64, "messages": messages,
            "context_management": {"edits": [edit]}})
    }

    #[test]
    fn old_tool_results_are_cleared_past_the_trigger() {
        let body = conversation(json!({"type": CLEAR_TOOL_USES,
            "trigger": {"type": "input_tokens", "value": 500}, "keep": {"type": "tool_uses", "value": 1}}));
        let (edited, applied) = apply(&body).expect("applied");
        assert_eq!(applied[0]["cleared_tool_uses"], 3);
        let saved = applied[0]["cleared_input_tokens"].as_u64().unwrap();
        assert_eq!(input_tokens(&body) - input_tokens(&edited), saved);
        assert_eq!(edited["messages"][2]["content"][0]["content"], PLACEHOLDER);
        assert_ne!(edited["messages"][8]["content"][0]["content"], PLACEHOLDER);
    }

    #[test]
    fn below_the_trigger_excluded_or_too_little_nothing_is_applied() {
        let high = conversation(json!({"type": CLEAR_TOOL_USES}));
        assert!(apply(&high).is_none());
        let excluded = conversation(json!({"type": CLEAR_TOOL_USES,
            "trigger": {"type": "input_tokens", "value": 500}, "keep": {"type": "tool_uses", "value": 1},
            "exclude_tools": ["keep_me"], "clear_tool_inputs": true}));
        let (edited, applied) = apply(&excluded).unwrap();
        assert_eq!(applied[0]["cleared_tool_uses"], 2);
        assert_ne!(edited["messages"][2]["content"][0]["content"], PLACEHOLDER);
        assert_eq!(edited["messages"][4]["content"][0]["content"], PLACEHOLDER);
        assert_eq!(edited["messages"][3]["content"][0]["input"], json!({}));
        let least = conversation(json!({"type": CLEAR_TOOL_USES,
            "trigger": {"type": "input_tokens", "value": 500}, "clear_at_least": {"type": "input_tokens", "value": 1_000_000}}));
        assert!(apply(&least).is_none());
        let other = conversation(json!({"type": "clear_thinking_20251015", "keep": "all"}));
        assert!(apply(&other).is_none());
    }
}
