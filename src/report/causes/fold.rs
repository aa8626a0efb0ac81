//! Folding the findings of one step: which findings are causes (*primaries*) and which only
//! follow from an earlier one.
//!
//! Within a step (the `step X:` prefix of a finding's location):
//! 1. Protocol findings (every check but scenario assertions `assert.*`) are taken most
//!    important first (severity, client impact, then checks that hold in both modes before
//!    stream-only ones, then order). One that shares a key term with an already chosen primary
//!    of another check — `stream.grammar.signature` and `implied.thinking-signature` — is folded
//!    under it: the same missing thing seen twice.
//! 2. A scenario assertion is folded under the protocol primary whose key term its location or
//!    message names (`header request-id` under `headers.request-id`); else under a primary that
//!    says the body is not what was asked for (an error body's schema, a non-JSON body, an
//!    unexpected status): the assertions on a 404 body follow from the 404; else it is a
//!    primary itself.
//!
//!    Scenario assertions that name their rule (`check:`) and scenario effect checks fold
//!    under a protocol finding of the same check or one whose key term (or the middle of its
//!    id: `usage`) they name — an effect check on usage counts under wrong usage — else under
//!    a body that is not the one asked for (a status assertion not under a finding on the
//!    body's format: a text/plain rejection is still the rejection); other assertions fold,
//!    last, under a failed effect check of the step. Declared consequences (`CONSEQUENCES`)
//!    move under their cause: zero input tokens under wrong stream usage; an incomplete body
//!    and a half event under a stream that ended without `message_stop`. What was checked on the message
//!    accumulated from a stream that was not well-formed (a `must` grammar or SSE finding)
//!    folds under the stream's finding.
//! 3. A capture that could not be made (`scenario.capture`) folds under another cause of the
//!    result: the step that needed the value could not run. Generic assertions of a later
//!    step, and its effect checks that share a key term with the cause, fold under the first
//!    `must` cause of an earlier step (the later request was built from that answer: no
//!    thinking at turn 1 is no thinking at turn 3 either); so does its status assertion (a
//!    rejection, even one the step names with `rejected_check` or `status_check`) when that
//!    cause is an effect check (two parallel calls where one was asked for make the next turn
//!    invalid) or says the answer itself is malformed (a tool input streamed as a string, a
//!    message off its schema, a thinking block without signature: the turn that passes it
//!    back carries the defect).
//!
//! 4. A finding about no step — a changed snapshot — is folded under a primary of the result
//!    whose key term or field its diff names (an extra field shows in the snapshot too).
//!
//! A protocol finding located at a JSON pointer also names that field (`/system_fingerprint`
//! → `system_fingerprint`): an assertion whose text names it follows from it.
//! Key terms come from the last segment of a check id (`thinking-signature` →
//! `thinking-signature`, `thinking`, `signature`), leaving out words too general to name a
//! cause (`missing`, `request`, `type`, …).

use crate::check::catalogue::{families, ids};
use crate::check::{CheckId, Finding, Severity};

/// A finding that is a cause, with the indices of the findings folded under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Primary {
    pub index: usize,
    pub folded: Vec<usize>,
}

/// Words that never name a cause on their own.
const GENERAL: &[&str] = &[
    "missing", "invalid", "request", "response", "status", "unknown", "field", "fields", "wrong",
    "empty", "value", "equals", "exists", "length", "grammar", "message", "content", "block",
    "event", "events", "schema", "stream", "error", "order", "delta", "changed", "effect",
];

/// Protocol checks that say the body is not the one the step asked for: what follows in the
/// step (assertions on that body) is a consequence.
fn is_body_mismatch(check: CheckId) -> bool {
    check == families::ASSERT_STATUS
        || check == ids::SCHEMA_ERROR
        || check.namespace() == "body"
        || check == ids::SHAPE_UNKNOWN
        || check.namespace() == "error"
        // The stream went on after an error event: the message read is not the answer.
        || check == ids::STREAM_GRAMMAR_AFTER_ERROR
}

