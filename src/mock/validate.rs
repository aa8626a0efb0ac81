//! Request validation as Anthropic does it. Every rejection is a 400 `invalid_request_error`
//! whose message starts with the dotted path of the offending field, in Anthropic's style
//! (`messages.1.content.0.text: ...`, `max_tokens: Field required`).
//!
//! Deliberate leniency: a missing `anthropic-version` header is accepted as 2023-06-01 (the
//! seed provider's curl examples send none; Anthropic would answer 400); unknown versions are
//! rejected. `2026-10-21` rejects `temperature` / `top_p` / `top_k` and assistant documents.
//! Thinking signatures are verified with the server's seed (see `generate::sign_thinking`).

use base64::Engine;
use serde_json::Value;

use super::generate::sign_thinking;

/// What the validator needs besides the body.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The `anthropic-version` header (None when absent).
    pub version: Option<&'a str>,
    pub video: bool,
    pub seed: u64,
    /// Verify the signatures of thinking blocks passed back.
    pub check_signatures: bool,
}

/// The endpoint being validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Messages,
    CountTokens,
}

const MESSAGES_FIELDS: &[&str] = &[
    "model",
    "max_tokens",
    "messages",
    "system",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "cache_control",
    "output_config",
    "output_format",
    "inference_geo",
    "speed",
    "diagnostics",
    "context_management",
];
const COUNT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "cache_control",
    "output_config",
    "output_format",
    "speed",
    "mcp_servers",
    "context_management",
];
const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];
/// The largest `max_tokens` the mock's models accept.
pub const MAX_OUTPUT_TOKENS: u64 = 128_000;

type R = Result<(), String>;

fn err<T>(path: &str, msg: impl std::fmt::Display) -> Result<T, String> {
    Err(format!("{path}: {msg}"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn want_str<'a>(v: &'a Value, path: &str) -> Result<&'a str, String> {
    v.as_str().map_or_else(
        || {
            err(
                path,
                format!("Input should be a valid string, got {}", kind(v)),
            )
        },
        Ok,
    )
}

fn want_obj<'a>(v: &'a Value, path: &str) -> Result<&'a serde_json::Map<String, Value>, String> {
    v.as_object().map_or_else(
        || err(path, format!("Input should be an object, got {}", kind(v))),
        Ok,
    )
}

fn want_arr<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array().map_or_else(
        || {
            err(
                path,
                format!("Input should be a valid list, got {}", kind(v)),
            )
        },
        Ok,
    )
}

fn closed(o: &serde_json::Map<String, Value>, path: &str, allowed: &[&str]) -> R {
    for k in o.keys() {
        if !allowed.contains(&k.as_str()) {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            return err(&p, "Extra inputs are not permitted");
        }
    }
    Ok(())
}

fn required<'a>(
    o: &'a serde_json::Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'a Value, String> {
    let p = if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    };
    o.get(key).map_or_else(|| err(&p, "Field required"), Ok)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Validates a request body. `Err` holds the message of the 400.
