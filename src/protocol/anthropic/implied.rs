//! Request-implied checks: what the request says must follow in the answer.
//!
//! Run on every exchange whose request is known. Checks named `effect.*` mean "the feature was
//! accepted but had no effect" (the verdict becomes `ignored`); `implied.*` checks are
//! protocol violations in how the feature took effect.

mod server_tools;

use super::refs;
use super::schema;
use crate::check::catalogue::ids;
use crate::check::{CheckId, Finding, Severity};
use serde_json::Value;

/// Check the final message `m` against what `request` asked for.
pub(crate) fn check(request: &Value, m: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let blocks = m
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let stop_reason = m.get("stop_reason").and_then(Value::as_str);
    let truncated = matches!(
        stop_reason,
        Some("max_tokens" | "refusal" | "model_context_window_exceeded")
    );
    check_tools(request, blocks, truncated, &mut out);
    check_thinking(request, blocks, truncated, &mut out);
    server_tools::check(
        m,
        blocks,
        truncated || stop_reason == Some("pause_turn"),
        &mut out,
    );
    check_stop_sequences(request, m, blocks, stop_reason, &mut out);
    // Structured output is judged only on a finished answer: genuine traffic
    // (corpus pyd__test_strict_true_tool_native_output__0) answers with a tool call first.
    if matches!(stop_reason, Some("end_turn") | None) {
        check_structured_output(request, blocks, &mut out);
    }
    check_max_tokens(request, m, &mut out);
    check_model(request, m, &mut out);
    check_prefill(request, blocks, &mut out);
    out
}

fn block_type(b: &Value) -> &str {
    b.get("type").and_then(Value::as_str).unwrap_or("")
}

fn check_tools(request: &Value, blocks: &[Value], truncated: bool, out: &mut Vec<Finding>) {
    let tools = request
        .get("tools")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let calls: Vec<(usize, &Value)> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| block_type(b) == "tool_use")
        .collect();
    for (i, call) in &calls {
        let name = call.get("name").and_then(Value::as_str).unwrap_or("");
        let Some(tool) = tools
            .iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
        else {
            if !tools.is_empty() || request.get("tools").is_none() {
                out.push(
                    Finding::new(
                        ids::IMPLIED_TOOL_NAME,
                        format!("/content/{i}/name"),
                        format!("the model called `{name}`, which the request did not define"),
                    )
                    .reference(refs::TOOLS),
                );
            }
            continue;
        };
        let (Some(schema_v), Some(input)) = (tool.get("input_schema"), call.get("input")) else {
            continue;
        };
        if !input.is_object() || (truncated && *i + 1 == blocks.len()) {
            continue; // a non-object input is a schema finding; a cut-off last input may be partial
        }
        match schema::validate_against(schema_v, input) {
            Ok(findings) => {
                for f in findings {
                    let location =
                        format!("/content/{i}/input{}", f.location.trim_end_matches('/'));
                    out.push(restated(
                        f,
                        ids::IMPLIED_TOOL_INPUT_SCHEMA,
                        location,
                        &format!("tool `{name}` input does not match its input_schema"),
                        refs::TOOLS,
                    ));
                }
            }
            Err(e) => out.push(
                Finding::new(
                    ids::IMPLIED_TOOL_INPUT_SCHEMA,
                    format!("/tools/{name}"),
                    format!("the tool's input_schema does not compile, input not checked: {e}"),
                )
                .with_exception(Severity::Info)
                .reference(refs::TOOLS),
            ),
        }
    }
    let Some(choice) = request.get("tool_choice") else {
        return;
    };
    if truncated {
        return;
    }
    let ctype = choice.get("type").and_then(Value::as_str).unwrap_or("");
    let effect = |msg: String, expected: &str, actual: String| {
        Finding::new(ids::EFFECT_TOOL_CHOICE, "/content", msg)
            .expected(expected)
            .actual(actual)
            .reference(refs::TOOLS)
    };
    let called: Vec<&str> = calls
        .iter()
        .filter_map(|(_, c)| c.get("name").and_then(Value::as_str))
        .collect();
    match ctype {
        "tool" => {
            let want = choice.get("name").and_then(Value::as_str).unwrap_or("");
            if !called.contains(&want) {
                out.push(effect(
                    format!("`tool_choice` forces `{want}`, which was not called"),
                    &format!("a tool_use of {want}"),
                    format!("{called:?}"),
                ));
            }
        }
        "any" if called.is_empty() => out.push(effect(
            "`tool_choice: any` requires a tool call".into(),
            "at least one tool_use",
            "none".into(),
        )),
        "none" if !called.is_empty() => out.push(effect(
            "`tool_choice: none` forbids tool calls".into(),
            "no tool_use",
            format!("{called:?}"),
        )),
        _ => {}
    }
    if choice
        .get("disable_parallel_tool_use")
        .and_then(Value::as_bool)
        == Some(true)
        && called.len() > 1
    {
        out.push(
            Finding::new(
                ids::EFFECT_PARALLEL_TOOL_USE,
                "/content",
                "`disable_parallel_tool_use` allows at most one tool call",
            )
            .expected("at most 1 tool_use")
            .actual(called.len().to_string())
            .reference(refs::TOOLS),
        );
    }
}

