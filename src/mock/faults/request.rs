//! Request-layer faults that change what the generator is asked: each rewrites a copy of the
//! validated request before generation (the clean generator never sees a fault); which
//! requests the server fails on (`5xx-on-block-content`) or rejects for the thinking in their
//! history (`thinking-passback-rejected`, `thinking-required-after-tool`); and when it cools down
//! (`cooldown-429`, [`Cooldown`]). The other request-layer faults
//! (auth, rate limits, models, endpoints, cache accounting, signature checks) act in
//! `server.rs`, where requests are handled.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Fault, FaultSet};

/// The request as the generator sees it under `faults` (borrowed when nothing changes).
pub(crate) fn for_generation<'a>(body: &'a Value, faults: &FaultSet) -> Cow<'a, Value> {
    let relevant = [
        Fault::ThinkingIgnored,
        Fault::ThinkingByDefault,
        Fault::ToolChoiceIgnored,
        Fault::StructuredOutputIgnored,
        Fault::MaxTokensIgnored,
        Fault::ThinkingStopsAfterToolTurn,
        Fault::EffortIgnored,
        Fault::ServerToolDropped,
    ];
    if !relevant.iter().any(|f| faults.has(*f)) {
        return Cow::Borrowed(body);
    }
    let mut b = body.clone();
    let Some(o) = b.as_object_mut() else {
        return Cow::Borrowed(body);
    };
    // thinking-ignored: the thinking request is dropped.
    if faults.has(Fault::ThinkingIgnored) {
        o.remove("thinking");
    }
    // thinking-by-default: thinking as if enabled whatever the request says.
    if faults.has(Fault::ThinkingByDefault) {
        let on = matches!(
            o.get("thinking")
                .and_then(|t| t.get("type"))
                .and_then(Value::as_str),
            Some("enabled" | "adaptive")
        );
        if !on {
            o.insert(
                "thinking".into(),
                json!({"type": "enabled", "budget_tokens": 1024}),
            );
        }
    }
    // tool-choice-ignored: treated as auto (keeping disable_parallel_tool_use).
    if faults.has(Fault::ToolChoiceIgnored)
        && let Some(tc) = o.get_mut("tool_choice").and_then(Value::as_object_mut)
    {
        tc.insert("type".into(), json!("auto"));
        tc.remove("name");
    }
    // structured-output-ignored: the format is dropped, the answer is prose.
    if faults.has(Fault::StructuredOutputIgnored) {
        o.remove("output_format");
        if let Some(c) = o.get_mut("output_config").and_then(Value::as_object_mut) {
            c.remove("format");
        }
    }
    // thinking-stops-after-tool-turn: a turn answering tool results is answered without thinking.
    if faults.has(Fault::ThinkingStopsAfterToolTurn) && answers_tool_results(body) {
        o.remove("thinking");
    }
    // max-tokens-ignored: no output budget.
    if faults.has(Fault::MaxTokensIgnored) {
        o.insert("max_tokens".into(), json!(u64::MAX));
    }
    // effort-ignored: every level answered as the default (`high`).
    if faults.has(Fault::EffortIgnored)
        && let Some(c) = o.get_mut("output_config").and_then(Value::as_object_mut)
        && c.contains_key("effort")
    {
        c.insert("effort".into(), json!("high"));
    }
    // server-tool-dropped: only the custom tools (no versioned `type`) reach the model.
    if faults.has(Fault::ServerToolDropped) {
        let custom =
            |t: &Value| matches!(t.get("type").and_then(Value::as_str), None | Some("custom"));
        if let Some(tools) = o.get_mut("tools").and_then(Value::as_array_mut) {
            let dropped: Vec<String> = tools
                .iter()
                .filter(|t| !custom(t))
                .filter_map(|t| t.get("name").and_then(Value::as_str).map(String::from))
                .collect();
            tools.retain(custom);
            let named = o
                .get("tool_choice")
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .is_some_and(|n| dropped.iter().any(|d| d == n));
            if named {
                o.insert("tool_choice".into(), json!({"type": "auto"}));
            }
        }
    }
    Cow::Owned(b)
}

/// history-dropped: `prompt` as the model sees it when only the newest user turn (and what
/// follows it, a prefill) reaches it; `None` when nothing is dropped.
pub(crate) fn without_history(prompt: &Value, faults: &FaultSet) -> Option<Value> {
    if !faults.has(Fault::HistoryDropped) {
        return None;
    }
    let messages = prompt.get("messages")?.as_array()?;
    let last_user = messages
        .iter()
        .rposition(|m| m.get("role").and_then(Value::as_str) == Some("user"))?;
    if last_user == 0 {
        return None;
    }
    let mut out = prompt.clone();
    out["messages"] = Value::Array(messages[last_user..].to_vec());
    Some(out)
}

/// Whether the last user turn of `body` carries `tool_result` blocks (the request continues a
/// tool loop).
pub(crate) fn answers_tool_results(body: &Value) -> bool {
    body.get("messages")
        .and_then(Value::as_array)
        .and_then(|ms| {
            ms.iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        })
        .and_then(|m| m.get("content").and_then(Value::as_array))
        .is_some_and(|bs| bs.iter().any(|b| block_type(b) == "tool_result"))
}

