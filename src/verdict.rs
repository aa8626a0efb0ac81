//! Verdicts: the findings and facts of one (scenario, target, mode) reduced to one word, and
//! the run's exit code (ARCHITECTURE.md, "Findings, severities and verdicts").
//!
//! Precedence ([`judge`]), strongest first:
//! 1. `error`: nothing about conformance could be said. A transport or infrastructure problem
//!    (no response, a timeout, TLS, conform's own body limit, no recorded answer in
//!    `--replay`, a case that could not start), or an answer about the infrastructure rather
//!    than the feature (credentials rejected; still rate limited, failed or overloaded when the
//!    retries ran out).
//! 2. `unsupported` when *rejected*: a well-formed Anthropic error (4xx) answered a request the
//!    scenario expected to succeed. This ranks above `fail` on purpose: the scenario's own
//!    expectations (status 200, assertions on the body) necessarily fail on such an answer,
//!    and those `must` findings are consequences of the rejection, not protocol violations.
//!    The caller sets `rejected` only when the error body itself was well-formed (no `must`
//!    finding of its own); a malformed error is a `fail`.
//! 3. `fail`: any `must` finding other than an effect check (effect checks decide `ignored`
//!    below, whatever their severity).
//! 4. `inconclusive`: a `probe.inconclusive` finding. The endpoint behaved legally but the
//!    model did not produce what the probe needs, so the case's effect checks have no evidence
//!    either way.
//! 5. `unsupported` when *declared*: the target lists the scenario or its feature in
//!    `expect_unsupported`, and a failed effect check shows the accepted request had no effect.
//! 6. `ignored`: any failed effect check (an `effect.*` finding that is not `info`): accepted,
//!    but the feature had no effect.
//! 7. `warn`: any `should` finding.
//! 8. `skip` when nothing was sent, otherwise `pass` (`info` findings never change a verdict).
//!
//! With `--repeat N` the repeats are combined by [`combine_repeats`]: any disagreement is
//! `flaky`.
//!
//! Exit code ([`exit_code`]): a conformance failure (`fail`, `ignored`, `flaky`, `unsupported`,
//! and `warn` with `--strict`) of a result the target did not declare in `expect_unsupported`
//! → 1; otherwise any `error` → 3 (something could not be judged, so the run proves nothing
//! about it — even if other results passed); otherwise 0. `inconclusive`, `pass` and `skip`
//! never fail a run.

use crate::check::catalogue::ids;
use crate::check::{Finding, Severity};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The verdict of one (scenario, target, mode).
///
/// Verdicts are ordered by [`Verdict::ALL`] (worst first) — the one written-down order, which
/// reports, sorting and map keys all follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    /// The endpoint behaved legally, but the model did not produce what the probe needs:
    /// no conformance statement either way.
    Inconclusive,
    Unsupported,
    Ignored,
    Flaky,
    Error,
    Skip,
}

impl Verdict {
    /// Every verdict, in the order reports list them (worst first).
    pub const ALL: [Verdict; 9] = [
        Verdict::Error,
        Verdict::Fail,
        Verdict::Flaky,
        Verdict::Ignored,
        Verdict::Unsupported,
        Verdict::Inconclusive,
        Verdict::Warn,
        Verdict::Pass,
        Verdict::Skip,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Unsupported => "unsupported",
            Verdict::Ignored => "ignored",
            Verdict::Flaky => "flaky",
            Verdict::Error => "error",
            Verdict::Skip => "skip",
        }
    }

    /// What the word means, for legends.
    pub(crate) fn meaning(self) -> &'static str {
        match self {
            Verdict::Pass => "behaves like the Anthropic Messages API",
            Verdict::Warn => "deviations clients may notice (`should` findings only)",
            Verdict::Fail => "violates the protocol (at least one `must` finding)",
            Verdict::Inconclusive => {
                "legal behaviour, but the model did not produce what the probe needs: no statement"
            }
            Verdict::Unsupported => {
                "rejected with a well-formed error, or declared unsupported by the target"
            }
            Verdict::Ignored => "accepted, but the feature had no effect",
            Verdict::Flaky => "repeats disagreed",
            Verdict::Error => "could not be judged: transport or infrastructure error",
            Verdict::Skip => "not run",
        }
    }

    /// Rank in [`Verdict::ALL`] (0 = worst), for sorting.
    pub(crate) fn rank(self) -> usize {
        Verdict::ALL
            .iter()
            .position(|v| *v == self)
            .unwrap_or(usize::MAX)
    }

    /// How a result compares with the same result in another run (`conform diff`), best
    /// first; verdicts in one tier are equally bad. `skip` and `ignored` are in no tier: a
    /// change to or from them is reported as a verdict change, neither regression nor fix.
    pub const REGRESSION_TIERS: [&'static [Verdict]; 5] = [
        &[Verdict::Pass],
        &[Verdict::Warn, Verdict::Inconclusive],
        &[Verdict::Flaky],
        &[Verdict::Unsupported],
        &[Verdict::Fail, Verdict::Error],
    ];

    /// The tier in [`Verdict::REGRESSION_TIERS`] (0 = best), `None` outside every tier.
    pub(crate) fn regression_rank(self) -> Option<u8> {
        Verdict::REGRESSION_TIERS
            .iter()
            .position(|tier| tier.contains(&self))
            .and_then(|i| u8::try_from(i).ok())
    }
}

