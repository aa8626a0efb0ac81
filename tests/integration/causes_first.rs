//! Every fault of the reference server, run alone, comes out as its own cause first (issue 22,
//! point 5): the first deviation of the report (`deviations[0]`, ranked by
//! `conform::reports::analyse`) has the check that states the fault's rule — not a generic
//! scenario assertion (`assert.*`), not a consequence (a capture that could not be made, an
//! effect check that could not be read), not an informational finding.
//!
//! [`OWN_CAUSE`] states, for every fault of `conform::reference_server::fault_catalogue()`, the
//! check id it must come out under. Each fault is proven by running the whole library (both
//! modes) against an in-process reference server started with that one fault; four servers run
//! at once.
//!
//! Combinations: seeded random sets of two or three faults, each fault's own check among the
//! first causes with no generic row (`assert.*`) or consequence (`scenario.capture`) ranked
//! above it. Some faults hide others (a stream that is not parsed shows nothing of its
//! content), so the test holds the number of combinations that pass, measured, from falling.

use crate::support::*;
use conform::Scenario;
use conform::reference_server::Fault;
use conform::reference_server::fault_catalogue;
use std::time::Instant;

/// How many reference servers (one per fault) run at once.
const CONCURRENT_SERVERS: usize = 4;

/// Fault name → the check its first cause must have: the check that names the fault's rule.
const OWN_CAUSE: &[(&str, &str)] = &[
    ("no-message-start", "stream.grammar.first-event"),
    ("no-message-stop", "stream.grammar.truncated"),
    ("no-ping", "stream.ping-missing"),
    ("event-name-mismatch", "stream.sse.event-name"),
    ("data-only-events", "stream.sse.data-only"),
    ("done-sentinel", "stream.sse.done-sentinel"),
    ("wrong-delta-type", "stream.grammar.delta-type"),
    ("index-gap", "stream.grammar.block-index"),
    ("interleaved-blocks", "stream.grammar.block-order"),
    ("unclosed-block", "stream.grammar.unclosed-block"),
    ("empty-text-delta", "stream.empty-delta"),
    ("usage-missing", "schema.message"),
    ("usage-not-cumulative", "stream.usage.cumulative"),
    ("stream-input-tokens-zero", "message.input-tokens-zero"),
    ("stream-drops-delta", "stream.text-altered"),
    // Cache counts sent as null: the clients cope (should); that the caching effect cannot be
    // read from a null count is no statement on caching.
    ("null-optional-fields", "message.usage.null-count"),
    ("wrong-stop-reason", "message.stop-reason-tool-use"),
    ("no-signature", "implied.thinking-signature"),
    ("thinking-ignored", "effect.thinking"),
    ("stop-sequence-ignored", "effect.stop-sequences"),
    (
        "stop-sequence-end-turn",
        "stop.reason-end-turn-after-stop-sequence",
    ),
    ("tool-choice-ignored", "effect.tool-choice"),
    ("tool-input-string", "schema.message"),
    ("partial-json-invalid", "stream.grammar.partial-json"),
    ("max-tokens-ignored", "effect.max-tokens"),
    ("cache-ignored", "effect.caching"),
    ("structured-output-ignored", "effect.structured-output"),
    ("openai-errors", "schema.error"),
    ("error-as-200", "error.status"),
    ("wrong-error-status", "error.status-type"),
    ("text-plain-errors", "body.error-json"),
    ("mid-stream-error-as-message", "stream.grammar.after-error"),
    ("truncated-stream", "stream.grammar.truncated"),
    ("fake-streaming", "stream.incremental"),
    ("non-anthropic-ids", "message.id-prefix"),
    ("model-rewrite", "model.not-echoed"),
    ("extra-fields", "schema.unknown-field"),
    ("no-request-id", "headers.request-id"),
    ("count-tokens-missing", "schema.error"),
    ("models-missing", "schema.error"),
    ("unknown-model-remap", "model.unknown-accepted"),
    ("auth-ignored", "auth.invalid-key-accepted"),
    ("rate-limit", "http.retried"),
    ("cooldown-429", "http.retried"),
    ("thinking-by-default", "implied.thinking-unrequested"),
    ("parallel-tools-ignored", "effect.parallel-tool-use"),
    ("signature-unchecked", "thinking.signature-unchecked"),
    ("bearer-rejected", "auth.style-rejected"),
    ("new-version-rejected", "version.current-rejected"),
    ("5xx-on-block-content", "http.server-error"),
    ("thinking-passback-rejected", "agent-loop.passback-rejected"),
    (
        "thinking-required-after-tool",
        "agent-loop.history-without-thinking-rejected",
    ),
    (
        "signature-dropped-after-tool-turn",
        "implied.thinking-signature",
    ),
    (
        "thinking-stops-after-tool-turn",
        "effect.thinking-after-tool-turn",
    ),
    ("effort-ignored", "effect.effort"),
    (
        "ignored-fields-rejected",
        "request.documented-field-rejected",
    ),
    ("cache-ttl-ignored", "caching.ttl-1h-not-reported"),
    ("ratelimit-headers-missing", "headers.ratelimit"),
    (
        "refusal-without-stop-details",
        "message.refusal-without-stop-details",
    ),
    ("context-edits-ignored", "effect.context-editing"),
    ("server-tool-dropped", "effect.server-tools"),
    ("citations-dropped", "effect.citations"),
    ("search-result-rejected", "request.search-result-rejected"),
    ("pause-turn-as-end-turn", "stop.pause-turn"),
    ("history-dropped", "effect.history"),
];

