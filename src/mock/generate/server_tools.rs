//! Anthropic's server tools, run by the reference server itself with canned,
//! deterministic results (the words follow the seed; the structure follows the request).
//!
//! Server tools (a `tools` entry with a versioned `type`):
//! * `web_search_*` is used when the last user prompt says "search" (or `tool_choice` names
//!   it): one search per double-quoted phrase of the prompt (else one, for the prompt's first
//!   words). Each gives a `server_tool_use` block (`input.query`) and a
//!   `web_search_tool_result` with two `web_search_result`s (url, title, encrypted_content,
//!   page_age); the answer cites the first result of each of the first three searches
//!   (`web_search_result_location`). Past `max_uses`, a call gets the error result
//!   `max_uses_exceeded` (not counted).
//! * `web_fetch_*` is used when the prompt says "fetch" and holds an http(s) URL: the result is
//!   a `web_fetch_result` holding a plain-text `document`; with the tool's `citations.enabled`
//!   the answer cites it (`char_location`).
//! * `code_execution_*` is used when the prompt says code, execute, compute, calculate or
//!   python: `code_execution_20250522` runs `code_execution` (`input.code`, a
//!   `code_execution_tool_result`), later versions `bash_code_execution` (`input.command`, a
//!   `bash_code_execution_tool_result`). The first `A op B` of the prompt (`+ - * x ×`) is
//!   computed for real, so stdout carries the result; the message gets a `container`.
//!
//! The server's sampling loop runs at most [`LOOP_LIMIT`] tool iterations per response, as
//! Anthropic's does: a task needing more stops with `pause_turn` after them, and the request
//! that sends the paused assistant turn back (as the last message) runs the rest and answers.
//! `usage.server_tool_use` counts the searches and fetches whenever the request declares a
//! server tool.
//!
//! Citations of documents and search results without server tools: [`super::citations`].

use serde_json::{Value, json};

use super::Block;
use super::citations::first_sentence;
use super::conversation::Conversation;
use crate::mock::hash::Rng;

/// Tool iterations per response before the server's loop pauses (Anthropic's default).
pub(crate) const LOOP_LIMIT: usize = 10;

/// The searches of one answer cited in its text, at most.
const CITED_SEARCHES: usize = 3;

/// What a server-tool turn produced.
#[derive(Debug, Default)]
pub(super) struct ServerTurn {
    pub(super) blocks: Vec<Block>,
    /// The loop stopped at [`LOOP_LIMIT`] with calls left: `pause_turn`.
    pub(super) paused: bool,
}

/// Counts for `usage.server_tool_use`, and the code-execution container.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ServerUsage {
    pub web_search_requests: u64,
    pub web_fetch_requests: u64,
    /// A code-execution tool ran: the message carries a `container`.
    pub container: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    WebSearch,
    WebFetch,
    /// `code_execution_20250522`: one `code_execution` tool.
    CodePython,
    /// `code_execution_20250825` and later: `bash_code_execution`.
    CodeBash,
}

#[derive(Debug, Clone)]
struct ServerTool {
    kind: Kind,
    name: String,
    max_uses: Option<u64>,
    citations: bool,
}

/// The server tools a request declares, in order.
fn declared(body: &Value) -> Vec<ServerTool> {
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter_map(|t| {
            let ty = t.get("type").and_then(Value::as_str)?;
            let kind = if ty.starts_with("web_search_") {
                Kind::WebSearch
            } else if ty.starts_with("web_fetch_") {
                Kind::WebFetch
            } else if ty == "code_execution_20250522" {
                Kind::CodePython
            } else if ty.starts_with("code_execution_") {
                Kind::CodeBash
            } else {
                return None;
            };
            Some(ServerTool {
                kind,
                name: t.get("name").and_then(Value::as_str)?.to_string(),
                max_uses: t.get("max_uses").and_then(Value::as_u64),
                citations: t.pointer("/citations/enabled").and_then(Value::as_bool) == Some(true),
            })
        })
        .collect()
}

/// Whether the request declares any server tool (then usage counts them).
pub(super) fn declares_any(body: &Value) -> bool {
    !declared(body).is_empty()
}

fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The double-quoted phrases of `text`.
fn quoted(text: &str) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string)
        .collect()
}

fn urls(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| {
            w.trim_end_matches(|c: char| {
                matches!(c, '.' | ',' | ')' | '"' | '\'' | ';' | '!' | '?')
            })
            .to_string()
        })
        .collect()
}

