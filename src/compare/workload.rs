//! The paired workload of a comparison: labelled tasks generated from a seed, so every
//! endpoint (and a rerun with the same seed) gets exactly the same first requests.
//!
//! Task families:
//! * **trigger**: three tools are offered under `tool_choice` `auto`; the prompt either asks
//!   for what one of them does (label: that tool) or for something none does (label: no call);
//! * **args**: one tool with a non-trivial schema (enums, nested objects, required fields) is
//!   forced (`tool_choice` `tool`), so every answer carries arguments to validate;
//! * **structured**: structured output (`output_config.format`) against a nested schema;
//! * **loop**: a short agent loop with extended thinking: a tool call, its result, and the
//!   thinking block passed back, until a final answer (later turns depend on the answers);
//! * **ladder**: prompts of about 1k and 10k input tokens, streamed, for time to first token
//!   and output speed;
//! * **cache**: a system prompt of about 5k tokens behind a `cache_control` breakpoint (over
//!   every model's minimum cacheable prefix: 1,024 to 4,096 tokens), sent twice identically:
//!   the second answer should read the prefix from the cache.
//!
//! Every request streams (`stream: true`) and carries `metadata.user_id` naming the task and
//! the repeat, so a repeat of the reference is a request of its own (a seeded server answers
//! it anew) while every endpoint still gets the same bytes for the same task and repeat.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

/// A family of tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Trigger,
    Args,
    Structured,
    Loop,
    Ladder1k,
    Ladder10k,
    Cache,
}

impl Family {
    /// In the order tasks are drawn (a family added later comes last, so the tasks of the
    /// others stay the same for a seed).
    pub(crate) const ALL: [Family; 7] = [
        Family::Trigger,
        Family::Args,
        Family::Structured,
        Family::Loop,
        Family::Ladder1k,
        Family::Ladder10k,
        Family::Cache,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Family::Trigger => "trigger",
            Family::Args => "args",
            Family::Structured => "structured",
            Family::Loop => "loop",
            Family::Ladder1k => "ladder-1k",
            Family::Ladder10k => "ladder-10k",
            Family::Cache => "cache",
        }
    }

    /// How many tasks of this family `samples` asks for (loops and the ladder cost more
    /// tokens: a quarter, at least 5).
    pub(crate) fn count(self, samples: usize) -> usize {
        match self {
            Family::Trigger | Family::Args | Family::Structured => samples,
            Family::Loop | Family::Ladder1k | Family::Ladder10k | Family::Cache => {
                samples.div_ceil(4).max(5)
            }
        }
    }
}

/// One labelled task.
#[derive(Debug, Clone)]
pub struct Task {
    /// `trigger-007`: unique within the workload.
    pub id: String,
    pub family: Family,
    /// The tool a right answer calls (`None`: no call), for trigger, args and loop tasks.
    pub expected_tool: Option<String>,
    /// The request body without `model`, `stream` and `metadata` (added per endpoint and repeat).
    pub body: Value,
    /// The schema structured output must satisfy.
    pub output_schema: Option<Value>,
}

impl Task {
    /// The body sent for `model` and `repeat`.
    pub(crate) fn request(&self, model: &str, repeat: u32, seed: u64) -> Value {
        let mut b = self.body.clone();
        b["model"] = json!(model);
        b["stream"] = json!(true);
        b["metadata"] = json!({"user_id": format!("conform-compare-{seed}-{}-r{repeat}", self.id)});
        b
    }
}

