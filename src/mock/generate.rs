//! Deterministic generation of the assistant's answer from the request and the seed.
//!
//! Two random streams: a *shape* stream seeded by the request alone (lengths, which optional
//! fields a tool input has) and a *word* stream seeded by the request and `--seed` (words,
//! numbers, ids). So the same request and seed give the same answer, and another seed changes
//! text and ids but never the block structure or stop reason.
//!
//! Rules that make effects observable (documented for probes):
//! * thinking `enabled`/`adaptive` → one thinking block first, signed with [`sign_thinking`].
//! * tools with `tool_choice` `auto` (the default): a tool is called only when the last user
//!   prompt names it — its exact name or one of its keywords (the words of its name, split at
//!   `_`/`-`/camelCase, of 4+ letters, e.g. "weather" for `get_weather`), as a whole word, outside
//!   `<system-reminder>` sections; then a short text preamble precedes the call. A client's
//!   tools are never called at random.
//!   `any` calls the matching tools or else the first; `tool` calls the named one (no preamble);
//!   `none` never calls. Up to 2 tools are called in parallel unless
//!   `disable_parallel_tool_use`. A turn answering `tool_result`s is answered with text (auto).
//! * structured output (`output_config.format` or `output_format`) → the text is JSON valid
//!   against the schema.
//! * `stop_sequences` → the text is generated with the first stop sequence in its middle and
//!   cut before the earliest match of any sequence (`stop_reason: stop_sequence`).
//! * prefill (last message from the assistant) → the text continues it without repeating it.
//! * `max_tokens` → output is cut at that many tokens (inside thinking, text or a tool input).

use serde_json::{Map, Value, json};

use super::cache::output_format;
use super::faults::{Fault, FaultSet};
use super::tokenize;

/// FNV-1a over `bytes`, continuing from `h`.
pub fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The splitmix64 finaliser.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small deterministic PRNG (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(mix64(seed ^ 0x5851_f42d_4c95_7f2d))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// `n` base62 characters.
    pub fn base62(&mut self, n: usize) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..n)
            .map(|_| A[(self.next_u64() % 62) as usize] as char)
            .collect()
    }
}

const SIGNING_KEY: u64 = 0x636f_6e66_6f72_6d21; // "conform!"

/// The signature of a thinking text: a keyed hash the server can recompute to verify a thinking
/// block passed back (a tampered text or signature gets a 400).
pub fn sign_thinking(seed: u64, thinking: &str) -> String {
    use base64::Engine;
    let mut bytes = vec![0x12, 0x44, 0x0a, 0x40];
    for lane in 0..8u64 {
        let h = fnv(
            SIGNING_KEY ^ mix64(seed.wrapping_add(lane)),
            thinking.as_bytes(),
        );
        bytes.extend_from_slice(&mix64(h ^ lane).to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One generated content block.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Thinking {
        thinking: String,
        signature: String,
    },
    Text {
        text: String,
    },
    /// `json` is what a stream sends as `partial_json` fragments: the full serialised input, or
    /// a prefix when `max_tokens` cut it.
    ToolUse {
        id: String,
        name: String,
        input: Value,
        json: String,
    },
}

/// The generated answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub id: String,
    pub blocks: Vec<Block>,
    pub stop_reason: &'static str,
    pub stop_sequence: Option<String>,
    pub output_tokens: u64,
}

/// Hash of a request for the random streams (`stream` excluded so both modes agree).
pub fn request_hash(body: &Value) -> u64 {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("stream");
    }
    fnv(0xcbf2_9ce4_8422_2325, b.to_string().as_bytes())
}

