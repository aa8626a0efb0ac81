//! Client-impact calibration (issue 11): every mock fault and every hand-made violation class
//! (tests/calibration/cases.json) is served to the official Python SDK, the official
//! TypeScript SDK and Claude Code, and what each does is recorded — ok, raises, data lost or
//! altered, hangs. The result is `docs/client-impact.md` (the table) and
//! `src/check/catalogue/impact.json` (what the catalogue embeds, shown by `conform explain`).
//!
//! * `calibration_matches_the_committed_impact` runs the clients (the `clients` harness,
//!   tests/clients.rs, reports it ignored when one is missing, a failure under CI), verifies that every case triggers its target checks,
//!   and fails when the measured impact classes differ from the committed file.
//!   `CONFORM_CALIBRATE=write` rewrites both files instead.
//! * `severities_agree_with_the_measured_impact` holds the catalogue to its severity rule
//!   against the committed measurements, without running any client.

mod cases;
mod clients;
mod output;
mod prepare;
mod serve;

use crate::mock_support;
use crate::support::claude::{self, run_claude};
use clients::{Cell, Line, PlanCase, classify, classify_claude};
use conform::Severity;
use conform::catalogue;
use conform::catalogue::ClientImpact;
use conform::reference_server::Fault;
use conform::reference_server::fault_catalogue;
use prepare::{Case, fault_case, fixture_case};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLAUDE_LIMIT: Duration = Duration::from_secs(30);
const SDK_LIMIT: Duration = Duration::from_secs(180);
/// Claude Code runs at once.
const CLAUDE_CONCURRENCY: usize = 2;

/// Every fault has a case, names are unique, and every case's targets are declared checks.
fn check_manifest(m: &cases::Manifest) {
    let names: BTreeSet<&str> = m.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), m.cases.len(), "case names are unique");
    for info in fault_catalogue() {
        assert!(
            m.cases
                .iter()
                .any(|c| c.fault.as_deref() == Some(info.name)),
            "fault {} has no calibration case",
            info.name
        );
    }
    for c in &m.cases {
        for t in &c.targets {
            assert!(
                catalogue::get(t).is_some(),
                "{}: target {t} is not a check",
                c.name
            );
        }
        assert!(
            c.fault.is_some() != (c.stream.is_some() || c.message.is_some()),
            "{}: a case is a fault or fixtures",
            c.name
        );
    }
}

/// The calibration's honesty: each case triggers its targets; a control case (no targets, no
/// scenario) triggers no must or should finding.
fn check_targets(cases: &[Case]) -> Vec<String> {
    let mut bad = Vec::new();
    for c in cases {
        let fired = c.triggered();
        for t in &c.decl.targets {
            if !fired.contains(t) {
                bad.push(format!(
                    "{}: target {t} did not fire (fired: {fired:?})",
                    c.decl.name
                ));
            }
        }
        if c.decl.targets.is_empty() && c.decl.scenario.is_none() {
            for (j, _) in c.judged.values() {
                for id in &j.checks {
                    let sev = catalogue::get(id).map(|e| e.severity);
                    if sev != Some(Severity::Info) {
                        bad.push(format!("{}: control case fired {id}", c.decl.name));
                    }
                }
            }
        }
    }
    bad
}

/// Per case: the SDK's cell over its modes.
fn sdk_cells(cases: &[Case], lines: &[Line]) -> BTreeMap<String, Cell> {
    let mut out = BTreeMap::new();
    for c in cases {
        let mut cells = Vec::new();
        for l in lines.iter().filter(|l| l.case == c.decl.name) {
            let (truth, clean) = match c.judged.get(&l.mode) {
                Some((j, clean)) => (Some(&j.truth), clean.as_ref()),
                None => (None, None),
            };
            cells.push((l.mode.clone(), classify(l, truth, clean)));
        }
        let cell = if cells.is_empty() {
            Cell::new(ClientImpact::Unknown, "no result")
        } else {
            Cell::worst(&cells)
        };
        out.insert(c.decl.name.clone(), cell);
    }
    out
}

