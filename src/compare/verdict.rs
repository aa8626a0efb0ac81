//! Verdicts per metric and target against the reference: `equivalent`, `better`, `worse` or
//! `inconclusive`, from the paired difference's interval, an equivalence margin and Holm's
//! correction over every metric × target of the comparison.
//!
//! The rule, for a difference `d` (target − reference) with bootstrap standard error `se`:
//! * `equivalent` when the 90% interval `d ± 1.645·se` lies inside `(−margin, +margin)` (two
//!   one-sided tests at 5%: the endpoints differ by less than the margin);
//! * else `better` or `worse` (by the direction the metric prefers) when the Holm-adjusted
//!   p-value of `d ≠ 0` is below 5%;
//! * else `inconclusive`, with about how many more paired tasks would decide it.
//!
//! The margin is the metric's default, widened to the reference's own run-to-run spread when
//! that is larger: the reference answers every task twice, and the difference between its two
//! runs is what the same endpoint moves by itself (a difference that small is no evidence
//! either way).

use std::collections::{BTreeMap, HashMap};

use super::metrics::ItemScore;
use super::metrics::{F1, Kind, METRICS, Margin, MetricDef, Quantile, Rate, Tools, Unit};
use super::stats::{self, Paired, Statistic};
use super::workload::Task;

/// One word per metric and target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Word {
    Equivalent,
    Better,
    Worse,
    Inconclusive,
}

impl Word {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Word::Equivalent => "equivalent",
            Word::Better => "better",
            Word::Worse => "worse",
            Word::Inconclusive => "inconclusive",
        }
    }
}

/// A metric of one target against the reference.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricResult {
    pub metric: &'static str,
    pub target: String,
    /// Paired tasks.
    pub n: usize,
    pub value: Option<f64>,
    pub value_ci: Option<(f64, f64)>,
    pub reference: Option<f64>,
    pub reference_ci: Option<(f64, f64)>,
    pub diff: Option<f64>,
    pub diff_ci: Option<(f64, f64)>,
    pub se: Option<f64>,
    pub margin: Option<f64>,
    /// The reference's own difference between its two runs (what calibrated the margin).
    pub self_spread: Option<f64>,
    pub p: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub verdict: Word,
    /// About how many more paired tasks would decide an inconclusive verdict.
    pub more_tasks: Option<usize>,
    /// Precision and recall (F1 metrics).
    pub precision_recall: Option<(f64, f64)>,
}

/// Scores of one endpoint's repeat: task id → score.
pub(crate) type Scores = BTreeMap<String, ItemScore>;

/// The scores of every endpoint and repeat: `(endpoint, repeat)` → scores.
pub(crate) type AllScores = HashMap<(String, u32), Scores>;

/// The two sides of one metric over paired tasks, and the reference's repeat when it has one.
struct Sides {
    target: Box<dyn Statistic>,
    reference: Box<dyn Statistic>,
    /// `(reference repeat, reference)` over the tasks it covers, for the margin.
    calibration: Option<(Box<dyn Statistic>, Box<dyn Statistic>)>,
    precision_recall: Option<(f64, f64)>,
}