fn block_type(b: &Value) -> &str {
    b.get("type").and_then(Value::as_str).unwrap_or_default()
}

/// The 400 message of `thinking-passback-rejected` and `thinking-required-after-tool` for a
/// validated `/v1/messages` request, `None` when the request is answered.
pub(crate) fn rejects_thinking_history(body: &Value, faults: &FaultSet) -> Option<String> {
    let msgs = body.get("messages").and_then(Value::as_array)?;
    let assistant = |m: &&Value| m.get("role").and_then(Value::as_str) == Some("assistant");
    let blocks = |m: &Value| -> Vec<Value> {
        m.get("content")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let thinks = |b: &Value| matches!(block_type(b), "thinking" | "redacted_thinking");
    let calls = |bs: &[Value]| bs.iter().any(|b| block_type(b) == "tool_use");
    // thinking-passback-rejected: reasoning in an assistant turn of a tool-use history.
    if faults.has(Fault::ThinkingPassbackRejected)
        && msgs.iter().filter(assistant).any(|m| calls(&blocks(m)))
        && let Some((i, _)) = msgs
            .iter()
            .enumerate()
            .find(|(_, m)| assistant(m) && blocks(m).iter().any(thinks))
    {
        return Some(format!(
            "messages.{i}.content: thinking blocks are not supported in assistant messages; send the assistant's text and tool calls only"
        ));
    }
    // thinking-required-after-tool: every assistant tool call must carry its reasoning.
    let thinking_on = matches!(
        body.pointer("/thinking/type").and_then(Value::as_str),
        Some("enabled" | "adaptive")
    );
    if faults.has(Fault::ThinkingRequiredAfterTool)
        && thinking_on
        && let Some((i, _)) = msgs.iter().enumerate().find(|(_, m)| {
            let bs = blocks(m);
            assistant(m) && calls(&bs) && !bs.iter().any(thinks)
        })
    {
        return Some(format!(
            "The reasoning_content in the thinking mode must be passed back to the API: reasoning_content is missing in assistant tool call message at index {i}"
        ));
    }
    None
}

/// ignored-fields-rejected: the first documented field of `body` a strict translator rejects
/// (`service_tier`, `container`, `mcp_servers`, `inference_geo`, `metadata`), as the 400's
/// message.
pub(crate) fn rejected_field(body: &Value, faults: &FaultSet) -> Option<String> {
    if !faults.has(Fault::IgnoredFieldsRejected) {
        return None;
    }
    crate::protocol::anthropic::DOCUMENTED_OPTIONAL
        .iter()
        .find(|k| body.get(**k).is_some())
        .map(|k| format!("{k}: Extra inputs are not permitted"))
}

/// search-result-rejected: the 400 message for a request holding a `search_result` block (in a
/// message or inside a `tool_result`), `None` when it holds none or the fault is off.
pub(crate) fn rejects_search_result(body: &Value, faults: &FaultSet) -> Option<String> {
    if !faults.has(Fault::SearchResultRejected) {
        return None;
    }
    let msgs = body.get("messages")?.as_array()?;
    for (i, m) in msgs.iter().enumerate() {
        let blocks = m.get("content").and_then(Value::as_array);
        for (j, b) in blocks.into_iter().flatten().enumerate() {
            let inner = b.get("content").and_then(Value::as_array);
            let nested = inner
                .into_iter()
                .flatten()
                .position(|x| x.get("type").and_then(Value::as_str) == Some("search_result"));
            let path = match (b.get("type").and_then(Value::as_str), nested) {
                (Some("search_result"), _) => format!("messages.{i}.content.{j}"),
                (Some("tool_result"), Some(k)) => {
                    format!("messages.{i}.content.{j}.tool_result.content.{k}")
                }
                _ => continue,
            };
            return Some(format!(
                "{path}: Input tag 'search_result' found using 'type' does not match any of the expected tags: 'document', 'image', 'text', 'tool_result', 'tool_use'"
            ));
        }
    }
    None
}

/// 5xx-on-block-content: whether the server fails on this `/v1/messages` request (some
/// message's content is an array of blocks).
pub(crate) fn fails_on_blocks(body: &Value, faults: &FaultSet) -> bool {
    faults.has(Fault::ServerErrorOnBlocks)
        && body
            .get("messages")
            .and_then(Value::as_array)
            .is_some_and(|ms| {
                ms.iter()
                    .any(|m| m.get("content").is_some_and(Value::is_array))
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_dropped_keeps_the_newest_user_turn_and_its_prefill() {
        let faults = FaultSet::new([Fault::HistoryDropped]);
        let turn = |role: &str, text: &str| json!({"role": role, "content": text});
        let body = json!({"model": "m", "max_tokens": 5, "messages": [
            turn("user", "My name is Ada."), turn("assistant", "Hello Ada."),
            turn("user", "What is my name?"), turn("assistant", "Your name is")]});
        let kept = without_history(&body, &faults).unwrap();
        assert_eq!(
            kept["messages"],
            json!([
                turn("user", "What is my name?"),
                turn("assistant", "Your name is")
            ])
        );
        assert_eq!(kept["model"], "m");
        // One turn: nothing to drop; without the fault: untouched.
        let single = json!({"messages": [turn("user", "hi")]});
        assert!(without_history(&single, &faults).is_none());
        assert!(without_history(&body, &FaultSet::default()).is_none());
    }

    #[test]
    fn untouched_without_faults_and_rewritten_with_them() {
        let body = json!({"model": "m", "max_tokens": 5, "thinking": {"type": "enabled", "budget_tokens": 1024},
            "tool_choice": {"type": "tool", "name": "t", "disable_parallel_tool_use": true},
            "output_config": {"format": {"type": "json_schema", "schema": {}}, "effort": "low"},
            "messages": []});
        assert!(matches!(
            for_generation(&body, &FaultSet::default()),
            Cow::Borrowed(_)
        ));
        let all = FaultSet::new([
            Fault::ThinkingIgnored,
            Fault::ToolChoiceIgnored,
            Fault::StructuredOutputIgnored,
            Fault::MaxTokensIgnored,
        ]);
        let b = for_generation(&body, &all);
        assert!(b.get("thinking").is_none());
        assert_eq!(
            b["tool_choice"],
            json!({"type": "auto", "disable_parallel_tool_use": true})
        );
        assert_eq!(b["output_config"], json!({"effort": "low"}));
        assert_eq!(b["max_tokens"], json!(u64::MAX));
        let effort = for_generation(&body, &FaultSet::new([Fault::EffortIgnored]));
        assert_eq!(effort["output_config"]["effort"], "high");
        let plain = json!({"messages": []});
        let by_default = for_generation(&plain, &FaultSet::new([Fault::ThinkingByDefault]));
        assert_eq!(by_default["thinking"]["type"], "enabled");
    }

    #[test]
    fn thinking_history_rejected_as_each_fault_says() {
        let call = json!({"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}});
        let result = json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]});
        let think = json!({"type": "thinking", "thinking": "x", "signature": "s"});
        let with = json!({"thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": [
            {"role": "user", "content": "go"}, {"role": "assistant", "content": [think, call]}, result]});
        let without = json!({"thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": [
            {"role": "user", "content": "go"}, {"role": "assistant", "content": [call]}, result,
            {"role": "assistant", "content": "done"}, {"role": "user", "content": "and now?"}]});
        let passback = FaultSet::new([Fault::ThinkingPassbackRejected]);
        let required = FaultSet::new([Fault::ThinkingRequiredAfterTool]);
        assert!(
            rejects_thinking_history(&with, &passback)
                .unwrap()
                .starts_with("messages.1.content")
        );
        assert_eq!(rejects_thinking_history(&without, &passback), None);
        assert!(
            rejects_thinking_history(&without, &required)
                .unwrap()
                .ends_with("at index 1")
        );
        assert_eq!(rejects_thinking_history(&with, &required), None);
        assert_eq!(rejects_thinking_history(&with, &FaultSet::default()), None);
        assert!(answers_tool_results(&with));
        assert!(!answers_tool_results(&without));
        let stops = FaultSet::new([Fault::ThinkingStopsAfterToolTurn]);
        assert!(for_generation(&with, &stops).get("thinking").is_none());
        assert!(for_generation(&without, &stops).get("thinking").is_some());
    }

    #[test]
    fn documented_fields_rejected_only_under_the_fault() {
        let on = FaultSet::new([Fault::IgnoredFieldsRejected]);
        let body = json!({"model": "m", "metadata": {"user_id": "u"}, "messages": []});
        assert_eq!(
            rejected_field(&body, &on).as_deref(),
            Some("metadata: Extra inputs are not permitted")
        );
        assert_eq!(rejected_field(&body, &FaultSet::default()), None);
        assert_eq!(rejected_field(&json!({"messages": []}), &on), None);
    }

    #[test]
    fn only_block_content_fails() {
        let on = FaultSet::new([Fault::ServerErrorOnBlocks]);
        let blocks = json!({"messages": [{"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "x"}]}]});
        let strings = json!({"messages": [{"role": "user", "content": "hi"}]});
        assert!(fails_on_blocks(&blocks, &on));
        assert!(!fails_on_blocks(&strings, &on));
        assert!(!fails_on_blocks(&blocks, &FaultSet::default()));
    }
}

/// `cooldown-429`: the window after the server's first request in which every request is
/// answered 429 without `retry-after`.
#[derive(Debug, Default)]
pub(crate) struct Cooldown {
    started: OnceLock<Instant>,
}

impl Cooldown {
    /// How long the cooldown lasts.
    pub(crate) const WINDOW: Duration = Duration::from_secs(6);

    /// Whether a request arriving now is inside the window (the first request opens it).
    pub(crate) fn throttles(&self) -> bool {
        self.started.get_or_init(Instant::now).elapsed() < Self::WINDOW
    }
}
