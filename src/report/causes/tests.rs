//! Tests of the grouping and ranking of deviations.

use super::*;
use crate::report::model::TargetInfo;

fn result(
    scenario: &str,
    feature: &str,
    mode: &str,
    verdict: Verdict,
    findings: Vec<Finding>,
) -> ResultRecord {
    ResultRecord {
        findings,
        ..ResultRecord::new("t", scenario, feature, mode.parse().unwrap(), verdict)
    }
}

fn finding(check: &str, location: impl Into<String>, message: &str) -> Finding {
    Finding::new(
        crate::check::CheckId::parse(check).unwrap(),
        location,
        message,
    )
}

fn rid(step: &str) -> Finding {
    finding(
        "headers.request-id",
        format!("step {step}: request-id"),
        "no `request-id` header",
    )
}

fn report() -> RunReport {
    let t = TargetInfo {
        name: "t".into(),
        base_url: "http://h".into(),
        model: "m".into(),
    };
    let mut r = RunReport::started_at("2026-01-01T00:00:00Z".into(), vec![t]);
    r.push(result(
        "basic/a",
        "basic",
        "sync",
        Verdict::Warn,
        vec![
            rid("ask"),
            finding(
                "schema.unknown-field",
                "step ask: /timings",
                "field /timings is not in the protocol",
            ),
        ],
    ));
    r.push(result(
        "basic/a",
        "basic",
        "stream",
        Verdict::Warn,
        vec![
            rid("ask"),
            finding(
                "schema.unknown-field",
                "step ask: /system_fingerprint",
                "field /system_fingerprint is not in the protocol",
            ),
        ],
    ));
    r.push(result(
        "stop-sequences/one",
        "stop-sequences",
        "sync",
        Verdict::Ignored,
        vec![
            rid("ask"),
            finding(
                "effect.stop-sequences",
                "step ask: /content",
                "the text contains the stop sequence \"[[END]]\" yet generation did not stop there",
            ),
        ],
    ));
    r.push(result(
        "stop-sequences/two",
        "stop-sequences",
        "sync",
        Verdict::Ignored,
        vec![
            rid("ask"),
            finding(
                "effect.stop-sequences",
                "step ask: /content",
                "the text contains the stop sequence \"STOP\" yet generation did not stop there",
            ),
        ],
    ));
    r.push(result(
        "models/list",
        "models",
        "sync",
        Verdict::Fail,
        vec![
            rid("list"),
            finding(
                "schema.error",
                "step list: /",
                "required field \"type\" is missing",
            ),
            finding(
                "assert.status",
                "step list: status (m.yaml)",
                "expected 200",
            ),
            finding(
                "assert.type",
                "step list: $.data (m.yaml:15:11)",
                "expected type array",
            ),
        ],
    ));
    r
}

#[test]
fn a_deviation_shows_its_own_check_s_severity_and_ranks_with_its_follow_ons() {
    // The models 404: `schema.error` is should in the catalogue; the must assertions folded
    // under it rank it above the should causes but do not relabel it (a newcomer saw
    // `schema.error` as must in a report while `conform explain` said should).
    let (devs, _) = analyse(&report());
    let models = devs.iter().find(|d| d.check == "schema.error").unwrap();
    assert_eq!(models.severity, Severity::Should);
    assert_eq!(models.id, "D2");
    for d in &devs {
        let entry = catalogue::get(&d.check).unwrap();
        assert!(
            entry.allows(d.severity),
            "{} shown as {}",
            d.check,
            d.severity
        );
    }
}