fn check_thinking(request: &Value, blocks: &[Value], truncated: bool, out: &mut Vec<Finding>) {
    let mode = request.pointer("/thinking/type").and_then(Value::as_str);
    let thinking: Vec<usize> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(block_type(b), "thinking" | "redacted_thinking"))
        .map(|(i, _)| i)
        .collect();
    match mode {
        Some("enabled") | Some("adaptive") => {
            if thinking.is_empty() {
                // The model thinks at the start of a turn; genuine traffic continuing a tool
                // round trip or a paused turn (corpus pyd__test_anthropic_tool_with_thinking__1,
                // pyd__test_pause_turn_web_search_streaming_vcr__1) has no thinking block.
                if mode == Some("enabled")
                    && starts_fresh_turn(request)
                    && !(truncated && blocks.is_empty())
                {
                    out.push(
                        Finding::new(
                            ids::EFFECT_THINKING,
                            "/content",
                            "thinking was enabled but no thinking block came back",
                        )
                        .expected("a thinking block first")
                        .reference(refs::THINKING),
                    );
                }
                return;
            }
            // Adaptive thinking decides when to think: genuine traffic (corpus
            // pyd__test_anthropic_opus_46_features_adaptive-thinking___0) puts a "\n\n" text
            // block before the thinking block. Only `enabled` promises thinking first, and a
            // whitespace-only text block before it is tolerated.
            let first_other = blocks
                .iter()
                .position(|b| !is_thinking(b) && !is_blank_text(b));
            if let (Some(first_other), Some("enabled")) = (first_other, mode)
                && thinking.iter().any(|&i| i > first_other)
                && !request_has_tool_results(request)
            {
                out.push(
                    Finding::new(
                        ids::IMPLIED_THINKING_ORDER,
                        format!("/content/{first_other}"),
                        "thinking blocks must come before text and tool blocks",
                    )
                    .reference(refs::THINKING),
                );
            }
            for &i in &thinking {
                let b = &blocks[i];
                if block_type(b) != "thinking" {
                    continue;
                }
                let sig = b.get("signature").and_then(Value::as_str).unwrap_or("");
                if sig.is_empty() {
                    out.push(
                        Finding::new(
                            ids::IMPLIED_THINKING_SIGNATURE,
                            format!("/content/{i}/signature"),
                            "a thinking block without a signature cannot be passed back in a tool round trip",
                        )
                        .expected("a non-empty signature")
                        .actual("\"\"")
                        .reference(refs::THINKING),
                    );
                }
            }
        }
        _ => {
            if !thinking.is_empty() {
                // Explicitly disabled thinking that still thinks is a deviation (Qwen hybrid
                // models); with no `thinking` field at all, newer Claude models may think on
                // their own (corpus pyd__test_anthropic_advisor_tool__0), so that is a note.
                let at = format!("/content/{}", thinking[0]);
                out.push(
                    if mode == Some("disabled") {
                        Finding::new(
                            ids::IMPLIED_THINKING_UNREQUESTED,
                            at,
                            "thinking was disabled, yet a thinking block came back",
                        )
                    } else {
                        Finding::new(
                            ids::IMPLIED_THINKING_UNREQUESTED,
                            at,
                            "thinking was not requested, yet a thinking block came back",
                        )
                        .with_exception(Severity::Info)
                    }
                    .reference(refs::THINKING),
                );
            }
        }
    }
}