/// Protocol findings that make the message the assertions read unreliable: it does not match
/// the Message schema, or its stream was not well-formed (the accumulated message is not the
/// answer). Generic assertions in the same step follow from them.
fn is_unreliable_message(f: &Finding) -> bool {
    let id = f.check.as_str();
    f.severity() == Severity::Must
        && (f.check == ids::SCHEMA_MESSAGE
            || id.starts_with("stream.grammar.")
            || id.starts_with("stream.sse."))
}

/// The key terms of a check id.
pub(super) fn terms(check: &str) -> Vec<String> {
    let last = check.rsplit('.').next().unwrap_or(check).replace('_', "-");
    let mut out = Vec::new();
    if !GENERAL.contains(&last.as_str()) && last.len() >= 4 {
        out.push(last.clone());
    }
    for piece in last.split('-') {
        if piece.len() >= 6 && !GENERAL.contains(&piece) && !out.iter().any(|t| t == piece) {
            out.push(piece.to_string());
        }
    }
    out
}

/// The field a finding is located at (`step ask: /a/system_fingerprint` →
/// `system-fingerprint`), when specific enough to name a cause.
fn field_key(f: &Finding) -> Option<String> {
    let loc = f
        .location
        .split_once(": ")
        .map(|(_, l)| l)
        .unwrap_or(&f.location);
    let last = loc.strip_prefix('/')?.rsplit('/').next()?;
    let key = last.to_lowercase().replace('_', "-");
    (key.len() >= 4 && !GENERAL.contains(&key.as_str()) && !key.chars().all(|c| c.is_ascii_digit()))
        .then_some(key)
}

/// The key terms and field of a protocol finding, and the middle segments of its id
/// (`stream.usage.cumulative` → `usage`): what an assertion that follows from it names.
fn keys(f: &Finding) -> Vec<String> {
    let mut k = terms(f.check.as_str());
    k.extend(field_key(f));
    let segments: Vec<&str> = f.check.as_str().split('.').collect();
    if segments.len() > 2 {
        for middle in &segments[1..segments.len() - 1] {
            if middle.len() >= 4 && !GENERAL.contains(middle) {
                k.push(middle.to_string());
            }
        }
    }
    k
}

/// What an assertion talks about: its location without the scenario file, its message,
/// expected and actual values, lowercased with `_` as `-`.
fn assertion_text(f: &Finding) -> String {
    let loc = f.location.split(" (").next().unwrap_or(&f.location);
    format!(
        "{loc} {} {} {}",
        f.message,
        f.expected.as_deref().unwrap_or(""),
        f.actual.as_deref().unwrap_or("")
    )
    .to_lowercase()
    .replace('_', "-")
}

fn sev_rank(s: Severity) -> u8 {
    match s {
        Severity::Must => 2,
        Severity::Should => 1,
        Severity::Info => 0,
    }
}