/// Generates the answer to a validated request.
pub fn generate(body: &Value, seed: u64, faults: &FaultSet) -> Generated {
    let h = request_hash(body);
    let mut shape = Rng::new(h);
    let mut words = Rng::new(h ^ mix64(seed.wrapping_add(1)));
    let non_anthropic = faults.has(Fault::NonAnthropicIds);
    let id = if non_anthropic {
        format!("chatcmpl-{}", words.base62(29))
    } else {
        format!("msg_01{}", words.base62(22))
    };
    let convo = Conversation::read(body);
    let mut plan: Vec<Block> = Vec::new();

    // Thinking.
    let thinking_type = body
        .get("thinking")
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str);
    let thinking_on = (matches!(thinking_type, Some("enabled") | Some("adaptive"))
        && !faults.has(Fault::ThinkingIgnored))
        || faults.has(Fault::ThinkingByDefault);
    if thinking_on {
        let omitted = body.pointer("/thinking/display").and_then(Value::as_str) == Some("omitted");
        let text = if omitted {
            String::new()
        } else {
            thinking_text(&convo, &mut shape, &mut words)
        };
        plan.push(Block::Thinking {
            thinking: text,
            signature: String::new(),
        });
    }

    // Tools.
    let calls = tool_calls(body, &convo, faults);
    let eager_tools: Vec<String> = calls
        .iter()
        .filter(|t| t.eager)
        .map(|t| t.name.clone())
        .collect();
    let mut stop_candidates: Option<Vec<String>> = None;
    if !calls.is_empty() {
        let forced = matches!(choice_type(body, faults), "any" | "tool");
        if !forced {
            let names: Vec<&str> = calls.iter().map(|t| t.name.as_str()).collect();
            plan.push(Block::Text {
                text: format!(
                    "I'll use the {} tool to help with that.",
                    names.join(" and ")
                ),
            });
        }
        for tool in &calls {
            let input = value_for(
                &tool.schema,
                &tool.schema,
                "input",
                &convo.user_text,
                &mut shape,
                &mut words,
                0,
            );
            let input = if input.is_object() { input } else { json!({}) };
            let tool_id = if non_anthropic {
                format!("call_{}", words.base62(24))
            } else {
                format!("toolu_01{}", words.base62(22))
            };
            let json = input.to_string();
            plan.push(Block::ToolUse {
                id: tool_id,
                name: tool.name.clone(),
                input,
                json,
            });
        }
    } else if let Some(format) =
        output_format(body).filter(|_| !faults.has(Fault::StructuredOutputIgnored))
    {
        let schema = format.get("schema").cloned().unwrap_or(json!({}));
        let v = value_for(
            &schema,
            &schema,
            "output",
            &convo.user_text,
            &mut shape,
            &mut words,
            0,
        );
        plan.push(Block::Text {
            text: v.to_string(),
        });
    } else {
        let mut text = answer_text(&convo, &mut shape, &mut words);
        let stops: Vec<String> = body
            .get("stop_sequences")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(first) = stops.first() {
            let more = sentence(&convo, &mut shape, &mut words);
            text = format!("{text} {first} {more}");
            stop_candidates = Some(stops);
        }
        plan.push(Block::Text { text });
    }

    // Stop sequences: cut at the earliest match.
    let mut stop_sequence = None;
    if let Some(stops) = &stop_candidates
        && let Some(Block::Text { text }) = plan.last_mut()
    {
        let hit = stops
            .iter()
            .filter_map(|s| text.find(s.as_str()).map(|at| (at, s)))
            .min_by_key(|(at, _)| *at);
        if let Some((at, s)) = hit {
            // stop-sequence-ignored: the text runs through the sequence (MiniMax).
            if !faults.has(Fault::StopSequenceIgnored) {
                text.truncate(at);
            }
            stop_sequence = Some(s.clone());
        }
    }

    // max_tokens budget.
    let max_tokens = body
        .get("max_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let budget = if faults.has(Fault::MaxTokensIgnored) {
        u64::MAX
    } else {
        max_tokens
    };
    let mut used = 0u64;
    let mut truncated = false;
    let mut blocks = Vec::new();
    for block in plan {
        let remaining = budget.saturating_sub(used);
        if remaining == 0 {
            truncated = true;
            break;
        }
        match block {
            Block::Thinking { thinking, .. } => {
                let n = tokenize::count(&thinking);
                let kept = if n > remaining {
                    truncated = true;
                    tokenize::truncate(&thinking, remaining).to_string()
                } else {
                    thinking
                };
                used += tokenize::count(&kept).max(1).min(remaining);
                let signature = if faults.has(Fault::NoSignature) {
                    String::new()
                } else {
                    sign_thinking(seed, &kept)
                };
                blocks.push(Block::Thinking {
                    thinking: kept,
                    signature,
                });
            }
            Block::Text { text } => {
                let n = tokenize::count(&text);
                if n > remaining {
                    truncated = true;
                    let kept = tokenize::truncate(&text, remaining).to_string();
                    used += remaining;
                    blocks.push(Block::Text { text: kept });
                } else {
                    used += n;
                    blocks.push(Block::Text { text });
                }
            }
            Block::ToolUse {
                id,
                name,
                input,
                json,
            } => {
                let overhead = 3 + tokenize::count(&name);
                let n = overhead + tokenize::count(&json);
                if n > remaining {
                    truncated = true;
                    let keep = remaining.saturating_sub(overhead);
                    let prefix = tokenize::truncate(&json, keep).to_string();
                    used += remaining;
                    let partial = complete_entries(&input, &prefix);
                    // Anthropic buffers each parameter value until it is complete (unless the
                    // tool asks for eager_input_streaming), so a cut stream carries the complete
                    // parameters and no closing brace.
                    let streamed = if eager_tools.contains(&name) {
                        prefix
                    } else {
                        let mut s = partial.to_string();
                        s.pop();
                        s
                    };
                    blocks.push(Block::ToolUse {
                        id,
                        name,
                        input: partial,
                        json: streamed,
                    });
                } else {
                    used += n;
                    blocks.push(Block::ToolUse {
                        id,
                        name,
                        input,
                        json,
                    });
                }
            }
        }
        if truncated {
            break;
        }
    }
    if faults.has(Fault::ToolInputString) {
        for b in &mut blocks {
            if let Block::ToolUse { input, json, .. } = b {
                *input = Value::String(json.clone());
                *json = input.to_string();
            }
        }
    }
    let has_tool = blocks.iter().any(|b| matches!(b, Block::ToolUse { .. }));
    let (stop_reason, stop_sequence) = if truncated {
        ("max_tokens", None)
    } else if stop_sequence.is_some() {
        if faults.has(Fault::StopSequenceIgnored) || faults.has(Fault::StopSequenceEndTurn) {
            ("end_turn", None)
        } else {
            ("stop_sequence", stop_sequence)
        }
    } else if has_tool && !faults.has(Fault::WrongStopReason) {
        ("tool_use", None)
    } else {
        ("end_turn", None)
    };
    Generated {
        id,
        blocks,
        stop_reason,
        stop_sequence,
        output_tokens: used.max(1),
    }
}

