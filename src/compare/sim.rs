//! Simulated comparisons against known truth: the reference server's realistic model answers
//! the workload in-process (no HTTP, no timing), and the answers go through the same scoring,
//! statistics and verdicts as a live comparison. Repeated with fixed seeds, this measures the
//! false-alarm rate (two seeds of the same model: how often is one called `worse` or
//! `better`?) and the power (a model whose tool skill is 5 points lower: how often is it found
//! `worse` on tool-trigger F1 at the recommended sample size?). The tests run small versions;
//! `conform bench compare` the full figures.

use super::metrics::METRICS;
use super::observe::Obs;
use super::verdict::{self, MetricResult, Word};
use super::workload::{self, Family, Task};
use crate::mock::cache::InputUsage;
use crate::mock::generate::{Behaviour, Skill, generate_with, request_hash};
use crate::mock::render::{Answer, message_json};

/// One simulated endpoint: the realistic model with a seed and knobs.
#[derive(Debug, Clone, Copy)]
pub struct Model {
    pub seed: u64,
    pub skill: Skill,
    /// The fixed part of the time to first token (`ttft-ms`), in milliseconds.
    pub ttft_ms: u64,
}

/// Bootstrap resamples of a simulated comparison: enough for the standard error the verdicts
/// rest on (the percentile intervals of a report need more).
const RESAMPLES: usize = 400;

/// The families whose answers do not depend on time (tool use and structured output).
pub(crate) const FAMILIES: [Family; 3] = [Family::Trigger, Family::Args, Family::Structured];

/// The latency ladder: time to first token and output speed, as the reference server's knobs
/// set them (`ttft-ms`, `ttft-jitter-ms`, `tps`, `tps-jitter`).
pub(crate) const TIMED: [Family; 2] = [Family::Ladder1k, Family::Ladder10k];

/// The answers of `model` to `task` (the turns of an agent loop, else one), observed as a live
/// exchange would be. Timing is what the reference server would keep to for the same request:
/// its time to first token and output speed drawn from the same knobs, request hash and seed
/// (no clock is read, so a simulation is a function of its seeds).
fn answer(model: &Model, task: &Task, name: &str, repeat: u32, workload_seed: u64) -> Vec<Obs> {
    let mut body = task.request(crate::mock::DEFAULT_MODEL, repeat, workload_seed);
    if let Some(o) = body.as_object_mut() {
        o.remove("stream");
    }
    let mut turns = Vec::new();
    for turn in 0..super::exec::LOOP_TURNS {
        let hash = request_hash(&body);
        let generated = generate_with(&body, hash, model.seed, Behaviour::Realistic, &model.skill);
        let message = message_json(&Answer {
            generated,
            model: crate::mock::DEFAULT_MODEL.to_string(),
            usage: InputUsage::default(),
        });
        let mut o = Obs::new(name, &task.id, task.family, repeat, turn);
        o.status = Some(200);
        o.read_message(&message);
        o.ttft_ms = Some((model.ttft_ms + model.skill.ttft_jitter(hash, model.seed)) as f64);
        o.output_tps = model.skill.output_tps_at(hash, model.seed);
        let next = super::exec::next_turn(task.family, &o);
        turns.push(o);
        let Some(content) = next else { break };
        super::exec::continue_loop(&mut body, &content);
    }
    turns
}

/// One simulated comparison of `target` with `reference` on `samples` tasks per family of
/// `families`; the verdicts after Holm's correction over as many tests as a live comparison
/// of one target makes.
pub fn compare(
    workload_seed: u64,
    samples: usize,
    families: &[Family],
    reference: &Model,
    target: &Model,
) -> Vec<MetricResult> {
    let tasks = workload::generate_families(workload_seed, samples, families);
    let mut observed = super::exec::Observed::new();
    for (name, model, repeats) in [("reference", reference, 2), ("target", target, 1)] {
        for r in 0..repeats {
            let list = observed.entry((name.to_string(), r)).or_default();
            for t in &tasks {
                list.push((t.id.clone(), answer(model, t, name, r, workload_seed)));
            }
        }
    }
    let (scores, _) = super::score_all(&tasks, &observed);
    verdict::compare_in_family(
        &tasks,
        &scores,
        "reference",
        &["target".to_string()],
        workload_seed,
        METRICS.len(),
        RESAMPLES,
    )
}