/// The primaries of a result's findings (indices into `findings`), in finding order.
pub(super) fn primaries(findings: &[Finding]) -> Vec<Primary> {
    let mut steps: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let step = f.step.as_ref().map_or("", |s| s.as_str());
        match steps.iter_mut().find(|(s, _)| *s == step) {
            Some((_, v)) => v.push(i),
            None => steps.push((step, vec![i])),
        }
    }
    let mut out: Vec<Primary> = Vec::new();
    let mut loose: Vec<usize> = Vec::new();
    // The first cause (not a generic assertion) that fails an earlier step: generic
    // assertions of later steps follow from it (the request built from its answer).
    let mut earlier: Option<usize> = None;
    for (step, idx) in steps {
        if step.is_empty() {
            loose = idx;
            continue;
        }
        let mut primaries = fold_step(findings, &idx);
        if let Some(h) = earlier {
            let cause = &findings[out[h].index];
            let off_script = cause.check.namespace() == "effect";
            let malformed = answer_malformed(cause.check);
            let cause = terms(cause.check.as_str());
            let (generic, own): (Vec<Primary>, Vec<Primary>) =
                primaries.into_iter().partition(|p| {
                    let f = &findings[p.index];
                    families::ASSERT.contains(f.check)
                        || ((off_script || malformed) && is_status_assertion(f))
                        || (f.check.namespace() == "effect"
                            && terms(f.check.as_str()).iter().any(|t| cause.contains(t)))
                });
            for g in generic {
                out[h].folded.push(g.index);
                out[h].folded.extend(g.folded);
            }
            primaries = own;
        }
        if earlier.is_none() {
            earlier = primaries
                .iter()
                .position(|p| {
                    let f = &findings[p.index];
                    f.severity() == Severity::Must && !families::ASSERT.contains(f.check)
                })
                .map(|i| out.len() + i);
        }
        out.extend(primaries);
    }
    // Findings about no step: protocol ones that are not snapshots are folded like a step;
    // a snapshot diff that names a primary's key goes under it.
    let (snaps, rest): (Vec<usize>, Vec<usize>) = loose
        .into_iter()
        .partition(|i| findings[*i].check.namespace() == "snapshot");
    out.extend(fold_step(findings, &rest));
    for i in snaps {
        let text = assertion_text(&findings[i]);
        let host = out.iter().position(|p| {
            let q = &findings[p.index];
            q.check.namespace() != "snapshot" && keys(q).iter().any(|k| text.contains(k.as_str()))
        });
        match host {
            Some(p) => out[p].folded.push(i),
            None => out.push(Primary {
                index: i,
                folded: Vec::new(),
            }),
        }
    }
    // A value a later step needed could not be captured: that step could not run, which
    // follows from another cause of the result (a missing block, a feature ignored).
    while let Some(c) = out
        .iter()
        .position(|p| findings[p.index].check == ids::SCENARIO_CAPTURE)
    {
        let host = out.iter().enumerate().position(|(j, p)| {
            j != c
                && findings[p.index].check != ids::SCENARIO_CAPTURE
                && findings[p.index].severity() != Severity::Info
        });
        let Some(h) = host else { break };
        let moved = out.remove(c);
        let h = if h > c { h - 1 } else { h };
        out[h].folded.push(moved.index);
        out[h].folded.extend(moved.folded);
    }
    out.sort_by_key(|p| p.index);
    out
}

/// Whether a finding comes from a scenario assertion: its location names the scenario file.
fn from_scenario(f: &Finding) -> bool {
    f.location.contains(".yaml")
}

/// Whether a cause says the answer itself is malformed (its stream's grammar, its schema, a
/// block the request implies): a later turn that passes that answer back carries the defect,
/// and its rejection follows from it (a tool input streamed as a string makes the next turn's
/// `tool_use` invalid).
fn answer_malformed(check: CheckId) -> bool {
    let id = check.as_str();
    id.starts_with("stream.grammar.")
        || id == "schema.message"
        || id.starts_with("schema.event.")
        || check.namespace() == "implied"
}

/// Whether a finding is a step's status assertion (generic, or the rule its `status_check`
/// names): the body that follows is not the one the step asked for.
fn is_status_assertion(f: &Finding) -> bool {
    let loc = f.location.split_once(": ").map_or(&*f.location, |(_, l)| l);
    from_scenario(f) && loc.starts_with("status (")
}

/// Protocol findings that follow from another protocol finding of the same step: (the
/// consequence, the prefix of the cause's check). The stream's usage is wrong, so its input
/// count disagrees with the other mode's; a stream that ends without `message_stop` was cut,
/// so the transport saw an incomplete body and the last event's data may be half a JSON.
const CONSEQUENCES: &[(CheckId, &str)] = &[
    (ids::MESSAGE_INPUT_TOKENS_ZERO, "stream.usage."),
    (ids::TRANSPORT_INCOMPLETE, "stream.grammar.truncated"),
    (ids::STREAM_EVENT_JSON, "stream.grammar.truncated"),
];