/// The top-level entries of `input` whose serialisation is complete within `prefix`.
fn complete_entries(input: &Value, prefix: &str) -> Value {
    let mut out = Map::new();
    if let Value::Object(m) = input {
        let mut acc = String::from("{");
        for (k, v) in m {
            if acc.len() > 1 {
                acc.push(',');
            }
            acc.push_str(&Value::String(k.clone()).to_string());
            acc.push(':');
            acc.push_str(&v.to_string());
            if acc.len() <= prefix.len() {
                out.insert(k.clone(), v.clone());
            } else {
                break;
            }
        }
    }
    Value::Object(out)
}

/// What the generator reads from the conversation.
#[derive(Debug, Default)]
struct Conversation {
    /// Text of the last user turn (tool results included).
    user_text: String,
    /// The last user turn carries tool_result blocks.
    answers_tools: bool,
    tool_result_text: String,
    prefill: Option<String>,
}

impl Conversation {
    fn read(body: &Value) -> Self {
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
                        c.tool_result_text.push_str(&text_of(b.get("content")));
                    }
                }
            }
        }
        c
    }
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

const STOPWORDS: &[&str] = &[
    "what", "which", "when", "where", "this", "that", "with", "from", "your", "about", "have",
    "give", "like", "today", "please", "there", "their", "would", "could", "should", "does",
    "brief", "short", "tell", "make", "into", "some", "more", "than", "them", "they", "then",
];

