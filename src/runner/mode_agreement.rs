//! Stream and sync answers to the same request. A scenario runs in both modes, so a step
//! whose request is identical but for `stream` must get answers that agree in what the request
//! determines: the block types it forces (`thinking` when thinking is enabled, `tool_use` when
//! `tool_choice` forces a tool) and the accounting (output tokens per character of content
//! within a factor of two; a model's wording varies between calls, its tokenizer does not).
//! Where the scenario marks a step `deterministic` (the request dictates the text, a line to
//! repeat verbatim), the texts themselves must agree: a piece missing or repeated inside one
//! of them, with the text around it the same, is a translator losing or duplicating a chunk.
//! Judged when the run ends, in plan order, so a replay reports the same; the finding goes on
//! the streamed case.

use super::{Amendment, Case, case};
use crate::check::Finding;
use crate::check::catalogue::ids;
use crate::run::StepId;
use crate::scenario::Scenario;
use crate::scenario::model::Mode;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};
use std::collections::BTreeMap;

/// Content shorter than this is not compared for accounting (a few tokens round too much).
const MIN_CHARS: usize = 200;
/// Tokens per character may differ by this factor between the modes.
const RATIO_LIMIT: f64 = 2.0;

/// What one step's answer showed, with the request it answered (`stream` removed).
#[derive(Debug, Clone)]
pub(super) struct Answer {
    case: usize,
    step: StepId,
    request: Value,
    types: Vec<String>,
    output_tokens: Option<u64>,
    /// Every input token the answer counts: uncached, written to and read from the cache.
    input_total: Option<u64>,
    chars: usize,
    /// The scenario says the request determines the text.
    deterministic: bool,
    /// The text blocks' text, concatenated.
    text: String,
}

/// The answers of a case's first run, one per step that got a message.
pub(super) fn answers(i: usize, run: &case::CaseRun, scenario: &Scenario) -> Vec<Answer> {
    run.steps
        .iter()
        .filter_map(|s| {
            let message = s.validation.message.as_ref()?;
            let mut request = s.exchange.request.body_json()?;
            request.as_object_mut()?.remove("stream");
            let blocks = message.get("content")?.as_array()?;
            let types = blocks
                .iter()
                .filter_map(|b| b.get("type")?.as_str().map(str::to_string))
                .collect();
            let chars = blocks.iter().map(content_chars).sum();
            let text = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            let deterministic = scenario
                .doc
                .steps
                .iter()
                .any(|d| d.value.deterministic && d.value.id.value == s.step.as_str());
            let output_tokens = message.pointer("/usage/output_tokens")?.as_u64();
            let count = |k: &str| {
                message
                    .pointer(&format!("/usage/{k}"))
                    .and_then(Value::as_u64)
            };
            let input_total = count("input_tokens").map(|n| {
                n + count("cache_creation_input_tokens").unwrap_or(0)
                    + count("cache_read_input_tokens").unwrap_or(0)
            });
            Some(Answer {
                case: i,
                step: s.step.clone(),
                request,
                types,
                output_tokens,
                input_total,
                chars,
                deterministic,
                text,
            })
        })
        .collect()
}

/// Characters of what a block generated (text, thinking, tool input as JSON).
fn content_chars(b: &Value) -> usize {
    let s = |k: &str| {
        b.get(k)
            .and_then(Value::as_str)
            .map_or(0, |t| t.chars().count())
    };
    let input = b.get("input").map_or(0, |v| v.to_string().chars().count());
    s("text") + s("thinking") + input
}

/// The block types the request forces.
fn forced(request: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    if request.pointer("/thinking/type").and_then(Value::as_str) == Some("enabled") {
        out.push("thinking");
    }
    if matches!(
        request.pointer("/tool_choice/type").and_then(Value::as_str),
        Some("any" | "tool")
    ) {
        out.push("tool_use");
    }
    out
}

/// The answer that counts no input tokens while the other one counts some (the same request,
/// so the same prompt): which answer, and the two counts.
fn zero_input<'a>(sync: &'a Answer, stream: &'a Answer) -> Option<(&'a Answer, u64, u64)> {
    match (sync.input_total?, stream.input_total?) {
        (0, n) if n > 0 => Some((sync, 0, n)),
        (n, 0) if n > 0 => Some((stream, 0, n)),
        _ => None,
    }
}