/// `A op B` with its value, the first in `text`.
fn arithmetic(text: &str) -> Option<(String, i128)> {
    let toks: Vec<&str> = text.split_whitespace().collect();
    toks.windows(3).find_map(|w| {
        let num = |s: &str| {
            s.trim_matches(|c: char| !c.is_ascii_digit())
                .parse::<i128>()
                .ok()
        };
        let a = num(w[0]).filter(|_| w[0].chars().any(|c| c.is_ascii_digit()))?;
        let b = num(w[2]).filter(|_| w[2].chars().any(|c| c.is_ascii_digit()))?;
        let (op, v) = match w[1] {
            "+" => ("+", a.checked_add(b)?),
            "-" => ("-", a.checked_sub(b)?),
            "*" | "x" | "×" => ("*", a.checked_mul(b)?),
            _ => return None,
        };
        Some((format!("{a} {op} {b}"), v))
    })
}

/// One call the model wants to make.
#[derive(Debug, Clone)]
struct Call {
    tool: ServerTool,
    input: Value,
}

/// The calls the task asks for, in the order of the declared tools.
fn wanted(body: &Value, c: &Conversation) -> Vec<Call> {
    let tools = declared(body);
    let choice = body
        .pointer("/tool_choice/type")
        .and_then(Value::as_str)
        .unwrap_or("auto");
    if tools.is_empty() || choice == "none" {
        return Vec::new();
    }
    let forced = (choice == "tool")
        .then(|| body.pointer("/tool_choice/name").and_then(Value::as_str))
        .flatten();
    let prompt = &c.user_text;
    let words = words_of(prompt);
    let says = |ws: &[&str]| ws.iter().any(|w| words.iter().any(|x| x == w));
    let mut calls = Vec::new();
    for t in tools {
        let used = match forced {
            Some(name) => name == t.name,
            None => match t.kind {
                Kind::WebSearch => says(&["search", "searches"]),
                Kind::WebFetch => says(&["fetch"]) && !urls(prompt).is_empty(),
                Kind::CodePython | Kind::CodeBash => says(&[
                    "code",
                    "execute",
                    "execution",
                    "compute",
                    "calculate",
                    "python",
                ]),
            },
        };
        if !used {
            continue;
        }
        match t.kind {
            Kind::WebSearch => {
                let mut qs = quoted(prompt);
                if qs.is_empty() {
                    qs.push(
                        prompt
                            .split_whitespace()
                            .take(8)
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                }
                for q in qs {
                    calls.push(Call {
                        tool: t.clone(),
                        input: json!({"query": q}),
                    });
                }
            }
            Kind::WebFetch => {
                let url = urls(prompt)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| "https://example.com/".to_string());
                calls.push(Call {
                    tool: t.clone(),
                    input: json!({"url": url}),
                });
            }
            Kind::CodePython | Kind::CodeBash => {
                let (expr, _) = arithmetic(prompt).unwrap_or(("6 * 7".into(), 42));
                let input = if t.kind == Kind::CodePython {
                    json!({"code": format!("print({expr})")})
                } else {
                    json!({"command": format!("echo $(({expr}))")})
                };
                calls.push(Call {
                    tool: t.clone(),
                    input,
                });
            }
        }
    }
    calls
}

/// The paused assistant turn sent back as the last message: its `server_tool_use` inputs.
fn already_run(body: &Value) -> Option<Vec<Value>> {
    let last = body.get("messages")?.as_array()?.last()?;
    if last.get("role").and_then(Value::as_str) != Some("assistant") {
        return None;
    }
    let blocks = last.get("content")?.as_array()?;
    let run: Vec<Value> = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("server_tool_use"))
        .map(|b| b.get("input").cloned().unwrap_or(Value::Null))
        .collect();
    (!run.is_empty()).then_some(run)
}

fn slug(s: &str) -> String {
    let w: Vec<String> = words_of(s).into_iter().take(5).collect();
    if w.is_empty() {
        "page".to_string()
    } else {
        w.join("-")
    }
}

const AGES: &[&str] = &[
    "January 12, 2026",
    "3 weeks ago",
    "March 2, 2025",
    "2 days ago",
];
const SITES: &[(&str, &str)] = &[
    ("https://www.example.org", "Example Encyclopedia"),
    ("https://news.example.com", "Example News"),
    ("https://docs.example.net", "Example Reference"),
];

/// A search result's canned snippet (what a citation of it quotes).
fn snippet(query: &str, k: usize) -> String {
    match k {
        0 => format!("{query}: the reference server's first canned result summarises the topic."),
        _ => format!("{query}: a second canned source covers the same topic in more detail."),
    }
}