/// One kind of simulated comparison.
pub(crate) struct Trial<'a> {
    pub samples: usize,
    pub families: &'a [Family],
    pub reference: Model,
    pub target: Model,
}

/// Repeated simulations: how often the verdict of `metric` (or of any metric, `None`) is one
/// of `words`, over `runs` workload seeds from `first_seed` (the models' seeds move with it).
pub(crate) fn rate(
    runs: u64,
    first_seed: u64,
    trial: &Trial,
    metric: Option<&str>,
    words: &[Word],
) -> f64 {
    rate_prefix(runs, first_seed, trial, metric.unwrap_or(""), words)
}

/// [`rate`] over the metrics whose id starts with `prefix` (any of them: `""`).
pub(crate) fn rate_prefix(
    runs: u64,
    first_seed: u64,
    trial: &Trial,
    prefix: &str,
    words: &[Word],
) -> f64 {
    rates(runs, first_seed, trial, &[(prefix, words)])[0]
}

/// For each query `(prefix, words)`, how often a metric whose id starts with `prefix` had a
/// verdict among `words`, over `runs` simulated comparisons (each simulated once for all the
/// queries).
pub(crate) fn rates(
    runs: u64,
    first_seed: u64,
    trial: &Trial,
    queries: &[(&str, &[Word])],
) -> Vec<f64> {
    let Trial {
        samples,
        families,
        reference,
        target,
    } = trial;
    let (samples, families) = (*samples, *families);
    let hits = |s: u64| -> Vec<bool> {
        let reference = Model {
            seed: reference.seed.wrapping_add(s * 7919),
            ..*reference
        };
        let target = Model {
            seed: target.seed.wrapping_add(s * 7919),
            ..*target
        };
        let results = compare(s, samples, families, &reference, &target);
        queries
            .iter()
            .map(|(prefix, words)| {
                results
                    .iter()
                    .any(|r| r.metric.starts_with(prefix) && words.contains(&r.verdict))
            })
            .collect()
    };
    // The runs are independent: spread them over the machine's cores.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let counts: Vec<usize> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|w| {
                let hits = &hits;
                scope.spawn(move || {
                    let mut c = vec![0usize; queries.len()];
                    for s in (first_seed..first_seed + runs).filter(|s| s % threads == w) {
                        for (n, hit) in c.iter_mut().zip(hits(s)) {
                            *n += usize::from(hit);
                        }
                    }
                    c
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .fold(vec![0usize; queries.len()], |mut acc, c| {
                for (a, b) in acc.iter_mut().zip(c) {
                    *a += b;
                }
                acc
            })
    });
    counts
        .into_iter()
        .map(|n| n as f64 / runs.max(1) as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(seed: u64, tool_skill: Option<f64>) -> Model {
        Model {
            seed,
            skill: Skill {
                tool_skill,
                ..Skill::default()
            },
            ttft_ms: 0,
        }
    }

    /// A model with a time to first token of `ttft` ms (plus an exponential 100 ms) and an
    /// output speed of `tps` tokens/s (±20%).
    fn timed(seed: u64, ttft: u64, tps: f64) -> Model {
        Model {
            seed,
            skill: Skill {
                ttft_jitter_ms: Some(100),
                output_tps: Some(tps),
                tps_jitter: Some(0.2),
                ..Skill::default()
            },
            ttft_ms: ttft,
        }
    }

    fn verdicts(results: &[MetricResult], prefix: &str) -> Vec<(&'static str, Word)> {
        results
            .iter()
            .filter(|r| r.metric.starts_with(prefix))
            .map(|r| (r.metric, r.verdict))
            .collect()
    }

    /// Equal speeds are never told apart on a timing metric; a model 30% slower in output
    /// tokens/s is `worse` on both tokens/s metrics, one twice as slow to its first token
    /// `worse` on both medians (fixed seeds, 20 or 40 tasks per ladder step).
    #[test]
    fn speed_verdicts_match_the_known_truth() {
        for s in 0..2 {
            // The slowest decile needs more tasks than the medians for its bootstrap standard
            // error to hold (docs/compare.md): 40 per ladder step where speeds are equal.
            let same = compare(
                s,
                160,
                &TIMED,
                &timed(0, 300, 50.0),
                &timed(1 + s, 300, 50.0),
            );
            for (m, w) in verdicts(&same, "t") {
                assert!(
                    !matches!(w, Word::Worse | Word::Better),
                    "seed {s}: {m} {w:?}"
                );
            }
            let slow = compare(
                s,
                80,
                &TIMED,
                &timed(0, 300, 50.0),
                &timed(1 + s, 300, 35.0),
            );
            for (m, w) in verdicts(&slow, "tps_") {
                assert_eq!(w, Word::Worse, "seed {s}: {m}");
            }
            let late = compare(
                s,
                160,
                &TIMED,
                &timed(0, 300, 50.0),
                &timed(1 + s, 600, 50.0),
            );
            for (m, w) in verdicts(&late, "ttft_p50") {
                assert_eq!(w, Word::Worse, "seed {s}: {m}");
            }
            for (m, w) in verdicts(&late, "tps_") {
                assert!(
                    !matches!(w, Word::Worse | Word::Better),
                    "seed {s}: {m} {w:?}"
                );
            }
        }
    }

    /// Agent loops abandoned half the time are found `worse` on loop completion; two seeds of
    /// one model are not told apart on it (fixed seeds, 50 loops).
    #[test]
    fn loop_completion_verdicts_match_the_known_truth() {
        let abandoning = |seed, p| Model {
            seed,
            skill: Skill {
                loop_abandon_rate: Some(p),
                ..Skill::default()
            },
            ttft_ms: 0,
        };
        for s in 0..4 {
            let r = compare(
                s,
                200,
                &[Family::Loop],
                &model(0, None),
                &abandoning(1 + s, 0.5),
            );
            assert_eq!(
                verdicts(&r, "loop_completion")[0].1,
                Word::Worse,
                "seed {s}"
            );
            let r = compare(
                s,
                200,
                &[Family::Loop],
                &model(0, None),
                &model(1 + s, None),
            );
            let w = verdicts(&r, "loop_completion")[0].1;
            assert!(!matches!(w, Word::Worse | Word::Better), "seed {s}: {w:?}");
        }
    }

    /// Two seeds of the same realistic model: a `worse` or `better` on any metric in at most
    /// ~5% of comparisons (Holm controls the family-wise rate at 5%).
    #[test]
    fn two_seeds_of_one_model_are_rarely_told_apart() {
        let trial = Trial {
            samples: 80,
            families: &FAMILIES,
            reference: model(0, None),
            target: model(1, None),
        };
        let false_alarms = rate(40, 1, &trial, None, &[Word::Worse, Word::Better]);
        assert!(false_alarms <= 0.05, "false alarms in {false_alarms}");
    }

    /// Equal speeds across many seeds: a timing metric `worse` or `better` in at most 1 of 20
    /// comparisons (40 tasks per ladder step; measured 1% of 100 with `conform bench compare`).
    /// Quantiles take the sign-flip test's p-value when it is larger than the bootstrap's: with
    /// the bootstrap's alone this was 7.5% of 40.
    #[test]
    fn equal_speeds_are_rarely_told_apart() {
        let trial = Trial {
            samples: 160,
            families: &TIMED,
            reference: timed(0, 300, 50.0),
            target: timed(1, 300, 50.0),
        };
        let false_alarms = rate(20, 500, &trial, None, &[Word::Worse, Word::Better]);
        assert!(false_alarms <= 0.05, "false alarms in {false_alarms}");
    }

    /// A tool skill 5 points lower is found `worse` on tool-trigger F1 in at least 80% of
    /// comparisons at the recommended number of trigger tasks.
    #[test]
    fn a_five_point_drop_in_tool_skill_is_found_at_the_recommended_size() {
        let n = super::super::recommended(METRICS.len());
        let trial = Trial {
            samples: n,
            families: &[Family::Trigger],
            reference: model(0, Some(0.80)),
            target: model(1, Some(0.75)),
        };
        let power = rate(16, 100, &trial, Some("trigger_f1"), &[Word::Worse]);
        assert!(power >= 0.8, "power {power} at {n} tasks");
    }

    #[test]
    fn a_simulation_is_a_function_of_its_seeds() {
        let a = compare(3, 30, &FAMILIES, &model(0, None), &model(1, Some(0.5)));
        let b = compare(3, 30, &FAMILIES, &model(0, None), &model(1, Some(0.5)));
        assert_eq!(a, b);
    }
}

/// Arguments of `conform bench compare`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CompareBenchArgs {
    /// Simulated comparisons per figure.
    #[arg(long, default_value_t = 200)]
    pub runs: u64,
    /// Tasks per family of the false-alarm simulations.
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
    /// Simulated comparisons per timing and agent-loop figure (they cost more than the others).
    #[arg(long, default_value_t = 100)]
    pub timed_runs: u64,
    /// Only the timing and agent-loop figures.
    #[arg(long)]
    pub timing_only: bool,
    /// `--samples` of the timing simulations (a quarter per ladder step).
    #[arg(long, default_value_t = 160)]
    pub timed_samples: usize,
    /// `--samples` of the agent-loop simulations (a quarter are loops).
    #[arg(long, default_value_t = 400)]
    pub loop_samples: usize,
}