/// What differs between the sync answer and the streamed one, if anything.
fn disagreement(sync: &Answer, stream: &Answer) -> Option<(String, String, String)> {
    for t in forced(&sync.request) {
        let (in_sync, in_stream) = (
            sync.types.iter().any(|x| x == t),
            stream.types.iter().any(|x| x == t),
        );
        if in_sync != in_stream {
            return Some((
                format!(
                    "the request forces `{t}`; only the {} answer has one",
                    if in_sync { "non-streamed" } else { "streamed" }
                ),
                sync.types.join(", "),
                stream.types.join(", "),
            ));
        }
    }
    let (Some(a), Some(b)) = (sync.output_tokens, stream.output_tokens) else {
        return None;
    };
    if sync.chars < MIN_CHARS || stream.chars < MIN_CHARS || a == 0 || b == 0 {
        return None;
    }
    let per_char = |tokens: u64, chars: usize| tokens as f64 / chars as f64;
    let ratio = per_char(b, stream.chars) / per_char(a, sync.chars);
    (!(1.0 / RATIO_LIMIT..=RATIO_LIMIT).contains(&ratio)).then(|| {
        (
            format!("output tokens per character differ {ratio:.2}× between the modes"),
            format!("{a} output tokens for {} characters", sync.chars),
            format!("{b} output tokens for {} characters", stream.chars),
        )
    })
}

/// Where a deterministic step's texts differ only by a piece missing (or repeated) inside one
/// of them — the same text before and after it — that piece, and whether the streamed text is
/// the one that lacks it. A model's own variation (other words, quotes added around the line)
/// changes more or touches the ends, and is not named.
fn lost_piece(sync: &str, stream: &str) -> Option<(String, bool)> {
    if sync == stream {
        return None;
    }
    let diff = TextDiff::from_chars(sync, stream);
    let changes: Vec<_> = diff.iter_all_changes().collect();
    let (first, last) = (changes.first()?.tag(), changes.last()?.tag());
    if first != ChangeTag::Equal || last != ChangeTag::Equal {
        return None;
    }
    let tags: Vec<ChangeTag> = changes.iter().map(|c| c.tag()).collect();
    let only = |t: ChangeTag| tags.iter().all(|x| *x == ChangeTag::Equal || *x == t);
    let streamed_lacks = if only(ChangeTag::Delete) {
        true
    } else if only(ChangeTag::Insert) {
        false
    } else {
        return None;
    };
    let piece: String = changes
        .iter()
        .filter(|c| c.tag() != ChangeTag::Equal)
        .map(|c| c.value())
        .collect();
    Some((piece, streamed_lacks))
}

/// The finding for a deterministic step whose streamed text lost or repeated a piece.
fn text_finding(sync: &Answer, stream: &Answer) -> Option<Finding> {
    if !(sync.deterministic && stream.deterministic) {
        return None;
    }
    let (piece, streamed_lacks) = lost_piece(&sync.text, &stream.text)?;
    let shown: String = piece.chars().take(80).collect();
    let what = if streamed_lacks {
        format!("the streamed text lacks {shown:?}, which the non-streamed answer carries")
    } else {
        format!("the streamed text repeats or adds {shown:?} inside the text")
    };
    let clip = |t: &str| t.chars().take(300).collect::<String>();
    Some(
        Finding::new(
            ids::STREAM_TEXT_ALTERED,
            "/content",
            format!("the request dictates the text, yet {what}"),
        )
        .expected(clip(&sync.text))
        .actual(clip(&stream.text))
        .in_step(&stream.step),
    )
}