#[test]
fn one_deviation_per_cause_ranked_by_severity_then_spread() {
    let (devs, per) = analyse(&report());
    let summary: Vec<(&str, &str, usize)> = devs
        .iter()
        .map(|d| (d.id.as_str(), d.check.as_str(), d.results))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("D1", "effect.stop-sequences", 2),
            ("D2", "schema.error", 1),
            ("D3", "headers.request-id", 5),
            ("D4", "schema.unknown-field", 2),
        ]
    );
    let rid = &devs[2];
    assert!(rid.target_wide, "{rid:?}");
    assert_eq!(rid.spread(), "every result (5, target-wide)");
    assert_eq!(
        devs[1].folded,
        vec![
            ("assert.status".to_string(), 1),
            ("assert.type".to_string(), 1)
        ]
    );
    assert_eq!(devs[0].reason, "the feature had no effect");
    assert_eq!(
        devs[0].doc,
        catalogue::get("effect.stop-sequences").unwrap().doc
    );
    assert!(!devs[0].fix.is_empty());
    assert_eq!(
        per["t models/list@sync"],
        vec!["D2".to_string(), "D3".to_string()]
    );
}

#[test]
fn reasons_blank_values_paths_and_numbers() {
    let n = normalise_message;
    assert_eq!(
        n("field /a/b_c is not in the protocol"),
        "field /… is not in the protocol"
    );
    assert_eq!(
        n("output_tokens 300 > max_tokens 20"),
        "output_tokens N > max_tokens N"
    );
    assert_eq!(n("got 'x' and \"y"), "got '…' and \"…");
    assert_eq!(
        n("review snapshots/t/a@sync.snap.new with `x`"),
        "review … with `x`"
    );
    assert_eq!(n("(see a/b) v1"), "(see …) v1");
    assert_eq!(
        normalise_reason("effect.tools", "expected equals \"x\""),
        "the feature had no effect"
    );
    let f = Finding::new(
        crate::check::catalogue::families::ASSERT
            .member("equals")
            .unwrap(),
        "/content",
        "x",
    )
    .in_step(&"ask".into());
    assert_eq!(f.step, Some(crate::run::StepId::new("ask")));
    assert_eq!(f.location, "step ask: /content");
}

#[test]
fn informational_findings_and_new_snapshots_are_not_to_fix() {
    let t = TargetInfo {
        name: "t".into(),
        base_url: "http://h".into(),
        model: "m".into(),
    };
    let mut r = RunReport::started_at("2026-01-01T00:00:00Z".into(), vec![t]);
    let mut truncated = finding(
        "stream.grammar.partial-json",
        "step ask: event #4",
        "the last tool input is incomplete JSON: max_tokens cut it short (legal)",
    );
    truncated = truncated.with_exception(Severity::Info);
    r.push(result(
        "max-tokens/tool-input",
        "max-tokens",
        "stream",
        Verdict::Pass,
        vec![truncated],
    ));
    r.push(result(
        "basic/a",
        "basic",
        "sync",
        Verdict::Pass,
        vec![finding("snapshot.new", "snapshots/t/a@sync.snap", "new")],
    ));
    r.push(result(
        "basic/b",
        "basic",
        "sync",
        Verdict::Warn,
        vec![
            finding("schema.unknown-field", "step ask: /timings", "field"),
            finding(
                "assert.schema",
                "step ask: $ (b.yaml:3:1)",
                "extra /timings",
            )
            .with_exception(Severity::Should),
        ],
    ));
    let (devs, _) = analyse(&r);
    let to_fix: Vec<&str> = devs
        .iter()
        .filter(|d| to_fix(d))
        .map(|d| d.check.as_str())
        .collect();
    // An info cause with a should assertion folded under it is still something to fix.
    assert_eq!(to_fix, vec!["schema.unknown-field"], "{devs:#?}");
    assert_eq!(devs.len(), 3);
}