fn sides(kind: Kind, tasks: &[&Task], t: &Scores, r0: &Scores, r1: Option<&Scores>) -> Sides {
    let both = |task: &&Task| t.contains_key(&task.id) && r0.contains_key(&task.id);
    let paired: Vec<&Task> = tasks.iter().copied().filter(|x| both(x)).collect();
    let with_repeat: Vec<&Task> = paired
        .iter()
        .copied()
        .filter(|x| r1.is_some_and(|r| r.contains_key(&x.id)))
        .collect();
    match kind {
        // Scored by [`pass_k`] into one reliability flag per task: a rate of that flag.
        Kind::PassK => sides(Kind::Rate(|s| Some(s.reliable)), tasks, t, r0, None),
        Kind::Rate(flag) => {
            let pick = |list: &[&Task], s: &Scores, o: &Scores| -> (Vec<f64>, Vec<f64>) {
                list.iter()
                    .filter_map(|x| Some((flag(&s[&x.id])?, flag(&o[&x.id])?)))
                    .map(|(a, b)| (f64::from(u8::from(a)), f64::from(u8::from(b))))
                    .unzip()
            };
            let (a, b) = pick(&paired, t, r0);
            Sides {
                target: Box::new(Rate(a)),
                reference: Box::new(Rate(b)),
                calibration: r1.map(|r1| {
                    let (c, d) = pick(&with_repeat, r1, r0);
                    (
                        Box::new(Rate(c)) as Box<dyn Statistic>,
                        Box::new(Rate(d)) as _,
                    )
                }),
                precision_recall: None,
            }
        }
        Kind::Quantile(value, q) => {
            let pick = |list: &[&Task], s: &Scores, o: &Scores| -> (Vec<f64>, Vec<f64>) {
                list.iter()
                    .filter_map(|x| Some((value(&s[&x.id])?, value(&o[&x.id])?)))
                    .unzip()
            };
            let (a, b) = pick(&paired, t, r0);
            Sides {
                target: Box::new(Quantile(a, q)),
                reference: Box::new(Quantile(b, q)),
                calibration: r1.map(|r1| {
                    let (c, d) = pick(&with_repeat, r1, r0);
                    (
                        Box::new(Quantile(c, q)) as Box<dyn Statistic>,
                        Box::new(Quantile(d, q)) as _,
                    )
                }),
                precision_recall: None,
            }
        }
        Kind::F1Labels => {
            let mut tools = Tools::default();
            let mut pick = |list: &[&Task], s: &Scores| -> F1 {
                F1(list
                    .iter()
                    .map(|x| (tools.id(&x.expected_tool), tools.id(&s[&x.id].decision)))
                    .collect())
            };
            let target = pick(&paired, t);
            let pr = target.precision_recall();
            Sides {
                target: Box::new(target),
                reference: Box::new(pick(&paired, r0)),
                calibration: r1.map(|r1| {
                    (
                        Box::new(pick(&with_repeat, r1)) as Box<dyn Statistic>,
                        Box::new(pick(&with_repeat, r0)) as _,
                    )
                }),
                precision_recall: Some(pr),
            }
        }
        Kind::F1Reference => {
            // Only tasks the reference answered twice: its own agreement is the yardstick.
            let r1 = r1.cloned().unwrap_or_default();
            let mut tools = Tools::default();
            let mut pick = |s: &Scores| -> F1 {
                F1(with_repeat
                    .iter()
                    .map(|x| (tools.id(&r0[&x.id].decision), tools.id(&s[&x.id].decision)))
                    .collect())
            };
            let target = pick(t);
            let pr = target.precision_recall();
            Sides {
                target: Box::new(target),
                reference: Box::new(pick(&r1)),
                calibration: None,
                precision_recall: Some(pr),
            }
        }
    }
}

/// Compare every target with the reference on every metric; verdicts after Holm's correction.
pub(crate) fn compare(
    tasks: &[Task],
    scores: &AllScores,
    reference: &str,
    targets: &[String],
    seed: u64,
) -> Vec<MetricResult> {
    compare_in_family(tasks, scores, reference, targets, seed, 0, stats::RESAMPLES)
}

/// [`compare`] with Holm's correction over at least `family` tests (the tests a comparison
/// without data for some metrics leaves out count as not significant: a simulation answers
/// only some families but is corrected like a live comparison).
pub(crate) fn compare_in_family(
    tasks: &[Task],
    scores: &AllScores,
    reference: &str,
    targets: &[String],
    seed: u64,
    family: usize,
    resamples: usize,
) -> Vec<MetricResult> {
    let empty = Scores::new();
    let r0 = scores.get(&(reference.to_string(), 0)).unwrap_or(&empty);
    let r1 = scores.get(&(reference.to_string(), 1));
    let flips = stats::flips_for((METRICS.len() * targets.len()).max(family));
    let mut out = Vec::new();
    for (mi, def) in METRICS.iter().enumerate() {
        let covered: Vec<&Task> = tasks
            .iter()
            .filter(|t| def.families.contains(&t.family))
            .collect();
        for (ti, target) in targets.iter().enumerate() {
            let t = scores.get(&(target.clone(), 0)).unwrap_or(&empty);
            let s = if matches!(def.kind, Kind::PassK) {
                // k: the target's repeats; the reference's first k against them.
                let k = (0..)
                    .take_while(|r| scores.contains_key(&(target.clone(), *r)))
                    .count() as u32;
                let (t, r) = (pass_k(scores, target, k), pass_k(scores, reference, k));
                sides(def.kind, &covered, &t, &r, None)
            } else {
                sides(def.kind, &covered, t, r0, r1)
            };
            let boot_seed = seed ^ ((mi as u64) << 40) ^ ((ti as u64 + 1) << 20);
            out.push(result(def, target, &s, boot_seed, resamples, flips));
        }
    }
    decide(&mut out, family);
    out
}

