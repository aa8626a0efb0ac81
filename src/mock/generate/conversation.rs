//! What the generator reads from a request: the last user prompt (without client-injected
//! `<system-reminder>` sections), tool results being answered (their text, plain-text documents
//! included, and which tools failed), an assistant prefill.

use serde_json::Value;

/// What the generator reads from the conversation.
#[derive(Debug, Default)]
pub(super) struct Conversation {
    /// Text of the last user turn (tool results included).
    pub(super) user_text: String,
    /// The last user turn carries tool_result blocks.
    pub(super) answers_tools: bool,
    pub(super) tool_result_text: String,
    pub(super) prefill: Option<String>,
    /// Text of the first user turn: the task of an agent loop.
    pub(super) task_text: String,
    /// Names of the tools the assistant turns called so far.
    pub(super) called: Vec<String>,
    /// Names of the tools whose results in the last user turn are errors (`is_error: true`).
    pub(super) failed: Vec<String>,
}

impl Conversation {
    pub(super) fn read(body: &Value) -> Self {
        let mut c = Conversation::default();
        let msgs = body
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(last) = msgs.last()
            && last.get("role").and_then(Value::as_str) == Some("assistant")
        {
            c.prefill = Some(text_of(last.get("content")));
        }
        if let Some(first) = msgs
            .iter()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        {
            c.task_text = text_of(first.get("content"));
        }
        c.called = msgs
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
            .filter_map(|m| m.get("content").and_then(Value::as_array))
            .flatten()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
            .filter_map(|b| b.get("name").and_then(Value::as_str).map(str::to_string))
            .collect();
        if let Some(user) = msgs
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        {
            c.user_text = text_of(user.get("content"));
            if let Some(blocks) = user.get("content").and_then(Value::as_array) {
                for b in blocks {
                    if b.get("type").and_then(Value::as_str) == Some("tool_result") {
                        c.answers_tools = true;
                        c.tool_result_text.push_str(&result_text(b.get("content")));
                        if b.get("is_error").and_then(Value::as_bool) == Some(true)
                            && let Some(name) = called_as(&msgs, b)
                        {
                            c.failed.push(name);
                        }
                    }
                }
            }
        }
        c
    }
}

/// The name of the tool a `tool_result` block answers (from the `tool_use` of that id).
fn called_as(msgs: &[Value], result: &Value) -> Option<String> {
    let id = result.get("tool_use_id").and_then(Value::as_str)?;
    msgs.iter()
        .filter_map(|m| m.get("content").and_then(Value::as_array))
        .flatten()
        .find(|b| {
            b.get("type").and_then(Value::as_str) == Some("tool_use")
                && b.get("id").and_then(Value::as_str) == Some(id)
        })
        .and_then(|b| b.get("name").and_then(Value::as_str).map(str::to_string))
}

/// What a tool result says: its text, and the text of plain-text documents it carries.
fn result_text(content: Option<&Value>) -> String {
    let Some(Value::Array(blocks)) = content else {
        return text_of(content);
    };
    blocks
        .iter()
        .filter_map(|b| match b.get("type").and_then(Value::as_str) {
            Some("document")
                if b.pointer("/source/type").and_then(Value::as_str) == Some("text") =>
            {
                b.pointer("/source/data")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }
            _ => Some(text_of(Some(&Value::Array(vec![b.clone()])))).filter(|t| !t.is_empty()),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words a user typed: `<system-reminder>` sections, which clients such as Claude Code
/// add to the user turn, are not part of the prompt.
fn prompt_text(s: &str) -> String {
    const OPEN: &str = "<system-reminder>";
    const CLOSE: &str = "</system-reminder>";
    if !s.contains(OPEN) {
        return s.to_string();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        rest = match rest[at..].find(CLOSE) {
            Some(end) => &rest[at + end + CLOSE.len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out.trim().to_string()
}

fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => prompt_text(s),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| match b.get("type").and_then(Value::as_str) {
                Some("text") => b
                    .get("text")
                    .and_then(Value::as_str)
                    .map(prompt_text)
                    .filter(|t| !t.is_empty()),
                Some("tool_result") => Some(text_of(b.get("content"))),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}
