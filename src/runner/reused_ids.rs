//! Message ids across a run: Anthropic gives every response its own id, so an id that
//! answered more than one request of a target is a finding. Judged when the run ends, in plan
//! order, so a replay (which finishes cases in another order) reports the same.

use super::{Amendment, Case, case};
use crate::run::StepId;
use std::collections::HashMap;

/// The message ids a case's answers carried: (plan index, step, id).
pub(super) fn message_ids(i: usize, run: &case::CaseRun) -> Vec<(usize, StepId, String)> {
    run.steps
        .iter()
        .filter_map(|s| {
            let id = s.validation.message.as_ref()?.get("id")?.as_str()?;
            Some((i, s.step.clone(), id.to_string()))
        })
        .collect()
}

/// A message id that answered more than one request of a target: a `should` finding on
/// every result but the first in plan order.
pub(super) fn note(cases: &[Case], ids_seen: &mut [(usize, StepId, String)]) -> Vec<Amendment> {
    use crate::check::Finding;
    use crate::check::catalogue::ids;
    ids_seen.sort();
    let mut out = Vec::new();
    let mut first: HashMap<(&str, &str), (usize, &StepId)> = HashMap::new();
    for (i, step, id) in ids_seen.iter() {
        let key = (cases[*i].id.target.as_str(), id.as_str());
        let Some((fi, fstep)) = first.get(&key).copied() else {
            first.insert(key, (*i, step));
            continue;
        };
        let finding = Finding::new(
            ids::MESSAGE_ID_REUSED,
            "/id",
            format!(
                "the id {id} already answered {} step {fstep}",
                cases[fi].id.name()
            ),
        )
        .actual(id.clone())
        .in_step(step);
        out.push((*i, finding));
    }
    out
}