/// One score per task that `endpoint` answered in every one of its first `k` repeats, reliable
/// when all `k` were (empty when `k < 2`: pass^k needs repeats).
fn pass_k(scores: &AllScores, endpoint: &str, k: u32) -> Scores {
    let runs: Vec<&Scores> = (0..k)
        .map_while(|r| scores.get(&(endpoint.to_string(), r)))
        .collect();
    if k < 2 || runs.len() < k as usize {
        return Scores::new();
    }
    runs[0]
        .iter()
        .filter_map(|(id, first)| {
            let all: Option<Vec<&ItemScore>> = runs.iter().map(|r| r.get(id)).collect();
            let mut s = first.clone();
            s.reliable = all?.iter().all(|x| x.reliable);
            Some((id.clone(), s))
        })
        .collect()
}

/// One metric of one target: the paired bootstrap, the margin and the p-value of `d ≠ 0`.
///
/// The p-value is the bootstrap's Wald test; for a quantile, the larger of that and the paired
/// sign-flip permutation test's. The bootstrap's standard error of a sample quantile from a few
/// dozen tasks is itself noisy and often too small (a quantile moves in jumps between order
/// statistics), which let equal speeds be told apart in 7.5% of simulated comparisons; the
/// sign-flip test is exact when the two endpoints are the same, and the bootstrap's test still
/// guards the case it does not cover (equal quantiles of differently shaped distributions).
/// The larger of two valid p-values is a valid p-value.
fn result(
    def: &'static MetricDef,
    target: &str,
    s: &Sides,
    seed: u64,
    resamples: usize,
    flips: usize,
) -> MetricResult {
    let x: Option<Paired> = stats::paired(s.target.as_ref(), s.reference.as_ref(), seed, resamples);
    let exact = match (s.target.quantile_values(), s.reference.quantile_values()) {
        (Some((a, q)), Some((b, _))) => {
            let quantile = |v: &mut [f64]| stats::quantile_select(v, q);
            stats::sign_flip_p(a, b, quantile, seed ^ 0x5157_4150, flips)
        }
        _ => None,
    };
    let self_spread = s.calibration.as_ref().and_then(|(a, b)| {
        let all: Vec<usize> = (0..a.len()).collect();
        Some(a.stat(&all)? - b.stat(&all)?)
    });
    let margin = x.as_ref().map(|x| {
        let default = match def.margin {
            Margin::Absolute(m) => m,
            Margin::Relative(r) => r * x.b.abs(),
        };
        default.max(self_spread.map_or(0.0, f64::abs))
    });
    MetricResult {
        metric: def.id,
        target: target.to_string(),
        n: x.as_ref().map_or(0, |x| x.n),
        value: x.as_ref().map(|x| x.a),
        value_ci: x.as_ref().map(|x| x.a_ci),
        reference: x.as_ref().map(|x| x.b),
        reference_ci: x.as_ref().map(|x| x.b_ci),
        diff: x.as_ref().map(|x| x.diff),
        diff_ci: x.as_ref().map(|x| x.diff_ci),
        se: x.as_ref().map(|x| x.se),
        margin,
        self_spread,
        p: x.as_ref()
            .map(|x| stats::p_value(x.diff, x.se).max(exact.unwrap_or(0.0))),
        p_adjusted: None,
        verdict: Word::Inconclusive,
        more_tasks: None,
        precision_recall: s.precision_recall,
    }
}

/// Holm's correction over every result with a p-value, then the verdict rule.
fn decide(results: &mut [MetricResult], family: usize) {
    let with_p: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].p.is_some() && results[i].n >= 2)
        .collect();
    let k = with_p.len().max(family).max(1);
    let mut ps: Vec<f64> = with_p
        .iter()
        .map(|&i| results[i].p.unwrap_or(1.0))
        .collect();
    ps.resize(k, 1.0);
    let adjusted = stats::holm(&ps);
    for (&i, p_adj) in with_p.iter().zip(adjusted) {
        let r = &mut results[i];
        r.p_adjusted = Some(p_adj);
        let (Some(d), Some(se), Some(m)) = (r.diff, r.se, r.margin) else {
            continue;
        };
        let higher = super::metrics::metric(r.metric).is_none_or(|d| d.higher_is_better);
        let gain = if higher { d } else { -d };
        r.verdict = if d.abs() + stats::z(0.10) * se < m {
            Word::Equivalent
        } else if p_adj < 0.05 {
            if gain > 0.0 {
                Word::Better
            } else {
                Word::Worse
            }
        } else {
            Word::Inconclusive
        };
        if r.verdict == Word::Inconclusive {
            // The standard error the p-value stands for: larger than the bootstrap's when a
            // quantile's sign-flip test was the stricter one, so the estimate is not too hopeful.
            let implied =
                r.p.map(stats::z)
                    .filter(|z| *z > 0.0 && z.is_finite())
                    .map_or(se, |z| d.abs() / z);
            let se = se.max(implied);
            r.more_tasks = stats::items_to_decide(r.n, d, se, m, 0.05 / k as f64)
                .map(|need| need.saturating_sub(r.n).max(1));
        }
    }
}