fn keywords(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        let lw = w.to_lowercase();
        if lw.chars().count() >= 4 && !STOPWORDS.contains(&lw.as_str()) && !out.contains(&lw) {
            out.push(lw);
        }
    }
    out
}

const WORDS: &[&str] = &[
    "system",
    "careful",
    "simple",
    "answer",
    "detail",
    "context",
    "model",
    "result",
    "clear",
    "useful",
    "example",
    "steady",
    "process",
    "quality",
    "signal",
    "pattern",
    "approach",
    "balance",
    "structure",
    "insight",
    "method",
    "practical",
    "value",
    "concept",
    "question",
    "reason",
    "evidence",
    "common",
    "natural",
    "gentle",
    "robust",
    "direct",
    "modern",
    "core",
    "small",
    "large",
    "better",
    "focus",
    "idea",
    "step",
    "plan",
    "view",
    "point",
    "part",
];
const LINKS: &[&str] = &[
    "and", "with", "for", "of", "in", "on", "to", "as", "the", "a",
];

fn sentence(c: &Conversation, shape: &mut Rng, words: &mut Rng) -> String {
    let kws = keywords(&c.user_text);
    let n = shape.range(6, 11) as usize;
    let mut out: Vec<String> = Vec::new();
    for i in 0..n {
        let w = if i % 3 == 1 {
            words.pick(LINKS).to_string()
        } else if !kws.is_empty() && words.range(0, 4) == 0 {
            words.pick(&kws).clone()
        } else {
            words.pick(WORDS).to_string()
        };
        out.push(w);
    }
    let mut s = out.join(" ");
    if let Some(first) = s.get(0..1) {
        s = first.to_uppercase() + &s[1..];
    }
    s.push('.');
    s
}

fn answer_text(c: &Conversation, shape: &mut Rng, words: &mut Rng) -> String {
    let n = shape.range(2, 4);
    let mut parts: Vec<String> = Vec::new();
    if c.answers_tools {
        let snippet: String = c.tool_result_text.chars().take(80).collect();
        parts.push(format!(
            "Based on the tool result ({}), here is the answer.",
            snippet.trim()
        ));
    } else if c.prefill.is_none() {
        let kws = keywords(&c.user_text);
        match kws.first() {
            Some(k) => parts.push(format!("Here is a short answer about {k}.")),
            None => parts.push("Here is a short answer.".to_string()),
        }
    }
    for _ in 0..n {
        parts.push(sentence(c, shape, words));
    }
    let text = parts.join(" ");
    match &c.prefill {
        Some(p) if !p.is_empty() && !p.ends_with(char::is_whitespace) => format!(" {text}"),
        _ => text,
    }
}

fn thinking_text(c: &Conversation, shape: &mut Rng, words: &mut Rng) -> String {
    let kws = keywords(&c.user_text);
    let topic = if kws.is_empty() {
        "the request".to_string()
    } else {
        kws.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
    };
    let mut s = format!("The user is asking about {topic}. Let me think about how to answer.");
    for _ in 0..shape.range(1, 3) {
        s.push(' ');
        s.push_str(&sentence(c, shape, words));
    }
    s
}

/// A custom tool the generator can call.
#[derive(Debug, Clone)]
struct ToolDef {
    name: String,
    schema: Value,
    /// `eager_input_streaming`: input is streamed unbuffered (cut anywhere by max_tokens).
    eager: bool,
}

fn choice_type<'a>(body: &'a Value, faults: &FaultSet) -> &'a str {
    if faults.has(Fault::ToolChoiceIgnored) {
        return "auto";
    }
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

