//! Prompt accounting and the prompt cache of the mock.
//!
//! The prompt is cut into *segments* in Anthropic's prefix order (tools → system → messages),
//! one per tool, system block and content block, each with its token count, the hash of the
//! prefix ending there, and its `cache_control` TTL if it is a breakpoint (a top-level
//! `cache_control` marks the last segment). `count_tokens` is the sum of the segments.
//!
//! Cache rules (Anthropic docs): a breakpoint whose prefix is under [`MIN_CACHEABLE_TOKENS`] is
//! silently skipped; a read looks back up to [`LOOKBACK`] segments before each breakpoint for a
//! prefix written earlier (and refreshes its TTL); every cacheable breakpoint after the read
//! point is written, and the tokens between the read point and the last written breakpoint are
//! `cache_creation_input_tokens`, split into `ephemeral_5m` / `ephemeral_1h` by the TTL of the
//! breakpoint that closes each stretch. `input_tokens` is what is left (the tokens after the
//! last breakpoint), so `input + creation + read == count_tokens`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::hash::fnv;
use super::tokenize;
use crate::protocol::anthropic::wire::output_format;

/// Minimum prefix length for a cache write (the seed provider and Sonnet-class models).
pub(crate) const MIN_CACHEABLE_TOKENS: u64 = 1024;
/// How many segments before a breakpoint are checked for an earlier write.
pub(crate) const LOOKBACK: usize = 20;
/// Per-message overhead (role markers).
const MESSAGE_OVERHEAD: u64 = 3;
/// Overhead when tools are present (the tool-use system prompt, much smaller than Anthropic's).
const TOOLS_OVERHEAD: u64 = 12;
/// Fixed costs of media, in tokens.
const IMAGE_TOKENS: u64 = 800;
const VIDEO_TOKENS: u64 = 1200;

/// Cache lifetime of a breakpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ttl {
    FiveMinutes,
    OneHour,
}

impl Ttl {
    fn duration(self) -> Duration {
        match self {
            Ttl::FiveMinutes => Duration::from_secs(300),
            Ttl::OneHour => Duration::from_secs(3600),
        }
    }
}

/// One cacheable unit of the prompt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub tokens: u64,
    /// Hash of the whole prefix up to and including this segment.
    pub prefix_hash: u64,
    pub breakpoint: Option<Ttl>,
}

