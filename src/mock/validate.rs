//! Request validation as Anthropic does it, in two layers:
//!
//! 1. **Shape**: the embedded request schema (`protocol/anthropic/schemas/request.json`, the one
//!    `conform lint` uses), its first violation worded like Anthropic's pydantic errors: a dotted
//!    path with the tag of each tagged union on the way (`tools.0.custom.input_schema: Field
//!    required`, `messages.0.content.0.image.source.base64.media_type: Input should be ...`).
//! 2. **Semantics** the schema cannot state: model limits on `max_tokens`, the thinking budget,
//!    `tool_choice` against the tools, the first turn, non-empty turns, which role may carry which
//!    block, a server tool's domain lists, `tool_use`/`tool_result` pairing, thinking signatures
//!    (verified with the server's seed, see `generate::sign_thinking`), base64 payloads, at most 4
//!    cache breakpoints, and the 2026-10-21 version's removals.
//!
//! Consecutive turns of the same role are accepted (Anthropic merges them). As Anthropic, a
//! missing `anthropic-version` header is a 400 `anthropic-version: header is required` (checked
//! by the server's gate for every endpoint, and here again); unknown versions are rejected. The
//! seed provider's `video` block is accepted unless `--no-video`.

use base64::Engine;
use serde_json::{Value, json};

use super::hash::{redacted_is_sealed, sign_thinking};
use crate::protocol::anthropic::schema::{self, Shape, Violation, ViolationKind};

/// What the validator needs besides the body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules<'a> {
    /// The `anthropic-version` header (None when absent).
    pub version: Option<&'a str>,
    pub video: bool,
    pub seed: u64,
    /// Verify the signatures of thinking blocks passed back.
    pub check_signatures: bool,
    /// Accept a thinking block passed back without a signature (a server that signs only some
    /// of its thinking: `signature-dropped-after-tool-turn`); signed blocks are still verified.
    pub accept_unsigned: bool,
}

/// The endpoint being validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Messages,
    CountTokens,
}

/// The largest `max_tokens` the mock's models accept.
pub(crate) const MAX_OUTPUT_TOKENS: u64 = 128_000;
/// The newest API version, which removed the sampling parameters.
const V2026: &str = "2026-10-21";

type R = Result<(), String>;

fn err<T>(path: &str, msg: impl std::fmt::Display) -> Result<T, String> {
    Err(format!("{path}: {msg}"))
}

/// Validates a request body. `Err` holds the message of the 400.
pub(crate) fn validate(body: &Value, endpoint: Endpoint, rules: &Rules) -> R {
    match rules.version {
        None => return err("anthropic-version", "header is required"),
        Some("2023-06-01") | Some("2023-01-01") | Some(V2026) => {}
        Some(v) => {
            return err(
                "anthropic-version",
                format!("invalid version `{v}`; use 2023-06-01 or {V2026}"),
            );
        }
    }
    if !body.is_object() {
        return err("body", "Input should be a valid dictionary");
    }
    let shape = match endpoint {
        Endpoint::Messages => Shape::Request,
        Endpoint::CountTokens => Shape::CountTokensRequest,
    };
    match video_free(body, rules)? {
        Some(stripped) => check_shape(&stripped, shape)?,
        None => check_shape(body, shape)?,
    }
    semantics(body, endpoint, rules)
}

fn check_shape(body: &Value, shape: Shape) -> R {
    match schema::violations(shape, body).into_iter().next() {
        None => Ok(()),
        Some(v) => Err(word(body, &v)),
    }
}

// ---------------------------------------------------------------------------------------------
// Shape errors in Anthropic's words.

/// Anthropic's dotted path for `path`, with the tag of each tagged union passed through. The tag
/// is only added when the path goes on inside the tagged object (to a field other than `type`).
fn dotted(body: &Value, path: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut cur = Some(body);
    for (i, seg) in path.iter().enumerate() {
        out.push(seg.clone());
        cur = cur.and_then(|c| match c {
            Value::Array(a) => seg.parse::<usize>().ok().and_then(|n| a.get(n)),
            Value::Object(o) => o.get(seg),
            _ => None,
        });
        let goes_inside = path.get(i + 1).is_some_and(|next| next != "type");
        if goes_inside && let Some(tag) = cur.and_then(|c| tag_at(&out, c)) {
            out.push(tag);
        }
    }
    out.join(".")
}

