//! From the requests a client sent to scenarios: which exchanges are kept (a 2xx answer to an
//! API path), which earlier answers a request passes back (a tool loop: its assistant turns
//! become captures of the earlier steps, `{{ steps.turn1.content }}`, and its tool results name
//! `{{ steps.turn1.tool_1 }}`), what each request becomes (the model templated, volatile values
//! fixed by [`super::normalise`], the headers that select behaviour kept, credentials never),
//! which assertions fit it, and which requests are one shape (kept once).

use super::normalise::Volatile;
use serde_json::{Map, Value, json};

/// One exchange as the proxy saw it.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    /// Its number in the order of arrival (from 1).
    pub(crate) n: usize,
    pub(crate) method: String,
    /// Path and query as the client sent them.
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
    /// The upstream's status; `None` when it never answered.
    pub(crate) status: Option<u16>,
    /// The final message (the body, or the message accumulated from the stream).
    pub(crate) message: Option<Value>,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_count_tokens(&self) -> bool {
        self.path
            .split('?')
            .next()
            .unwrap_or("")
            .ends_with("/count_tokens")
    }

    fn is_messages(&self) -> bool {
        self.method == "POST" && self.path.split('?').next() == Some("/v1/messages")
    }

    fn streams(&self) -> bool {
        self.body.as_ref().and_then(|b| b.get("stream")) == Some(&Value::Bool(true))
    }

    fn messages(&self) -> &[Value] {
        self.body
            .as_ref()
            .and_then(|b| b.get("messages")?.as_array())
            .map_or(&[], Vec::as_slice)
    }

    fn tools(&self) -> usize {
        self.body
            .as_ref()
            .and_then(|b| b.get("tools")?.as_array())
            .map_or(0, Vec::len)
    }

    /// Whether the request marks a cache breakpoint anywhere.
    fn caches(&self) -> bool {
        fn marks(v: &Value) -> bool {
            match v {
                Value::Object(m) => m.contains_key("cache_control") || m.values().any(marks),
                Value::Array(a) => a.iter().any(marks),
                _ => false,
            }
        }
        self.body.as_ref().is_some_and(marks)
    }

    fn thinks(&self) -> bool {
        self.body
            .as_ref()
            .and_then(|b| b.get("thinking")?.get("type")?.as_str())
            .is_some_and(|t| t != "disabled")
    }
}

/// The client a capture came from: its `User-Agent`, and the SDK under it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Client {
    pub(crate) user_agent: Option<String>,
    /// `x-stainless-lang` and `x-stainless-package-version` (`js 0.128.0`).
    pub(crate) sdk: Option<String>,
}

impl Client {
    /// The client of the first exchange that names one.
    pub(crate) fn of(exchanges: &[Captured]) -> Client {
        let ua = exchanges.iter().find_map(|x| x.header("user-agent"));
        let sdk = exchanges.iter().find_map(|x| {
            let v = x.header("x-stainless-package-version")?;
            Some(match x.header("x-stainless-lang") {
                Some(lang) => format!("{lang} {v}"),
                None => v.to_string(),
            })
        });
        Client {
            user_agent: ua.map(str::to_string),
            sdk,
        }
    }

    /// Claude Code says so in its User-Agent (`claude-cli/2.1.332 (external, sdk-cli)`).
    pub(crate) fn is_claude_code(&self) -> bool {
        self.user_agent
            .as_deref()
            .is_some_and(|u| u.starts_with("claude-cli/"))
    }

    /// How files name it: the User-Agent's first word, else the SDK, else `an unnamed client`.
    pub(crate) fn short(&self) -> String {
        match (&self.user_agent, &self.sdk) {
            (Some(ua), _) => ua.split_whitespace().next().unwrap_or(ua).to_string(),
            (None, Some(sdk)) => format!("an SDK ({sdk})"),
            (None, None) => "an unnamed client".into(),
        }
    }
}

/// One step of a planned scenario.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    pub(crate) id: String,
    /// Forced stream flag, when it differs from the scenario's mode.
    pub(crate) stream: Option<bool>,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
    pub(crate) asserts: Vec<Value>,
    /// Capture name → JSONPath.
    pub(crate) captures: Vec<(String, String)>,
}

/// A scenario to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planned {
    /// The file stem, unique in the capture.
    pub(crate) name: String,
    pub(crate) feature: &'static str,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) stream: bool,
    pub(crate) steps: Vec<Step>,
    /// The exchanges its steps replay.
    pub(crate) exchanges: Vec<usize>,
}

