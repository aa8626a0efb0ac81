//! Steps a case did not reach because the model did not produce what a probe needs.
//!
//! An `inconclusive` case stops at the step whose `requires` assertion the model did not meet
//! (a text answer where the round trip needs a tool call): that step's shape is the model's
//! choice and the later steps never ran. Its snapshot keeps the steps before it and marks that
//! step and the rest [`NOT_REACHED`]. When a snapshot is compared, a step marked on one side
//! says nothing either way:
//!
//! * the new shape did not reach a step the accepted snapshot has → the accepted step is kept
//!   (compared as equal, written back unchanged);
//! * the accepted snapshot did not reach a step the new shape has → compared as equal (nothing
//!   accepted changed); the store fills the step in when its policy accepts unseen snapshots
//!   (`--update-snapshots`, `INSTA_UPDATE=always|unseen|force`).
//!
//! So a realistic model that cooperates on one seed and not on the next never makes a
//! snapshot pending, while every step both runs reached is still compared.

use serde_json::Value;

/// The shape of a step the case did not reach.
pub(crate) const NOT_REACHED: &str =
    "[not reached: the model did not produce what the probe needs]";

/// An accepted body and a new one with their unreached steps reconciled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reconciled {
    /// The new body as compared with the accepted one: steps only one side reached take the
    /// accepted side's shape.
    pub compare: String,
    /// The body to write when the store writes: every step either side reached.
    pub keep: String,
}

/// Reconcile `accepted` and `new` (rendered shapes `{"steps": {…}}`); None when neither marks
/// a step the other reached (or either is not such a shape): compare them as they are.
pub(crate) fn reconcile(accepted: &str, new: &str) -> Option<Reconciled> {
    let old: Value = serde_json::from_str(accepted).ok()?;
    let old_steps = old.get("steps")?.as_object()?;
    let mut compare: Value = serde_json::from_str(new).ok()?;
    let mut keep = compare.clone();
    let mut changed = false;
    let compare_steps = compare.get_mut("steps")?.as_object_mut()?;
    let keep_steps = keep.get_mut("steps")?.as_object_mut()?;
    for (id, shape) in compare_steps.iter_mut() {
        let Some(accepted_shape) = old_steps.get(id) else {
            continue;
        };
        let (new_unreached, old_unreached) = (is_unreached(shape), is_unreached(accepted_shape));
        if new_unreached && !old_unreached {
            *shape = accepted_shape.clone();
            keep_steps.insert(id.clone(), accepted_shape.clone());
            changed = true;
        } else if old_unreached && !new_unreached {
            *shape = accepted_shape.clone();
            changed = true;
        }
    }
    changed.then(|| Reconciled {
        compare: super::render(&compare),
        keep: super::render(&keep),
    })
}

fn is_unreached(step: &Value) -> bool {
    step.as_str() == Some(NOT_REACHED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(steps: Value) -> String {
        super::super::render(&json!({ "steps": steps }))
    }

    #[test]
    fn an_unreached_step_matches_either_way_and_the_reached_one_is_kept() {
        let full = body(json!({"call": {"status": 200}, "answer": {"status": 200}}));
        let partial = body(json!({"call": {"status": 200}, "answer": NOT_REACHED}));
        let none = body(json!({"call": NOT_REACHED, "answer": NOT_REACHED}));
        // A later run reaches what the accepted snapshot did not.
        let r = reconcile(&partial, &full).unwrap();
        assert_eq!(
            (r.compare.as_str(), r.keep.as_str()),
            (partial.as_str(), full.as_str())
        );
        let r = reconcile(&none, &full).unwrap();
        assert_eq!(
            (r.compare.as_str(), r.keep.as_str()),
            (none.as_str(), full.as_str())
        );
        // A later run stops earlier than the accepted snapshot.
        let r = reconcile(&full, &none).unwrap();
        assert_eq!(
            (r.compare.as_str(), r.keep.as_str()),
            (full.as_str(), full.as_str())
        );
        // Nothing to reconcile.
        assert_eq!(reconcile(&full, &full), None);
        assert_eq!(reconcile(&partial, &partial), None);
        assert_eq!(reconcile("not json", &full), None);
    }

    #[test]
    fn a_step_both_reached_is_still_compared() {
        let accepted = body(json!({"call": {"status": 200}, "answer": NOT_REACHED}));
        let new = body(json!({"call": {"status": 500}, "answer": {"status": 200}}));
        let r = reconcile(&accepted, &new).unwrap();
        assert_ne!(r.compare, accepted);
        assert!(r.compare.contains("500") && !r.compare.contains(r#""answer": {"#));
        assert!(r.keep.contains("500") && r.keep.contains(r#""answer": {"#));
    }
}
