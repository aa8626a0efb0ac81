//! The realistic model's skill and speed knobs (`conform mock --behaviour realistic
//! --tool-skill P --arg-error-rate P --ttft-jitter-ms MS --output-tps TPS --tps-jitter P
//! --loop-abandon-rate P`), so the statistics of `conform
//! compare` can be tested against known truth: a server told to call the right tool 75% of the
//! time must be measured worse than one at 80%.
//!
//! Every knob is optional; a knob that is absent leaves the realistic model exactly as it was
//! (the knobs draw from random streams of their own, so the other choices stay the same).
//!
//! * `tool_skill`: under `tool_choice` `auto`, the probability that the model does the right
//!   thing with the tools: calls the tool the prompt names, or calls none when the prompt names
//!   none. Otherwise it errs: a named tool is declined or another tool is called (half and
//!   half; declined when there is no other tool), an unnamed one is called anyway. (Without
//!   the knob the realistic model errs 20% of the time, declining or calling unprompted.)
//! * `arg_error_rate`: the probability that a tool call's input breaks its schema: a required
//!   property is left out, or (when none is required) a property gets a value of the wrong type.
//!   The input stays valid JSON, so the protocol stays conformant.
//! * `ttft_jitter_ms`: the time to first byte gets an exponentially distributed extra delay of
//!   this mean, drawn from the request and the seed (on top of `--ttft-ms`).
//! * `output_tps`: output speed: a streamed answer's events after the first are spaced so that
//!   its output tokens arrive at this many tokens per second (instead of `--chunk-delay-ms`);
//!   `tps_jitter` spreads each answer's speed uniformly over `tps·(1 ± jitter)`, drawn from
//!   the request and the seed.
//! * `loop_abandon_rate`: the probability that the model never finishes an agent loop: for a
//!   loop drawn with this probability (from its first user turn, its `metadata` and the seed, so
//!   every turn of the loop agrees), each answer to tool results calls the last tool again instead of
//!   answering in text.

use serde_json::{Map, Value, json};

use super::realistic::AutoTools;
use crate::mock::hash::{Rng, mix64};

/// The knobs; `Skill::default()` (all absent) is the realistic model as it always was.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Skill {
    /// Probability in `0..=1` of the right tool decision under `auto`.
    pub tool_skill: Option<f64>,
    /// Probability in `0..=1` that a tool input breaks its schema.
    pub arg_error_rate: Option<f64>,
    /// Mean in milliseconds of the exponential extra time to first byte.
    pub ttft_jitter_ms: Option<u64>,
    /// Output tokens per second of a streamed answer.
    pub output_tps: Option<f64>,
    /// Relative spread in `0..=1` of each answer's output speed around `output_tps`.
    pub tps_jitter: Option<f64>,
    /// Probability in `0..=1` that an agent loop is never finished.
    pub loop_abandon_rate: Option<f64>,
}

/// A knob's value is outside its range.
#[derive(Debug, thiserror::Error)]
#[error("--{knob} {value}: expected {expected}")]
pub struct SkillError {
    knob: &'static str,
    value: f64,
    expected: &'static str,
}

impl Eq for Skill {}

impl Skill {
    /// Whether any knob is set.
    pub(crate) fn is_set(&self) -> bool {
        self.tool_skill.is_some()
            || self.arg_error_rate.is_some()
            || self.ttft_jitter_ms.is_some()
            || self.output_tps.is_some()
            || self.tps_jitter.is_some()
            || self.loop_abandon_rate.is_some()
    }

    /// Checks the probabilities.
    pub(crate) fn checked(self) -> Result<Skill, SkillError> {
        for (knob, v) in [
            ("tool-skill", self.tool_skill),
            ("arg-error-rate", self.arg_error_rate),
            ("tps-jitter", self.tps_jitter),
            ("loop-abandon-rate", self.loop_abandon_rate),
        ] {
            if let Some(value) = v
                && !(0.0..=1.0).contains(&value)
            {
                return Err(SkillError {
                    knob,
                    value,
                    expected: "a probability between 0 and 1",
                });
            }
        }
        if let Some(value) = self.output_tps
            && !(value > 0.0 && value.is_finite())
        {
            return Err(SkillError {
                knob: "output-tps",
                value,
                expected: "a positive number of tokens per second",
            });
        }
        Ok(self)
    }

    /// The tool decision under `auto` for a request (`hash`) and seed, when the knob is set.
    pub(super) fn auto_tools(&self, hash: u64, seed: u64, named: bool) -> Option<AutoTools> {
        let p = self.tool_skill?;
        let mut r = Rng::new(hash ^ mix64(seed ^ 0x736b_696c_6c21)); // "skill!"
        if unit(&mut r) < p {
            return Some(AutoTools::AsNamed);
        }
        Some(if !named {
            AutoTools::Unprompted
        } else if r.coin() {
            AutoTools::Declines
        } else {
            AutoTools::Wrong
        })
    }

    /// Breaks `input` against `schema` with probability `arg_error_rate` (call `index` of the
    /// answer); whether it did.
    pub(super) fn maybe_break(
        &self,
        hash: u64,
        seed: u64,
        index: usize,
        schema: &Value,
        input: &mut Value,
    ) -> bool {
        let Some(p) = self.arg_error_rate else {
            return false;
        };
        let mut r = Rng::new(hash ^ mix64(seed ^ 0x0061_7267_7321 ^ ((index as u64) << 48))); // "args!"
        if unit(&mut r) >= p {
            return false;
        }
        let Some(obj) = input.as_object_mut() else {
            return false;
        };
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !required.is_empty() {
            let drop = required[(r.next_u64() % required.len() as u64) as usize];
            obj.remove(drop);
            return true;
        }
        let props: Map<String, Value> = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        match props.iter().next() {
            Some((name, prop)) => {
                obj.insert(name.clone(), wrong_type(prop));
                true
            }
            None => false,
        }
    }