fn fold_step(findings: &[Finding], idx: &[usize]) -> Vec<Primary> {
    let is_assert = |i: &usize| families::ASSERT.contains(findings[*i].check);
    // Scenario assertions that name their rule (`check:`) and scenario effect checks.
    let is_stated = |i: &usize| !is_assert(i) && from_scenario(&findings[*i]);
    let mut protocol: Vec<usize> = idx
        .iter()
        .copied()
        .filter(|i| !is_assert(i) && !is_stated(i))
        .collect();
    protocol.sort_by_key(|i| {
        let f = &findings[*i];
        (
            std::cmp::Reverse(sev_rank(f.severity())),
            std::cmp::Reverse(super::impact_score(f.check.as_str())),
            f.check.namespace() == "stream",
            *i,
        )
    });
    let mut out: Vec<Primary> = Vec::new();
    for i in protocol {
        let f = &findings[i];
        let mine = terms(f.check.as_str());
        let host = out.iter_mut().find(|p| {
            let q = &findings[p.index];
            q.check != f.check && terms(q.check.as_str()).iter().any(|t| mine.contains(t))
        });
        match host {
            Some(p) => p.folded.push(i),
            None => out.push(Primary {
                index: i,
                folded: Vec::new(),
            }),
        }
    }
    // Declared consequences move under their cause, with what was folded under them.
    for (consequence, cause) in CONSEQUENCES {
        let Some(c) = out
            .iter()
            .position(|p| findings[p.index].check == *consequence)
        else {
            continue;
        };
        if let Some(h) = out
            .iter()
            .position(|p| findings[p.index].check.as_str().starts_with(cause))
        {
            let moved = out.remove(c);
            let h = if h > c { h - 1 } else { h };
            out[h].folded.push(moved.index);
            out[h].folded.extend(moved.folded);
        }
    }
    // A stream that was not well-formed: what was checked on the message accumulated from it
    // follows from the stream's fault. (A schema finding on that message stays a cause: the
    // same shape is judged in the other mode, and checks that hold in both modes lead.)
    if let Some(host) = out.iter().position(|p| {
        let f = &findings[p.index];
        f.check.namespace() == "stream" && is_unreliable_message(f)
    }) {
        let host_index = out[host].index;
        let (moved, kept): (Vec<Primary>, Vec<Primary>) = out.into_iter().partition(|p| {
            let f = &findings[p.index];
            p.index != host_index
                && !matches!(f.check.namespace(), "stream" | "schema")
                && f.location.contains("accumulated message")
        });
        out = kept;
        let h = out
            .iter()
            .position(|p| p.index == host_index)
            .expect("the host is kept");
        for m in moved {
            out[h].folded.push(m.index);
            out[h].folded.extend(m.folded);
        }
    }
    let named = |out: &[Primary], i: usize| {
        let f = &findings[i];
        let text = assertion_text(f);
        out.iter().position(|p| {
            let q = &findings[p.index];
            !families::ASSERT.contains(q.check)
                && !from_scenario(q)
                && (q.check == f.check || keys(q).iter().any(|t| text.contains(t.as_str())))
        })
    };
    // Stated rules and effect checks: under the protocol finding that shows the same thing
    // (the same check, or a key term their text names: an effect check on usage counts under
    // a usage finding), or under a body that is not the one asked for; else causes.
    let mut stated: Vec<usize> = idx.iter().copied().filter(is_stated).collect();
    // The status assertion first, then the effect checks, so that a stated rule can fold
    // under them.
    stated.sort_by_key(|i| {
        let f = &findings[*i];
        (!is_status_assertion(f), f.check.namespace() != "effect", *i)
    });
    // A stream that was not well-formed gives no evidence on the rules checked on the
    // message accumulated from it.
    let broken_stream = |out: &[Primary]| {
        out.iter().position(|p| {
            let q = &findings[p.index];
            q.check.namespace() == "stream" && is_unreliable_message(q)
        })
    };
    // A stated rule other than an effect check follows, like a generic assertion, from a
    // failed effect check of the step (what the feature should have produced is missing)
    // or from a message that is not reliable (schema).
    let effect = |out: &[Primary]| {
        out.iter()
            .position(|p| findings[p.index].check.namespace() == "effect")
    };
    let unreliable = |out: &[Primary]| {
        out.iter()
            .position(|p| is_unreliable_message(&findings[p.index]))
    };
    // Under a body that is not the one asked for (or the step's status assertion). A status
    // is not a consequence of how the body was written (a rejection's text/plain body does
    // not make it a rejection): a status assertion does not fold under a finding on the
    // body's format.
    let body_for = |out: &[Primary], i: usize| {
        let status = is_status_assertion(&findings[i]);
        out.iter().position(|p| {
            let q = &findings[p.index];
            (is_body_mismatch(q.check) || is_status_assertion(q))
                && !(status && q.check.namespace() == "body")
        })
    };
    for i in stated {
        let rule = findings[i].check.namespace() != "effect" && !is_status_assertion(&findings[i]);
        match named(&out, i)
            .or_else(|| body_for(&out, i))
            .or_else(|| broken_stream(&out))
            .or_else(|| if rule { effect(&out) } else { None })
            .or_else(|| if rule { unreliable(&out) } else { None })
        {
            Some(p) => out[p].folded.push(i),
            None => out.push(Primary {
                index: i,
                folded: Vec::new(),
            }),
        }
    }
    // Generic assertions: the status assertion first, so the others can fold under it; then
    // as above, else under a failed effect check of the step (what the feature should have
    // produced is missing), else under a message that is not reliable (schema, stream), else
    // causes.
    let mut asserts: Vec<usize> = idx.iter().copied().filter(is_assert).collect();
    asserts.sort_by_key(|i| (findings[*i].check != families::ASSERT_STATUS, *i));
    for i in asserts {
        let effect = || {
            out.iter()
                .position(|p| findings[p.index].check.namespace() == "effect")
        };
        let unreliable = || {
            out.iter()
                .position(|p| is_unreliable_message(&findings[p.index]))
        };
        match named(&out, i)
            .or_else(|| body_for(&out, i))
            .or_else(effect)
            .or_else(unreliable)
        {
            Some(p) => out[p].folded.push(i),
            None => out.push(Primary {
                index: i,
                folded: Vec::new(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(check: &str, location: &str, message: &str) -> Finding {
        Finding::new(CheckId::parse(check).unwrap(), location, message)
    }

    #[test]
    fn terms_leave_out_general_words() {
        assert_eq!(terms("headers.request-id"), vec!["request-id"]);
        assert_eq!(
            terms("implied.thinking-signature"),
            vec!["thinking-signature", "thinking", "signature"]
        );
        assert_eq!(terms("stream.ping-missing"), vec!["ping-missing"]);
        assert!(terms("schema.error").is_empty());
        assert!(terms("assert.exists").is_empty());
    }

    #[test]
    fn a_rejection_is_not_a_consequence_of_its_body_s_format() {
        // A 400 whose body is text/plain: the status the step names is a cause of its own.
        let fs = vec![
            f(
                "body.error-json",
                "step ask: body",
                "the error body is not JSON",
            ),
            f(
                "request.search-result-rejected",
                "step ask: status (sr.yaml:20:7)",
                "expected 200, got 400",
            ),
        ];
        let p = primaries(&fs);
        assert_eq!(p.len(), 2, "{p:?}");
        // Under an error body off its schema it still folds (the 404 case below).
    }

    #[test]
    fn assertions_on_a_404_body_fold_under_the_error_schema() {
        let fs = vec![
            f("headers.request-id", "step get: request-id", "no header"),
            f(
                "schema.error",
                "step get: /",
                "required field \"type\" is missing",
            ),
            f("assert.status", "step get: status (x.yaml)", "expected 200"),
            f(
                "assert.equals",
                "step get: $.type (x.yaml:3:1)",
                "expected equals \"model\"",
            ),
        ];
        let p = primaries(&fs);
        assert_eq!(
            p,
            vec![
                Primary {
                    index: 0,
                    folded: vec![]
                },
                Primary {
                    index: 1,
                    folded: vec![2, 3]
                }
            ]
        );
    }

    #[test]
    fn one_missing_thing_seen_by_several_checks_is_one_cause() {
        let fs = vec![
            f("headers.request-id", "step send: request-id", "no header"),
            f(
                "assert.exists",
                "step send: header request-id (e.yaml:21:21)",
                "expected at least one node",
            ),
            f(
                "assert.type",
                "step send: $.request_id (e.yaml:26:11)",
                "type",
            ),
            f(
                "stream.grammar.signature",
                "step ask: event #12",
                "no signature_delta",
            ),
            f(
                "implied.thinking-signature",
                "step ask: /content/0/signature",
                "no signature",
            ),
            f(
                "assert.count",
                "step ask: $.content[?@.signature == ''] (t.yaml)",
                "count",
            ),
        ];
        let p = primaries(&fs);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].index, 0);
        assert_eq!(p[0].folded, vec![1, 2]);
        assert_eq!(p[1].index, 4, "the check that holds in both modes leads");
        assert_eq!(p[1].folded, vec![3, 5]);
    }

    #[test]
    fn an_extra_field_seen_by_an_assertion_and_a_snapshot_is_one_cause() {
        let mut snap = f("snapshot.changed", "snapshots/t/a@sync.snap", "changed");
        snap.actual = Some("+  \"system_fingerprint\": \"[string]\"".into());
        let mut schema = f("assert.schema", "step ask: $ (a.yaml:3:1)", "extra fields");
        schema.actual = Some(": \"system_fingerprint\" is not one of \"id\"".into());
        let fs = vec![
            f(
                "schema.unknown-field",
                "step ask: /system_fingerprint",
                "field",
            ),
            schema,
            snap,
        ];
        let p = primaries(&fs);
        assert_eq!(
            p,
            vec![Primary {
                index: 0,
                folded: vec![1, 2]
            }]
        );
    }

    #[test]
    fn unrelated_assertions_and_other_steps_stay_causes() {
        let fs = vec![
            f("headers.request-id", "step a: request-id", "no header"),
            f(
                "assert.equals",
                "step a: $.stop_reason (s.yaml)",
                "expected end_turn",
            ),
            f(
                "assert.equals",
                "step b: $.stop_reason (s.yaml)",
                "expected end_turn",
            ),
        ];
        let p = primaries(&fs);
        assert_eq!(p.iter().map(|p| p.index).collect::<Vec<_>>(), vec![0, 1, 2]);
    }

    fn in_step(mut f: Finding, step: &str) -> Finding {
        f.step = Some(crate::run::StepId::from(step));
        f
    }

    #[test]
    fn a_stated_status_rule_hosts_the_assertions_on_the_body() {
        let fs = vec![
            f(
                "auth.invalid-key-accepted",
                "step send: status (e/bad-key.yaml:12:15)",
                "expected 401",
            ),
            f(
                "assert.equals",
                "step send: $.type (e/bad-key.yaml:17:11)",
                "expected equals \"error\"",
            ),
        ];
        let p = primaries(&fs);
        assert_eq!(
            p,
            vec![Primary {
                index: 0,
                folded: vec![1]
            }]
        );
    }

    #[test]
    fn effect_checks_on_wrong_usage_and_a_failed_capture_are_consequences() {
        let fs = vec![
            in_step(
                f("stream.usage.cumulative", "step b: event #9", "smaller"),
                "b",
            ),
            in_step(
                f(
                    "message.input-tokens-zero",
                    "step b: /usage/input_tokens",
                    "0",
                ),
                "b",
            ),
            in_step(
                f(
                    "effect.caching",
                    "step b: $.usage.cache_read_input_tokens (c/s.yaml:39:11)",
                    "the second request did not read the cached prefix",
                ),
                "b",
            ),
            in_step(
                f("scenario.capture", "step b: capture", "selected nothing"),
                "b",
            ),
        ];
        let p = primaries(&fs);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].index, 0);
        let mut folded = p[0].folded.clone();
        folded.sort();
        assert_eq!(folded, vec![1, 2, 3]);
    }

    #[test]
    fn a_stated_rule_folds_under_the_same_protocol_check_and_assertions_under_an_effect() {
        let fs = vec![
            f(
                "effect.tool-choice",
                "step ask: /content",
                "`tool_choice: any` requires a tool call",
            ),
            f(
                "effect.tool-choice",
                "step ask: $.content (t/choice-any.yaml:25:11)",
                "the feature had no effect",
            ),
            f(
                "assert.equals",
                "step ask: $.content[0].name (t/choice-any.yaml:27:11)",
                "expected equals \"get_weather\"",
            ),
        ];
        let p = primaries(&fs);
        assert_eq!(
            p,
            vec![Primary {
                index: 0,
                folded: vec![1, 2]
            }]
        );
    }
}