/// How a value of this metric is written.
pub(crate) fn show(metric: &str, v: f64) -> String {
    match super::metrics::metric(metric).map(|d| d.unit) {
        Some(Unit::Share) | None => format!("{:.1}%", v * 100.0),
        Some(Unit::Ms) => format!("{v:.0} ms"),
        Some(Unit::PerSecond) => format!("{v:.0}/s"),
    }
}

/// How a difference of this metric is written (points for shares).
pub(crate) fn show_diff(metric: &str, v: f64) -> String {
    match super::metrics::metric(metric).map(|d| d.unit) {
        Some(Unit::Share) | None => format!("{:+.1} pt", v * 100.0),
        Some(Unit::Ms) => format!("{v:+.0} ms"),
        Some(Unit::PerSecond) => format!("{v:+.0}/s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(metric: &'static str, diff: f64, se: f64, margin: f64, p: f64) -> MetricResult {
        MetricResult {
            metric,
            target: "t".into(),
            n: 100,
            value: Some(0.5 + diff),
            value_ci: None,
            reference: Some(0.5),
            reference_ci: None,
            diff: Some(diff),
            diff_ci: None,
            se: Some(se),
            margin: Some(margin),
            self_spread: None,
            p: Some(p),
            p_adjusted: None,
            verdict: Word::Inconclusive,
            more_tasks: None,
            precision_recall: None,
        }
    }

    fn item(reliable: bool) -> ItemScore {
        ItemScore {
            reliable,
            decision: None,
            args: None,
            structured_valid: None,
            loop_completed: None,
            ttft_ms: None,
            output_tps: None,
            accounting_ok: None,
            cache_hit: None,
        }
    }

    #[test]
    fn pass_k_needs_every_repeat_clean_and_every_repeat_present() {
        let mut all = AllScores::new();
        let runs = [
            [("a", true), ("b", true), ("c", false)],
            [("a", true), ("b", false), ("c", false)],
        ];
        for (r, run) in runs.iter().enumerate() {
            let scores: Scores = run
                .iter()
                .map(|(id, ok)| (id.to_string(), item(*ok)))
                .collect();
            all.insert(("t".into(), r as u32), scores);
        }
        // A task missing from one repeat is left out.
        all.get_mut(&("t".into(), 1)).unwrap().remove("c");
        let p = pass_k(&all, "t", 2);
        let flags: Vec<(&str, bool)> = p.iter().map(|(k, v)| (k.as_str(), v.reliable)).collect();
        assert_eq!(flags, [("a", true), ("b", false)]);
        // k = 1, or fewer repeats than k: no data.
        assert!(pass_k(&all, "t", 1).is_empty());
        assert!(pass_k(&all, "t", 3).is_empty());
    }

    #[test]
    fn the_verdict_rule() {
        let mut rs = vec![
            r("trigger_f1", -0.10, 0.02, 0.03, stats::p_value(-0.10, 0.02)),
            r("args_valid", 0.0, 0.005, 0.03, 1.0),
            r(
                "structured_valid",
                0.02,
                0.02,
                0.03,
                stats::p_value(0.02, 0.02),
            ),
            r("ttft_p50_1k", -50.0, 5.0, 10.0, stats::p_value(-50.0, 5.0)),
        ];
        decide(&mut rs, 0);
        let words: Vec<Word> = rs.iter().map(|r| r.verdict).collect();
        assert_eq!(
            words,
            [
                Word::Worse,
                Word::Equivalent,
                Word::Inconclusive,
                Word::Better
            ]
        );
        assert!(rs[2].more_tasks.is_some_and(|m| m > 100));
        // A quantile whose sign-flip test gave a larger p-value than the bootstrap's standard
        // error implies needs more tasks than that standard error alone would say.
        let mut two = vec![
            r("ttft_p90_1k", 20.0, 10.0, 5.0, stats::p_value(20.0, 10.0)),
            r("ttft_p90_10k", 20.0, 10.0, 5.0, 0.2),
        ];
        decide(&mut two, 0);
        let (wald, exact) = (two[0].more_tasks.unwrap(), two[1].more_tasks.unwrap());
        assert!(exact > 2 * wald, "{exact} against {wald}");
    }
}
