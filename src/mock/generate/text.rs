//! Prose and thinking: deterministic sentences from a small vocabulary and the prompt's
//! keywords.

use super::conversation::Conversation;
use crate::mock::hash::Rng;

pub(super) const STOPWORDS: &[&str] = &[
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

pub(super) const WORDS: &[&str] = &[
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

pub(super) fn sentence(c: &Conversation, shape: &mut Rng, words: &mut Rng) -> String {
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

/// A prose answer: an opening line and `sentences` more (2 to 4 when `None`).
pub(super) fn answer_text(
    c: &Conversation,
    sentences: Option<u64>,
    shape: &mut Rng,
    words: &mut Rng,
) -> String {
    let n = sentences.unwrap_or_else(|| shape.range(2, 4));
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

/// Thinking: an opening line and `sentences` more (1 to 3 when `None`).
pub(super) fn thinking_text(
    c: &Conversation,
    sentences: Option<u64>,
    shape: &mut Rng,
    words: &mut Rng,
) -> String {
    let kws = keywords(&c.user_text);
    let topic = if kws.is_empty() {
        "the request".to_string()
    } else {
        kws.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
    };
    let mut s = format!("The user is asking about {topic}. Let me think about how to answer.");
    for _ in 0..sentences.unwrap_or_else(|| shape.range(1, 3)) {
        s.push(' ');
        s.push_str(&sentence(c, shape, words));
    }
    s
}

/// `Repeat exactly …: TEXT` → `TEXT` (at most 2,000 characters); `None` for other prompts.
pub(super) fn repeating(user_text: &str) -> Option<&str> {
    let at = user_text.to_ascii_lowercase().find("repeat exactly")?;
    let rest = &user_text[at..];
    let text = rest[rest.find(':')? + 1..].trim();
    (!text.is_empty() && text.chars().count() <= 2000).then_some(text)
}

/// `Count from 1 to 30…` → `(1, 30)` (at most 1,000 numbers apart); `None` for other prompts.
pub(super) fn counting(user_text: &str) -> Option<(u32, u32)> {
    let lower = user_text.to_ascii_lowercase();
    let rest = &lower[lower.find("count from ")? + "count from ".len()..];
    let mut nums = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().ok());
    let (from, to) = (nums.next()??, nums.next()??);
    if to < from || to - from > 1000 {
        return None;
    }
    Some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_to_repeat_a_text_is_recognised() {
        assert_eq!(
            repeating("Repeat exactly this line and nothing else: alpha bravo"),
            Some("alpha bravo")
        );
        assert_eq!(repeating("Please repeat exactly: x"), Some("x"));
        assert_eq!(repeating("Repeat exactly"), None);
        assert_eq!(repeating("Repeat exactly:   "), None);
        assert_eq!(repeating("Count from 1 to 3"), None);
        assert_eq!(counting("Count from 1 to 30, as digits"), Some((1, 30)));
    }
}