impl PartialOrd for Verdict {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Verdict {
    /// Worst first, as in [`Verdict::ALL`].
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown verdict {s:?}"))
    }
}

/// What [`judge`] needs to know about one (scenario, target, mode).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JudgeInputs<'a> {
    /// Every finding of every step.
    pub findings: &'a [Finding],
    /// No conformance statement could be made: a step got no usable response (connect error,
    /// TLS, a timeout, a reset before any response, conform's body limit) or an answer about
    /// the infrastructure (credentials rejected; rate limited, failed or overloaded when the
    /// retries ran out).
    pub infra_error: bool,
    /// A well-formed Anthropic error (4xx) answered a request the scenario expected to succeed.
    pub rejected: bool,
    /// The target declares this scenario or its feature in `expect_unsupported`.
    pub declared_unsupported: bool,
    /// Nothing was sent (filtered out, mode not applicable, run interrupted before it).
    pub skipped: bool,
}

/// Whether a finding comes from an effect check (`effect.*`).
pub(crate) fn is_effect_check(f: &Finding) -> bool {
    f.check.namespace() == "effect" && f.severity() != Severity::Info
}

/// The verdict, with the precedence described in the module doc.
pub(crate) fn judge(inputs: &JudgeInputs<'_>) -> Verdict {
    let has = |pred: &dyn Fn(&Finding) -> bool| inputs.findings.iter().any(pred);
    if inputs.infra_error {
        return Verdict::Error;
    }
    if inputs.rejected {
        return Verdict::Unsupported;
    }
    // Effect checks decide `ignored`, whatever severity the scenario engine gave them.
    if has(&|f| f.severity() == Severity::Must && !is_effect_check(f)) {
        return Verdict::Fail;
    }
    // The model did not produce what the probe needs: effect checks of the same case have no
    // evidence either way.
    if has(&|f| f.check == ids::PROBE_INCONCLUSIVE) {
        return Verdict::Inconclusive;
    }
    if has(&is_effect_check) {
        return if inputs.declared_unsupported {
            Verdict::Unsupported
        } else {
            Verdict::Ignored
        };
    }
    if has(&|f| f.severity() == Severity::Should) {
        return Verdict::Warn;
    }
    if inputs.skipped {
        Verdict::Skip
    } else {
        Verdict::Pass
    }
}

/// One verdict from the verdicts of `--repeat N` runs: all equal → that verdict; any
/// disagreement → `flaky`; no runs → `skip`.
pub(crate) fn combine_repeats(verdicts: &[Verdict]) -> Verdict {
    match verdicts.split_first() {
        None => Verdict::Skip,
        Some((first, rest)) if rest.iter().all(|v| v == first) => *first,
        Some(_) => Verdict::Flaky,
    }
}

/// Whether a result is a conformance failure of the run (exit code 1). `expected` is true
/// when the target declared the scenario or its feature in `expect_unsupported`: a declared
/// result never fails the run. `error` is never a conformance failure (see [`exit_code`]).
pub fn is_failure(verdict: Verdict, expected: bool, strict: bool) -> bool {
    if expected {
        return false;
    }
    match verdict {
        Verdict::Fail | Verdict::Ignored | Verdict::Flaky | Verdict::Unsupported => true,
        Verdict::Warn => strict,
        Verdict::Pass | Verdict::Skip | Verdict::Error | Verdict::Inconclusive => false,
    }
}