/// Run the library against a reference server with `faults`; the report's deviations as
/// `check (severity) sentence`, best ranked first, and their check ids.
pub(crate) async fn causes(scenarios: Vec<Scenario>, faults: Vec<Fault>) -> Vec<(String, String)> {
    let report = run_reference(scenarios, faults, 8).await;
    let (deviations, _) = conform::reports::analyse(&report);
    deviations
        .iter()
        .map(|d| {
            (
                d.check.clone(),
                format!(
                    "{} ({}, {} results) {}",
                    d.check, d.severity, d.results, d.sentence
                ),
            )
        })
        .collect()
}

/// The seeds of the combinations (fixed: the same combinations every run).
const COMBINATION_SEEDS: std::ops::Range<u64> = 1..41;

/// How many of the seeded combinations pass today; a change that loses one fails the test.
/// Measured: 40 of 40 (the timed faults left out of the pool, masked faults not expected).
/// The pool decides which combinations the seeds draw (every fault of `OWN_CAUSE` but the
/// timed ones), so a new fault redraws them: with `history-dropped` added, 32 of 40 passed
/// before the truncation and delta-type fixes. What brought it to 38: a stream cut short is
/// one cause (`stream.grammar.truncated` takes `transport.incomplete` and the half event's
/// `stream.event.json` of the same step, and neither it, `stream.event.json` nor
/// `stream.grammar.delta-type` splits into one deviation per wording); two masks
/// (`error-as-200` hides the wrong status, `tool-input-string` the lost thinking after a tool
/// turn); the server-tool usage check leaves a message without usage to the schema; then a
/// third mask (`index-gap` leaves no tool input to join, #36); and a status assertion no
/// longer folds under a finding on the body's format (`search-result-rejected` with
/// `text-plain-errors`, #7: the rejection's text/plain body does not make it a rejection).
const COMBINATIONS_PASSING: usize = 40;