    /// The extra time to first byte for a request (`hash`) and seed, in milliseconds.
    pub(crate) fn ttft_jitter(&self, hash: u64, seed: u64) -> u64 {
        let Some(mean) = self.ttft_jitter_ms else {
            return 0;
        };
        let mut r = Rng::new(hash ^ mix64(seed ^ 0x6c61_7465_6e63_7921)); // "latency!"
        let u = unit(&mut r);
        // Exponential with the given mean, capped at 20 means (no endless waits).
        ((-(1.0 - u).ln()) * mean as f64).min(20.0 * mean as f64) as u64
    }
}

impl Skill {
    /// The output speed of one answer (request `hash`, seed), in tokens per second, when the
    /// knob is set.
    pub(crate) fn output_tps_at(&self, hash: u64, seed: u64) -> Option<f64> {
        let tps = self.output_tps?;
        let j = self.tps_jitter.unwrap_or(0.0);
        let mut r = Rng::new(hash ^ mix64(seed ^ 0x0073_7065_6564_2121)); // "speed!!"
        Some(tps * (1.0 + j * (2.0 * unit(&mut r) - 1.0)))
    }

    /// Whether the agent loop known by `task` (its first user turn and metadata) is never
    /// finished.
    pub(crate) fn abandons_loop(&self, task: &str, seed: u64) -> bool {
        let Some(p) = self.loop_abandon_rate else {
            return false;
        };
        let h = crate::mock::hash::fnv(0xcbf2_9ce4_8422_2325, task.as_bytes());
        let mut r = Rng::new(h ^ mix64(seed ^ 0x0061_6261_6e64_6f6e)); // "abandon"
        unit(&mut r) < p
    }
}

/// Uniform in `[0, 1)`.
fn unit(r: &mut Rng) -> f64 {
    (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A value the property's schema rejects by type.
fn wrong_type(prop: &Value) -> Value {
    match prop.get("type").and_then(Value::as_str) {
        Some("string") => json!(42),
        Some("number" | "integer") => json!("many"),
        Some("boolean") => json!("yes"),
        Some("array") => json!({"not": "a list"}),
        Some("object") => json!("not an object"),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_skill_is_the_share_of_right_decisions() {
        let skill = Skill {
            tool_skill: Some(0.75),
            ..Skill::default()
        };
        let n = 4000u64;
        let right = (0..n)
            .filter(|h| skill.auto_tools(*h, 3, true) == Some(AutoTools::AsNamed))
            .count() as f64;
        assert!((right / n as f64 - 0.75).abs() < 0.03, "{right}");
        assert_eq!(Skill::default().auto_tools(1, 1, true), None);
    }

    #[test]
    fn broken_inputs_break_their_schema() {
        let skill = Skill {
            arg_error_rate: Some(1.0),
            ..Skill::default()
        };
        let schema = json!({"type": "object", "properties": {"city": {"type": "string"}},
            "required": ["city"]});
        let mut input = json!({"city": "Paris"});
        assert!(skill.maybe_break(1, 2, 0, &schema, &mut input));
        assert_eq!(input, json!({}));
        let open = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
        let mut input = json!({"n": 3});
        assert!(skill.maybe_break(1, 2, 0, &open, &mut input));
        assert_eq!(input, json!({"n": "many"}));
        assert!(!Skill::default().maybe_break(1, 2, 0, &schema, &mut input));
        assert!(
            Skill {
                tool_skill: Some(1.5),
                ..Skill::default()
            }
            .checked()
            .is_err()
        );
    }

    #[test]
    fn ttft_jitter_has_its_mean() {
        let skill = Skill {
            ttft_jitter_ms: Some(100),
            ..Skill::default()
        };
        let n = 4000u64;
        let mean = (0..n).map(|h| skill.ttft_jitter(h, 0)).sum::<u64>() as f64 / n as f64;
        assert!((mean - 100.0).abs() < 10.0, "{mean}");
        assert_eq!(Skill::default().ttft_jitter(5, 5), 0);
    }

    #[test]
    fn output_speed_spreads_around_its_knob_and_loops_are_abandoned_at_their_rate() {
        let skill = Skill {
            output_tps: Some(50.0),
            tps_jitter: Some(0.2),
            loop_abandon_rate: Some(0.3),
            ..Skill::default()
        };
        let n = 4000u64;
        let speeds: Vec<f64> = (0..n).filter_map(|h| skill.output_tps_at(h, 1)).collect();
        assert!(speeds.iter().all(|s| (40.0..=60.0).contains(s)));
        let mean = speeds.iter().sum::<f64>() / n as f64;
        assert!((mean - 50.0).abs() < 1.0, "{mean}");
        let abandoned = (0..n)
            .filter(|i| skill.abandons_loop(&format!("task {i}"), 7))
            .count() as f64;
        assert!((abandoned / n as f64 - 0.3).abs() < 0.03, "{abandoned}");
        assert_eq!(Skill::default().output_tps_at(1, 1), None);
        assert!(!Skill::default().abandons_loop("task", 1));
        let bad = Skill {
            output_tps: Some(0.0),
            ..Skill::default()
        };
        assert!(bad.checked().is_err());
    }
}