fn is_thinking(b: &Value) -> bool {
    matches!(block_type(b), "thinking" | "redacted_thinking")
}

fn is_blank_text(b: &Value) -> bool {
    block_type(b) == "text"
        && b.get("text")
            .and_then(Value::as_str)
            .is_some_and(|t| t.trim().is_empty())
}

/// The request ends with a user turn that is not a tool result (a new turn, not a continuation).
fn starts_fresh_turn(request: &Value) -> bool {
    let Some(last) = request
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
    else {
        return true;
    };
    if last.get("role").and_then(Value::as_str) != Some("user") {
        return false;
    }
    !last
        .get("content")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|b| block_type(b) == "tool_result"))
}

/// Interleaved thinking (between tool calls) is legal in a continued tool conversation.
fn request_has_tool_results(request: &Value) -> bool {
    request
        .get("messages")
        .and_then(Value::as_array)
        .is_some_and(|ms| {
            ms.iter().any(|m| {
                m.get("content")
                    .and_then(Value::as_array)
                    .is_some_and(|c| c.iter().any(|b| block_type(b) == "tool_result"))
            })
        })
}

fn all_text(blocks: &[Value]) -> String {
    blocks
        .iter()
        .filter(|b| block_type(b) == "text")
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect()
}

fn check_stop_sequences(
    request: &Value,
    m: &Value,
    blocks: &[Value],
    stop_reason: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let seqs: Vec<&str> = request
        .get("stop_sequences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if seqs.is_empty() {
        return;
    }
    let text = all_text(blocks);
    if stop_reason == Some("stop_sequence") {
        let got = m.get("stop_sequence").and_then(Value::as_str).unwrap_or("");
        if !seqs.contains(&got) {
            out.push(
                Finding::new(
                    ids::IMPLIED_STOP_SEQUENCE,
                    "/stop_sequence",
                    "`stop_sequence` must be one of the request's `stop_sequences`",
                )
                .expected(format!("{seqs:?}"))
                .actual(got)
                .reference(refs::SEMANTICS),
            );
        }
        if !got.is_empty() && text.contains(got) {
            out.push(
                Finding::new(
                    ids::IMPLIED_STOP_SEQUENCE,
                    "/content",
                    "the matched stop sequence must not appear in the text",
                )
                .actual(format!("text contains {got:?}"))
                .reference(refs::SEMANTICS),
            );
        }
    } else if let Some(hit) = seqs.iter().find(|s| text.contains(**s)) {
        out.push(
            Finding::new(
                ids::EFFECT_STOP_SEQUENCES,
                "/content",
                format!(
                    "the text contains the stop sequence {hit:?} yet generation did not stop there"
                ),
            )
            .expected("stop_reason: stop_sequence")
            .actual(format!("stop_reason: {}", stop_reason.unwrap_or("null")))
            .reference(refs::SEMANTICS),
        );
    }
}