/// The tools the workload offers, with schemas of some depth.
pub(crate) fn tools() -> Vec<Value> {
    vec![
        json!({"name": "get_weather",
            "description": "Weather forecast for a city.",
            "input_schema": {"type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "integer", "minimum": 1, "maximum": 7}},
                "required": ["city", "unit"]}}),
        json!({"name": "book_flight",
            "description": "Book a flight.",
            "input_schema": {"type": "object",
                "properties": {
                    "origin": {"type": "string"},
                    "destination": {"type": "string"},
                    "date": {"type": "string"},
                    "cabin": {"type": "string", "enum": ["economy", "premium", "business", "first"]},
                    "passengers": {"type": "object",
                        "properties": {"adults": {"type": "integer", "minimum": 1},
                            "children": {"type": "integer", "minimum": 0}},
                        "required": ["adults"]}},
                "required": ["origin", "destination", "date", "cabin", "passengers"]}}),
        json!({"name": "create_calendar_event",
            "description": "Create an event in the user's calendar.",
            "input_schema": {"type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "start": {"type": "object",
                        "properties": {"date": {"type": "string"}, "time": {"type": "string"}},
                        "required": ["date", "time"]},
                    "attendees": {"type": "array", "items": {"type": "object",
                        "properties": {"email": {"type": "string"},
                            "role": {"type": "string", "enum": ["required", "optional"]}},
                        "required": ["email"]}}},
                "required": ["title", "start"]}}),
        json!({"name": "search_products",
            "description": "Search the product catalogue.",
            "input_schema": {"type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "filters": {"type": "object", "properties": {
                        "category": {"type": "string", "enum": ["books", "music", "garden", "toys"]},
                        "max_price": {"type": "number", "minimum": 0},
                        "in_stock": {"type": "boolean"}}},
                    "sort": {"type": "string", "enum": ["relevance", "price_asc", "price_desc"]}},
                "required": ["query"]}}),
        json!({"name": "convert_currency",
            "description": "Convert an amount between currencies.",
            "input_schema": {"type": "object",
                "properties": {
                    "amount": {"type": "number"},
                    "from": {"type": "string", "enum": ["EUR", "USD", "GBP", "JPY"]},
                    "to": {"type": "string", "enum": ["EUR", "USD", "GBP", "JPY"]}},
                "required": ["amount", "from", "to"]}}),
    ]
}

const CITIES: [&str; 8] = [
    "Lyon", "Osaka", "Porto", "Quito", "Tromso", "Dakar", "Hobart", "Tartu",
];

/// A prompt that asks for what `tool` does (it names the tool's action in words).
fn asking_prompt(tool: &str, r: &mut ChaCha8Rng) -> String {
    let city = CITIES[r.random_range(0..CITIES.len())];
    let other = CITIES[r.random_range(0..CITIES.len())];
    let n = r.random_range(1..6);
    match tool {
        "get_weather" => format!("What will the weather be in {city} over the next {n} days?"),
        "book_flight" => format!(
            "Please book a flight from {city} to {other} for {n} adults on 2026-0{n}-1{n}, economy."
        ),
        "create_calendar_event" => {
            format!("Create a calendar event titled 'Review {n}' on 2026-05-0{n} at 1{n}:00.")
        }
        "search_products" => {
            format!("Search the products for garden tools under {n}0 euros, in stock.")
        }
        _ => format!("Convert {n}00 EUR to USD using the currency rates."),
    }
}

/// A prompt none of the tools serves (no tool keyword appears in it).
fn idle_prompt(r: &mut ChaCha8Rng) -> String {
    const ASKS: [&str; 8] = [
        "Write a haiku about the sea at dawn.",
        "Explain in two sentences why the sky looks blue.",
        "Give me three names for a grey cat.",
        "What is the capital of Portugal?",
        "Summarise the plot of Hamlet in one sentence.",
        "Suggest a title for a short story about a lighthouse keeper.",
        "Is 97 a prime number? Answer briefly.",
        "Translate 'good morning' into Spanish.",
    ];
    ASKS[r.random_range(0..ASKS.len())].to_string()
}

/// `n` sentences of filler text (about 12 tokens each), for the latency ladder.
fn filler(sentences: usize, r: &mut ChaCha8Rng) -> String {
    const WORDS: [&str; 24] = [
        "river", "stone", "market", "lantern", "harvest", "engine", "garden", "winter", "bridge",
        "signal", "copper", "meadow", "harbour", "ledger", "violet", "orchard", "canyon", "pillar",
        "thread", "beacon", "summit", "quarry", "valley", "compass",
    ];
    let mut out = String::new();
    for _ in 0..sentences {
        let len = r.random_range(8..14);
        let words: Vec<&str> = (0..len)
            .map(|_| WORDS[r.random_range(0..WORDS.len())])
            .collect();
        out.push_str(&words.join(" "));
        out.push_str(". ");
    }
    out
}