fn search_results(query: &str, words: &mut Rng) -> Vec<Value> {
    (0..2)
        .map(|k| {
            let (site, name) = SITES[(words.range(0, 2)) as usize];
            let age = AGES[words.range(0, 3) as usize];
            json!({
                "type": "web_search_result",
                "url": format!("{site}/{}/{k}", slug(query)),
                "title": format!("{query} | {name}"),
                "encrypted_content": format!("Eq{}", words.base62(64)),
                "page_age": age,
            })
        })
        .collect()
}

fn fetched_text(url: &str) -> String {
    format!(
        "This page was fetched from {url} by the reference server. It holds a canned text. The text is the same on every fetch."
    )
}

fn new_id(words: &mut Rng) -> String {
    format!("srvtoolu_01{}", words.base62(22))
}

/// The server-tool turn of a request that uses its server tools; `None` when it uses none
/// (the answer is then generated as usual).
pub(super) fn turn(body: &Value, c: &Conversation, words: &mut Rng) -> Option<ServerTurn> {
    let calls = wanted(body, c);
    if calls.is_empty() {
        return None;
    }
    let done = already_run(body).map_or(0, |r| r.len());
    if done == 0 && c.prefill.is_some() {
        return None;
    }
    let rest: Vec<&Call> = calls.iter().skip(done).collect();
    let paused = rest.len() > LOOP_LIMIT;
    let mut out = ServerTurn {
        paused,
        ..ServerTurn::default()
    };
    if done == 0 {
        out.blocks.push(Block::Text {
            text: "I'll use my tools to find that.".to_string(),
        });
    }
    let mut uses: Vec<(String, u64)> = Vec::new();
    // Uses before this response (the paused turn sent back) count towards max_uses.
    for call in calls.iter().take(done) {
        bump(&mut uses, &call.tool.name);
    }
    let mut answer = Vec::new();
    let mut cited_searches = 0;
    for call in rest.iter().take(LOOP_LIMIT) {
        let id = new_id(words);
        let n = bump(&mut uses, &call.tool.name);
        out.blocks.push(Block::ServerToolUse {
            id: id.clone(),
            name: match call.tool.kind {
                Kind::CodeBash => "bash_code_execution".to_string(),
                _ => call.tool.name.clone(),
            },
            input: call.input.clone(),
        });
        let over = call.tool.max_uses.is_some_and(|m| n > m);
        let (kind, content) = match call.tool.kind {
            Kind::WebSearch if over => (
                "web_search_tool_result",
                json!({"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}),
            ),
            Kind::WebSearch => {
                let query = call.input["query"].as_str().unwrap_or_default().to_string();
                let results = search_results(&query, words);
                if cited_searches < CITED_SEARCHES {
                    cited_searches += 1;
                    let first = &results[0];
                    let cited = snippet(&query, 0);
                    answer.push(Block::Cited {
                        text: cited.clone(),
                        citations: vec![json!({
                            "type": "web_search_result_location",
                            "cited_text": cited,
                            "url": first["url"],
                            "title": first["title"],
                            "encrypted_index": format!("Eo{}", words.base62(40)),
                        })],
                    });
                }
                ("web_search_tool_result", Value::Array(results))
            }
            Kind::WebFetch if over => (
                "web_fetch_tool_result",
                json!({"type": "web_fetch_tool_result_error", "error_code": "max_uses_exceeded"}),
            ),
            Kind::WebFetch => {
                let url = call.input["url"].as_str().unwrap_or_default().to_string();
                let text = fetched_text(&url);
                let title = format!("Fetched page {}", slug(&url));
                let cited = first_sentence(&text).to_string();
                answer.push(if call.tool.citations {
                    Block::Cited {
                        text: cited.clone(),
                        citations: vec![json!({
                            "type": "char_location",
                            "cited_text": cited,
                            "document_index": 0,
                            "document_title": title,
                            "start_char_index": 0,
                            "end_char_index": cited.chars().count(),
                        })],
                    }
                } else {
                    Block::Text {
                        text: format!("The page says: {cited}"),
                    }
                });
                (
                    "web_fetch_tool_result",
                    json!({"type": "web_fetch_result", "url": url,
                        "content": {"type": "document",
                            "source": {"type": "text", "media_type": "text/plain", "data": text},
                            "title": title,
                            "citations": {"enabled": call.tool.citations}},
                        "retrieved_at": "2026-01-01T00:00:00Z"}),
                )
            }
            Kind::CodePython | Kind::CodeBash => {
                let (_, v) = arithmetic(&c.user_text).unwrap_or_else(|| ("6 * 7".to_string(), 42));
                answer.push(Block::Text {
                    text: format!("The code printed {v}."),
                });
                let result = |ty: &str| json!({"type": ty, "stdout": format!("{v}\n"), "stderr": "", "return_code": 0, "content": []});
                if call.tool.kind == Kind::CodePython {
                    (
                        "code_execution_tool_result",
                        result("code_execution_result"),
                    )
                } else {
                    (
                        "bash_code_execution_tool_result",
                        result("bash_code_execution_result"),
                    )
                }
            }
        };
        out.blocks.push(Block::ServerToolResult {
            kind: kind.to_string(),
            tool_use_id: id,
            content,
        });
    }
    if !paused {
        out.blocks.extend(answer);
    }
    Some(out)
}

fn bump(uses: &mut Vec<(String, u64)>, name: &str) -> u64 {
    match uses.iter_mut().find(|(n, _)| n == name) {
        Some((_, k)) => {
            *k += 1;
            *k
        }
        None => {
            uses.push((name.to_string(), 1));
            1
        }
    }
}

/// `usage.server_tool_use` of an answer made of `blocks`, when the request declares a server
/// tool; successful searches and fetches are counted.
pub(super) fn usage_of(body: &Value, blocks: &[Block]) -> Option<ServerUsage> {
    if !declares_any(body) {
        return None;
    }
    let mut u = ServerUsage::default();
    for b in blocks {
        if let Block::ServerToolResult { kind, content, .. } = b {
            let ok = content.is_array()
                || !content
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.ends_with("_error"));
            match kind.as_str() {
                "web_search_tool_result" if ok => u.web_search_requests += 1,
                "web_fetch_tool_result" if ok => u.web_fetch_requests += 1,
                "code_execution_tool_result" | "bash_code_execution_tool_result" => {
                    u.container = true;
                }
                _ => {}
            }
        }
    }
    Some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(tools: Value, prompt: &str) -> Value {
        json!({"model": "m", "max_tokens": 1024, "tools": tools,
            "messages": [{"role": "user", "content": prompt}]})
    }

    #[test]
    fn searches_each_quoted_phrase_and_cites() {
        let body = ask(
            json!([{"type": "web_search_20250305", "name": "web_search"}]),
            "Search the web for \"rust\" and \"zig\".",
        );
        let t = turn(&body, &Conversation::read(&body), &mut Rng::new(1)).expect("used");
        assert!(!t.paused);
        let uses = t
            .blocks
            .iter()
            .filter(|b| matches!(b, Block::ServerToolUse { .. }))
            .count();
        assert_eq!(uses, 2);
        assert!(matches!(t.blocks.last(), Some(Block::Cited { .. })));
        let u = usage_of(&body, &t.blocks).expect("declared");
        assert_eq!(u.web_search_requests, 2);
    }

    #[test]
    fn pauses_past_the_loop_limit_and_continues() {
        let qs: Vec<String> = (0..12).map(|i| format!("\"topic {i}\"")).collect();
        let prompt = format!("Do 12 separate searches: {}", qs.join(", "));
        let body = ask(
            json!([{"type": "web_search_20250305", "name": "web_search"}]),
            &prompt,
        );
        let t = turn(&body, &Conversation::read(&body), &mut Rng::new(1)).expect("used");
        assert!(t.paused);
        let content: Vec<Value> = t
            .blocks
            .iter()
            .map(crate::mock::render::block_json)
            .collect();
        let mut next = body.clone();
        next["messages"]
            .as_array_mut()
            .expect("messages")
            .push(json!({"role": "assistant", "content": content}));
        let t2 = turn(&next, &Conversation::read(&next), &mut Rng::new(2)).expect("continues");
        assert!(!t2.paused);
        let uses = t2
            .blocks
            .iter()
            .filter(|b| matches!(b, Block::ServerToolUse { .. }))
            .count();
        assert_eq!(uses, 2);
    }

    #[test]
    fn max_uses_gives_an_error_result_and_code_is_computed() {
        let body = ask(
            json!([{"type": "web_search_20250305", "name": "web_search", "max_uses": 1}]),
            "search \"a\" and \"b\"",
        );
        let t = turn(&body, &Conversation::read(&body), &mut Rng::new(1)).expect("used");
        assert_eq!(
            usage_of(&body, &t.blocks).expect("u").web_search_requests,
            1
        );
        let code = ask(
            json!([{"type": "code_execution_20250825", "name": "code_execution"}]),
            "Use code execution to compute 3 * 12390.",
        );
        let t = turn(&code, &Conversation::read(&code), &mut Rng::new(1)).expect("used");
        let result = t.blocks.iter().find_map(|b| match b {
            Block::ServerToolResult { content, .. } => Some(content["stdout"].clone()),
            _ => None,
        });
        assert_eq!(result, Some(json!("37170\n")));
    }
}
