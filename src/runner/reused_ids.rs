//! Message ids across a run: Anthropic gives every response its own id, so an id that
//! answered more than one request of a target is a finding. Judged when the run ends, in plan
//! order, so a replay (which finishes cases in another order) reports the same.

use super::{Case, case};
use crate::report::model::RunReport;
use std::collections::HashMap;

/// The message ids a case's answers carried: (plan index, step, id).
pub(super) fn message_ids(i: usize, run: &case::CaseRun) -> Vec<(usize, String, String)> {
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
pub(super) fn note(
    cases: &[Case],
    ids_seen: &mut [(usize, String, String)],
    report: &mut RunReport,
) {
    use crate::check::Finding;
    use crate::check::catalogue::ids;
    ids_seen.sort();
    let mut first: HashMap<(String, &str), (usize, &str)> = HashMap::new();
    for (i, step, id) in ids_seen.iter() {
        let case = &cases[*i];
        let key = (case.target.name.clone(), id.as_str());
        let Some((fi, fstep)) = first.get(&key).copied() else {
            first.insert(key, (*i, step.as_str()));
            continue;
        };
        let finding = Finding::new(
            ids::MESSAGE_ID_REUSED,
            format!("step {step}: /id"),
            format!(
                "the id {id} already answered {} step {fstep}",
                cases[fi].name()
            ),
        )
        .actual(id.clone());
        super::add_should_finding(report, case, finding);
    }
    report.update_summary();
}