pub(crate) async fn calibration_matches_the_committed_impact() {
    let started = Instant::now();
    let manifest = cases::manifest();
    check_manifest(&manifest);
    let mut canned = BTreeMap::new();
    let mut cases_list = Vec::new();
    for decl in manifest.cases.clone() {
        cases_list.push(if decl.fault.is_some() {
            fault_case(decl, &manifest.requests, &mut canned).await
        } else {
            fixture_case(decl, &manifest.requests, &mut canned)
        });
    }
    // The fixture server serves every case under /case/NAME.
    let server = serve::start(canned).await;
    for c in &mut cases_list {
        c.base_url = server.case_url(&c.decl.name);
        if c.passback_url.is_empty() {
            c.passback_url = c.base_url.clone();
            c.claude_url = c.base_url.clone();
        }
    }
    let bad = check_targets(&cases_list);
    assert!(
        bad.is_empty(),
        "calibration cases that do not show their target:\n{}",
        bad.join("\n")
    );

    // The plan both SDK scripts run.
    let plan: Vec<PlanCase> = cases_list
        .iter()
        .map(|c| PlanCase {
            name: c.decl.name.clone(),
            base_url: c.base_url.clone(),
            passback_url: c.passback_url.clone(),
            api_key: c.api_key.clone(),
            endpoint: c.endpoint.clone(),
            body: c.body.clone(),
            modes: c.modes(),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, json!({ "cases": plan }).to_string()).unwrap();

    let py = {
        let plan_path = plan_path.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = Command::new(clients::python());
            c.arg(clients::sdk_dir().join("calibrate_python.py"));
            clients::run_sdk(c, &plan_path, SDK_LIMIT)
        })
    };
    let ts = {
        let plan_path = plan_path.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = Command::new("node");
            c.arg("calibrate_ts.mjs").current_dir(clients::sdk_dir());
            clients::run_sdk(c, &plan_path, SDK_LIMIT)
        })
    };
    // Claude Code, two at a time.
    let bin = claude::installed();
    let gate = Arc::new(tokio::sync::Semaphore::new(CLAUDE_CONCURRENCY));
    let mut runs = Vec::new();
    for c in &cases_list {
        let (bin, base, key, gate) = (
            bin.clone(),
            c.claude_url.clone(),
            mock_support::KEY.to_string(),
            gate.clone(),
        );
        runs.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            tokio::task::spawn_blocking(move || run_claude(&bin, &base, &key, CLAUDE_LIMIT))
                .await
                .unwrap()
        }));
    }
    let mut claude_cells = BTreeMap::new();
    for (c, run) in cases_list.iter().zip(runs) {
        let o = run.await.unwrap();
        claude_cells.insert(
            c.decl.name.clone(),
            classify_claude(&o, &c.claude, CLAUDE_LIMIT),
        );
    }
    let (py_lines, py_version) = py.await.unwrap().expect("the Python SDK script runs");
    let (ts_lines, ts_version) = ts.await.unwrap().expect("the TypeScript SDK script runs");
    let claude_version = Command::new(&bin)
        .arg("--version")
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();

    let measured = output::Measurement {
        cases: cases_list
            .iter()
            .map(|c| output::CaseRow {
                name: c.decl.name.clone(),
                source: match &c.decl.fault {
                    Some(f) => format!("fault `{f}`"),
                    None => "fixture".into(),
                },
                about: c.decl.about.clone().unwrap_or_else(|| {
                    let f: Fault = c.decl.fault.as_deref().unwrap().parse().unwrap();
                    f.info().description.to_string()
                }),
                targets: c.decl.targets.clone(),
                scenario: c.decl.scenario.clone(),
            })
            .collect(),
        python: sdk_cells(&cases_list, &py_lines),
        typescript: sdk_cells(&cases_list, &ts_lines),
        claude: claude_cells,
        versions: [
            py_version,
            ts_version,
            format!("claude-code {claude_version}"),
        ],
    };
    drop(server);
    let elapsed = started.elapsed();
    println!("calibration ran in {:.1} s", elapsed.as_secs_f64());
    println!("{}", output::counts(&measured));
    let machine = output::machine(&measured);
    let doc = output::document(&measured);
    let machine_path = output::machine_path();
    let doc_path = output::doc_path();
    if std::env::var("CONFORM_CALIBRATE").is_ok_and(|v| v == "write") {
        std::fs::write(&machine_path, &machine).unwrap();
        std::fs::write(&doc_path, &doc).unwrap();
        println!(
            "wrote {} and {}",
            machine_path.display(),
            doc_path.display()
        );
        return;
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(&machine_path).unwrap()).unwrap();
    let now: Value = serde_json::from_str(&machine).unwrap();
    assert!(
        committed == now,
        "the measured client impact differs from src/check/catalogue/impact.json; review and rewrite with CONFORM_CALIBRATE=write:\n{}",
        output::differences(&committed, &now).join("\n")
    );
}

/// The severity rule of the catalogue (its module doc), against the committed measurements:
/// `must` ⇔ some official client is not ok, or the entry carries a documented-contract marker;
/// `should` and `info` ⇒ every measured client is ok.
pub(crate) fn severities_agree_with_the_measured_impact() {
    let text = std::fs::read_to_string(output::machine_path()).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let checks = v["checks"].as_object().expect("checks");
    assert!(!checks.is_empty(), "impact.json measures nothing");
    let mut bad = Vec::new();
    for id in checks.keys() {
        let e = catalogue::get(id).unwrap_or_else(|| panic!("{id} is not in the catalogue"));
        let impact = catalogue::impact_of(id);
        let harmful = impact.per_client().iter().any(|(_, i)| i.is_harmful());
        let ok = match e.severity {
            Severity::Must => harmful || e.contract.is_some(),
            Severity::Should | Severity::Info => !harmful,
        };
        if !ok {
            bad.push(format!(
                "{id} is {} but measured {:?}{}",
                e.severity,
                impact.per_client(),
                if e.contract.is_some() {
                    " (contract)"
                } else {
                    ""
                }
            ));
        }
    }
    for e in catalogue::all() {
        assert!(
            e.contract.is_none() || e.severity == Severity::Must,
            "{}: only must entries carry a contract marker",
            e.id
        );
    }
    assert!(
        bad.is_empty(),
        "severities that contradict the measured impact:\n{}",
        bad.join("\n")
    );
}