/// The tag of the tagged-union value `v` found at `path`, if that position holds a union.
fn tag_at(path: &[String], v: &Value) -> Option<String> {
    let n = path.len();
    let is_index = |i: usize| path.get(i).is_some_and(|s| s.parse::<usize>().is_ok());
    let ty = v.get("type").and_then(Value::as_str);
    let union = match n {
        1 => matches!(path[0].as_str(), "thinking" | "tool_choice"),
        2 if path[0] == "tools" => return Some(ty.unwrap_or("custom").to_string()),
        _ => {
            let content_item = n >= 3
                && path[n - 2] == "content"
                && is_index(n - 1)
                && (is_index(n - 3) || path[n - 3] == "tool_result");
            let source = path[n - 1] == "source"
                && n >= 2
                && matches!(path[n - 2].as_str(), "image" | "document");
            content_item || source
        }
    };
    union.then(|| ty.map(str::to_string)).flatten()
}

fn quote_list(options: &[Value]) -> String {
    let words: Vec<String> = options
        .iter()
        .map(|o| match o {
            Value::String(s) => format!("'{s}'"),
            other => other.to_string(),
        })
        .collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn type_words(types: &[String]) -> String {
    let word = |t: &str| match t {
        "object" => "a valid dictionary",
        "array" => "a valid list",
        "string" => "a valid string",
        "integer" => "a valid integer",
        "number" => "a valid number",
        "boolean" => "a valid boolean",
        "null" => "None",
        _ => "valid",
    };
    let words: Vec<&str> = types
        .iter()
        .filter(|t| *t != "null")
        .map(|t| word(t))
        .collect();
    if words.is_empty() {
        "None".to_string()
    } else {
        words.join(" or ")
    }
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The 400 message of one schema violation.
fn word(body: &Value, v: &Violation) -> String {
    let at = |extra: Option<&str>| {
        let mut p = v.path.clone();
        if let Some(e) = extra {
            p.push(e.to_string());
        }
        let d = dotted(body, &p);
        if d.is_empty() { "body".to_string() } else { d }
    };
    match &v.kind {
        ViolationKind::Missing(field) => format!("{}: Field required", at(Some(field))),
        ViolationKind::Unexpected(fields) => format!(
            "{}: Extra inputs are not permitted",
            at(fields.first().map(String::as_str))
        ),
        ViolationKind::Type(types) => {
            format!("{}: Input should be {}", at(None), type_words(types))
        }
        ViolationKind::NotOneOf(options) => {
            format!("{}: Input should be {}", at(None), quote_list(options))
        }
        ViolationKind::Below(limit) => format!(
            "{}: Input should be greater than or equal to {limit}",
            at(None)
        ),
        ViolationKind::Above(limit) => {
            format!(
                "{}: Input should be less than or equal to {limit}",
                at(None)
            )
        }
        ViolationKind::TooShort(_) if v.path.last().is_some_and(|k| k == "text") => {
            // A text block's own words; the tag is not part of this message's path.
            let block = dotted(body, &v.path[..v.path.len() - 1]);
            format!("{block}.text: text content blocks must be non-empty")
        }
        ViolationKind::TooShort(n) => format!(
            "{}: String should have at least {}",
            at(None),
            plural(*n, "character")
        ),
        ViolationKind::TooLong(n) => format!(
            "{}: String should have at most {}",
            at(None),
            plural(*n, "character")
        ),
        ViolationKind::TooFewItems(n) => format!(
            "{}: List should have at least {}",
            at(None),
            plural(*n, "item")
        ),
        ViolationKind::TooManyItems(n) => format!(
            "{}: List should have at most {}",
            at(None),
            plural(*n, "item")
        ),
        ViolationKind::Pattern(p) => {
            format!("{}: String should match pattern '{p}'", at(None))
        }
        ViolationKind::Other(text) => format!("{}: {text}", at(None)),
    }
}

// ---------------------------------------------------------------------------------------------
// The seed provider's `video` block.

const BLOCK_TAGS: &str = "'document', 'image', 'redacted_thinking', 'search_result', 'text', 'thinking', 'tool_result', 'tool_use'";

/// With video allowed, checks each `video` block and returns a copy of the body where they are
/// replaced by text blocks (so the protocol schema can check the rest); `None` when there is no
/// video block. With video disallowed, a video block is rejected like any unknown tag.
fn video_free(body: &Value, rules: &Rules) -> Result<Option<Value>, String> {
    let Some(msgs) = body.get("messages").and_then(Value::as_array) else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        if let Some(blocks) = m.get("content").and_then(Value::as_array) {
            for (j, b) in blocks.iter().enumerate() {
                if b.get("type").and_then(Value::as_str) == Some("video") {
                    found.push((i, j));
                }
            }
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    let mut copy = body.clone();
    for (i, j) in found {
        let path = format!("messages.{i}.content.{j}");
        if !rules.video {
            return err(
                &path,
                format!(
                    "Input tag 'video' found using 'type' does not match any of the expected tags: {BLOCK_TAGS}"
                ),
            );
        }
        let b = &body["messages"][i]["content"][j];
        let o = b.as_object().map_or_else(Vec::new, |o| {
            o.keys()
                .filter(|k| !matches!(k.as_str(), "type" | "source" | "cache_control"))
                .cloned()
                .collect()
        });
        if let Some(extra) = o.first() {
            return err(
                &format!("{path}.video.{extra}"),
                "Extra inputs are not permitted",
            );
        }
        match b.pointer("/source/type").and_then(Value::as_str) {
            Some("url") => {}
            _ => {
                return err(
                    &format!("{path}.video.source.type"),
                    "Input should be 'url'",
                );
            }
        }
        let url = b
            .pointer("/source/url")
            .and_then(Value::as_str)
            .unwrap_or("");
        check_url(url, &format!("{path}.video.source.url.url"))?;
        copy["messages"][i]["content"][j] = json!({"type": "text", "text": "video"});
    }
    Ok(Some(copy))
}

// ---------------------------------------------------------------------------------------------
// Semantics.

fn semantics(body: &Value, endpoint: Endpoint, rules: &Rules) -> R {
    let new_version = rules.version == Some(V2026);
    let model = body["model"].as_str().unwrap_or_default();
    let mut max_tokens = None;
    if endpoint == Endpoint::Messages {
        let n = body["max_tokens"].as_u64().unwrap_or(0);
        if n < 1 {
            return err("max_tokens", "Input should be greater than or equal to 1");
        }
        if n > MAX_OUTPUT_TOKENS {
            return err(
                "max_tokens",
                format!(
                    "{n} > {MAX_OUTPUT_TOKENS}, which is the maximum allowed number of output tokens for {model}"
                ),
            );
        }
        max_tokens = Some(n);
        if new_version {
            for key in ["temperature", "top_p", "top_k"] {
                if body.get(key).is_some() {
                    return err(
                        key,
                        format!("this parameter is not supported with anthropic-version {V2026}"),
                    );
                }
            }
        }
    }
    let tools: Vec<&str> = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    for (i, name) in tools.iter().enumerate() {
        if tools[..i].contains(name) {
            return err(
                "tools",
                format!("Tool names must be unique; `{name}` is defined twice"),
            );
        }
    }
    for (i, t) in body
        .get("tools")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .enumerate()
    {
        let set = |k: &str| t.get(k).is_some_and(|v| !v.is_null());
        if set("allowed_domains") && set("blocked_domains") {
            let ty = t["type"].as_str().unwrap_or("custom");
            return err(
                &format!("tools.{i}.{ty}"),
                "Cannot specify both allowed_domains and blocked_domains",
            );
        }
    }
    let thinking = body.pointer("/thinking/type").and_then(Value::as_str);
    let thinking_on = matches!(thinking, Some("enabled" | "adaptive"));
    if thinking == Some("enabled")
        && let (Some(budget), Some(mt)) = (body.pointer("/thinking/budget_tokens"), max_tokens)
        && budget.as_u64().is_some_and(|b| b >= mt)
    {
        return err(
            "thinking.enabled.budget_tokens",
            "`max_tokens` must be greater than `thinking.budget_tokens`",
        );
    }
    if let Some(ty) = body.pointer("/tool_choice/type").and_then(Value::as_str) {
        if ty == "tool" {
            let name = body
                .pointer("/tool_choice/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !tools.contains(&name) {
                return err(
                    "tool_choice.tool.name",
                    format!("Tool '{name}' not found in provided tools"),
                );
            }
        }
        if matches!(ty, "any" | "tool") && tools.is_empty() {
            return err(
                "tool_choice",
                "tool_choice may only be specified while providing tools",
            );
        }
        if matches!(ty, "any" | "tool") && thinking_on {
            return err(
                "tool_choice",
                "Thinking may not be enabled when tool_choice forces tool use.",
            );
        }
    }
    let msgs = body["messages"].as_array().map_or(&[][..], Vec::as_slice);
    if msgs.is_empty() {
        return err("messages", "at least one message is required");
    }
    conversation(msgs, rules)?;
    let breakpoints = count_breakpoints(body);
    if breakpoints > 4 {
        return err(
            "cache_control",
            format!(
                "A maximum of 4 blocks with cache_control may be provided. Found {breakpoints}."
            ),
        );
    }
    Ok(())
}

/// Turn order, which role carries which block, tool pairing and payloads.
fn conversation(msgs: &[Value], rules: &Rules) -> R {
    let new_version = rules.version == Some(V2026);
    let mut pending: Vec<String> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or_default();
        if i == 0 && role != "user" {
            return err(
                "messages.0.role",
                "the first message must use the \"user\" role",
            );
        }
        let last = i + 1 == msgs.len();
        let p = format!("messages.{i}");
        let empty = match &m["content"] {
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if empty && !(last && role == "assistant") {
            return err(
                &p,
                "all messages must have non-empty content except for the optional final assistant message",
            );
        }
        let blocks = m["content"].as_array().map_or(&[][..], Vec::as_slice);
        let mut answered: Vec<&str> = Vec::new();
        let mut calls: Vec<String> = Vec::new();
        for (j, b) in blocks.iter().enumerate() {
            let bp = format!("{p}.content.{j}");
            let ty = b["type"].as_str().unwrap_or_default();
            match ty {
                "tool_use" if role != "assistant" => {
                    return err(
                        &bp,
                        "tool_use blocks are only allowed in assistant messages",
                    );
                }
                "tool_use" => calls.push(b["id"].as_str().unwrap_or_default().to_string()),
                "tool_result" if role != "user" => {
                    return err(&bp, "tool_result blocks are only allowed in user messages");
                }
                "tool_result" => {
                    let id = b["tool_use_id"].as_str().unwrap_or_default();
                    if !pending.iter().any(|t| t == id) {
                        return err(
                            &bp,
                            format!(
                                "unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                            ),
                        );
                    }
                    answered.push(id);
                    if let Some(inner) = b["content"].as_array() {
                        for (k, ib) in inner.iter().enumerate() {
                            payload(ib, &format!("{bp}.tool_result.content.{k}"))?;
                        }
                    }
                }
                "thinking" | "redacted_thinking" if role != "assistant" => {
                    return err(
                        &bp,
                        format!("{ty} blocks are only allowed in assistant messages"),
                    );
                }
                "thinking" => {
                    let t = b["thinking"].as_str().unwrap_or_default();
                    let s = b["signature"].as_str().unwrap_or_default();
                    let unsigned_ok = rules.accept_unsigned && s.is_empty();
                    if rules.check_signatures && !unsigned_ok && s != sign_thinking(rules.seed, t) {
                        return err(&bp, "Invalid `signature` in `thinking` block");
                    }
                }
                "redacted_thinking" => {
                    let d = b["data"].as_str().unwrap_or_default();
                    if rules.check_signatures && !redacted_is_sealed(rules.seed, d) {
                        return err(&bp, "Invalid `data` in `redacted_thinking` block");
                    }
                }
                "document" if role == "assistant" && new_version => {
                    return err(&bp, "document blocks are not allowed in assistant messages");
                }
                "text" | "search_result" if role == "user" && new_version => {
                    user_citations(b, &bp)?;
                }
                _ => payload(b, &bp)?,
            }
        }
        if role == "user" && !pending.is_empty() {
            let missing: Vec<&str> = pending
                .iter()
                .map(String::as_str)
                .filter(|t| !answered.contains(t))
                .collect();
            if !missing.is_empty() {
                return err(
                    &format!("messages.{}", i - 1),
                    format!(
                        "`tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                        missing.join(", ")
                    ),
                );
            }
        }
        pending = calls;
    }
    Ok(())
}

/// 2026-10-21: citations are the model's, so a user turn's text (directly, or inside a
/// `search_result`) may not carry any.
fn user_citations(b: &Value, path: &str) -> R {
    let cited = |t: &Value| {
        t.get("citations")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty())
    };
    if b["type"] == "text" && cited(b) {
        return err(
            &format!("{path}.text.citations"),
            format!("citations are not allowed on user text blocks with anthropic-version {V2026}"),
        );
    }
    for (k, t) in b["content"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .enumerate()
    {
        if cited(t) {
            return err(
                &format!("{path}.search_result.content.{k}.citations"),
                format!(
                    "citations are not allowed on user text blocks with anthropic-version {V2026}"
                ),
            );
        }
    }
    Ok(())
}

/// Media payloads: base64 that decodes and matches its media type, http(s) URLs.
fn payload(b: &Value, path: &str) -> R {
    let ty = b["type"].as_str().unwrap_or_default();
    if !matches!(ty, "image" | "document") {
        return Ok(());
    }
    let src = &b["source"];
    let st = src["type"].as_str().unwrap_or_default();
    let sp = format!("{path}.{ty}.source.{st}");
    match st {
        "url" => check_url(
            src["url"].as_str().unwrap_or_default(),
            &format!("{sp}.url"),
        ),
        "base64" => {
            let media = src["media_type"].as_str().unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(src["data"].as_str().unwrap_or_default().trim())
                .map_or_else(|_| err(&format!("{sp}.data"), "invalid base64 data"), Ok)?;
            if magic_matches(media, &bytes) {
                Ok(())
            } else if ty == "document" {
                err(&sp, "The PDF specified was not valid.")
            } else {
                err(
                    &sp,
                    format!("Image does not match the provided media type {media}"),
                )
            }
        }
        _ => Ok(()),
    }
}

fn check_url(u: &str, path: &str) -> R {
    if u.starts_with("http://") || u.starts_with("https://") {
        Ok(())
    } else {
        err(path, "URL must start with http:// or https://")
    }
}

fn magic_matches(media: &str, bytes: &[u8]) -> bool {
    match media {
        "image/png" => bytes.starts_with(b"\x89PNG"),
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8]),
        "image/gif" => bytes.starts_with(b"GIF8"),
        "image/webp" => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        "application/pdf" => bytes.starts_with(b"%PDF"),
        _ => true,
    }
}

/// `cache_control` breakpoints: top level, tools, system blocks and message blocks.
fn count_breakpoints(body: &Value) -> usize {
    let marked = |v: &Value| v.get("cache_control").is_some_and(|c| !c.is_null());
    let in_list = |v: Option<&Value>| {
        v.and_then(Value::as_array)
            .map_or(0, |a| a.iter().filter(|b| marked(b)).count())
    };
    let messages = body["messages"].as_array().map_or(0, |ms| {
        ms.iter().map(|m| in_list(m.get("content"))).sum::<usize>()
    });
    usize::from(marked(body)) + in_list(body.get("tools")) + in_list(body.get("system")) + messages
}

#[cfg(test)]
mod tests;