fn tool_calls(body: &Value, c: &Conversation, faults: &FaultSet) -> Vec<ToolDef> {
    let tools: Vec<ToolDef> = body
        .get("tools")
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
        .unwrap_or_default();
    if tools.is_empty() || c.prefill.is_some() {
        return Vec::new();
    }
    let choice = choice_type(body, faults);
    let no_parallel = body
        .pointer("/tool_choice/disable_parallel_tool_use")
        .and_then(Value::as_bool)
        == Some(true)
        && !faults.has(Fault::ParallelToolsIgnored);
    // A prompt names a tool by its exact name or by a keyword of it, as whole words.
    let words: Vec<String> = c
        .user_text
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
    let matched: Vec<ToolDef> = tools.iter().filter(|t| named(t)).cloned().collect();
    let mut calls = match choice {
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
        _ => {
            if c.answers_tools {
                Vec::new()
            } else {
                matched
            }
        }
    };
    if faults.has(Fault::ParallelToolsIgnored)
        && !calls.is_empty()
        && body
            .pointer("/tool_choice/disable_parallel_tool_use")
            .and_then(Value::as_bool)
            == Some(true)
        && let Some(other) = tools
            .iter()
            .find(|t| !calls.iter().any(|c| c.name == t.name))
    {
        calls.push(other.clone());
    }
    let limit = if no_parallel {
        1
    } else {
        2.max(if faults.has(Fault::ParallelToolsIgnored) {
            2
        } else {
            0
        })
    };
    calls.truncate(limit);
    calls
}

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
pub fn value_for(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn req(extra: Value) -> Value {
        let mut b = json!({"model": "conform-mock", "max_tokens": 1024,
            "messages": [{"role": "user", "content": "What's the weather like in Hangzhou today?"}]});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    }

    fn weather_tool() -> Value {
        json!([{"name": "get_weather", "description": "Get weather", "input_schema":
            {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
    }

    #[test]
    fn same_request_same_answer_and_seed_changes_words_not_shape() {
        let f = FaultSet::default();
        let a = generate(&req(json!({})), 0, &f);
        assert_eq!(a, generate(&req(json!({})), 0, &f));
        let b = generate(&req(json!({})), 7, &f);
        assert_ne!(a.id, b.id);
        assert_eq!(a.blocks.len(), b.blocks.len());
        assert_eq!(a.stop_reason, b.stop_reason);
        let with_stream = generate(&req(json!({"stream": true})), 0, &f);
        assert_eq!(a, with_stream);
    }

    #[test]
    fn auto_tool_choice_calls_the_matching_tool_with_a_valid_input() {
        let g = generate(
            &req(json!({"tools": weather_tool()})),
            0,
            &FaultSet::default(),
        );
        assert_eq!(g.stop_reason, "tool_use");
        let Some(Block::ToolUse {
            name, input, id, ..
        }) = g.blocks.last()
        else {
            panic!("{g:?}")
        };
        assert_eq!(name, "get_weather");
        assert!(id.starts_with("toolu_"));
        assert_eq!(input["city"], "Hangzhou");
        let none = generate(
            &req(json!({"tools": weather_tool(), "tool_choice": {"type": "none"}})),
            0,
            &FaultSet::default(),
        );
        assert_eq!(none.stop_reason, "end_turn");
        assert!(none.blocks.iter().all(|b| matches!(b, Block::Text { .. })));
    }

    #[test]
    fn stop_sequence_is_cut_and_reported() {
        let g = generate(
            &req(json!({"stop_sequences": ["STOP"]})),
            0,
            &FaultSet::default(),
        );
        assert_eq!(g.stop_reason, "stop_sequence");
        assert_eq!(g.stop_sequence.as_deref(), Some("STOP"));
        let Block::Text { text } = &g.blocks[0] else {
            panic!()
        };
        assert!(!text.contains("STOP"));
    }

    #[test]
    fn max_tokens_truncates_text_and_tool_input() {
        let g = generate(&req(json!({"max_tokens": 3})), 0, &FaultSet::default());
        assert_eq!(g.stop_reason, "max_tokens");
        assert!(g.output_tokens <= 3);
        let t = generate(
            &req(json!({"max_tokens": 6, "tools": weather_tool(), "tool_choice": {"type": "any"}})),
            0,
            &FaultSet::default(),
        );
        assert_eq!(t.stop_reason, "max_tokens");
        assert!(t.output_tokens <= 6);
        let Some(Block::ToolUse { json, .. }) = t.blocks.last() else {
            panic!("{t:?}")
        };
        assert!(serde_json::from_str::<Value>(json).is_err());
    }

    #[test]
    fn thinking_is_signed_verifiably() {
        let g = generate(
            &req(
                json!({"max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}}),
            ),
            3,
            &FaultSet::default(),
        );
        let Block::Thinking {
            thinking,
            signature,
        } = &g.blocks[0]
        else {
            panic!()
        };
        assert_eq!(*signature, sign_thinking(3, thinking));
        assert_ne!(*signature, sign_thinking(3, &format!("{thinking}x")));
    }

    #[test]
    fn schema_values_are_valid() {
        let schema = json!({"type": "object", "$defs": {"c": {"type": "string", "enum": ["a", "b"]}},
            "properties": {
                "n": {"type": "integer", "minimum": 5, "maximum": 7},
                "x": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/c"}, "minItems": 2, "maxItems": 2},
                "nested": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
                "maybe": {"type": ["string", "null"], "maxLength": 3}
            },
            "required": ["n", "x", "tags", "nested", "maybe"], "additionalProperties": false});
        for seed in 0..20 {
            let mut s = Rng::new(seed);
            let mut w = Rng::new(seed + 100);
            let v = value_for(&schema, &schema, "output", "", &mut s, &mut w, 0);
            let validator = jsonschema::validator_for(&schema).unwrap();
            assert!(validator.is_valid(&v), "{v}");
        }
    }
}

#[cfg(test)]
mod hostile_schema_tests {
    use super::*;

    #[test]
    fn recursive_and_huge_schemas_stay_bounded() {
        let schema = json!({"$defs": {"n": {"type": "object", "required": ["a", "b", "c"], "properties": {
            "a": {"$ref": "#/$defs/n"}, "b": {"$ref": "#/$defs/n"}, "c": {"type": "array", "minItems": 1000000, "items": {"$ref": "#/$defs/n"}}}}},
            "$ref": "#/$defs/n"});
        let mut s = Rng::new(1);
        let mut w = Rng::new(2);
        let v = value_for(&schema, &schema, "x", "", &mut s, &mut w, 0);
        assert!(v.to_string().len() < 2_000_000);
        let long = json!({"type": "string", "minLength": 1u64 << 40});
        let v = value_for(&long, &long, "x", "", &mut s, &mut w, 0);
        assert!(v.as_str().unwrap().len() <= 10_000);
    }
}

#[cfg(test)]
mod truncated_tool_tests {
    use super::*;

    fn body(max_tokens: u64, eager: bool) -> Value {
        json!({"model": "conform-mock", "max_tokens": max_tokens,
            "tool_choice": {"type": "any"},
            "tools": [{"name": "save_note", "eager_input_streaming": eager, "input_schema": {"type": "object",
                "properties": {"city": {"type": "string"}, "note": {"type": "string"}, "n": {"type": "integer"}},
                "required": ["city", "note", "n"]}}],
            "messages": [{"role": "user", "content": "Save a note about Paris."}]})
    }

    #[test]
    fn buffered_tool_input_is_cut_at_a_parameter_boundary() {
        let mut seen_partial = false;
        for max in 4..30 {
            let g = generate(&body(max, false), 0, &FaultSet::default());
            let Some(Block::ToolUse { input, json, .. }) = g.blocks.last() else {
                panic!()
            };
            if g.stop_reason == "max_tokens" {
                let mut expected = input.to_string();
                expected.pop();
                assert_eq!(*json, expected, "max_tokens {max}");
                seen_partial |= !input.as_object().unwrap().is_empty();
                assert!(g.output_tokens <= max);
            }
        }
        assert!(seen_partial, "some cut keeps complete parameters");
        let eager = generate(&body(8, true), 0, &FaultSet::default());
        let Some(Block::ToolUse { json, .. }) = eager.blocks.last() else {
            panic!()
        };
        assert!(json.starts_with('{') && serde_json::from_str::<Value>(json).is_err());
    }
}
