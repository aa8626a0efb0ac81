//! The runner's side of snapshots: normalise every step of a case into one shape and compare
//! it with `snapshots/<target>/<scenario-id>@<mode>.snap`.

use super::case::CaseRun;
use crate::check::catalogue::ids;
use crate::check::{Finding, Severity};
use crate::report::model::{SnapshotInfo, SnapshotStatus as ReportStatus};
use crate::scenario::Scenario;
use crate::scenario::model::Mode;
use crate::snapshot::{NOT_REACHED, SnapshotEnv, SnapshotStatus, SnapshotStore, normalise_pinned};
use crate::target::Target;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

pub struct Snapshots {
    store: Option<SnapshotStore>,
    setup_error: Option<String>,
    /// The store with each target's redactor, made once per target (building a redactor
    /// compiles a matcher over every encoded form of the key).
    per_target: Mutex<HashMap<String, SnapshotStore>>,
}

impl Snapshots {
    pub fn new(dir: PathBuf, update: bool) -> Snapshots {
        match SnapshotEnv::from_process() {
            Ok(env) => Snapshots {
                store: Some(SnapshotStore::new(dir, env).with_update(update)),
                setup_error: None,
                per_target: Mutex::default(),
            },
            Err(e) => Snapshots {
                store: None,
                setup_error: Some(e.to_string()),
                per_target: Mutex::default(),
            },
        }
    }

    /// The normalised shape of a whole case: one entry per step. In an `inconclusive` case
    /// the step whose answer lacked what the probe needs (its shape is the model's choice)
    /// and every later step of the scenario (never sent) are [`NOT_REACHED`]: they compare
    /// equal to whatever another run reached there.
    pub(crate) fn shape(scenario: &Scenario, run: &CaseRun) -> Value {
        let redactions: Vec<String> = scenario
            .doc
            .redact
            .iter()
            .map(|r| r.value.clone())
            .collect();
        let unmet = run
            .findings
            .iter()
            .filter(|f| f.check == ids::PROBE_INCONCLUSIVE)
            .find_map(|f| f.step.as_ref())
            .map(|step| step.to_string());
        let mut steps = Map::new();
        let mut reached = true;
        for s in &run.steps {
            let id = s.step.to_string();
            reached &= unmet.as_deref() != Some(id.as_str());
            let shape = if reached {
                let pinned = pinned_fields(scenario, s.step.as_str());
                normalise_pinned(&s.exchange, &s.validation, &redactions, &pinned)
            } else {
                Value::from(NOT_REACHED)
            };
            steps.insert(id, shape);
        }
        if unmet.is_some() {
            for step in &scenario.doc.steps {
                let id = step.value.id.value.clone();
                steps.entry(id).or_insert_with(|| Value::from(NOT_REACHED));
            }
        }
        json!({ "steps": steps })
    }

    /// Compare a case with its snapshot. None when the case produced nothing to snapshot
    /// (an infrastructure error: no conformance statement, no shape either). An `inconclusive`
    /// case is compared on the steps it reached (see [`Snapshots::shape`]).
    pub fn compare(
        &self,
        scenario: &Scenario,
        target: &Target,
        mode: Mode,
        run: &CaseRun,
    ) -> Option<(SnapshotInfo, Option<Finding>)> {
        if run.error.is_some() || run.steps.is_empty() {
            return None;
        }
        let Some(store) = &self.store else {
            let f = Finding::new(
                ids::SNAPSHOT_ERROR,
                "snapshots",
                self.setup_error.clone().unwrap_or_default(),
            )
            .with_exception(Severity::Info);
            return Some((
                SnapshotInfo {
                    status: ReportStatus::Same,
                    diff: None,
                },
                Some(f),
            ));
        };
        // The target's key never reaches a .snap file, whatever the endpoint echoes.
        let store = self
            .per_target
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(target.name.clone())
            .or_insert_with(|| store.clone().with_redactor(target.redactor()))
            .clone();
        let body = crate::snapshot::render(&Self::shape(scenario, run));
        let info = json!({"target": target.name, "model": target.model, "feature": scenario.feature().as_str()});
        let source = relative_to_cwd(&scenario.file);
        match store.check(
            &target.name,
            scenario.id(),
            mode.as_str(),
            &source,
            &info,
            &body,
        ) {
            Ok(outcome) => {
                let finding = outcome.finding();
                let (status, diff) = match &outcome.status {
                    SnapshotStatus::Same => (ReportStatus::Same, None),
                    SnapshotStatus::New => (ReportStatus::New, None),
                    SnapshotStatus::Changed { diff } => (ReportStatus::Changed, Some(diff.clone())),
                };
                Some((SnapshotInfo { status, diff }, finding))
            }
            Err(e) => Some((
                SnapshotInfo {
                    status: ReportStatus::Same,
                    diff: None,
                },
                Some(Finding::new(
                    ids::SNAPSHOT_ERROR,
                    "snapshots",
                    format!("the snapshot could not be compared: {e}"),
                )),
            )),
        }
    }
}

/// The top-level message fields a step pins: an unconditional `equals` on `$.FIELD` (not
/// `requires`, no `when`, not inside `not`). The snapshot keeps their values verbatim.
fn pinned_fields(scenario: &Scenario, step: &str) -> Vec<String> {
    scenario
        .doc
        .steps
        .iter()
        .filter(|s| s.value.id.value == step)
        .flat_map(|s| s.value.expect.asserts.iter())
        .map(|a| &a.value)
        .filter(|a| a.equals.is_some() && a.when.is_none() && !a.requires)
        .filter_map(|a| {
            let path = a.path.as_ref()?.value.as_str();
            let field = path.strip_prefix("$.")?;
            field
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_')
                .then(|| field.to_string())
        })
        .collect()
}

/// A path relative to the working directory when it lies below it, so snapshot headers do not
/// depend on where the repository is checked out.
fn relative_to_cwd(path: &std::path::Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.to_path_buf()));
    rel.unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::pinned_fields;
    use std::path::Path;

    #[test]
    fn only_unconditional_equals_on_a_top_level_field_pins_it() {
        let yaml = r#"
id: tools/pins
feature: tools
title: t
reference: r
steps:
  - id: call
    request:
      body: {model: m, max_tokens: 8, messages: [{role: user, content: hi}]}
    expect:
      assert:
        - {path: "$.stop_reason", equals: tool_use}
        - {path: "$.stop_sequence", equals: "x", when: {path: "$.id", exists: true}}
        - {path: "$.model", equals: m, requires: true}
        - {path: "$.content[0].type", equals: text}
        - {path: "$.role", one_of: [assistant]}
  - id: answer
    request:
      body: {model: m, max_tokens: 8, messages: [{role: user, content: hi}]}
"#;
        let (scenario, diagnostics) = crate::scenario::load::load_text(Path::new("x.yaml"), yaml);
        let scenario = scenario.unwrap_or_else(|| panic!("{diagnostics:?}"));
        assert_eq!(pinned_fields(&scenario, "call"), vec!["stop_reason"]);
        assert!(pinned_fields(&scenario, "answer").is_empty());
        assert!(pinned_fields(&scenario, "nope").is_empty());
    }
}