pub fn validate(body: &Value, endpoint: Endpoint, rules: &Rules) -> R {
    let o = body.as_object().map_or_else(
        || {
            err(
                "body",
                format!("Input should be an object, got {}", kind(body)),
            )
        },
        Ok,
    )?;
    match rules.version {
        None | Some("2023-06-01") | Some("2023-01-01") | Some("2026-10-21") => {}
        Some(v) => {
            return err(
                "anthropic-version",
                format!("invalid version `{v}`; use 2023-06-01 or 2026-10-21"),
            );
        }
    }
    let allowed = if endpoint == Endpoint::Messages {
        MESSAGES_FIELDS
    } else {
        COUNT_FIELDS
    };
    closed(o, "", allowed)?;
    let model = want_str(required(o, "", "model")?, "model")?;
    if model.is_empty() || model.len() > 256 {
        return err("model", "String should have between 1 and 256 characters");
    }
    let mut max_tokens = None;
    if endpoint == Endpoint::Messages {
        let mt = required(o, "", "max_tokens")?;
        let n = mt.as_i64().map_or_else(
            || {
                err(
                    "max_tokens",
                    format!("Input should be a valid integer, got {}", kind(mt)),
                )
            },
            Ok,
        )?;
        if n < 1 {
            return err("max_tokens", "Input should be greater than or equal to 1");
        }
        if n as u64 > MAX_OUTPUT_TOKENS {
            return err(
                "max_tokens",
                format!(
                    "{n} > {MAX_OUTPUT_TOKENS}, which is the maximum allowed number of output tokens for {model}"
                ),
            );
        }
        max_tokens = Some(n as u64);
        if let Some(s) = o.get("stream")
            && !s.is_boolean()
        {
            return err(
                "stream",
                format!("Input should be a valid boolean, got {}", kind(s)),
            );
        }
        if let Some(ss) = o.get("stop_sequences") {
            for (i, s) in want_arr(ss, "stop_sequences")?.iter().enumerate() {
                want_str(s, &format!("stop_sequences.{i}"))?;
            }
        }
        let new_version = rules.version == Some("2026-10-21");
        for (key, lo, hi) in [
            ("temperature", 0.0, 1.0),
            ("top_p", 0.0, 1.0),
            ("top_k", 0.0, f64::INFINITY),
        ] {
            if let Some(v) = o.get(key) {
                if new_version {
                    return err(
                        key,
                        "this parameter is not supported with anthropic-version 2026-10-21",
                    );
                }
                let x = v.as_f64().map_or_else(
                    || {
                        err(
                            key,
                            format!("Input should be a valid number, got {}", kind(v)),
                        )
                    },
                    Ok,
                )?;
                if key == "top_k" && !v.is_i64() && !v.is_u64() {
                    return err(key, "Input should be a valid integer");
                }
                if x < lo {
                    return err(
                        key,
                        format!("Input should be greater than or equal to {lo}"),
                    );
                }
                if x > hi {
                    return err(key, format!("Input should be less than or equal to {hi}"));
                }
            }
        }
        if let Some(m) = o.get("metadata") {
            let mo = want_obj(m, "metadata")?;
            closed(mo, "metadata", &["user_id"])?;
            if let Some(u) = mo.get("user_id").filter(|u| !u.is_null())
                && want_str(u, "metadata.user_id")?.len() > 256
            {
                return err(
                    "metadata.user_id",
                    "String should have at most 256 characters",
                );
            }
        }
        if let Some(t) = o.get("service_tier")
            && !matches!(t.as_str(), Some("auto") | Some("standard_only"))
        {
            return err("service_tier", "Input should be 'auto' or 'standard_only'");
        }
    }
    let mut breakpoints = 0usize;
    if let Some(cc) = o.get("cache_control").filter(|v| !v.is_null()) {
        cache_control(cc, "cache_control")?;
        breakpoints += 1;
    }
    // System.
    match o.get("system") {
        None | Some(Value::Null) => {}
        Some(Value::String(_)) => {}
        Some(Value::Array(blocks)) => {
            for (i, b) in blocks.iter().enumerate() {
                let p = format!("system.{i}");
                let bo = want_obj(b, &p)?;
                if bo.get("type").and_then(Value::as_str) != Some("text") {
                    return err(&format!("{p}.type"), "Input should be 'text'");
                }
                text_block(bo, &p)?;
                breakpoints += count_cc(bo, &p)?;
            }
        }
        Some(v) => {
            return err(
                "system",
                format!(
                    "Input should be a valid string or list of text blocks, got {}",
                    kind(v)
                ),
            );
        }
    }
    // Tools.
    let mut tool_names: Vec<String> = Vec::new();
    if let Some(t) = o.get("tools") {
        for (i, tool) in want_arr(t, "tools")?.iter().enumerate() {
            let p = format!("tools.{i}");
            let to = want_obj(tool, &p)?;
            let ty = to.get("type").and_then(Value::as_str);
            let name = want_str(required(to, &p, "name")?, &format!("{p}.name"))?;
            match ty {
                None | Some("custom") => {
                    let cp = format!("{p}.custom");
                    closed(
                        to,
                        &cp,
                        &[
                            "type",
                            "name",
                            "description",
                            "input_schema",
                            "cache_control",
                            "strict",
                            "input_examples",
                            "defer_loading",
                            "allowed_callers",
                            "eager_input_streaming",
                        ],
                    )?;
                    if name.is_empty()
                        || name.len() > 128
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        return err(
                            &format!("{cp}.name"),
                            "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
                        );
                    }
                    let schema = to
                        .get("input_schema")
                        .map_or_else(|| err(&format!("{cp}.input_schema"), "Field required"), Ok)?;
                    let so = want_obj(schema, &format!("{cp}.input_schema"))?;
                    match so.get("type") {
                        Some(Value::String(s)) if s == "object" => {}
                        None => return err(&format!("{cp}.input_schema.type"), "Field required"),
                        Some(_) => {
                            return err(
                                &format!("{cp}.input_schema.type"),
                                "Input should be 'object'",
                            );
                        }
                    }
                    if let Some(d) = to.get("description") {
                        want_str(d, &format!("{cp}.description"))?;
                    }
                }
                Some(other)
                    if other.contains('_')
                        && other.rsplit('_').next().is_some_and(|d| {
                            d.len() == 8 && d.chars().all(|c| c.is_ascii_digit())
                        }) => {}
                Some(other) => {
                    return err(
                        &p,
                        format!(
                            "Input tag '{other}' found using 'type' does not match any of the expected tags"
                        ),
                    );
                }
            }
            breakpoints += count_cc(to, &p)?;
            if tool_names.iter().any(|n| n == name) {
                return err(
                    "tools",
                    format!("Tool names must be unique; `{name}` is defined twice"),
                );
            }
            tool_names.push(name.to_string());
        }
    }
    // Thinking.
    let mut thinking_on = false;
    if let Some(t) = o.get("thinking").filter(|t| !t.is_null()) {
        let to = want_obj(t, "thinking")?;
        match to.get("type").and_then(Value::as_str) {
            Some("enabled") => {
                thinking_on = true;
                closed(
                    to,
                    "thinking.enabled",
                    &["type", "budget_tokens", "display"],
                )?;
                let b = required(to, "thinking.enabled", "budget_tokens")?;
                let n = b.as_i64().map_or_else(
                    || {
                        err(
                            "thinking.enabled.budget_tokens",
                            "Input should be a valid integer",
                        )
                    },
                    Ok,
                )?;
                if n < 1024 {
                    return err(
                        "thinking.enabled.budget_tokens",
                        "Input should be greater than or equal to 1024",
                    );
                }
                if let Some(mt) = max_tokens
                    && n as u64 >= mt
                {
                    return err(
                        "thinking.enabled.budget_tokens",
                        "`max_tokens` must be greater than `thinking.budget_tokens`",
                    );
                }
            }
            Some("adaptive") => {
                thinking_on = true;
                closed(to, "thinking.adaptive", &["type", "display"])?;
            }
            Some("disabled") => closed(to, "thinking.disabled", &["type"])?,
            _ => {
                return err(
                    "thinking.type",
                    "Input should be 'enabled', 'disabled' or 'adaptive'",
                );
            }
        }
    }
    // Tool choice.
    if let Some(tc) = o.get("tool_choice").filter(|t| !t.is_null()) {
        let to = want_obj(tc, "tool_choice")?;
        let ty = to.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "auto" | "any" => closed(
                to,
                &format!("tool_choice.{ty}"),
                &["type", "disable_parallel_tool_use"],
            )?,
            "none" => closed(to, "tool_choice.none", &["type"])?,
            "tool" => {
                closed(
                    to,
                    "tool_choice.tool",
                    &["type", "name", "disable_parallel_tool_use"],
                )?;
                let name = want_str(
                    required(to, "tool_choice.tool", "name")?,
                    "tool_choice.tool.name",
                )?;
                if !tool_names.iter().any(|n| n == name) {
                    return err(
                        "tool_choice.tool.name",
                        format!("Tool '{name}' not found in provided tools"),
                    );
                }
            }
            _ => {
                return err(
                    "tool_choice.type",
                    "Input should be 'auto', 'any', 'tool' or 'none'",
                );
            }
        }
        if let Some(d) = to.get("disable_parallel_tool_use")
            && !d.is_boolean()
        {
            return err(
                &format!("tool_choice.{ty}.disable_parallel_tool_use"),
                "Input should be a valid boolean",
            );
        }
        if matches!(ty, "any" | "tool") && tool_names.is_empty() {
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
    // Structured output.
    for (key, path) in [
        ("output_format", "output_format"),
        ("output_config", "output_config"),
    ] {
        let Some(v) = o.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let fo = want_obj(v, path)?;
        let format = if key == "output_config" {
            closed(fo, path, &["format", "effort", "task_budget"])?;
            if let Some(e) = fo.get("effort").filter(|e| !e.is_null())
                && !matches!(
                    e.as_str(),
                    Some("low" | "medium" | "high" | "xhigh" | "max")
                )
            {
                return err(
                    "output_config.effort",
                    "Input should be 'low', 'medium', 'high', 'xhigh' or 'max'",
                );
            }
            match fo.get("format").filter(|f| !f.is_null()) {
                Some(f) => (
                    want_obj(f, "output_config.format")?,
                    "output_config.format".to_string(),
                ),
                None => continue,
            }
        } else {
            (fo, path.to_string())
        };
        let (fo, fp) = format;
        if fo.get("type").and_then(Value::as_str) != Some("json_schema") {
            return err(&format!("{fp}.type"), "Input should be 'json_schema'");
        }
        closed(fo, &fp, &["type", "schema"])?;
        want_obj(required(fo, &fp, "schema")?, &format!("{fp}.schema"))?;
    }
    // Messages.
    let msgs = want_arr(required(o, "", "messages")?, "messages")?;
    if msgs.is_empty() {
        return err("messages", "at least one message is required");
    }
    let mut prev_tool_ids: Vec<String> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let p = format!("messages.{i}");
        let mo = want_obj(m, &p)?;
        closed(mo, &p, &["role", "content"])?;
        let role = want_str(required(mo, &p, "role")?, &format!("{p}.role"))?;
        if role != "user" && role != "assistant" {
            return err(
                &format!("{p}.role"),
                "Input should be 'user' or 'assistant'",
            );
        }
        if i == 0 && role != "user" {
            return err(
                "messages.0.role",
                "the first message must use the \"user\" role",
            );
        }
        let last = i + 1 == msgs.len();
        let content = required(mo, &p, "content")?;
        let mut tool_ids: Vec<String> = Vec::new();
        match content {
            Value::String(s) => {
                if s.is_empty() && !(last && role == "assistant") {
                    return err(
                        &p,
                        "all messages must have non-empty content except for the optional final assistant message",
                    );
                }
            }
            Value::Array(blocks) => {
                if blocks.is_empty() && !(last && role == "assistant") {
                    return err(
                        &p,
                        "all messages must have non-empty content except for the optional final assistant message",
                    );
                }
                let mut answered: Vec<String> = Vec::new();
                for (j, b) in blocks.iter().enumerate() {
                    let bp = format!("{p}.content.{j}");
                    let bo = want_obj(b, &bp)?;
                    let ty = want_str(required(bo, &bp, "type")?, &format!("{bp}.type"))?;
                    breakpoints += count_cc(bo, &bp)?;
                    content_block(bo, ty, role, &bp, rules, &mut tool_ids)?;
                    if ty == "tool_result" {
                        let id = bo.get("tool_use_id").and_then(Value::as_str).unwrap_or("");
                        if !prev_tool_ids.iter().any(|t| t == id) {
                            return err(
                                &bp,
                                format!(
                                    "unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                                ),
                            );
                        }
                        answered.push(id.to_string());
                    }
                }
                if role == "user" && !prev_tool_ids.is_empty() {
                    let missing: Vec<&String> = prev_tool_ids
                        .iter()
                        .filter(|t| !answered.contains(t))
                        .collect();
                    if !missing.is_empty() {
                        let ids: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                        return err(
                            &format!("messages.{}", i - 1),
                            format!(
                                "`tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                                ids.join(", ")
                            ),
                        );
                    }
                }
            }
            other => {
                return err(
                    &format!("{p}.content"),
                    format!(
                        "Input should be a valid string or list of content blocks, got {}",
                        kind(other)
                    ),
                );
            }
        }
        if role == "user" && matches!(content, Value::String(_)) && !prev_tool_ids.is_empty() {
            return err(
                &format!("messages.{}", i - 1),
                format!(
                    "`tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                    prev_tool_ids.join(", ")
                ),
            );
        }
        prev_tool_ids = tool_ids;
    }
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

fn cache_control(cc: &Value, path: &str) -> R {
    let o = want_obj(cc, path)?;
    closed(o, path, &["type", "ttl"])?;
    if o.get("type").and_then(Value::as_str) != Some("ephemeral") {
        return err(&join(path, "type"), "Input should be 'ephemeral'");
    }
    if let Some(t) = o.get("ttl")
        && !matches!(t.as_str(), Some("5m") | Some("1h"))
    {
        return err(&join(path, "ttl"), "Input should be '5m' or '1h'");
    }
    Ok(())
}

fn count_cc(o: &serde_json::Map<String, Value>, path: &str) -> Result<usize, String> {
    match o.get("cache_control") {
        None | Some(Value::Null) => Ok(0),
        Some(cc) => {
            cache_control(cc, &join(path, "cache_control"))?;
            Ok(1)
        }
    }
}

fn text_block(o: &serde_json::Map<String, Value>, path: &str) -> R {
    closed(o, path, &["type", "text", "cache_control", "citations"])?;
    let t = want_str(required(o, path, "text")?, &join(path, "text"))?;
    if t.is_empty() {
        return err(&join(path, "text"), "text content blocks must be non-empty");
    }
    Ok(())
}

fn base64_data(so: &serde_json::Map<String, Value>, path: &str) -> Result<Vec<u8>, String> {
    let data = want_str(required(so, path, "data")?, &join(path, "data"))?;
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_or_else(|_| err(&join(path, "data"), "invalid base64 data"), Ok)
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

fn url_source(so: &serde_json::Map<String, Value>, path: &str) -> R {
    closed(so, path, &["type", "url"])?;
    let u = want_str(required(so, path, "url")?, &join(path, "url"))?;
    if !(u.starts_with("http://") || u.starts_with("https://")) {
        return err(
            &join(path, "url"),
            "URL must start with http:// or https://",
        );
    }
    Ok(())
}

fn content_block(
    o: &serde_json::Map<String, Value>,
    ty: &str,
    role: &str,
    path: &str,
    rules: &Rules,
    tool_ids: &mut Vec<String>,
) -> R {
    match ty {
        "text" => text_block(o, path)?,
        "image" => {
            closed(o, path, &["type", "source", "cache_control"])?;
            let src = want_obj(required(o, path, "source")?, &join(path, "source"))?;
            let sp = format!("{path}.image.source");
            match src.get("type").and_then(Value::as_str) {
                Some("base64") => {
                    let bp = format!("{sp}.base64");
                    closed(src, &bp, &["type", "media_type", "data"])?;
                    let media = want_str(
                        required(src, &bp, "media_type")?,
                        &format!("{bp}.media_type"),
                    )?;
                    if !IMAGE_TYPES.contains(&media) {
                        return err(
                            &format!("{bp}.media_type"),
                            "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
                        );
                    }
                    let bytes = base64_data(src, &bp)?;
                    if !magic_matches(media, &bytes) {
                        return err(
                            &bp,
                            format!("Image does not match the provided media type {media}"),
                        );
                    }
                }
                Some("url") => url_source(src, &format!("{sp}.url"))?,
                Some("file") => {
                    want_str(
                        required(src, &format!("{sp}.file"), "file_id")?,
                        &format!("{sp}.file.file_id"),
                    )?;
                }
                _ => {
                    return err(
                        &format!("{sp}.type"),
                        "Input should be 'base64', 'url' or 'file'",
                    );
                }
            }
        }
        "video" => {
            if !rules.video {
                return err(
                    path,
                    "Input tag 'video' found using 'type' does not match any of the expected tags: 'document', 'image', 'redacted_thinking', 'search_result', 'text', 'thinking', 'tool_result', 'tool_use'",
                );
            }
            closed(o, path, &["type", "source", "cache_control"])?;
            let src = want_obj(required(o, path, "source")?, &join(path, "source"))?;
            match src.get("type").and_then(Value::as_str) {
                Some("url") => url_source(src, &format!("{path}.video.source.url"))?,
                _ => {
                    return err(
                        &format!("{path}.video.source.type"),
                        "Input should be 'url'",
                    );
                }
            }
        }
        "document" => {
            closed(
                o,
                path,
                &[
                    "type",
                    "source",
                    "cache_control",
                    "title",
                    "context",
                    "citations",
                ],
            )?;
            if role == "assistant" && rules.version == Some("2026-10-21") {
                return err(
                    path,
                    "document blocks are not allowed in assistant messages",
                );
            }
            let src = want_obj(required(o, path, "source")?, &join(path, "source"))?;
            let sp = format!("{path}.document.source");
            match src.get("type").and_then(Value::as_str) {
                Some("base64") => {
                    let bp = format!("{sp}.base64");
                    closed(src, &bp, &["type", "media_type", "data"])?;
                    if src.get("media_type").and_then(Value::as_str) != Some("application/pdf") {
                        return err(
                            &format!("{bp}.media_type"),
                            "Input should be 'application/pdf'",
                        );
                    }
                    let bytes = base64_data(src, &bp)?;
                    if !magic_matches("application/pdf", &bytes) {
                        return err(&bp, "The PDF specified was not valid.");
                    }
                }
                Some("text") => {
                    let tp = format!("{sp}.text");
                    closed(src, &tp, &["type", "media_type", "data"])?;
                    if src.get("media_type").and_then(Value::as_str) != Some("text/plain") {
                        return err(&format!("{tp}.media_type"), "Input should be 'text/plain'");
                    }
                    want_str(required(src, &tp, "data")?, &format!("{tp}.data"))?;
                }
                Some("url") => url_source(src, &format!("{sp}.url"))?,
                Some("content") | Some("file") => {}
                _ => {
                    return err(
                        &format!("{sp}.type"),
                        "Input should be 'base64', 'text', 'url', 'content' or 'file'",
                    );
                }
            }
        }
        "tool_use" => {
            if role != "assistant" {
                return err(
                    path,
                    "tool_use blocks are only allowed in assistant messages",
                );
            }
            closed(
                o,
                path,
                &["type", "id", "name", "input", "cache_control", "caller"],
            )?;
            let id = want_str(required(o, path, "id")?, &join(path, "id"))?;
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return err(
                    &join(path, "id"),
                    "String should match pattern '^[a-zA-Z0-9_-]+$'",
                );
            }
            want_str(required(o, path, "name")?, &join(path, "name"))?;
            want_obj(required(o, path, "input")?, &join(path, "input"))?;
            tool_ids.push(id.to_string());
        }
        "tool_result" => {
            if role != "user" {
                return err(path, "tool_result blocks are only allowed in user messages");
            }
            closed(
                o,
                path,
                &[
                    "type",
                    "tool_use_id",
                    "content",
                    "is_error",
                    "cache_control",
                ],
            )?;
            want_str(
                required(o, path, "tool_use_id")?,
                &join(path, "tool_use_id"),
            )?;
            match o.get("content") {
                None | Some(Value::String(_)) => {}
                Some(Value::Array(inner)) => {
                    for (k, ib) in inner.iter().enumerate() {
                        let ip = format!("{path}.content.{k}");
                        let io = want_obj(ib, &ip)?;
                        let it = want_str(required(io, &ip, "type")?, &format!("{ip}.type"))?;
                        if !matches!(it, "text" | "image" | "document" | "search_result") {
                            return err(
                                &format!("{ip}.type"),
                                "Input should be 'text', 'image', 'document' or 'search_result'",
                            );
                        }
                        content_block(io, it, role, &ip, rules, &mut Vec::new())?;
                    }
                }
                Some(v) => {
                    return err(
                        &join(path, "content"),
                        format!("Input should be a valid string or list, got {}", kind(v)),
                    );
                }
            }
            if let Some(e) = o.get("is_error")
                && !e.is_boolean()
            {
                return err(&join(path, "is_error"), "Input should be a valid boolean");
            }
        }
        "thinking" => {
            if role != "assistant" {
                return err(
                    path,
                    "thinking blocks are only allowed in assistant messages",
                );
            }
            closed(o, path, &["type", "thinking", "signature"])?;
            let t = want_str(required(o, path, "thinking")?, &join(path, "thinking"))?;
            let s = want_str(required(o, path, "signature")?, &join(path, "signature"))?;
            if rules.check_signatures && s != sign_thinking(rules.seed, t) {
                return err(path, "Invalid `signature` in `thinking` block");
            }
        }
        "redacted_thinking" => {
            closed(o, path, &["type", "data"])?;
            want_str(required(o, path, "data")?, &join(path, "data"))?;
        }
        "search_result" => {
            closed(
                o,
                path,
                &[
                    "type",
                    "source",
                    "title",
                    "content",
                    "citations",
                    "cache_control",
                ],
            )?;
            want_str(required(o, path, "source")?, &join(path, "source"))?;
            want_str(required(o, path, "title")?, &join(path, "title"))?;
            want_arr(required(o, path, "content")?, &join(path, "content"))?;
        }
        "server_tool_use"
        | "web_search_tool_result"
        | "web_fetch_tool_result"
        | "code_execution_tool_result"
        | "bash_code_execution_tool_result"
        | "text_editor_code_execution_tool_result"
        | "tool_search_tool_result"
        | "container_upload"
        | "mcp_tool_use"
        | "mcp_tool_result" => {}
        other => {
            return err(
                &join(path, "type"),
                format!(
                    "Input tag '{other}' found using 'type' does not match any of the expected tags"
                ),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> Rules<'static> {
        Rules {
            version: Some("2023-06-01"),
            video: true,
            seed: 0,
            check_signatures: true,
        }
    }

    #[test]
    fn accepts_a_basic_request() {
        let b =
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
        validate(&b, Endpoint::Messages, &rules()).unwrap();
        let c = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        validate(&c, Endpoint::CountTokens, &rules()).unwrap();
    }

    #[test]
    fn messages_name_the_field() {
        let cases = [
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
                "max_tokens:",
            ),
            (
                json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}),
                "messages.0.content.0.text:",
            ),
            (
                json!({"model": "m", "max_tokens": 5, "bogus": 1, "messages": [{"role": "user", "content": "x"}]}),
                "bogus:",
            ),
        ];
        for (b, prefix) in cases {
            let e = validate(&b, Endpoint::Messages, &rules()).unwrap_err();
            assert!(e.starts_with(prefix), "{e}");
        }
    }
}
