//! Which custom tools an answer calls: forced by `tool_choice`, or named by the prompt.

use serde_json::Value;

use super::conversation::Conversation;
use super::realistic::{AutoTools, Whims};
use super::text::STOPWORDS;

/// A custom tool the generator can call.
#[derive(Debug, Clone)]
pub(super) struct ToolDef {
    pub(super) name: String,
    pub(super) schema: Value,
    /// `eager_input_streaming`: input is streamed unbuffered (cut anywhere by max_tokens).
    pub(super) eager: bool,
}

pub(super) fn choice_type(body: &Value) -> &str {
    body.pointer("/tool_choice/type")
        .and_then(Value::as_str)
        .unwrap_or("auto")
}

fn tool_keywords(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    for ch in name.chars() {
        if ch == '_' || ch == '-' || ch == '.' || (ch.is_uppercase() && !cur.is_empty()) {
            if !cur.is_empty() {
                parts.push(std::mem::take(&mut cur));
            }
            if ch == '_' || ch == '-' || ch == '.' {
                continue;
            }
        }
        cur.extend(ch.to_lowercase());
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    parts
        .into_iter()
        .filter(|p| p.chars().count() >= 4 && !STOPWORDS.contains(&p.as_str()))
        .collect()
}

/// The custom tools of a request (those with an `input_schema`), in order.
pub(super) fn custom_tools(body: &Value) -> Vec<ToolDef> {
    body.get("tools")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|t| t.get("input_schema").is_some())
                .filter_map(|t| {
                    Some(ToolDef {
                        name: t.get("name")?.as_str()?.to_string(),
                        schema: t.get("input_schema")?.clone(),
                        eager: t.get("eager_input_streaming").and_then(Value::as_bool)
                            == Some(true),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The tools an answer calls: forced by `tool_choice`, or under `auto` those the prompt names
/// (or as the model's whims say); at most 2, or 1 with `disable_parallel_tool_use`.
pub(super) fn tool_calls(body: &Value, c: &Conversation, whims: &Whims) -> Vec<ToolDef> {
    let tools = custom_tools(body);
    if tools.is_empty() || c.prefill.is_some() {
        return Vec::new();
    }
    let choice = choice_type(body);
    let no_parallel = body
        .pointer("/tool_choice/disable_parallel_tool_use")
        .and_then(Value::as_bool)
        == Some(true);
    let matched = named_in(&tools, &c.user_text);
    let mut calls: Vec<ToolDef> = match choice {
        "none" => Vec::new(),
        "tool" => {
            let name = body
                .pointer("/tool_choice/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            tools
                .iter()
                .filter(|t| t.name == name)
                .take(1)
                .cloned()
                .collect()
        }
        "any" => {
            if matched.is_empty() {
                vec![tools[0].clone()]
            } else {
                matched
            }
        }
        _ => match whims
            .skilled
            .map(|[named, unnamed]| if matched.is_empty() { unnamed } else { named })
            .unwrap_or(whims.auto_tools)
        {
            AutoTools::Declines => Vec::new(),
            // A sequential agent loop (one call per turn): the next tool the task names that
            // no turn has called yet; then the answer in text.
            // A call that failed (`is_error`) once is tried again.
            AutoTools::AsNamed if c.answers_tools && no_parallel => tools
                .iter()
                .filter(|t| {
                    c.failed.contains(&t.name)
                        && c.called.iter().filter(|n| **n == t.name).count() == 1
                })
                .chain(
                    named_in(&tools, &c.task_text)
                        .iter()
                        .filter(|t| !c.called.contains(&t.name)),
                )
                .take(1)
                .cloned()
                .collect(),
            AutoTools::AsNamed if c.answers_tools => Vec::new(),
            AutoTools::AsNamed => matched,
            AutoTools::Unprompted if !c.answers_tools && !matched.is_empty() => matched,
            AutoTools::Unprompted => {
                let at = (whims.unprompted_pick % tools.len() as u64) as usize;
                vec![tools[at].clone()]
            }
            AutoTools::Wrong => {
                let others: Vec<&ToolDef> = tools
                    .iter()
                    .filter(|t| !matched.iter().any(|m| m.name == t.name))
                    .collect();
                if others.is_empty() {
                    Vec::new()
                } else {
                    let at = (whims.unprompted_pick % others.len() as u64) as usize;
                    vec![others[at].clone()]
                }
            }
        },
    };
    calls.truncate(if no_parallel || !whims.parallel { 1 } else { 2 });
    calls
}

/// The tools `text` names, by exact name or by a keyword of it, as whole words; in the
/// request's order.
fn named_in(tools: &[ToolDef], text: &str) -> Vec<ToolDef> {
    let words: Vec<String> = text
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '-'))
        .flat_map(|w| {
            let lw = w.to_lowercase();
            let parts: Vec<String> = lw
                .split(['_', '-'])
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect();
            std::iter::once(lw).chain(parts)
        })
        .collect();
    let named = |t: &ToolDef| {
        words.contains(&t.name.to_lowercase())
            || tool_keywords(&t.name).iter().any(|k| words.contains(k))
    };
    tools.iter().filter(|t| named(t)).cloned().collect()
}