/// Sentences of the cache family's system prompt (about 5k tokens: over the largest minimum
/// cacheable prefix, 4,096 tokens).
const CACHED_SENTENCES: usize = 420;

/// The structured-output schema (nested, enums, required fields).
pub(crate) fn person_schema() -> Value {
    json!({"type": "object", "additionalProperties": false,
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
            "role": {"type": "string", "enum": ["engineer", "designer", "manager"]},
            "address": {"type": "object", "additionalProperties": false,
                "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                "required": ["city", "country"]},
            "skills": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "age", "role", "address", "skills"]})
}

/// The workload for `seed` with `samples` tasks per main family.
pub fn generate(seed: u64, samples: usize) -> Vec<Task> {
    generate_families(seed, samples, &Family::ALL)
}

/// The tasks of `families` in the workload of `seed` (the same tasks [`generate`] makes: the
/// families are drawn in a fixed order, and generation stops after the last one asked for).
pub(crate) fn generate_families(seed: u64, samples: usize, families: &[Family]) -> Vec<Task> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let all = tools();
    let name = |t: &Value| t["name"].as_str().unwrap_or_default().to_string();
    let mut tasks = Vec::new();
    let last = Family::ALL
        .iter()
        .rposition(|f| families.contains(f))
        .map_or(0, |i| i + 1);
    for family in &Family::ALL[..last] {
        let family = *family;
        for i in 0..family.count(samples) {
            let id = format!("{}-{i:03}", family.as_str());
            let task = match family {
                Family::Trigger => {
                    // Three distinct tools, in a random order.
                    let mut pick: Vec<usize> = (0..all.len()).collect();
                    for k in (1..pick.len()).rev() {
                        pick.swap(k, r.random_range(0..=k));
                    }
                    let offered: Vec<Value> = pick[..3].iter().map(|&k| all[k].clone()).collect();
                    let should = r.random_bool(0.5);
                    let (prompt, expected) = if should {
                        let t = name(&offered[r.random_range(0..3)]);
                        (asking_prompt(&t, &mut r), Some(t))
                    } else {
                        (idle_prompt(&mut r), None)
                    };
                    Task {
                        id,
                        family,
                        expected_tool: expected,
                        body: json!({"max_tokens": 512, "tools": offered,
                            "messages": [{"role": "user", "content": prompt}]}),
                        output_schema: None,
                    }
                }
                Family::Args => {
                    let tool = all[r.random_range(0..all.len())].clone();
                    let t = name(&tool);
                    let prompt = asking_prompt(&t, &mut r);
                    Task {
                        id,
                        family,
                        expected_tool: Some(t.clone()),
                        body: json!({"max_tokens": 1024, "tools": [tool],
                            "tool_choice": {"type": "tool", "name": t},
                            "messages": [{"role": "user", "content": prompt}]}),
                        output_schema: None,
                    }
                }
                Family::Structured => {
                    let city = CITIES[r.random_range(0..CITIES.len())];
                    let age = r.random_range(21..70);
                    let prompt = format!(
                        "Extract the person: Ana Ruiz, {age}, a designer living in {city}, \
                         Spain, skilled in typography and research."
                    );
                    Task {
                        id,
                        family,
                        expected_tool: None,
                        body: json!({"max_tokens": 1024,
                            "output_config": {"format": {"type": "json_schema",
                                "schema": person_schema()}},
                            "messages": [{"role": "user", "content": prompt}]}),
                        output_schema: Some(person_schema()),
                    }
                }
                Family::Loop => {
                    let tool = all[0].clone();
                    let city = CITIES[r.random_range(0..CITIES.len())];
                    Task {
                        id,
                        family,
                        expected_tool: Some(name(&tool)),
                        body: json!({"max_tokens": 2048,
                            "thinking": {"type": "enabled", "budget_tokens": 1024},
                            "tools": [tool],
                            "messages": [{"role": "user", "content": format!(
                                "Check the weather in {city} with the tool, then tell me whether to pack an umbrella.")}]}),
                        output_schema: None,
                    }
                }
                Family::Ladder1k | Family::Ladder10k => {
                    let sentences = if family == Family::Ladder1k { 85 } else { 850 };
                    let text = filler(sentences, &mut r);
                    Task {
                        id,
                        family,
                        expected_tool: None,
                        body: json!({"max_tokens": 256,
                            "messages": [{"role": "user", "content": format!(
                                "{text}\n\nSummarise the text above in three sentences.")}]}),
                        output_schema: None,
                    }
                }
                Family::Cache => {
                    // The system prompt is the cached prefix: ~5k tokens, unique per task.
                    let text = filler(CACHED_SENTENCES, &mut r);
                    Task {
                        id,
                        family,
                        expected_tool: None,
                        body: json!({"max_tokens": 64,
                            "system": [{"type": "text",
                                "text": format!("Reference text for this conversation:\n{text}"),
                                "cache_control": {"type": "ephemeral"}}],
                            "messages": [{"role": "user", "content":
                                "Name three words that occur in the reference text."}]}),
                        output_schema: None,
                    }
                }
            };
            if families.contains(&family) {
                tasks.push(task);
            }
        }
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cached_prefix_is_over_every_minimum_cacheable_length() {
        for t in generate_families(3, 4, &[Family::Cache]) {
            let system = t.body["system"][0]["text"].as_str().unwrap();
            // About one token per word and per full stop on Claude's tokenizer; the reference
            // server's own tokenizer counts more.
            let words = system.split_whitespace().count() + system.matches('.').count();
            assert!((4_600..6_500).contains(&words), "{words} words");
            assert!(crate::mock::tokenize::count(system) >= 4_096);
            assert_eq!(t.body["system"][0]["cache_control"]["type"], "ephemeral");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_workload_and_another_seed_another() {
        let a = generate(7, 12);
        let b = generate(7, 12);
        let c = generate(8, 12);
        let bodies = |w: &[Task]| w.iter().map(|t| t.body.to_string()).collect::<Vec<_>>();
        assert_eq!(bodies(&a), bodies(&b));
        assert_ne!(bodies(&a), bodies(&c));
        assert_eq!(a.iter().filter(|t| t.family == Family::Trigger).count(), 12);
        assert_eq!(
            a.iter().filter(|t| t.family == Family::Ladder10k).count(),
            5
        );
        let some = generate_families(7, 12, &[Family::Args]);
        let args: Vec<String> = a
            .iter()
            .filter(|t| t.family == Family::Args)
            .map(|t| t.body.to_string())
            .collect();
        assert_eq!(bodies(&some), args);
    }

    #[test]
    fn trigger_tasks_are_labelled_both_ways_and_name_an_offered_tool() {
        let w = generate(1, 60);
        let trig: Vec<&Task> = w.iter().filter(|t| t.family == Family::Trigger).collect();
        let positives = trig.iter().filter(|t| t.expected_tool.is_some()).count();
        assert!(positives > 15 && positives < 45, "{positives}");
        for t in trig {
            if let Some(name) = &t.expected_tool {
                let offered: Vec<&str> = t.body["tools"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|x| x["name"].as_str())
                    .collect();
                assert!(offered.contains(&name.as_str()));
            }
        }
    }

    #[test]
    fn the_ladder_prompts_are_about_1k_and_10k_tokens() {
        let w = generate(3, 4);
        // Common English words and full stops: about one token each for a real tokenizer.
        let tokens = |f: Family| {
            let t = w.iter().find(|t| t.family == f).unwrap();
            let text = t.body["messages"][0]["content"].as_str().unwrap();
            text.split_whitespace().count() + text.matches('.').count()
        };
        let (small, large) = (tokens(Family::Ladder1k), tokens(Family::Ladder10k));
        assert!((700..1500).contains(&small), "{small}");
        assert!((7000..15000).contains(&large), "{large}");
    }
}