/// Pairs where the first fault keeps the second from being observable at all: the evidence
/// the second one needs is never produced, so no report can name it and the combination does
/// not expect it.
const MASKS: &[(&str, &str)] = &[
    // No signature comes back, so none can be tampered with and passed back.
    ("no-signature", "signature-unchecked"),
    // The tool round trip cannot be built from a tool_use whose input is a string.
    ("tool-input-string", "signature-unchecked"),
    // No thinking block, so no signature to miss.
    ("thinking-ignored", "no-signature"),
    // No `event:` lines at all, so no event name to mismatch.
    ("data-only-events", "event-name-mismatch"),
    // The stream never reaches its end, where the sentinel and the final model would be.
    ("truncated-stream", "done-sentinel"),
    ("truncated-stream", "model-rewrite"),
    // No usage anywhere, so no input count to compare between the modes.
    ("usage-missing", "stream-input-tokens-zero"),
    // No thinking at all, so none to lose after a tool turn.
    ("thinking-ignored", "signature-dropped-after-tool-turn"),
    ("thinking-ignored", "thinking-stops-after-tool-turn"),
    (
        "thinking-stops-after-tool-turn",
        "signature-dropped-after-tool-turn",
    ),
    // Every turn after a tool call is rejected, so no answer to a tool result comes back.
    (
        "thinking-passback-rejected",
        "signature-dropped-after-tool-turn",
    ),
    (
        "thinking-passback-rejected",
        "thinking-stops-after-tool-turn",
    ),
    ("thinking-passback-rejected", "signature-unchecked"),
    // Every request of a loop has block content: it gets a 500.
    ("5xx-on-block-content", "thinking-passback-rejected"),
    ("5xx-on-block-content", "thinking-required-after-tool"),
    ("5xx-on-block-content", "signature-dropped-after-tool-turn"),
    ("5xx-on-block-content", "thinking-stops-after-tool-turn"),
    // Nothing is cached, so no 1-hour write to put in the wrong bucket.
    ("cache-ignored", "cache-ttl-ignored"),
    // Every block index is one too high, so every delta addresses the wrong block and is
    // dropped, as the SDKs' accumulation drops it: no tool input is ever joined to be invalid.
    ("index-gap", "partial-json-invalid"),
    // Every error comes with status 200, so no error status can be the wrong one.
    ("error-as-200", "wrong-error-status"),
    // The tool round trip cannot be built from a tool_use whose input is a string, so no
    // answer to a tool result comes back to lose its thinking.
    ("tool-input-string", "thinking-stops-after-tool-turn"),
];

/// Whether another fault of the combination masks `fault`.
fn masked(fault: &str, combo: &[(&str, &str)]) -> bool {
    MASKS
        .iter()
        .any(|(by, what)| *what == fault && combo.iter().any(|(f, _)| f == by))
}

/// How far below the number of faults a fault's own cause may rank (other faults' causes and
/// their own second findings come first).
const SLACK: usize = 3;

/// splitmix64: a small, fixed pseudo-random sequence (no dependency for a few numbers).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Faults left out of combinations: what they show depends on time (429 windows, arrival
/// times), so a combination with them would measure the machine's load, not the ranking.
const TIMED: &[&str] = &["rate-limit", "cooldown-429", "fake-streaming"];

/// Two or three distinct faults of [`OWN_CAUSE`] (the [`TIMED`] ones aside), chosen by `seed`.
fn combination(seed: u64) -> Vec<(&'static str, &'static str)> {
    let pool: Vec<(&str, &str)> = OWN_CAUSE
        .iter()
        .copied()
        .filter(|(f, _)| !TIMED.contains(f))
        .collect();
    let mut state = seed;
    let n = 2 + (splitmix(&mut state) % 2) as usize;
    let mut chosen: Vec<(&str, &str)> = Vec::new();
    while chosen.len() < n {
        let pick = pool[(splitmix(&mut state) % pool.len() as u64) as usize];
        if !chosen.contains(&pick) {
            chosen.push(pick);
        }
    }
    chosen
}

