//! The metrics of a comparison: what each task's answers score ([`ItemScore`]), and the table of
//! metrics ([`METRICS`]) — which tasks each covers, how its statistic is computed over paired
//! tasks (a rate, F1 of tool decisions, or a quantile), which direction is better, and its
//! default equivalence margin.

use std::collections::HashMap;

use serde_json::Value;

use super::observe::Obs;
use super::stats::{Statistic, quantile_select};
use super::workload::{Family, Task};

/// What a tool call's arguments were like (args tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgsOutcome {
    Valid,
    NoCall,
    InvalidJson,
    UnknownTool,
    SchemaMismatch,
}

/// One endpoint's answers to one task (one repeat), scored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ItemScore {
    /// Every exchange answered 200 with no `must` finding.
    pub reliable: bool,
    /// The tool the first answer called, if any.
    pub decision: Option<String>,
    pub args: Option<ArgsOutcome>,
    pub structured_valid: Option<bool>,
    pub loop_completed: Option<bool>,
    pub ttft_ms: Option<f64>,
    pub output_tps: Option<f64>,
    /// `input_tokens` (with cache reads and writes) within 5% of `count_tokens`.
    pub accounting_ok: Option<bool>,
    /// The identical repeat of a cached prompt read the prefix from the cache: its
    /// `cache_read_input_tokens` is positive and covers what the first request wrote.
    pub cache_hit: Option<bool>,
}

/// Compiles and keeps the JSON Schemas answers are validated against.
#[derive(Default)]
pub(crate) struct Scorer {
    validators: HashMap<String, Option<jsonschema::Validator>>,
}

impl Scorer {
    fn valid(&mut self, schema: &Value, value: &Value) -> bool {
        let key = schema.to_string();
        let v = self
            .validators
            .entry(key)
            .or_insert_with(|| jsonschema::validator_for(schema).ok());
        v.as_ref().is_some_and(|v| v.is_valid(value))
    }

    /// Score the exchanges (turns, in order) of one endpoint for one task and repeat.
    pub(crate) fn score(&mut self, task: &Task, turns: &[Obs]) -> Option<ItemScore> {
        let first = turns.first()?;
        let reliable = turns.iter().all(Obs::reliable);
        let answered = first.status == Some(200) && first.error.is_none();
        let mut s = ItemScore {
            reliable,
            decision: first.decision(),
            args: None,
            structured_valid: None,
            loop_completed: None,
            ttft_ms: first.ttft_ms,
            output_tps: first.output_tps,
            accounting_ok: None,
            cache_hit: None,
        };
        match task.family {
            Family::Args => s.args = Some(self.args(task, first)),
            Family::Structured => {
                let ok = answered
                    && task.output_schema.as_ref().is_some_and(|schema| {
                        serde_json::from_str::<Value>(first.text.trim())
                            .is_ok_and(|v| self.valid(schema, &v))
                    });
                s.structured_valid = Some(ok);
            }
            Family::Loop => {
                let last = turns.last()?;
                let called = first.decision().is_some();
                s.loop_completed = Some(
                    reliable
                        && last.stop_reason.as_deref() == Some("end_turn")
                        && (!called || turns.len() >= 2),
                );
            }
            Family::Ladder1k | Family::Ladder10k => {
                s.accounting_ok = match (first.total_input(), first.count_tokens) {
                    (Some(used), Some(counted)) if counted > 0 => {
                        Some((used as f64 - counted as f64).abs() <= 0.05 * counted as f64)
                    }
                    _ if answered => Some(false),
                    _ => None,
                };
            }
            Family::Cache => {
                s.cache_hit = match turns.get(1) {
                    Some(again) if again.status == Some(200) && again.error.is_none() => {
                        let read = again.cache_read_tokens.unwrap_or(0);
                        Some(read > 0 && read >= first.cache_creation_tokens.unwrap_or(0))
                    }
                    _ if answered => Some(false),
                    _ => None,
                };
            }
            Family::Trigger => {}
        }
        if !answered {
            s.ttft_ms = None;
            s.output_tps = None;
        }
        Some(s)
    }

    fn args(&mut self, task: &Task, o: &Obs) -> ArgsOutcome {
        if o.invalid_json {
            return ArgsOutcome::InvalidJson;
        }
        let Some(call) = o.calls.first() else {
            return ArgsOutcome::NoCall;
        };
        let tools = task.body["tools"].as_array().cloned().unwrap_or_default();
        let Some(tool) = tools.iter().find(|t| t["name"] == call.name.as_str()) else {
            return ArgsOutcome::UnknownTool;
        };
        if self.valid(&tool["input_schema"], &call.input) {
            ArgsOutcome::Valid
        } else {
            ArgsOutcome::SchemaMismatch
        }
    }
}