/// `conform bench compare`: the false-alarm rate and the power, measured by simulation.
pub(crate) fn bench(a: &CompareBenchArgs) -> i32 {
    let start = std::time::Instant::now();
    if a.timing_only {
        timing_and_loops(a);
        println!("({:.1} s)", start.elapsed().as_secs_f64());
        return crate::exit::OK;
    }
    let same = |seed| Model {
        seed,
        skill: Skill::default(),
        ttft_ms: 0,
    };
    let trial = Trial {
        samples: a.samples,
        families: &FAMILIES,
        reference: same(0),
        target: same(1),
    };
    let false_alarm = rate(a.runs, 1, &trial, None, &[Word::Worse, Word::Better]);
    println!(
        "false alarms: {:.1}% of {} comparisons of two seeds of the realistic model ({} tasks per family) had a metric `worse` or `better`",
        false_alarm * 100.0,
        a.runs,
        a.samples
    );
    let n = super::recommended(METRICS.len());
    let skilled = |seed, p| Model {
        seed,
        skill: Skill {
            tool_skill: Some(p),
            ..Skill::default()
        },
        ttft_ms: 0,
    };
    for tasks in [n / 2, n] {
        let trial = Trial {
            samples: tasks,
            families: &[Family::Trigger],
            reference: skilled(0, 0.80),
            target: skilled(1, 0.75),
        };
        let power = rate(a.runs, 1000, &trial, Some("trigger_f1"), &[Word::Worse]);
        println!(
            "power: tool skill 0.75 against 0.80 found `worse` on trigger_f1 in {:.1}% of {} comparisons at {tasks} trigger tasks{}",
            power * 100.0,
            a.runs,
            if tasks == n {
                " (the recommended size)"
            } else {
                ""
            }
        );
    }
    timing_and_loops(a);
    println!("({:.1} s)", start.elapsed().as_secs_f64());
    crate::exit::OK
}