/// Why a fault of a combination is not among the first causes, if it is not.
fn lost(fault: &str, want: &str, n_faults: usize, got: &[(String, String)]) -> Option<String> {
    let at = got.iter().position(|(c, _)| c == want);
    let above = &got[..at.unwrap_or(got.len())];
    let generic = above
        .iter()
        .find(|(c, _)| c.starts_with("assert.") || c == "scenario.capture");
    match (at, generic) {
        (None, _) => Some(format!("{fault}: `{want}` is not among the causes")),
        (Some(_), Some((c, _))) => Some(format!("{fault}: `{c}` ranks above `{want}`")),
        (Some(i), None) if i >= n_faults + SLACK => {
            Some(format!("{fault}: `{want}` ranks #{}", i + 1))
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_combinations_of_faults_keep_each_cause_among_the_first() {
    let started = Instant::now();
    let scenarios = library();
    let mut pending = COMBINATION_SEEDS;
    let mut set = tokio::task::JoinSet::new();
    let mut failures = Vec::new();
    let mut passing = 0;
    loop {
        while set.len() < CONCURRENT_SERVERS {
            let Some(seed) = pending.next() else {
                break;
            };
            let combo = combination(seed);
            let faults: Vec<Fault> = combo.iter().map(|(f, _)| f.parse().unwrap()).collect();
            let scenarios = scenarios.clone();
            set.spawn(async move { (seed, combo, causes(scenarios, faults).await) });
        }
        match set.join_next().await {
            Some(done) => {
                let (seed, combo, got) = done.expect("a run panicked");
                let why: Vec<String> = combo
                    .iter()
                    .filter(|(f, _)| !masked(f, &combo))
                    .filter_map(|(f, want)| lost(f, want, combo.len(), &got))
                    .collect();
                if why.is_empty() {
                    passing += 1;
                } else {
                    let names: Vec<&str> = combo.iter().map(|(f, _)| *f).collect();
                    let shown: Vec<String> = got
                        .iter()
                        .take(6)
                        .map(|(_, s)| format!("    {s}"))
                        .collect();
                    failures.push(format!(
                        "seed {seed} [{}]: {}\n{}",
                        names.join(", "),
                        why.join("; "),
                        shown.join("\n")
                    ));
                }
            }
            None => break,
        }
    }
    failures.sort();
    eprintln!(
        "{passing} of {} combinations keep every cause among the first ({} ms)\n{}",
        COMBINATION_SEEDS.count(),
        started.elapsed().as_millis(),
        failures.join("\n")
    );
    assert!(
        passing >= COMBINATIONS_PASSING,
        "{passing} of {} combinations pass (want {COMBINATIONS_PASSING}):\n{}",
        COMBINATION_SEEDS.count(),
        failures.join("\n")
    );
}

#[test]
fn every_fault_has_one_own_cause() {
    for info in fault_catalogue() {
        let n = OWN_CAUSE.iter().filter(|(f, _)| *f == info.name).count();
        assert_eq!(
            n, 1,
            "fault `{}` has {n} rows in OWN_CAUSE (want 1)",
            info.name
        );
    }
    for (fault, check) in OWN_CAUSE {
        assert!(fault.parse::<Fault>().is_ok(), "unknown fault `{fault}`");
        assert!(
            conform::catalogue::get(check).is_some(),
            "`{check}` ({fault}) is not in the catalogue"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_alone_comes_out_first_under_its_own_check() {
    let started = Instant::now();
    let scenarios = library();
    let mut pending = OWN_CAUSE.iter();
    let mut set = tokio::task::JoinSet::new();
    let mut problems = Vec::new();
    loop {
        while set.len() < CONCURRENT_SERVERS {
            let Some((fault, want)) = pending.next() else {
                break;
            };
            let parsed: Fault = fault.parse().expect("a catalogue fault");
            let scenarios = scenarios.clone();
            set.spawn(async move { (*fault, *want, causes(scenarios, vec![parsed]).await) });
        }
        match set.join_next().await {
            Some(done) => {
                let (fault, want, got) = done.expect("a run panicked");
                if got.first().map(|(c, _)| c.as_str()) != Some(want) {
                    let shown: Vec<String> = got
                        .iter()
                        .take(4)
                        .map(|(_, s)| format!("    {s}"))
                        .collect();
                    problems.push(format!(
                        "{fault}: want `{want}` first, got:\n{}",
                        shown.join("\n")
                    ));
                }
            }
            None => break,
        }
    }
    eprintln!(
        "{} faults run alone in {} ms",
        OWN_CAUSE.len(),
        started.elapsed().as_millis()
    );
    problems.sort();
    assert!(
        problems.is_empty(),
        "{} of {} faults do not come out first under their own check:\n{}",
        problems.len(),
        OWN_CAUSE.len(),
        problems.join("\n")
    );
}