/// How a metric's statistic is computed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// The share of tasks where the flag holds.
    Rate(fn(&ItemScore) -> Option<bool>),
    /// F1 of the tool decisions against the task labels.
    F1Labels,
    /// F1 of the tool decisions against the reference's (the reference: its repeat against
    /// itself).
    F1Reference,
    /// A quantile of a per-task value.
    Quantile(fn(&ItemScore) -> Option<f64>, f64),
    /// pass^k: the share of tasks whose every one of the k repeats (`--repeats`) was
    /// reliable (τ-bench's measure of consistency).
    PassK,
}

/// How values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Share,
    Ms,
    PerSecond,
}

/// The default equivalence margin.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Margin {
    /// In the metric's own unit (shares: points/100).
    Absolute(f64),
    /// A share of the reference's value.
    Relative(f64),
}

/// One metric of the table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MetricDef {
    pub id: &'static str,
    pub title: &'static str,
    pub families: &'static [Family],
    pub kind: Kind,
    pub higher_is_better: bool,
    pub margin: Margin,
    pub unit: Unit,
}

const ALL: &[Family] = &Family::ALL;
const LADDER: &[Family] = &[Family::Ladder1k, Family::Ladder10k];

/// Every metric, in report order.
pub(crate) const METRICS: &[MetricDef] = &[
    MetricDef {
        id: "reliability",
        title: "protocol reliability (no `must` finding)",
        families: ALL,
        kind: Kind::Rate(|s| Some(s.reliable)),
        higher_is_better: true,
        margin: Margin::Absolute(0.02),
        unit: Unit::Share,
    },
    MetricDef {
        id: "reliability_pass_k",
        title: "protocol reliability pass^k (every one of k repeats clean)",
        families: ALL,
        kind: Kind::PassK,
        higher_is_better: true,
        margin: Margin::Absolute(0.03),
        unit: Unit::Share,
    },
    MetricDef {
        id: "trigger_f1",
        title: "tool-trigger F1 (against the task labels)",
        families: &[Family::Trigger],
        kind: Kind::F1Labels,
        higher_is_better: true,
        margin: Margin::Absolute(0.03),
        unit: Unit::Share,
    },
    MetricDef {
        id: "trigger_agreement",
        title: "tool-trigger F1 against the reference's calls",
        families: &[Family::Trigger],
        kind: Kind::F1Reference,
        higher_is_better: true,
        margin: Margin::Absolute(0.03),
        unit: Unit::Share,
    },
    MetricDef {
        id: "args_valid",
        title: "tool arguments valid (JSON, known tool, schema)",
        families: &[Family::Args],
        kind: Kind::Rate(|s| s.args.map(|a| a == ArgsOutcome::Valid)),
        higher_is_better: true,
        margin: Margin::Absolute(0.03),
        unit: Unit::Share,
    },
    MetricDef {
        id: "structured_valid",
        title: "structured output valid against its schema",
        families: &[Family::Structured],
        kind: Kind::Rate(|s| s.structured_valid),
        higher_is_better: true,
        margin: Margin::Absolute(0.03),
        unit: Unit::Share,
    },
    MetricDef {
        id: "loop_completion",
        title: "agent loop completed (thinking passed back)",
        families: &[Family::Loop],
        kind: Kind::Rate(|s| s.loop_completed),
        higher_is_better: true,
        margin: Margin::Absolute(0.05),
        unit: Unit::Share,
    },
    MetricDef {
        id: "ttft_p50_1k",
        title: "time to first token, median, ~1k input tokens",
        families: &[Family::Ladder1k],
        kind: Kind::Quantile(|s| s.ttft_ms, 0.5),
        higher_is_better: false,
        margin: Margin::Relative(0.10),
        unit: Unit::Ms,
    },
    MetricDef {
        id: "ttft_p90_1k",
        title: "time to first token, p90, ~1k input tokens",
        families: &[Family::Ladder1k],
        kind: Kind::Quantile(|s| s.ttft_ms, 0.9),
        higher_is_better: false,
        margin: Margin::Relative(0.10),
        unit: Unit::Ms,
    },
    MetricDef {
        id: "ttft_p50_10k",
        title: "time to first token, median, ~10k input tokens",
        families: &[Family::Ladder10k],
        kind: Kind::Quantile(|s| s.ttft_ms, 0.5),
        higher_is_better: false,
        margin: Margin::Relative(0.10),
        unit: Unit::Ms,
    },
    MetricDef {
        id: "ttft_p90_10k",
        title: "time to first token, p90, ~10k input tokens",
        families: &[Family::Ladder10k],
        kind: Kind::Quantile(|s| s.ttft_ms, 0.9),
        higher_is_better: false,
        margin: Margin::Relative(0.10),
        unit: Unit::Ms,
    },
    MetricDef {
        id: "tps_p50",
        title: "output tokens per second, median (ladder)",
        families: LADDER,
        kind: Kind::Quantile(|s| s.output_tps, 0.5),
        higher_is_better: true,
        margin: Margin::Relative(0.10),
        unit: Unit::PerSecond,
    },
    MetricDef {
        id: "tps_p10",
        title: "output tokens per second, slowest decile (p10, ladder)",
        families: LADDER,
        kind: Kind::Quantile(|s| s.output_tps, 0.1),
        higher_is_better: true,
        margin: Margin::Relative(0.10),
        unit: Unit::PerSecond,
    },
    MetricDef {
        id: "token_accounting",
        title: "input_tokens within 5% of count_tokens",
        families: LADDER,
        kind: Kind::Rate(|s| s.accounting_ok),
        higher_is_better: true,
        margin: Margin::Absolute(0.02),
        unit: Unit::Share,
    },
    MetricDef {
        id: "cache_read_repeat",
        title: "an identical repeat reads the cached prefix",
        families: &[Family::Cache],
        kind: Kind::Rate(|s| s.cache_hit),
        higher_is_better: true,
        margin: Margin::Absolute(0.03),
        unit: Unit::Share,
    },
];

