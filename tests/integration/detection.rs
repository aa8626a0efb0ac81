//! The fault-detection matrix (issue 5): the scenario library under `scenarios/` must catch
//! every fault of the reference server.
//!
//! [`MATRIX`] states, for every fault of `conform::reference_server::fault_catalogue()`, which results must
//! leave `pass` and how: a row is `(scenario glob, expectation)` where the glob matches
//! `SCENARIO-ID@MODE` (`*` matches any run of characters; without `@` both modes match) and the
//! expectation is a verdict, a check id, or both. Every result the glob selects must meet it,
//! and the glob must select at least one result. Each row is proven by running the scenarios it
//! names against an in-process reference server started with that one fault.
//!
//! Also proven here: the clean server passes every scenario in both modes with no `warn`
//! (`--strict`), and a strict run against any single fault has a result that fails.
//!
//! `rate-limit` is special: a well-formed 429 with `retry-after` is what a provider under load
//! sends, and the runner retries it, so the result is a `warn` (`http.retried`) that fails a
//! strict run. (With retries off, a 429 that is never lifted is infrastructure, an `error`,
//! not a statement about the feature.) Its row runs one case at a time in sync mode, so the
//! first request — the one the fault answers with 429 — belongs to the case the row names.

use crate::support::library;
use conform::ExchangeSink;
use conform::Mode;
use conform::ResultRecord;
use conform::Scenario;
use conform::Settings;
use conform::Verdict;
use conform::reference_server::Fault;
use conform::reference_server::fault_catalogue;
use std::time::{Duration, Instant};

/// What a selected result must show.
#[derive(Debug, Clone, Copy)]
struct Expect {
    verdict: Option<Verdict>,
    /// A finding with this check id (severity must or should; info findings never count).
    check: Option<&'static str>,
    /// Met when at least one selected result meets it (not every one): for a fault only the
    /// first of the two modes can show, because the other mode reads what the first wrote.
    any: bool,
}

const fn v(verdict: Verdict) -> Expect {
    Expect {
        verdict: Some(verdict),
        check: None,
        any: false,
    }
}

const fn vc(verdict: Verdict, check: &'static str) -> Expect {
    Expect {
        verdict: Some(verdict),
        check: Some(check),
        any: false,
    }
}

/// [`vc`] met by at least one of the results the glob selects.
const fn some(verdict: Verdict, check: &'static str) -> Expect {
    Expect {
        any: true,
        ..vc(verdict, check)
    }
}

use Verdict::{Fail, Ignored, Unsupported, Warn};