/// The figures of the timing and agent-loop metrics.
fn timing_and_loops(a: &CompareBenchArgs) {
    let timed = |seed, ttft, tps| Model {
        seed,
        skill: Skill {
            ttft_jitter_ms: Some(100),
            output_tps: Some(tps),
            tps_jitter: Some(0.2),
            ..Skill::default()
        },
        ttft_ms: ttft,
    };
    let steps = Family::Ladder1k.count(a.timed_samples);
    let trial = |target| Trial {
        samples: a.timed_samples,
        families: &TIMED,
        reference: timed(0, 300, 50.0),
        target,
    };
    const TOLD_APART: &[Word] = &[Word::Worse, Word::Better];
    const WORSE: &[Word] = &[Word::Worse];
    let fa = rates(
        a.timed_runs,
        1,
        &trial(timed(1, 300, 50.0)),
        &[
            ("ttft_", TOLD_APART),
            ("tps_", TOLD_APART),
            ("", TOLD_APART),
        ],
    );
    println!(
        "false alarms, equal speeds (ttft 300 ms + exp(100 ms), 50 tokens/s ±20%, {steps} tasks per ladder step), share of {} comparisons with a metric `worse` or `better`: ttft_* {:.1}%, tps_* {:.1}%, any metric {:.1}%",
        a.timed_runs,
        fa[0] * 100.0,
        fa[1] * 100.0,
        fa[2] * 100.0
    );
    let slow = rates(
        a.timed_runs,
        2000,
        &trial(timed(1, 300, 40.0)),
        &[
            ("tps_p50", WORSE),
            ("tps_p10", WORSE),
            ("ttft_", TOLD_APART),
        ],
    );
    println!(
        "power, output 40 against 50 tokens/s, `worse` in {} comparisons: tps_p50 {:.1}%, tps_p10 {:.1}% (and a ttft_* told apart: {:.1}%)",
        a.timed_runs,
        slow[0] * 100.0,
        slow[1] * 100.0,
        slow[2] * 100.0
    );
    let late = rates(
        a.timed_runs,
        3000,
        &trial(timed(1, 420, 50.0)),
        &[
            ("ttft_p50_1k", WORSE),
            ("ttft_p90_1k", WORSE),
            ("ttft_p50_10k", WORSE),
            ("ttft_p90_10k", WORSE),
            ("tps_", TOLD_APART),
        ],
    );
    println!(
        "power, time to first token 420 against 300 ms (+ exp(100 ms)), `worse` in {} comparisons: ttft_p50_1k {:.1}%, ttft_p90_1k {:.1}%, ttft_p50_10k {:.1}%, ttft_p90_10k {:.1}% (and a tps_* told apart: {:.1}%)",
        a.timed_runs,
        late[0] * 100.0,
        late[1] * 100.0,
        late[2] * 100.0,
        late[3] * 100.0,
        late[4] * 100.0
    );
    let looping = |seed, p| Model {
        seed,
        skill: Skill {
            loop_abandon_rate: p,
            ..Skill::default()
        },
        ttft_ms: 0,
    };
    let loops = Family::Loop.count(a.loop_samples);
    let same = Trial {
        samples: a.loop_samples,
        families: &[Family::Loop],
        reference: looping(0, None),
        target: looping(1, None),
    };
    let fa = rate(a.timed_runs, 1, &same, None, TOLD_APART);
    println!(
        "false alarms: {:.1}% of {} comparisons of two seeds' agent loops ({loops} loops) had a metric `worse` or `better`",
        fa * 100.0,
        a.timed_runs
    );
    let abandoning = Trial {
        target: looping(1, Some(0.2)),
        ..same
    };
    let p = rate(
        a.timed_runs,
        4000,
        &abandoning,
        Some("loop_completion"),
        WORSE,
    );
    println!(
        "power: agent loops abandoned 20% of the time found `worse` on loop_completion in {:.1}% of {} comparisons ({loops} loops)",
        p * 100.0,
        a.timed_runs
    );
}