/// What a capture becomes.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) scenarios: Vec<Planned>,
    /// (exchange, why it is not a scenario of its own).
    pub(crate) skipped: Vec<(usize, String)>,
}

/// Headers kept in a scenario: those that select behaviour or name the client. Credentials,
/// per-request and per-session values (`x-stainless-retry-count`, `x-claude-code-session-id`)
/// and transport headers are left out (the runner sends its own).
fn keep_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let secret = ["key", "token", "secret", "authorization", "cookie"]
        .iter()
        .any(|s| n.contains(s));
    !secret && (n.starts_with("anthropic-") || n == "user-agent" || n == "x-app")
}

/// The capture's scenarios, in the order their last request arrived.
pub(crate) fn plan(exchanges: &[Captured], vol: &mut Volatile, client: &Client) -> Plan {
    let mut out = Plan::default();
    let usable: Vec<&Captured> = exchanges
        .iter()
        .filter(|x| match why_skipped(x) {
            Some(why) => {
                out.skipped.push((x.n, why));
                false
            }
            None => true,
        })
        .collect();
    // For each usable exchange, the earlier ones whose answers it passes back (message index →
    // position in `usable`).
    let refs: Vec<Vec<(usize, usize)>> = usable
        .iter()
        .enumerate()
        .map(|(k, x)| passed_back(x, &usable[..k]))
        .collect();
    let mut keys: Vec<Value> = Vec::new();
    for k in 0..usable.len() {
        let chain = chain(k, &refs);
        let planned = scenario(&chain, &usable, &refs, vol, client);
        let key = shape_key(&planned);
        if keys.contains(&key) {
            out.skipped.push((
                usable[k].n,
                "the same request shape as an earlier one".into(),
            ));
            continue;
        }
        keys.push(key);
        out.scenarios.push(planned);
    }
    unique_names(&mut out.scenarios);
    out
}

/// Why an exchange makes no scenario, if it does not.
fn why_skipped(x: &Captured) -> Option<String> {
    if !x.path.starts_with("/v1/") {
        return Some(format!("{} is not an API path", x.path));
    }
    match x.status {
        None => return Some("the upstream did not answer".into()),
        Some(s) if !(200..300).contains(&s) => {
            return Some(format!(
                "the upstream answered {s} (a scenario states a request the endpoint serves)"
            ));
        }
        _ => {}
    }
    match x.method.as_str() {
        "GET" => None,
        "POST" if x.body.as_ref().is_some_and(Value::is_object) => None,
        "POST" => Some("its body is not a JSON object".into()),
        m => Some(format!("{m} requests are not captured")),
    }
}

