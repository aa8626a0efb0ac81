//! Checks on a final `Message` that need no request: consistency between fields that the
//! protocol ties together, and the id conventions clients rely on.

use super::refs;
use crate::check::Finding;
use crate::check::catalogue::ids;
use serde_json::Value;

/// Check a final message (a non-streamed body or the accumulated stream).
pub(crate) fn check_message(m: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let stop_reason = m.get("stop_reason").and_then(Value::as_str);
    let stop_sequence = m.get("stop_sequence").filter(|v| !v.is_null());
    match (stop_reason, stop_sequence) {
        (Some("stop_sequence"), None) => out.push(
            Finding::new(
                ids::MESSAGE_STOP_SEQUENCE,
                "/stop_sequence",
                "`stop_reason` is `stop_sequence` but `stop_sequence` does not say which one matched",
            )
            .expected("the matched stop sequence")
            .actual("null")
            .reference(refs::MESSAGE),
        ),
        (Some(sr), Some(seq)) if sr != "stop_sequence" => out.push(
            Finding::new(
                ids::MESSAGE_STOP_SEQUENCE,
                "/stop_sequence",
                format!("`stop_sequence` is set although `stop_reason` is `{sr}`"),
            )
            .expected("null")
            .actual(seq.to_string())
            .reference(refs::MESSAGE),
        ),
        _ => {}
    }
    if stop_reason == Some("refusal")
        && m.get("stop_details")
            .and_then(|d| d.get("type"))
            .and_then(Value::as_str)
            != Some("refusal")
    {
        out.push(
            Finding::new(
                ids::MESSAGE_REFUSAL_STOP_DETAILS,
                "/stop_details",
                "a refusal carries `stop_details` of type `refusal` (its category and explanation) on Anthropic",
            )
            .expected("{type: refusal, category, explanation}")
            .actual(
                m.get("stop_details")
                    .map_or_else(|| "absent".to_string(), Value::to_string),
            )
            .reference(refs::STOP_REASON),
        );
    }
    let blocks = m
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let tool_uses = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
        .count();
    if stop_reason == Some("tool_use") && tool_uses == 0 {
        out.push(
            Finding::new(
                ids::MESSAGE_STOP_REASON_TOOL_USE,
                "/stop_reason",
                "`stop_reason` is `tool_use` but the message has no `tool_use` block",
            )
            .reference(refs::STOP_REASON),
        );
    }
    if tool_uses > 0
        && !matches!(
            stop_reason,
            Some("tool_use" | "max_tokens" | "pause_turn" | "refusal") | None
        )
    {
        out.push(
            Finding::new(
                ids::MESSAGE_STOP_REASON_TOOL_USE,
                "/stop_reason",
                "the message has a `tool_use` block, so `stop_reason` must be `tool_use`; clients look at it to run the tool",
            )
            .expected("tool_use")
            .actual(stop_reason.unwrap_or("null"))
            .reference(refs::STOP_REASON),
        );
    }
    if let Some(id) = m.get("id").and_then(Value::as_str)
        && !id.starts_with("msg_")
    {
        out.push(
            Finding::new(
                ids::MESSAGE_ID_PREFIX,
                "/id",
                "message ids start with `msg_` on Anthropic",
            )
            .expected("msg_…")
            .actual(id)
            .reference(refs::MESSAGE),
        );
    }
    if let Some(id) = m.get("id").and_then(Value::as_str)
        && let Some(rest) = id.strip_prefix("msg_")
        && !id_body_looks_like_anthropic(rest)
    {
        out.push(
            Finding::new(
                ids::MESSAGE_ID_FORM,
                "/id",
                "message ids on Anthropic are `msg_` and 20 or more base-62 characters; a uuid with dashes or a timestamp is another system's id",
            )
            .expected("msg_01… (base-62, 20+ characters)")
            .actual(id)
            .reference(refs::MESSAGE),
        );
    }
    for (i, b) in blocks.iter().enumerate() {
        if b.get("type").and_then(Value::as_str) != Some("tool_use") {
            continue;
        }
        if let Some(id) = b.get("id").and_then(Value::as_str)
            && !id.starts_with("toolu_")
        {
            out.push(
                Finding::new(
                    ids::MESSAGE_TOOL_ID_PREFIX,
                    format!("/content/{i}/id"),
                    "tool_use ids start with `toolu_` on Anthropic",
                )
                .expected("toolu_…")
                .actual(id)
                .reference(refs::MESSAGE),
            );
        }
    }
    if let Some(u) = m.get("usage") {
        check_usage_consistency(u, &mut out);
    }
    out
}