/// The metric with this id.
pub(crate) fn metric(id: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.id == id)
}

/// A share of tasks.
pub(crate) struct Rate(pub Vec<f64>);

impl Statistic for Rate {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn stat(&self, idx: &[usize]) -> Option<f64> {
        (!idx.is_empty()).then(|| idx.iter().map(|&i| self.0[i]).sum::<f64>() / idx.len() as f64)
    }
}

/// Tool decisions: `(truth, predicted)` per task, tools as small numbers (0: no call).
pub(crate) struct F1(pub Vec<(u16, u16)>);

/// Numbers for tool names, for [`F1`] (0 is "no call").
#[derive(Default)]
pub(crate) struct Tools(Vec<String>);

impl Tools {
    pub(crate) fn id(&mut self, name: &Option<String>) -> u16 {
        let Some(name) = name else { return 0 };
        match self.0.iter().position(|n| n == name) {
            Some(i) => i as u16 + 1,
            None => {
                self.0.push(name.clone());
                self.0.len() as u16
            }
        }
    }
}

/// True positives, false positives, false negatives. A wrong tool is both a false positive and
/// a false negative.
fn confusion<'a>(pairs: impl Iterator<Item = &'a (u16, u16)>) -> [u64; 3] {
    let mut c = [0u64; 3];
    for &(truth, pred) in pairs {
        if truth != 0 && truth == pred {
            c[0] += 1;
        } else {
            c[1] += u64::from(pred != 0);
            c[2] += u64::from(truth != 0);
        }
    }
    c
}

fn f1_of([tp, fp, fn_]: [u64; 3]) -> f64 {
    let d = 2 * tp + fp + fn_;
    if d == 0 {
        1.0
    } else {
        (2 * tp) as f64 / d as f64
    }
}

impl F1 {
    /// Precision and recall over all tasks.
    pub(crate) fn precision_recall(&self) -> (f64, f64) {
        let [tp, fp, fn_] = confusion(self.0.iter());
        let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        (ratio(tp, tp + fp), ratio(tp, tp + fn_))
    }
}

impl Statistic for F1 {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn stat(&self, idx: &[usize]) -> Option<f64> {
        (!idx.is_empty()).then(|| f1_of(confusion(idx.iter().map(|&i| &self.0[i]))))
    }
}

/// A quantile of per-task values.
pub(crate) struct Quantile(pub Vec<f64>, pub f64);

impl Statistic for Quantile {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn stat(&self, idx: &[usize]) -> Option<f64> {
        if idx.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = idx.iter().map(|&i| self.0[i]).collect();
        Some(quantile_select(&mut v, self.1))
    }
    fn quantile_values(&self) -> Option<(&[f64], f64)> {
        Some((&self.0, self.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_counts_a_wrong_tool_as_both_errors() {
        let mut tools = Tools::default();
        let mut pair = |t: Option<&str>, p: Option<&str>| {
            (
                tools.id(&t.map(String::from)),
                tools.id(&p.map(String::from)),
            )
        };
        let f = F1(vec![
            pair(Some("a"), Some("a")),
            pair(Some("a"), None),
            pair(None, Some("b")),
            pair(Some("a"), Some("b")),
            pair(None, None),
        ]);
        // tp 1, fp 2, fn 2 → 2 / (2 + 4).
        assert!((f.stat(&[0, 1, 2, 3, 4]).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(f.precision_recall(), (1.0 / 3.0, 1.0 / 3.0));
        assert_eq!(F1(vec![(0, 0)]).stat(&[0]), Some(1.0));
    }

    #[test]
    fn every_metric_id_is_unique() {
        let mut ids: Vec<&str> = METRICS.iter().map(|m| m.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), METRICS.len());
        assert!(metric("trigger_f1").is_some());
    }
}