fn check_structured_output(request: &Value, blocks: &[Value], out: &mut Vec<Finding>) {
    let Some(format) = super::wire::output_format(request) else {
        return;
    };
    if format.get("type").and_then(Value::as_str) != Some("json_schema") {
        return;
    }
    let text = all_text(blocks);
    let parsed: Value = match serde_json::from_str(text.trim()) {
        Ok(v) => v,
        Err(e) => {
            out.push(
                Finding::new(
                    ids::EFFECT_STRUCTURED_OUTPUT,
                    "/content",
                    format!("structured output was requested but the text is not JSON ({e})"),
                )
                .expected("JSON valid against output_config.format.schema")
                .actual(crate::text::truncate(&text, 80))
                .reference(refs::STRUCTURED),
            );
            return;
        }
    };
    let Some(schema_v) = format.get("schema") else {
        return;
    };
    match schema::validate_against(schema_v, &parsed) {
        Ok(findings) => {
            for f in findings {
                let location = f.location.clone();
                out.push(restated(
                    f,
                    ids::IMPLIED_STRUCTURED_OUTPUT_SCHEMA,
                    location,
                    "the JSON text does not match the requested schema",
                    refs::STRUCTURED,
                ));
            }
        }
        Err(e) => out.push(
            Finding::new(
                ids::IMPLIED_STRUCTURED_OUTPUT_SCHEMA,
                "/output_config/format/schema",
                format!("the schema does not compile: {e}"),
            )
            .with_exception(Severity::Info),
        ),
    }
}

fn check_max_tokens(request: &Value, m: &Value, out: &mut Vec<Finding>) {
    let (Some(max), Some(used)) = (
        request.get("max_tokens").and_then(Value::as_u64),
        m.pointer("/usage/output_tokens").and_then(Value::as_u64),
    ) else {
        return;
    };
    if max > 0 && used > max {
        out.push(
            Finding::new(
                ids::EFFECT_MAX_TOKENS,
                "/usage/output_tokens",
                "more output tokens than `max_tokens` allows",
            )
            .expected(format!("<= {max}"))
            .actual(used.to_string())
            .reference(refs::SEMANTICS),
        );
    }
}

fn check_model(request: &Value, m: &Value, out: &mut Vec<Finding>) {
    let (Some(asked), Some(got)) = (
        request.get("model").and_then(Value::as_str),
        m.get("model").and_then(Value::as_str),
    ) else {
        return;
    };
    if asked != got && !got.starts_with(asked) {
        out.push(
            Finding::new(
                ids::IMPLIED_MODEL_REWRITE,
                "/model",
                "the response names another model than the request",
            )
            .expected(asked)
            .actual(got)
            .reference(refs::MESSAGE),
        );
    }
}

fn check_prefill(request: &Value, blocks: &[Value], out: &mut Vec<Finding>) {
    let Some(last) = request
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
    else {
        return;
    };
    if last.get("role").and_then(Value::as_str) != Some("assistant") {
        return;
    }
    let prefill = match last.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(bs)) => all_text(bs),
        _ => return,
    };
    let prefill = prefill.trim();
    if prefill.len() < 8 {
        return;
    }
    let text = all_text(blocks);
    if text.trim_start().starts_with(prefill) {
        out.push(
            Finding::new(
                ids::IMPLIED_PREFILL_REPEATED,
                "/content",
                "the answer repeats the assistant prefill instead of continuing it",
            )
            .actual(crate::text::truncate(prefill, 60))
            .reference(refs::SEMANTICS),
        );
    }
}

/// A `schema.user` finding of a request-supplied schema, restated as `check`: the location
/// and reference given, the message prefixed with `what`, expected and actual kept.
fn restated(f: Finding, check: CheckId, location: String, what: &str, reference: &str) -> Finding {
    let mut out =
        Finding::new(check, location, format!("{what}: {}", f.message)).reference(reference);
    out.expected = f.expected;
    out.actual = f.actual;
    out
}

#[cfg(test)]
mod tests;