fn check_usage_consistency(u: &Value, out: &mut Vec<Finding>) {
    // The schema allows null here, but Anthropic always sends numbers (0 when nothing was
    // cached): clients that add the counts up (cost trackers, Claude Code) break on null.
    for key in ["cache_creation_input_tokens", "cache_read_input_tokens"] {
        if u.get(key).is_some_and(Value::is_null) {
            out.push(
                Finding::new(
                    ids::MESSAGE_USAGE_NULL_COUNT,
                    format!("/usage/{key}"),
                    format!(
                        "`{key}` is null; Anthropic sends a number (0 when nothing was cached)"
                    ),
                )
                .expected("an integer")
                .actual("null")
                .reference(refs::USAGE),
            );
        }
    }
    let Some(cc) = u.get("cache_creation").filter(|v| v.is_object()) else {
        return;
    };
    let total = u.get("cache_creation_input_tokens").and_then(Value::as_u64);
    let parts: Option<u64> = ["ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"]
        .iter()
        .map(|k| cc.get(k).and_then(Value::as_u64))
        .sum();
    if let (Some(total), Some(parts)) = (total, parts)
        && total != parts
    {
        out.push(
            Finding::new(
                ids::MESSAGE_USAGE_CACHE_CREATION_SPLIT,
                "/usage/cache_creation",
                "`cache_creation` 5m + 1h should add up to `cache_creation_input_tokens`",
            )
            .expected(total.to_string())
            .actual(parts.to_string())
            .reference(refs::USAGE),
        );
    }
}

/// After `msg_`: at least 20 characters of `[A-Za-z0-9_]` (Bedrock's `msg_bdrk_…` included)
/// with letters among them — not a uuid with dashes, not an epoch timestamp.
fn id_body_looks_like_anthropic(rest: &str) -> bool {
    rest.len() >= 20
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && rest.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn checks(m: Value) -> Vec<String> {
        check_message(&m)
            .into_iter()
            .map(|f| format!("{}:{}", f.severity(), f.check))
            .collect()
    }

    #[test]
    fn consistent_messages_pass() {
        assert!(checks(json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","stop_reason":"stop_sequence","stop_sequence":"END","content":[]})).is_empty());
        assert!(checks(json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","stop_reason":"tool_use","stop_sequence":null,"content":[{"type":"tool_use","id":"toolu_1"}]})).is_empty());
        assert!(checks(json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","stop_reason":"max_tokens","content":[{"type":"tool_use","id":"toolu_1"}]})).is_empty());
    }

    #[test]
    fn null_cache_counts_are_a_should() {
        assert_eq!(
            checks(
                json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","usage":{"input_tokens":1,"output_tokens":1,"cache_creation_input_tokens":null,"cache_read_input_tokens":0}})
            ),
            vec!["should:message.usage.null-count"]
        );
    }

    #[test]
    fn each_inconsistency_is_named() {
        assert_eq!(
            checks(
                json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","stop_reason":"stop_sequence","stop_sequence":null})
            ),
            vec!["must:message.stop-sequence"]
        );
        assert_eq!(
            checks(
                json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","stop_reason":"end_turn","stop_sequence":"X"})
            ),
            vec!["must:message.stop-sequence"]
        );
        assert_eq!(
            checks(
                json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","stop_reason":"tool_use","content":[]})
            ),
            vec!["must:message.stop-reason-tool-use"]
        );
        assert_eq!(
            checks(
                json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","stop_reason":"end_turn","content":[{"type":"tool_use","id":"toolu_1"}]})
            ),
            vec!["must:message.stop-reason-tool-use"]
        );
        assert_eq!(
            checks(
                json!({"id":"chatcmpl-1","stop_reason":"tool_use","content":[{"type":"tool_use","id":"call_1"}]})
            ),
            vec!["should:message.id-prefix", "should:message.tool-id-prefix"]
        );
        assert_eq!(
            checks(
                json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","usage":{"cache_creation_input_tokens":10,"cache_creation":{"ephemeral_5m_input_tokens":3,"ephemeral_1h_input_tokens":0}}})
            ),
            vec!["should:message.usage.cache-creation-split"]
        );
    }
}