/// Compare each scenario's sync and stream answers step by step: a `should` finding for the
/// streamed case where they disagree.
pub(super) fn note(cases: &[Case], answers: &mut [Answer]) -> Vec<Amendment> {
    answers.sort_by_key(|a| a.case);
    // (target, scenario, step) → (sync answer, stream answer)
    type Pair<'a> = (Option<&'a Answer>, Option<&'a Answer>);
    let mut pairs: BTreeMap<(&str, &str, &StepId), Pair<'_>> = BTreeMap::new();
    for a in answers.iter() {
        let case = &cases[a.case].id;
        let slot = pairs
            .entry((case.target.as_str(), case.scenario.as_str(), &a.step))
            .or_default();
        match case.mode {
            Mode::Sync => slot.0 = slot.0.or(Some(a)),
            Mode::Stream => slot.1 = slot.1.or(Some(a)),
        }
    }
    let mut out = Vec::new();
    for ((_, _, step), pair) in pairs {
        let (Some(sync), Some(stream)) = pair else {
            continue;
        };
        if sync.request != stream.request {
            continue; // not the same request (a later step built from a varying answer)
        }
        if let Some((zero, none, counted)) = zero_input(sync, stream) {
            let (this, other) = if std::ptr::eq(zero, sync) {
                ("non-streamed", "streamed")
            } else {
                ("streamed", "non-streamed")
            };
            let finding = Finding::new(
                ids::MESSAGE_INPUT_TOKENS_ZERO,
                "/usage/input_tokens",
                format!(
                    "the {this} answer counts {none} input tokens; the {other} answer to the same request counts {counted}"
                ),
            )
            .expected(format!("{counted} (as the {other} answer)"))
            .actual(none.to_string())
            .in_step(step);
            out.push((zero.case, finding));
        }
        if let Some(finding) = text_finding(sync, stream) {
            out.push((stream.case, finding));
        }
        let Some((what, expected, actual)) = disagreement(sync, stream) else {
            continue;
        };
        let finding = Finding::new(
            ids::MESSAGE_MODES_DISAGREE,
            "",
            format!(
                "the streamed and the non-streamed answer to the same request disagree: {what}"
            ),
        )
        .expected(format!("as the non-streamed answer: {expected}"))
        .actual(actual)
        .in_step(step);
        out.push((stream.case, finding));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(types: &[&str], tokens: u64, chars: usize, request: Value) -> Answer {
        Answer {
            case: 0,
            step: "one".into(),
            request,
            types: types.iter().map(|t| t.to_string()).collect(),
            output_tokens: Some(tokens),
            input_total: Some(20),
            chars,
            deterministic: true,
            text: String::new(),
        }
    }

    #[test]
    fn an_answer_that_counts_no_input_tokens_is_named_against_the_other_mode() {
        let req = json!({"messages": [{"role": "user", "content": "hi"}]});
        let sync = answer(&["text"], 10, 40, req.clone());
        let mut stream = answer(&["text"], 10, 40, req);
        stream.case = 1;
        stream.input_total = Some(0);
        let (zero, none, counted) = zero_input(&sync, &stream).expect("found");
        assert_eq!((zero.case, none, counted), (1, 0, 20));
        // Both zero (a prompt wholly uncounted in both) or both counted: no finding.
        assert!(zero_input(&sync, &sync).is_none());
        let mut none_counted = sync.clone();
        none_counted.input_total = Some(0);
        assert!(zero_input(&none_counted, &stream).is_none());
        // A cached prompt counts through the cache fields: still counted.
        assert!(zero_input(&sync, &answer(&["text"], 10, 40, json!({}))).is_none());
    }

    #[test]
    fn a_forced_block_type_missing_in_one_mode_disagrees() {
        let req = json!({"thinking": {"type": "enabled", "budget_tokens": 1024}});
        let sync = answer(&["thinking", "text"], 100, 400, req.clone());
        let stream = answer(&["text"], 100, 400, req);
        let (what, _, actual) = disagreement(&sync, &stream).expect("disagrees");
        assert!(what.contains("`thinking`"), "{what}");
        assert_eq!(actual, "text");
    }

    #[test]
    fn unforced_types_and_varying_lengths_agree() {
        let req = json!({"tool_choice": {"type": "auto"}});
        // A tool call under auto in one mode only, and answers of different lengths at the
        // same tokens per character: a model's legitimate variation.
        let sync = answer(&["text", "tool_use"], 100, 400, req.clone());
        let stream = answer(&["text"], 300, 1300, req);
        assert_eq!(disagreement(&sync, &stream), None);
    }

    #[test]
    fn accounting_off_by_more_than_twice_disagrees_but_short_answers_are_not_compared() {
        let req = json!({});
        let sync = answer(&["text"], 100, 400, req.clone());
        let stream = answer(&["text"], 30, 400, req.clone());
        assert!(
            disagreement(&sync, &stream)
                .unwrap()
                .0
                .contains("per character")
        );
        let short = answer(&["text"], 3, 40, req);
        assert_eq!(disagreement(&sync, &short), None);
    }

    #[test]
    fn a_piece_lost_inside_the_streamed_text_is_named_and_model_variation_is_not() {
        let line = "alpha bravo charlie delta echo foxtrot golf hotel";
        let lost = "alpha bravo charlie echo foxtrot golf hotel";
        assert_eq!(lost_piece(line, lost), Some(("delta ".to_string(), true)));
        let doubled = "alpha bravo charlie delta delta echo foxtrot golf hotel";
        assert_eq!(lost_piece(line, doubled).map(|p| p.1), Some(false));
        // The same text, quotes around it, or other words: a model's own choice.
        assert_eq!(lost_piece(line, line), None);
        assert_eq!(lost_piece(line, &format!("\"{line}\"")), None);
        assert_eq!(
            lost_piece(line, "Sure: alpha bravo charlie delta echo"),
            None
        );
        assert_eq!(
            lost_piece(line, "alpha bravo Charlie delta echo foxtrot golf hotel"),
            None
        );
    }

    #[test]
    fn texts_are_compared_only_where_the_scenario_says_the_request_determines_them() {
        let req = json!({});
        let mut sync = answer(&["text"], 10, 40, req.clone());
        sync.text = "one two three four".into();
        let mut stream = answer(&["text"], 10, 40, req);
        stream.text = "one two four".into();
        let f = text_finding(&sync, &stream).expect("found");
        assert_eq!(f.check.as_str(), "stream.text-altered");
        assert!(f.message.contains("lacks \"three \""), "{}", f.message);
        stream.deterministic = false;
        assert!(text_finding(&sync, &stream).is_none());
    }
}