/// Cuts a (validated) request body into segments.
pub(crate) fn segments(body: &Value) -> Vec<Segment> {
    let mut out = Vec::new();
    let model = body.get("model").and_then(Value::as_str).unwrap_or("");
    let mut h = fnv(0xcbf2_9ce4_8422_2325, model.as_bytes());
    let mut push = |out: &mut Vec<Segment>, part: &Value, tokens: u64| {
        let mut identity = part.clone();
        if let Some(o) = identity.as_object_mut() {
            o.remove("cache_control");
        }
        h = fnv(h, identity.to_string().as_bytes());
        out.push(Segment {
            tokens,
            prefix_hash: h,
            breakpoint: ttl_of(part),
        });
    };
    if let Some(tools) = body.get("tools").and_then(Value::as_array) {
        for (i, tool) in tools.iter().enumerate() {
            let overhead = if i == 0 { TOOLS_OVERHEAD } else { 0 };
            let mut t = tool.clone();
            if let Some(o) = t.as_object_mut() {
                o.remove("cache_control");
            }
            push(&mut out, tool, overhead + tokenize::count(&t.to_string()));
        }
    }
    match body.get("system") {
        Some(Value::String(s)) => push(
            &mut out,
            &json!({"type": "text", "text": s}),
            tokenize::count(s),
        ),
        Some(Value::Array(blocks)) => {
            for b in blocks {
                push(&mut out, b, block_tokens(b));
            }
        }
        _ => {}
    }
    if let Some(msgs) = body.get("messages").and_then(Value::as_array) {
        for (mi, m) in msgs.iter().enumerate() {
            let role = m.get("role").cloned().unwrap_or(Value::Null);
            match m.get("content") {
                Some(Value::String(s)) => {
                    let part = json!({"role": role, "type": "text", "text": s, "m": mi});
                    push(&mut out, &part, MESSAGE_OVERHEAD + tokenize::count(s));
                }
                Some(Value::Array(blocks)) => {
                    for (bi, b) in blocks.iter().enumerate() {
                        let overhead = if bi == 0 { MESSAGE_OVERHEAD } else { 0 };
                        let mut part = b.clone();
                        if let Some(o) = part.as_object_mut() {
                            o.insert("role".into(), role.clone());
                            o.insert("m".into(), json!(mi));
                        }
                        push(&mut out, &part, overhead + block_tokens(b));
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(format) = output_format(body) {
        push(&mut out, format, tokenize::count(&format.to_string()));
    }
    if let Some(cc) = body.get("cache_control").filter(|v| !v.is_null())
        && let Some(last) = out.last_mut()
    {
        last.breakpoint = Some(ttl_of(&json!({"cache_control": cc})).unwrap_or(Ttl::FiveMinutes));
    }
    out
}

/// `cache-ttl-ignored`: every breakpoint is a 5-minute one, whatever its `ttl`.
pub(crate) fn one_duration(segments: &mut [Segment]) {
    for s in segments {
        if s.breakpoint.is_some() {
            s.breakpoint = Some(Ttl::FiveMinutes);
        }
    }
}

fn ttl_of(part: &Value) -> Option<Ttl> {
    let cc = part.get("cache_control")?;
    if cc.is_null() {
        return None;
    }
    Some(match cc.get("ttl").and_then(Value::as_str) {
        Some("1h") => Ttl::OneHour,
        _ => Ttl::FiveMinutes,
    })
}

/// Tokens of one content block (request side).
pub(crate) fn block_tokens(b: &Value) -> u64 {
    let kind = b.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => b
            .get("text")
            .and_then(Value::as_str)
            .map(tokenize::count)
            .unwrap_or(0),
        "image" => IMAGE_TOKENS,
        "video" => VIDEO_TOKENS,
        "document" => {
            let src = b.get("source");
            let st = src
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            match st {
                "text" => src
                    .and_then(|s| s.get("data"))
                    .and_then(Value::as_str)
                    .map(tokenize::count)
                    .unwrap_or(0),
                "base64" => {
                    let len = src
                        .and_then(|s| s.get("data"))
                        .and_then(Value::as_str)
                        .map(str::len)
                        .unwrap_or(0);
                    100 + len as u64 / 16
                }
                _ => 1500,
            }
        }
        "thinking" => b
            .get("thinking")
            .and_then(Value::as_str)
            .map(tokenize::count)
            .unwrap_or(0),
        "tool_use" => {
            let name = b.get("name").and_then(Value::as_str).unwrap_or("");
            3 + tokenize::count(name)
                + b.get("input")
                    .map(|i| tokenize::count(&i.to_string()))
                    .unwrap_or(0)
        }
        "tool_result" => {
            3 + match b.get("content") {
                Some(Value::String(s)) => tokenize::count(s),
                Some(Value::Array(a)) => a.iter().map(block_tokens).sum(),
                _ => 0,
            }
        }
        _ => {
            let mut v = b.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("cache_control");
            }
            tokenize::count(&v.to_string())
        }
    }
}

/// The input side of `usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct InputUsage {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub ephemeral_5m: u64,
    pub ephemeral_1h: u64,
}

impl InputUsage {
    /// No caching: everything is plain input.
    pub(crate) fn uncached(segments: &[Segment]) -> Self {
        InputUsage {
            input_tokens: segments.iter().map(|s| s.tokens).sum(),
            ..Default::default()
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens
    }

    /// The `cache_creation` object.
    pub(crate) fn cache_creation_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("ephemeral_5m_input_tokens".into(), json!(self.ephemeral_5m));
        m.insert("ephemeral_1h_input_tokens".into(), json!(self.ephemeral_1h));
        Value::Object(m)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    expires: Instant,
    ttl: Ttl,
}

/// The prompt cache of one server.
#[derive(Debug, Default)]
pub(crate) struct CacheStore {
    entries: Mutex<HashMap<u64, Entry>>,
}

impl CacheStore {
    /// Accounts a request at `now`, reading and writing the cache.
    pub(crate) fn account(&self, segments: &[Segment], now: Instant) -> InputUsage {
        let mut cum = Vec::with_capacity(segments.len());
        let mut total = 0;
        for s in segments {
            total += s.tokens;
            cum.push(total);
        }
        let bps: Vec<usize> = (0..segments.len())
            .filter(|&i| segments[i].breakpoint.is_some())
            .collect();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, e| e.expires > now);
        }
        // Read: the latest breakpoint (with lookback) whose prefix is cached.
        let mut hit: Option<usize> = None;
        'outer: for &bp in bps.iter().rev() {
            let lo = bp.saturating_sub(LOOKBACK);
            for j in (lo..=bp).rev() {
                if let Some(e) = entries.get_mut(&segments[j].prefix_hash)
                    && e.expires > now
                {
                    e.expires = now + e.ttl.duration();
                    hit = Some(j);
                    break 'outer;
                }
            }
        }
        let read = hit.map(|j| cum[j]).unwrap_or(0);
        // Write: every cacheable breakpoint after the read point.
        let mut usage = InputUsage {
            cache_read_input_tokens: read,
            ..Default::default()
        };
        let mut boundary = read;
        for &bp in &bps {
            if hit.is_some_and(|j| bp <= j) || cum[bp] < MIN_CACHEABLE_TOKENS {
                continue;
            }
            let ttl = segments[bp].breakpoint.unwrap_or(Ttl::FiveMinutes);
            let stretch = cum[bp] - boundary;
            match ttl {
                Ttl::FiveMinutes => usage.ephemeral_5m += stretch,
                Ttl::OneHour => usage.ephemeral_1h += stretch,
            }
            boundary = cum[bp];
            entries.insert(
                segments[bp].prefix_hash,
                Entry {
                    expires: now + ttl.duration(),
                    ttl,
                },
            );
        }
        usage.cache_creation_input_tokens = usage.ephemeral_5m + usage.ephemeral_1h;
        usage.input_tokens = total - boundary;
        usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(system: &str, question: &str, ttl: Option<&str>) -> Value {
        let mut cc = json!({"type": "ephemeral"});
        if let Some(t) = ttl {
            cc["ttl"] = json!(t);
        }
        json!({"model": "conform-mock", "max_tokens": 10,
               "system": [{"type": "text", "text": system, "cache_control": cc}],
               "messages": [{"role": "user", "content": question}]})
    }

    #[test]
    fn write_then_read_with_consistent_totals() {
        let store = CacheStore::default();
        let long = "<Your Code Here>".repeat(400);
        let now = Instant::now();
        let s1 = segments(&body(&long, "What does this code do?", None));
        let first = store.account(&s1, now);
        assert!(first.cache_creation_input_tokens > 1024);
        assert_eq!(first.cache_read_input_tokens, 0);
        assert_eq!(first.ephemeral_5m, first.cache_creation_input_tokens);
        assert_eq!(first.total(), s1.iter().map(|s| s.tokens).sum::<u64>());
        let s2 = segments(&body(&long, "How can this code be optimized?", None));
        let second = store.account(&s2, now + Duration::from_secs(10));
        assert_eq!(
            second.cache_read_input_tokens,
            first.cache_creation_input_tokens
        );
        assert_eq!(second.cache_creation_input_tokens, 0);
        assert_eq!(second.total(), s2.iter().map(|s| s.tokens).sum::<u64>());
        // Expired after the TTL (refreshed by the read at +10 s).
        let third = store.account(&s2, now + Duration::from_secs(311));
        assert_eq!(third.cache_read_input_tokens, 0);
        assert!(third.cache_creation_input_tokens > 0);
    }

    #[test]
    fn short_prefixes_are_not_cached_and_ttl_1h_is_reported() {
        let store = CacheStore::default();
        let now = Instant::now();
        let short = store.account(&segments(&body("short", "q", None)), now);
        assert_eq!(short.cache_creation_input_tokens, 0);
        let long = "word ".repeat(2000);
        let u = store.account(&segments(&body(&long, "q", Some("1h"))), now);
        assert_eq!(u.ephemeral_1h, u.cache_creation_input_tokens);
        assert!(u.ephemeral_1h > 1024);
        let mut five = segments(&body(&long, "another question", Some("1h")));
        one_duration(&mut five);
        let u = CacheStore::default().account(&five, now);
        assert_eq!(
            (u.ephemeral_1h, u.ephemeral_5m),
            (0, u.cache_creation_input_tokens)
        );
    }

    #[test]
    fn prefix_identity_matters() {
        let store = CacheStore::default();
        let now = Instant::now();
        let long = "word ".repeat(2000);
        store.account(&segments(&body(&long, "q", None)), now);
        let other = store.account(&segments(&body(&format!("{long}x"), "q", None)), now);
        assert_eq!(other.cache_read_input_tokens, 0);
    }
}