type Row = (&'static str, &'static [(&'static str, Expect)]);

/// Fault name → what catches it.
const MATRIX: &[Row] = &[
    // Stream framing and grammar: the validators catch these on every streamed scenario.
    (
        "no-message-start",
        &[("streaming/*@stream", vc(Fail, "stream.grammar.first-event"))],
    ),
    (
        "no-message-stop",
        &[("streaming/*@stream", vc(Fail, "stream.grammar.truncated"))],
    ),
    (
        "no-ping",
        &[("streaming/*@stream", vc(Warn, "stream.ping-missing"))],
    ),
    (
        "event-name-mismatch",
        &[("streaming/*@stream", vc(Fail, "stream.sse.event-name"))],
    ),
    (
        "data-only-events",
        &[("streaming/*@stream", vc(Fail, "stream.sse.data-only"))],
    ),
    (
        "done-sentinel",
        // should since the calibration: every client stops at message_stop.
        &[("streaming/*@stream", vc(Warn, "stream.sse.done-sentinel"))],
    ),
    (
        "wrong-delta-type",
        &[(
            "streaming/text@stream",
            vc(Fail, "stream.grammar.delta-type"),
        )],
    ),
    (
        "index-gap",
        &[(
            "streaming/text@stream",
            vc(Fail, "stream.grammar.block-index"),
        )],
    ),
    (
        "interleaved-blocks",
        &[
            // should since the calibration: the clients accumulate interleaved blocks by index.
            (
                "streaming/thinking@stream",
                vc(Warn, "stream.grammar.block-order"),
            ),
            (
                "tools/parallel@stream",
                vc(Warn, "stream.grammar.block-order"),
            ),
        ],
    ),
    (
        "unclosed-block",
        &[(
            "streaming/*@stream",
            vc(Fail, "stream.grammar.unclosed-block"),
        )],
    ),
    (
        "empty-text-delta",
        &[("streaming/text@stream", vc(Warn, "stream.empty-delta"))],
    ),
    (
        "usage-missing",
        &[
            ("basic/seed-call@sync", vc(Fail, "schema.message")),
            ("basic/seed-call@stream", v(Fail)),
        ],
    ),
    (
        "usage-not-cumulative",
        &[("streaming/text@stream", vc(Fail, "stream.usage.cumulative"))],
    ),
    (
        // Only the other mode's answer to the same request shows the prompt had tokens.
        "stream-input-tokens-zero",
        &[("basic/hello@stream", vc(Fail, "message.input-tokens-zero"))],
    ),
    (
        // Only the other mode's answer to the same deterministic request shows the lost piece.
        "stream-drops-delta",
        &[(
            "streaming/same-text@stream",
            vc(Fail, "stream.text-altered"),
        )],
    ),
    (
        "null-optional-fields",
        // Null cache counts are the finding (should: the clients cope); the caching effect is
        // not judged from a count that cannot be read (neither ignored nor "more tokens read
        // than the prompt has").
        &[
            ("caching/seed-system", vc(Warn, "message.usage.null-count")),
            ("caching/accounting", vc(Warn, "message.usage.null-count")),
        ],
    ),
    (
        "wrong-stop-reason",
        &[(
            "tools/seed-weather",
            vc(Fail, "message.stop-reason-tool-use"),
        )],
    ),
    (
        "no-signature",
        &[
            ("thinking/enabled", vc(Fail, "implied.thinking-signature")),
            (
                "streaming/thinking@stream",
                vc(Fail, "stream.grammar.signature"),
            ),
        ],
    ),
    (
        "thinking-ignored",
        &[
            ("thinking/enabled", vc(Ignored, "effect.thinking")),
            ("thinking/tool-round-trip", vc(Ignored, "effect.thinking")),
        ],
    ),
    (
        "stop-sequence-ignored",
        &[("stop-sequences/*", vc(Ignored, "effect.stop-sequences"))],
    ),
    (
        "stop-sequence-end-turn",
        // The text is cut at the sequence (the feature worked) but stop_reason says end_turn:
        // the stop_reason contract is broken (fail), not the feature ignored.
        &[(
            "stop-sequences/*",
            vc(Fail, "stop.reason-end-turn-after-stop-sequence"),
        )],
    ),
    (
        "tool-choice-ignored",
        &[
            ("tools/choice-any", vc(Ignored, "effect.tool-choice")),
            ("tools/choice-none", vc(Ignored, "effect.tool-choice")),
            ("tools/choice-tool", vc(Ignored, "effect.tool-choice")),
        ],
    ),
    (
        "tool-input-string",
        &[("tools/seed-weather", vc(Fail, "schema.message"))],
    ),
    (
        "partial-json-invalid",
        &[(
            "streaming/tools@stream",
            vc(Fail, "stream.grammar.partial-json"),
        )],
    ),
    (
        "max-tokens-ignored",
        &[("max-tokens/*", vc(Ignored, "effect.max-tokens"))],
    ),
    (
        "cache-ignored",
        &[
            ("caching/seed-system", vc(Ignored, "effect.caching")),
            ("caching/messages-breakpoint", vc(Ignored, "effect.caching")),
            ("caching/tools-breakpoint", vc(Ignored, "effect.caching")),
            ("caching/ttl-1h", vc(Ignored, "effect.caching")),
        ],
    ),
    (
        "structured-output-ignored",
        &[(
            "structured-output/*",
            vc(Ignored, "effect.structured-output"),
        )],
    ),
    // Errors.
    ("openai-errors", &[("errors/*", vc(Fail, "schema.error"))]),
    ("error-as-200", &[("errors/*", vc(Fail, "error.status"))]),
    (
        "wrong-error-status",
        &[
            ("errors/missing-max-tokens", vc(Fail, "error.status-type")),
            ("errors/unknown-model", vc(Fail, "error.status-type")),
        ],
    ),
    // The non-JSON error body itself is should (`body.error-json`: the clients raise on the
    // status); the errors scenarios still fail on their assertions about the error's type.
    (
        "text-plain-errors",
        &[("errors/*", vc(Fail, "body.error-json"))],
    ),
    (
        "mid-stream-error-as-message",
        &[("streaming/*@stream", vc(Fail, "stream.grammar.after-error"))],
    ),
    (
        "truncated-stream",
        &[("streaming/*@stream", vc(Fail, "stream.grammar.truncated"))],
    ),
    (
        "fake-streaming",
        &[("streaming/*@stream", vc(Warn, "stream.incremental"))],
    ),
    // Identity and shape.
    (
        "non-anthropic-ids",
        &[
            ("basic/seed-call", vc(Warn, "message.id-prefix")),
            ("tools/seed-weather", vc(Warn, "message.tool-id-prefix")),
        ],
    ),
    (
        "model-rewrite",
        &[("basic/seed-call", vc(Warn, "model.not-echoed"))],
    ),
    (
        "extra-fields",
        &[(
            "basic/seed-call@sync",
            vc(Warn, "answer.undocumented-fields"),
        )],
    ),
    (
        "no-request-id",
        &[
            ("headers/response", vc(Warn, "headers.request-id")),
            ("errors/*", vc(Warn, "headers.request-id")),
        ],
    ),
    // Other endpoints.
    (
        "count-tokens-missing",
        &[("count-tokens/*", vc(Fail, "schema.error"))],
    ),
    ("models-missing", &[("models/*", vc(Fail, "assert.status"))]),
    (
        "unknown-model-remap",
        &[("errors/unknown-model", vc(Fail, "model.unknown-accepted"))],
    ),
    (
        "auth-ignored",
        &[
            ("errors/bad-key", vc(Fail, "auth.invalid-key-accepted")),
            ("errors/no-key", vc(Fail, "auth.invalid-key-accepted")),
        ],
    ),
    // One case at a time (see the module doc).
    (
        "rate-limit",
        &[("basic/seed-call@sync", vc(Warn, "http.retried"))],
    ),
    // A 429 without retry-after to every request for 2 s: the target is paused as a whole
    // and the request answered once the window is over (one case at a time).
    (
        "cooldown-429",
        &[("basic/seed-call@sync", vc(Warn, "http.retried"))],
    ),
    (
        "thinking-by-default",
        &[
            // Thinking blocks although the request disabled thinking, or did not ask for it.
            (
                "thinking/disabled",
                vc(Warn, "implied.thinking-unrequested"),
            ),
            ("thinking/absent", vc(Warn, "implied.thinking-unrequested")),
        ],
    ),
    (
        "parallel-tools-ignored",
        &[(
            "tools/disable-parallel",
            vc(Ignored, "effect.parallel-tool-use"),
        )],
    ),
    (
        "signature-unchecked",
        &[(
            "thinking/tampered-signature",
            vc(Fail, "thinking.signature-unchecked"),
        )],
    ),
    // A 401 to the key as Bearer (the target's own style: today's SDKs') is found by the
    // access preflight, which goes on with x-api-key; the step of headers/auth-styles that
    // sends Bearer then fails too. The target is not stopped
    // (tests/integration/request_failures.rs).
    (
        "bearer-rejected",
        &[
            ("headers/preflight", vc(Fail, "auth.style-rejected")),
            ("headers/auth-styles", vc(Fail, "auth.style-rejected")),
        ],
    ),
    // A 400 to anthropic-version 2026-10-21 is found by the access preflight, which goes on
    // with 2023-06-01: every other result passes.
    (
        "new-version-rejected",
        &[("headers/preflight", vc(Fail, "version.current-rejected"))],
    ),
    // A 500 on every attempt of the requests with block content, while the target answers the
    // others, is the request's own failure, not infrastructure.
    (
        "5xx-on-block-content",
        &[
            ("basic/content-blocks", vc(Fail, "http.server-error")),
            ("image/base64-png", vc(Fail, "http.server-error")),
            ("tools/round-trip", vc(Fail, "http.server-error")),
        ],
    ),
    // Agent loops: each way a loop breaks, named at the turn (step) where it broke.
    // Thinking passed back with a tool-use history is rejected at the loop's second turn.
    (
        "thinking-passback-rejected",
        &[
            (
                "agent-loop/thinking-three-turns",
                vc(Unsupported, "agent-loop.passback-rejected"),
            ),
            (
                "agent-loop/redacted-thinking",
                vc(Unsupported, "agent-loop.passback-rejected"),
            ),
            (
                "agent-loop/claude-code-tools",
                vc(Unsupported, "agent-loop.passback-rejected"),
            ),
        ],
    ),
    // Reasoning required on every assistant tool call: a completed earlier turn without it
    // is rejected.
    (
        "thinking-required-after-tool",
        &[(
            "agent-loop/earlier-turn-without-thinking",
            vc(Unsupported, "agent-loop.history-without-thinking-rejected"),
        )],
    ),
    (
        "signature-dropped-after-tool-turn",
        &[
            (
                "agent-loop/thinking-three-turns",
                vc(Fail, "implied.thinking-signature"),
            ),
            (
                "agent-loop/parallel-results",
                vc(Fail, "implied.thinking-signature"),
            ),
        ],
    ),
    (
        "thinking-stops-after-tool-turn",
        &[(
            "agent-loop/claude-code-tools",
            vc(Ignored, "effect.thinking-after-tool-turn"),
        )],
    ),
    // Issue 25: parameters documented as supported or ignored.
    (
        "effort-ignored",
        &[("thinking/effort", vc(Ignored, "effect.effort"))],
    ),
    // A documented parameter rejected is that rule's failure, not `unsupported`.
    (
        "ignored-fields-rejected",
        &[
            (
                "basic/documented-fields",
                vc(Fail, "request.documented-field-rejected"),
            ),
            (
                "basic/metadata",
                vc(Fail, "request.documented-field-rejected"),
            ),
        ],
    ),
    // The first mode to send the 1h breakpoint writes it (in the 5-minute bucket), the other
    // reads it: one of the two shows the write.
    (
        "cache-ttl-ignored",
        &[("caching/ttl-1h", some(Warn, "caching.ttl-1h-not-reported"))],
    ),
    (
        "ratelimit-headers-missing",
        &[("headers/response", vc(Warn, "headers.ratelimit"))],
    ),
    (
        "refusal-without-stop-details",
        &[(
            "basic/refusal",
            vc(Warn, "message.refusal-without-stop-details"),
        )],
    ),
    (
        "context-edits-ignored",
        &[(
            "tools/context-editing",
            vc(Ignored, "effect.context-editing"),
        )],
    ),
    // Server tools removed from the request: the answer has no server_tool_use, no result
    // and no usage.server_tool_use (the pause-turn probe then has no pause to continue).
    (
        "server-tool-dropped",
        &[
            (
                "server-tools/web-search",
                vc(Ignored, "effect.server-tools"),
            ),
            ("server-tools/web-fetch", vc(Ignored, "effect.server-tools")),
            (
                "server-tools/code-execution",
                vc(Ignored, "effect.server-tools"),
            ),
        ],
    ),
    (
        "citations-dropped",
        &[
            ("document/citations-*", vc(Ignored, "effect.citations")),
            (
                "document/search-result-cited",
                vc(Ignored, "effect.citations"),
            ),
            (
                "document/search-result-tool",
                vc(Ignored, "effect.citations"),
            ),
            ("server-tools/web-search", vc(Ignored, "effect.citations")),
        ],
    ),
    // A documented content block rejected is that rule's failure, not `unsupported`.
    (
        "search-result-rejected",
        &[
            (
                "document/search-result-cited",
                vc(Fail, "request.search-result-rejected"),
            ),
            (
                "document/search-result-tool",
                vc(Fail, "request.search-result-rejected"),
            ),
        ],
    ),
    (
        "pause-turn-as-end-turn",
        &[("server-tools/pause-turn", vc(Fail, "stop.pause-turn"))],
    ),
    // Only the newest turn reaches the model: the conversation is counted as that turn.
    (
        "history-dropped",
        &[("multi-turn/history", vc(Ignored, "effect.history"))],
    ),
];

/// Faults whose row is proven one case at a time, in sync mode.
const ONE_AT_A_TIME: &[&str] = &["rate-limit", "cooldown-429"];

/// How many fault servers run at once.
const CONCURRENT_FAULTS: usize = 4;

/// `*` matches any run of characters (including none); everything else literally.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    if !text.ends_with(last) {
        return false;
    }
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Whether a row's glob selects this result (`ID@MODE`, or `ID` for both modes).
fn selects(pattern: &str, r: &ResultRecord) -> bool {
    let full = format!("{}@{}", r.scenario, r.mode);
    if pattern.contains('@') {
        glob(pattern, &full)
    } else {
        glob(pattern, &r.scenario)
    }
}

/// The scenario-id part of a row's glob.
fn id_glob(pattern: &str) -> &str {
    pattern.split('@').next().unwrap_or(pattern)
}

fn settings() -> Settings {
    Settings {
        jobs: 4,
        repeat: 1,
        quiet: true,
        max_body: conform::DEFAULT_MAX_BODY,
        ..Settings::default()
    }
}

/// Run `scenarios` against a fresh reference server with `faults`.
async fn run(scenarios: Vec<Scenario>, faults: Vec<Fault>, serial: bool) -> Vec<ResultRecord> {
    let (handle, target) = conform::reference_server::start(faults)
        .await
        .expect("the reference server starts");
    let mut settings = settings();
    if serial {
        // One case at a time in sync mode: the server's first request is the 429.
        settings.jobs = 1;
        settings.mode = Some(conform::Mode::Sync);
    }
    // Live, recording the exchanges ...
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut exchanges = ExchangeSink::new(dir.path());
    let live = conform::execute(
        scenarios.clone(),
        vec![target.clone()],
        &settings,
        &mut [&mut exchanges],
        std::future::pending(),
    )
    .await
    .expect("the run starts");
    drop(handle);
    // ... then judged again from the recording, with no server: the same verdicts and findings.
    settings.replay = Some(dir.path().to_path_buf());
    let replayed = conform::execute(
        scenarios,
        vec![target],
        &settings,
        &mut [],
        std::future::pending(),
    )
    .await
    .expect("the replay starts");
    let key = |r: &ResultRecord| {
        (
            r.scenario.clone(),
            r.mode,
            r.verdict,
            r.findings.clone(),
            r.error.clone(),
        )
    };
    let live_keys: Vec<_> = live.report.results.iter().map(key).collect();
    let replay_keys: Vec<_> = replayed.report.results.iter().map(key).collect();
    for (l, r) in live_keys.iter().zip(&replay_keys) {
        assert_eq!(l, r, "--replay judged {}@{} differently", l.0, l.1);
    }
    assert_eq!(live_keys.len(), replay_keys.len());
    live.report.results
}

fn describe(r: &ResultRecord) -> String {
    let checks: Vec<String> = r
        .findings
        .iter()
        .map(|f| format!("{:?} {}", f.severity(), f.check))
        .collect();
    format!(
        "{}@{} {} [{}]",
        r.scenario,
        r.mode,
        r.verdict,
        checks.join(", ")
    )
}

/// Check one fault's row against its results; an error message per unmet expectation.
fn judge_row(
    fault: &str,
    expectations: &[(&str, Expect)],
    results: &[ResultRecord],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (pattern, want) in expectations {
        let selected: Vec<&ResultRecord> = results.iter().filter(|r| selects(pattern, r)).collect();
        if selected.is_empty() {
            problems.push(format!("{fault}: `{pattern}` selects no result"));
            continue;
        }
        let meets = |r: &ResultRecord| {
            let verdict_ok = want.verdict.is_none_or(|v| r.verdict == v);
            let check_ok = want.check.is_none_or(|c| {
                r.findings
                    .iter()
                    .any(|f| f.check.as_str() == c && f.severity() != conform::Severity::Info)
            });
            verdict_ok && check_ok && r.verdict != Verdict::Pass
        };
        if want.any {
            if !selected.iter().any(|r| meets(r)) {
                let got: Vec<String> = selected.iter().map(|r| describe(r)).collect();
                problems.push(format!(
                    "{fault}: `{pattern}` expected {want:?} of one result, got {}",
                    got.join("; ")
                ));
            }
            continue;
        }
        for r in selected {
            if !meets(r) {
                problems.push(format!(
                    "{fault}: `{pattern}` expected {want:?}, got {}",
                    describe(r)
                ));
            }
        }
    }
    if !results
        .iter()
        .any(|r| conform::is_failure(r.verdict, r.expected, true))
    {
        problems.push(format!("{fault}: no result fails a --strict run"));
    }
    problems
}

#[test]
fn the_matrix_covers_every_fault_exactly_once() {
    let names: Vec<&str> = MATRIX.iter().map(|(f, _)| *f).collect();
    for info in fault_catalogue() {
        let n = names.iter().filter(|n| **n == info.name).count();
        assert_eq!(
            n, 1,
            "fault `{}` has {n} rows in MATRIX (want 1)",
            info.name
        );
    }
    for name in &names {
        assert!(
            name.parse::<Fault>().is_ok(),
            "MATRIX names unknown fault `{name}`"
        );
    }
    for (fault, rows) in MATRIX {
        assert!(!rows.is_empty(), "{fault} has no expectation");
    }
}

#[test]
fn globs() {
    assert!(glob("errors/*", "errors/bad-key"));
    assert!(glob("*@stream", "basic/hello@stream"));
    assert!(!glob("*@stream", "basic/hello@sync"));
    assert!(glob("streaming/*@stream", "streaming/text@stream"));
    assert!(!glob("streaming/*@stream", "tools/parallel@stream"));
    assert!(glob("a*b*c", "aXbYc") && !glob("a*b*c", "aXcYb"));
    assert!(glob("basic/seed-call", "basic/seed-call") && !glob("basic/seed", "basic/seed-call"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clean_reference_server_passes_every_scenario_strictly() {
    let scenarios = library();
    let expected_cases: usize = scenarios.iter().map(|s| s.modes().len()).sum();
    let started = Instant::now();
    let results = run(scenarios, vec![], false).await;
    let wall = started.elapsed();
    eprintln!(
        "whole library against the clean reference server: {} results (both modes) in {} ms",
        results.len(),
        wall.as_millis()
    );
    assert_eq!(results.len(), expected_cases);
    let not_passing: Vec<String> = results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(describe)
        .collect();
    assert!(
        not_passing.is_empty(),
        "not pass:\n{}",
        not_passing.join("\n")
    );
    assert!(
        results.iter().any(|r| r.mode == Mode::Stream)
            && results.iter().any(|r| r.mode == Mode::Sync)
    );
    assert!(wall < Duration::from_secs(30), "the library took {wall:?}");
}

/// The scenario id of the access preflight's result.
const PREFLIGHT: &str = "headers/preflight";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_caught_as_the_matrix_states() {
    let all = library();
    let started = Instant::now();
    let mut pending = MATRIX.iter();
    let mut set = tokio::task::JoinSet::new();
    let mut problems: Vec<String> = Vec::new();
    loop {
        while set.len() < CONCURRENT_FAULTS {
            let Some((fault, expectations)) = pending.next() else {
                break;
            };
            // `headers/preflight` is the access preflight's result, not a library scenario: it
            // comes with any case of the target, here `basic/hello`'s.
            let chosen: Vec<Scenario> = all
                .iter()
                .filter(|s| {
                    expectations.iter().any(|(p, _)| {
                        glob(id_glob(p), s.id())
                            || (id_glob(p) == PREFLIGHT && s.id() == "basic/hello")
                    })
                })
                .cloned()
                .collect();
            if chosen.is_empty() {
                problems.push(format!("{fault}: its globs name no scenario"));
                continue;
            }
            let parsed: Fault = fault.parse().expect("a catalogue fault");
            let serial = ONE_AT_A_TIME.contains(fault);
            set.spawn(async move {
                let results = run(chosen, vec![parsed], serial).await;
                judge_row(fault, expectations, &results)
            });
        }
        match set.join_next().await {
            Some(done) => problems.extend(done.expect("a fault run panicked")),
            None => break,
        }
    }
    eprintln!(
        "{} faults proven in {} ms",
        MATRIX.len(),
        started.elapsed().as_millis()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The claude-code scenarios pass against the clean server (the strict test above) and fail
/// against each fault that breaks Claude Code itself (docs/client-impact.md:
/// empty output or an API error).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_that_break_claude_code_fail_its_scenarios() {
    let chosen: Vec<Scenario> = library()
        .into_iter()
        .filter(|s| s.id().starts_with("claude-code/"))
        .collect();
    assert_eq!(chosen.len(), 4, "the claude-code pack");
    for fault in [
        "event-name-mismatch",
        "unclosed-block",
        "mid-stream-error-as-message",
        "truncated-stream",
    ] {
        let parsed: Fault = fault.parse().expect("a catalogue fault");
        let results = run(chosen.clone(), vec![parsed], false).await;
        assert!(
            results
                .iter()
                .any(|r| conform::is_failure(r.verdict, false, false)),
            "{fault}: no claude-code scenario failed: {:?}",
            results.iter().map(describe).collect::<Vec<_>>()
        );
    }
}