/// The exit code of a run from its results `(verdict, expected)`: conformance failures → 1,
/// else any error → 3, else 0 (constants in [`crate::exit`]).
pub(crate) fn exit_code(results: impl IntoIterator<Item = (Verdict, bool)>, strict: bool) -> i32 {
    let mut errors = false;
    for (verdict, expected) in results {
        if is_failure(verdict, expected, strict) {
            return crate::exit::FAILURES;
        }
        errors |= verdict == Verdict::Error;
    }
    if errors {
        crate::exit::INFRA
    } else {
        crate::exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::*;

    use crate::check::catalogue::families;

    fn must() -> Finding {
        Finding::new(ids::SCHEMA_MESSAGE, "/id", "missing")
    }
    fn should() -> Finding {
        Finding::new(ids::HEADERS_REQUEST_ID, "request-id", "missing")
    }
    fn effect() -> Finding {
        Finding::new(
            ids::EFFECT_STOP_SEQUENCES,
            "$.content",
            "the stop sequence was not honoured",
        )
    }
    fn info() -> Finding {
        Finding::new(ids::SCHEMA_UNKNOWN_FIELD, "/x", "extra")
    }

    #[test]
    fn precedence_table() {
        let m = [must()];
        let s = [should()];
        let e = [effect()];
        let i = [info()];
        let all = [info(), should(), effect(), must()];
        let se = [should(), effect()];
        #[rustfmt::skip]
        let table: Vec<(JudgeInputs, Verdict)> = vec![
            (JudgeInputs { findings: &all, infra_error: true, rejected: true, ..Default::default() }, Error),
            (JudgeInputs { findings: &all, rejected: true, ..Default::default() }, Unsupported),
            (JudgeInputs { findings: &all, declared_unsupported: true, ..Default::default() }, Fail),
            (JudgeInputs { findings: &m, ..Default::default() }, Fail),
            (JudgeInputs { findings: &se, declared_unsupported: true, ..Default::default() }, Unsupported),
            (JudgeInputs { findings: &se, ..Default::default() }, Ignored),
            (JudgeInputs { findings: &e, ..Default::default() }, Ignored),
            (JudgeInputs { findings: &s, ..Default::default() }, Warn),
            (JudgeInputs { findings: &s, declared_unsupported: true, ..Default::default() }, Warn),
            (JudgeInputs { findings: &i, ..Default::default() }, Pass),
            (JudgeInputs { findings: &[], declared_unsupported: true, ..Default::default() }, Pass),
            (JudgeInputs { findings: &[], ..Default::default() }, Pass),
            (JudgeInputs { findings: &[], skipped: true, ..Default::default() }, Skip),
            (JudgeInputs { findings: &s, skipped: true, ..Default::default() }, Warn),
        ];
        for (n, (inputs, want)) in table.iter().enumerate() {
            assert_eq!(judge(inputs), *want, "row {n}: {inputs:?}");
        }
    }

    #[test]
    fn an_effect_check_of_should_severity_still_means_ignored() {
        let sampling = families::EFFECT.member("sampling").unwrap();
        let f = [Finding::new(sampling, "$", "no effect").with_exception(Severity::Should)];
        assert_eq!(
            judge(&JudgeInputs {
                findings: &f,
                ..Default::default()
            }),
            Ignored
        );
    }

    #[test]
    fn repeats() {
        assert_eq!(combine_repeats(&[Pass, Pass, Pass]), Pass);
        assert_eq!(combine_repeats(&[Fail]), Fail);
        assert_eq!(combine_repeats(&[Pass, Fail, Pass]), Flaky);
        assert_eq!(combine_repeats(&[Pass, Warn]), Flaky);
        assert_eq!(combine_repeats(&[]), Skip);
    }

    #[test]
    fn failures() {
        for v in [Fail, Ignored, Flaky, Unsupported] {
            assert!(is_failure(v, false, false), "{v}");
            assert!(!is_failure(v, true, false), "{v} expected by the target");
        }
        for v in [Pass, Skip, Error, Warn] {
            assert!(!is_failure(v, false, false), "{v}");
        }
        assert!(is_failure(Warn, false, true), "strict makes warn a failure");
        assert!(!is_failure(Warn, true, true));
    }

    #[test]
    fn exit_codes() {
        use crate::exit::{FAILURES, INFRA, OK};
        assert_eq!(exit_code([], false), OK);
        assert_eq!(
            exit_code([(Pass, false), (Warn, false), (Skip, false)], false),
            OK
        );
        assert_eq!(exit_code([(Pass, false), (Warn, false)], true), FAILURES);
        assert_eq!(exit_code([(Unsupported, true), (Fail, true)], false), OK);
        assert_eq!(exit_code([(Unsupported, false)], false), FAILURES);
        assert_eq!(exit_code([(Error, false), (Error, false)], false), INFRA);
        assert_eq!(
            exit_code([(Pass, false), (Error, false)], false),
            INFRA,
            "mixed pass/error"
        );
        assert_eq!(exit_code([(Error, false), (Fail, false)], false), FAILURES);
        assert_eq!(
            exit_code([(Error, true)], false),
            INFRA,
            "errors are never expected"
        );
        assert_eq!(exit_code([(Flaky, false), (Pass, false)], false), FAILURES);
    }

    #[test]
    fn serde_and_display_are_lowercase() {
        assert_eq!(
            serde_json::to_string(&Unsupported).unwrap(),
            "\"unsupported\""
        );
        assert_eq!(Ignored.to_string(), "ignored");
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>().unwrap(), v);
            let back: Verdict = serde_json::from_str(&format!("\"{v}\"")).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn one_order_for_sorting_and_tiers_for_regressions() {
        let mut sorted = Verdict::ALL;
        sorted.reverse();
        sorted.sort();
        assert_eq!(sorted, Verdict::ALL);
        assert!(Verdict::Error < Verdict::Pass && Verdict::Pass < Verdict::Skip);
        let tiers: Vec<(Verdict, Option<u8>)> = Verdict::ALL
            .iter()
            .map(|v| (*v, v.regression_rank()))
            .collect();
        assert_eq!(
            tiers,
            [
                (Verdict::Error, Some(4)),
                (Verdict::Fail, Some(4)),
                (Verdict::Flaky, Some(2)),
                (Verdict::Ignored, None),
                (Verdict::Unsupported, Some(3)),
                (Verdict::Inconclusive, Some(1)),
                (Verdict::Warn, Some(1)),
                (Verdict::Pass, Some(0)),
                (Verdict::Skip, None),
            ]
        );
    }
}