/// A later turn of a loop built from a broken answer: its rejection (named with
/// `rejected_check`) and an effect check of the same thing fold under the earlier cause; an
/// unrelated later cause stays a cause of its own.
#[test]
fn a_later_turn_follows_from_the_cause_of_an_earlier_one() {
    let at = |check: &str, loc: &str, step: &str| {
        finding(check, loc, "x").in_step(&crate::run::StepId::new(step))
    };
    let findings = vec![
        at(
            "effect.parallel-tool-use",
            "$.content (loop.yaml:20:11)",
            "turn-1",
        ),
        at(
            "agent-loop.passback-rejected",
            "status (loop.yaml:30:7)",
            "turn-2",
        ),
        at(
            "effect.thinking",
            "$.content[0].type (loop.yaml:9:11)",
            "turn-3",
        ),
    ];
    let p = fold::primaries(&findings);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!((p[0].index, p[0].folded.clone()), (0, vec![1]));
    assert_eq!(p[1].index, 2);
    let thinking = vec![
        at(
            "effect.thinking",
            "$.content[0].type (loop.yaml:9:11)",
            "turn-1",
        ),
        at(
            "effect.thinking-after-tool-turn",
            "$.content (loop.yaml:40:11)",
            "turn-3",
        ),
    ];
    let p = fold::primaries(&thinking);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].folded, vec![1]);
    // A malformed answer (a tool input streamed as a string) passed back: the next turn's
    // rejection, whatever rule the step names for it, follows from it.
    let malformed = vec![
        at(
            "stream.grammar.partial-json",
            "/content/1 (event 7)",
            "turn-1",
        ),
        at(
            "request.search-result-rejected",
            "status (tool.yaml:30:7)",
            "turn-2",
        ),
    ];
    let p = fold::primaries(&malformed);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].index, p[0].folded.clone()), (0, vec![1]));
    // A cause that says nothing of the answer's form (zero input tokens) leaves a later
    // rejection its own cause.
    let independent = vec![
        at("message.input-tokens-zero", "/usage/input_tokens", "first"),
        at(
            "request.documented-field-rejected",
            "status (fields.yaml:30:7)",
            "second",
        ),
    ];
    assert_eq!(fold::primaries(&independent).len(), 2);
}

#[test]
fn lost_history_takes_the_context_editing_and_cache_failures_of_its_target() {
    let t = |name: &str| TargetInfo {
        name: name.into(),
        base_url: "http://h".into(),
        model: "m".into(),
    };
    let mut r = RunReport::started_at("2026-01-01T00:00:00Z".into(), vec![t("a"), t("b")]);
    let on = |target: &str, scenario: &str, feature: &str, check: &str| ResultRecord {
        findings: vec![finding(check, "step s: $.usage", "not counted")],
        ..ResultRecord::new(
            target,
            scenario,
            feature,
            "sync".parse().unwrap(),
            Verdict::Ignored,
        )
    };
    r.push(on(
        "a",
        "multi-turn/history",
        "multi-turn",
        "effect.history",
    ));
    r.push(on(
        "a",
        "tools/context-editing",
        "tools",
        "effect.context-editing",
    ));
    r.push(on("a", "caching/automatic", "caching", "effect.caching"));
    // Another target without the cause keeps its own deviation.
    r.push(on("b", "caching/automatic", "caching", "effect.caching"));
    let (d, per_result) = analyse(&r);
    let of = |target: &str| -> Vec<(&str, usize)> {
        d.iter()
            .filter(|x| x.target == target)
            .map(|x| (x.check.as_str(), x.results))
            .collect()
    };
    assert_eq!(of("a"), [("effect.history", 3)]);
    assert_eq!(of("b"), [("effect.caching", 1)]);
    let history = d.iter().find(|x| x.check == "effect.history").unwrap();
    assert_eq!(
        history.folded,
        [
            ("effect.caching".to_string(), 1),
            ("effect.context-editing".to_string(), 1)
        ]
    );
    let features: BTreeSet<&str> = history.features.iter().map(String::as_str).collect();
    assert_eq!(features, BTreeSet::from(["multi-turn", "tools", "caching"]));
    // Every result of the target points at the cause.
    for rec in r.results.iter().filter(|x| x.target == "a") {
        assert_eq!(
            per_result[&result_key(rec)],
            std::slice::from_ref(&history.id),
            "{}",
            rec.scenario
        );
    }
}