/// The block keys that identify an assistant turn's content.
fn block_keys(content: &Value) -> Vec<String> {
    match content {
        Value::String(s) => vec![format!("text:{s}")],
        Value::Array(blocks) => blocks
            .iter()
            .map(|b| {
                let t = b.get("type").and_then(Value::as_str).unwrap_or("");
                let id = match t {
                    "text" => b.get("text"),
                    "thinking" | "redacted_thinking" => b.get("signature").or(b.get("data")),
                    _ => b.get("id"),
                };
                format!("{t}:{}", id.map(Value::to_string).unwrap_or_default())
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The assistant turns of `x` that are answers of `earlier` exchanges: (message index,
/// position of the exchange in `earlier`), the latest exchange that answered it.
fn passed_back(x: &Captured, earlier: &[&Captured]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, m) in x.messages().iter().enumerate() {
        if m.get("role").and_then(Value::as_str) != Some("assistant") {
            continue;
        }
        let keys = block_keys(m.get("content").unwrap_or(&Value::Null));
        if keys.is_empty() {
            continue;
        }
        let answered = earlier.iter().rposition(|e| {
            e.is_messages()
                && e.message
                    .as_ref()
                    .and_then(|msg| msg.get("content"))
                    .map(block_keys)
                    .is_some_and(|theirs| keys.iter().all(|k| theirs.contains(k)))
        });
        if let Some(j) = answered {
            out.push((i, j));
        }
    }
    out
}

/// The exchanges a scenario of exchange `k` replays, in order: `k` and, recursively, those
/// whose answers it passes back.
fn chain(k: usize, refs: &[Vec<(usize, usize)>]) -> Vec<usize> {
    let mut out = vec![k];
    let mut todo = vec![k];
    while let Some(x) = todo.pop() {
        for &(_, j) in &refs[x] {
            if !out.contains(&j) {
                out.push(j);
                todo.push(j);
            }
        }
    }
    out.sort_unstable();
    out
}

/// The tool-use blocks of an answer: (index in its content, id).
fn tool_uses(message: Option<&Value>) -> Vec<(usize, String)> {
    message
        .and_then(|m| m.get("content")?.as_array())
        .map(|blocks| {
            blocks
                .iter()
                .enumerate()
                .filter(|(_, b)| b.get("type").and_then(Value::as_str) == Some("tool_use"))
                .filter_map(|(i, b)| Some((i, b.get("id")?.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn scenario(
    chain: &[usize],
    usable: &[&Captured],
    refs: &[Vec<(usize, usize)>],
    vol: &mut Volatile,
    client: &Client,
) -> Planned {
    let last = *chain.last().unwrap_or(&0);
    let fin = usable[last];
    let step_id = |pos: usize| -> String {
        if chain.len() == 1 {
            if fin.is_count_tokens() {
                "count".into()
            } else {
                "ask".into()
            }
        } else {
            format!("turn{}", pos + 1)
        }
    };
    let referenced: Vec<usize> = chain
        .iter()
        .flat_map(|&x| refs[x].iter().map(|&(_, j)| j))
        .collect();
    let mut dropped_thinking = false;
    let mut steps = Vec::new();
    for (pos, &x) in chain.iter().enumerate() {
        let ex = usable[x];
        // Tool ids of the answers this request passes back → their captures.
        let mut ids: Vec<(String, String)> = Vec::new();
        let mut templated: Vec<(usize, String)> = Vec::new();
        for &(msg, j) in &refs[x] {
            let Some(jpos) = chain.iter().position(|&c| c == j) else {
                continue;
            };
            let jid = step_id(jpos);
            templated.push((msg, format!("{{{{ steps.{jid}.content }}}}")));
            for (k, (_, id)) in tool_uses(usable[j].message.as_ref()).iter().enumerate() {
                ids.push((id.clone(), format!("{{{{ steps.{jid}.tool_{} }}}}", k + 1)));
            }
        }
        let body = ex
            .body
            .as_ref()
            .map(|b| request_body(b, &templated, &ids, vol, &mut dropped_thinking));
        let captures = if referenced.contains(&x) {
            captures_of(ex.message.as_ref())
        } else {
            Vec::new()
        };
        let asserts = if x == last {
            final_asserts(ex)
        } else {
            passing_asserts(ex)
        };
        steps.push(Step {
            id: step_id(pos),
            stream: (ex.streams() != fin.streams()).then_some(ex.streams()),
            method: ex.method.clone(),
            path: escape(&vol.text(&ex.path)),
            headers: ex
                .headers
                .iter()
                .filter(|(k, _)| keep_header(k))
                .map(|(k, v)| (k.to_ascii_lowercase(), escape(&vol.text(v))))
                .collect(),
            body,
            asserts,
            captures,
        });
    }
    let exchanges: Vec<usize> = chain.iter().map(|&x| usable[x].n).collect();
    let mut description = format!(
        "Captured by `conform scenarios capture` from {}{}: exchange {} of the capture",
        client.user_agent.as_deref().unwrap_or("an unnamed client"),
        client
            .sdk
            .as_deref()
            .map(|s| format!(" (SDK {s})"))
            .unwrap_or_default(),
        fin.n,
    );
    if exchanges.len() > 1 {
        let list: Vec<String> = exchanges.iter().map(usize::to_string).collect();
        description.push_str(&format!(
            "; its steps replay exchanges {} (each assistant turn passed back is the answer of an earlier step)",
            list.join(", ")
        ));
    }
    description.push('.');
    if dropped_thinking {
        description.push_str(" Thinking blocks the client passed back without an earlier answer of the capture to take them from are left out (their signatures hold only where they were made).");
    }
    Planned {
        name: name_of(fin),
        feature: feature_of(fin, client),
        title: title_of(fin, client),
        description,
        stream: fin.streams(),
        steps,
        exchanges,
    }
}

/// A text a client sent, written so that templates read it back as it was: each `{{` as the
/// literal `{{ '{{' }}`.
pub(crate) fn escape(s: &str) -> String {
    s.replace("{{", "{{ '{{' }}")
}

/// Every string of a value through [`escape`].
fn escape_value(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(escape(s)),
        Value::Array(a) => Value::Array(a.iter().map(escape_value).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), escape_value(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every string of a value with `from` replaced by `to`.
fn replace_text(v: &Value, from: &str, to: &str) -> Value {
    match v {
        Value::String(s) if s.contains(from) => Value::String(s.replace(from, to)),
        Value::Array(a) => Value::Array(a.iter().map(|x| replace_text(x, from, to)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), replace_text(x, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A request's body as a scenario sends it.
fn request_body(
    body: &Value,
    templated: &[(usize, String)],
    ids: &[(String, String)],
    vol: &mut Volatile,
    dropped_thinking: &mut bool,
) -> Value {
    let mut b = escape_value(&vol.value(body));
    // The model named in the prompt's text too (Claude Code tells the model its id): a name
    // long enough not to be a word.
    if let Some(model) = body.get("model").and_then(Value::as_str)
        && model.len() >= 6
    {
        b = replace_text(&b, model, "{{ target.model }}");
    }
    let Some(obj) = b.as_object_mut() else {
        return b;
    };
    obj.remove("stream");
    if obj.contains_key("model") {
        obj.insert("model".into(), json!("{{ target.model }}"));
    }
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut)
        && let Some(Value::String(u)) = meta.get("user_id")
        && serde_json::from_str::<Map<String, Value>>(u).is_err()
    {
        // A plain user id (Claude Code's JSON of ids is fixed by `Volatile`).
        meta.insert("user_id".into(), json!("conform-capture-user"));
    }
    if let Some(messages) = obj.get_mut("messages").and_then(Value::as_array_mut) {
        for (i, m) in messages.iter_mut().enumerate() {
            if let Some((_, t)) = templated.iter().find(|(msg, _)| *msg == i) {
                m["content"] = json!(t);
                continue;
            }
            let assistant = m.get("role").and_then(Value::as_str) == Some("assistant");
            if let Some(blocks) = m.get_mut("content").and_then(Value::as_array_mut) {
                if assistant {
                    let before = blocks.len();
                    blocks.retain(|b| {
                        !matches!(
                            b.get("type").and_then(Value::as_str),
                            Some("thinking" | "redacted_thinking")
                        )
                    });
                    *dropped_thinking |= blocks.len() != before;
                }
                for block in blocks.iter_mut() {
                    fix_tool_ids(block, ids, vol);
                }
            }
        }
    }
    b
}

/// A block's tool-use id: a capture of the step that answered it, else a fixed stand-in.
fn fix_tool_ids(block: &mut Value, ids: &[(String, String)], vol: &mut Volatile) {
    let field = match block.get("type").and_then(Value::as_str) {
        Some("tool_use" | "server_tool_use") => "id",
        Some("tool_result") => "tool_use_id",
        _ => return,
    };
    if let Some(id) = block.get(field).and_then(Value::as_str).map(str::to_string) {
        let to = ids
            .iter()
            .find(|(orig, _)| *orig == id)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| vol.tool_id(&id));
        block[field] = json!(to);
    }
}

/// The captures a later step reads: the answer's content and its tool-use ids.
fn captures_of(message: Option<&Value>) -> Vec<(String, String)> {
    let mut out = vec![("content".to_string(), "$.content".to_string())];
    let uses = tool_uses(message);
    for (k, (idx, _)) in uses.iter().enumerate() {
        let path = if uses.len() == 1 {
            "$.content[?@.type == 'tool_use'].id".to_string()
        } else {
            format!("$.content[{idx}].id")
        };
        out.push((format!("tool_{}", k + 1), path));
    }
    out
}

/// A step whose answer a later step passes back: it must be the kind of answer it was (a tool
/// call), else the rest cannot be sent and the result is inconclusive.
fn passing_asserts(x: &Captured) -> Vec<Value> {
    let m = x.message.as_ref();
    let mut out = Vec::new();
    if let Some(reason) = m.and_then(|m| m.get("stop_reason")?.as_str())
        && reason == "tool_use"
    {
        out.push(json!({"path": "$.stop_reason", "equals": "tool_use", "requires": true}));
    }
    let uses = tool_uses(m).len();
    if uses > 1 {
        out.push(json!({"path": "$.content[?@.type == 'tool_use']", "count": {"gte": uses}, "requires": true}));
    }
    out
}

/// What the last request must get beyond the checks every answer gets (schema, stream
/// grammar, what the request implies: forced tools, thinking first, stop sequences…).
fn final_asserts(x: &Captured) -> Vec<Value> {
    if x.is_count_tokens() {
        return vec![json!({"path": "$.input_tokens", "gt": 0, "check": "count-tokens.zero"})];
    }
    if !x.is_messages() {
        return Vec::new();
    }
    let mut out = Vec::new();
    // With cache breakpoints the prompt may be counted as cache writes and reads alone.
    if !x.caches() {
        out.push(json!({
            "path": "$.usage.input_tokens", "gt": 0, "check": "message.input-tokens-zero",
            "when": {"path": "$.usage.input_tokens", "type": "integer"}
        }));
    }
    if x.tools() == 0 {
        out.push(json!({
            "path": "$.content[?@.type == 'text']", "count": {"gte": 1}, "check": "answer.no-text",
            "when": {"path": "$.stop_reason", "not": {"equals": "max_tokens"}}
        }));
    }
    out
}

fn feature_of(x: &Captured, client: &Client) -> &'static str {
    if client.is_claude_code() {
        "claude-code"
    } else if x.is_count_tokens() {
        "count-tokens"
    } else if x.method == "GET" {
        "models"
    } else if x.tools() > 0 {
        "tools"
    } else if x.thinks() {
        "thinking"
    } else if x.messages().len() > 1 {
        "multi-turn"
    } else {
        "basic"
    }
}

fn turn(x: &Captured) -> usize {
    x.messages()
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
        .count()
        + 1
}

fn name_of(x: &Captured) -> String {
    if x.method == "GET" {
        let last = x.path.split('?').next().unwrap_or("").rsplit('/').next();
        return format!(
            "get-{}",
            crate::fsutil::safe_name(last.unwrap_or("path"), "-")
        );
    }
    let mut name = if x.is_count_tokens() {
        "count-tokens".to_string()
    } else if x.is_messages() {
        format!("turn-{}", turn(x))
    } else {
        let last = x.path.split('?').next().unwrap_or("").rsplit('/').next();
        format!(
            "post-{}",
            crate::fsutil::safe_name(last.unwrap_or("path"), "-")
        )
    };
    if x.tools() > 0 {
        name.push_str("-tools");
    }
    if x.thinks() {
        name.push_str("-thinking");
    }
    name
}

fn title_of(x: &Captured, client: &Client) -> String {
    let who = client.short();
    let path = x.path.split('?').next().unwrap_or(&x.path);
    let mut traits = Vec::new();
    if x.is_messages() {
        traits.push(format!("turn {}", turn(x)));
        traits.push(
            if x.streams() {
                "streamed"
            } else {
                "not streamed"
            }
            .to_string(),
        );
    }
    match x.tools() {
        0 => {}
        1 => traits.push("1 tool".into()),
        n => traits.push(format!("{n} tools")),
    }
    if x.thinks() {
        traits.push("thinking".into());
    }
    let traits = if traits.is_empty() {
        String::new()
    } else {
        format!(" ({})", traits.join(", "))
    };
    format!("{who}'s {} {path}{traits} is served", x.method)
}

/// File names made unique in the order of the scenarios (`turn-1`, `turn-1-2`, …).
fn unique_names(scenarios: &mut [Planned]) {
    let mut seen: Vec<String> = Vec::new();
    for s in scenarios.iter_mut() {
        let mut name = s.name.clone();
        let mut k = 2;
        while seen.contains(&name) {
            name = format!("{}-{k}", s.name);
            k += 1;
        }
        seen.push(name.clone());
        s.name = name;
    }
}

/// What makes two scenarios one shape: their requests with every text and number abstracted
/// (block types, roles, tool names, header values, paths and flags kept).
fn shape_key(p: &Planned) -> Value {
    let steps: Vec<Value> = p
        .steps
        .iter()
        .map(|s| {
            json!({
                "method": s.method,
                "path": s.path,
                "stream": s.stream,
                "headers": s.headers,
                "body": s.body.as_ref().map(|b| skeleton(b, None)),
            })
        })
        .collect();
    json!({"stream": p.stream, "steps": steps})
}

fn skeleton(v: &Value, key: Option<&str>) -> Value {
    match v {
        Value::String(s) if matches!(key, Some("type" | "role" | "name" | "model")) => {
            json!(s)
        }
        Value::String(_) => json!(""),
        Value::Number(_) => json!(0),
        Value::Array(a) => Value::Array(a.iter().map(|x| skeleton(x, None)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), skeleton(x, Some(k))))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
#[path = "shape_tests.rs"]
mod tests;
