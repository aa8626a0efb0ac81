//! Every finding conform reports has a severity its catalogue entry allows: the entry's own or
//! one of the exceptions it declares (issue 21). So the report, the terminal, JUnit and
//! `conform explain` cannot disagree about a check.
//!
//! Exercised: the whole scenario library, both modes, against the in-process reference server
//! clean and with each fault of `conform mock --list-faults` in turn; then `conform check`
//! (the offline judge, in-process) over every exchange file those runs recorded, under both
//! profiles, and over the captured bodies and streams of `tests/calibration/violations`.

use crate::support::*;
use conform::ExchangeSink;
use conform::Finding;
use conform::Scenario;
use conform::Settings;
use conform::judge::Profile;
use conform::judge::check_path;
use conform::reference_server::Fault;
use conform::reference_server::fault_catalogue;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How many reference servers (one per fault) run at once.
const CONCURRENT_SERVERS: usize = 4;

/// What a finding's severity breaks, if anything: `None` when the catalogue allows it.
fn disallowed(f: &Finding) -> Option<String> {
    let entry = f.check.entry();
    (!entry.allows(f.severity())).then(|| {
        let declared: Vec<String> = std::iter::once(entry.severity)
            .chain(entry.exceptions.iter().map(|x| x.severity))
            .map(|s| s.to_string())
            .collect();
        format!(
            "{} is {} but the catalogue allows only {}",
            f.check,
            f.severity(),
            declared.join(", ")
        )
    })
}

/// Run the library against a reference server with `faults`, recording the exchanges into
/// `dir`; the problems found and the (check, severity) pairs seen.
async fn run(
    scenarios: Vec<Scenario>,
    faults: Vec<Fault>,
    dir: PathBuf,
) -> (Vec<String>, BTreeSet<String>) {
    let name = faults
        .first()
        .map_or("clean".to_string(), |f| f.info().name.to_string());
    let (handle, target) = conform::reference_server::start(faults)
        .await
        .expect("the reference server starts");
    let settings = Settings {
        jobs: 8,
        repeat: 1,
        quiet: true,
        max_body: conform::DEFAULT_MAX_BODY,
        ..Settings::default()
    };
    let mut exchanges = ExchangeSink::new(&dir);
    let run = conform::execute(
        scenarios,
        vec![target],
        &settings,
        &mut [&mut exchanges],
        std::future::pending(),
    )
    .await
    .expect("the run starts");
    drop(handle);
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    // The report's deviations are labelled with their own check's severity, not with that
    // of the findings folded under them.
    let (deviations, _) = conform::reports::analyse(&run.report);
    for d in &deviations {
        let entry = conform::catalogue::get(&d.check).expect("a catalogue check");
        if !entry.allows(d.severity) {
            problems.push(format!(
                "{name}: deviation {} `{}` is shown as {}, which its entry does not allow",
                d.id, d.check, d.severity
            ));
        }
    }
    for r in &run.report.results {
        // A call site that names an undeclared exception panics in debug builds; the runner
        // turns the panic into an `error` result.
        if let Some(e) = r.error.as_deref().filter(|e| e.contains("panicked")) {
            problems.push(format!("{name}: {}: {e}", r.case_name()));
        }
        for f in &r.findings {
            seen.insert(format!("{} {}", f.check, f.severity()));
            if let Some(why) = disallowed(f) {
                problems.push(format!("{name}: {}: {why}: {f}", r.case_name()));
            }
        }
    }
    (problems, seen)
}

/// `conform check` of every file under `dir` (recursively) with both profiles.
fn check_files(dir: &Path, problems: &mut Vec<String>, seen: &mut BTreeSet<String>) -> usize {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    for p in &files {
        for profile in [Profile::Strict, Profile::Tolerant] {
            // An undeclared exception panics in debug builds: a problem like the others.
            let reports = match std::panic::catch_unwind(|| check_path(p, None, profile)) {
                Ok(reports) => reports,
                Err(panic) => {
                    let why = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    problems.push(format!("conform check {} panicked: {why}", p.display()));
                    continue;
                }
            };
            for report in reports {
                for f in &report.findings {
                    seen.insert(format!("{} {}", f.check, f.severity()));
                    if let Some(why) = disallowed(f) {
                        problems.push(format!("conform check {}: {why}: {f}", report.file));
                    }
                }
            }
        }
    }
    files.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_finding_has_a_severity_its_catalogue_entry_allows() {
    let started = Instant::now();
    let scenarios = library();
    let recorded = tempfile::tempdir().expect("a temp dir");
    let mut runs: Vec<Vec<Fault>> = vec![vec![]];
    runs.extend(fault_catalogue().iter().map(|i| vec![i.fault]));
    let n_runs = runs.len();
    let mut pending = runs.into_iter().enumerate();
    let mut set = tokio::task::JoinSet::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    loop {
        while set.len() < CONCURRENT_SERVERS {
            let Some((i, faults)) = pending.next() else {
                break;
            };
            let dir = recorded.path().join(format!("run-{i}"));
            set.spawn(run(scenarios.clone(), faults, dir));
        }
        match set.join_next().await {
            Some(done) => {
                let (p, s) = done.expect("a run panicked");
                problems.extend(p);
                seen.extend(s);
            }
            None => break,
        }
    }
    let live = started.elapsed();
    let exchange_files = check_files(recorded.path(), &mut problems, &mut seen);
    let fixtures = check_files(
        Path::new("tests/calibration/violations"),
        &mut problems,
        &mut seen,
    );
    eprintln!(
        "{n_runs} runs of the library in {} ms, then {exchange_files} exchange files and \
         {fixtures} fixtures checked; {} (check, severity) pairs seen, {} ms in all",
        live.as_millis(),
        seen.len(),
        started.elapsed().as_millis()
    );
    assert!(exchange_files >= n_runs, "{exchange_files} exchange files");
    assert!(fixtures >= 20, "{fixtures} fixtures");
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} findings with a severity the catalogue does not allow:\n{}",
        problems.len(),
        problems.join("\n")
    );
    if std::env::var_os("CONFORM_SHOW_SEVERITIES").is_some() {
        eprintln!("{seen:#?}");
    }
    // The exceptions are exercised, not only the defaults.
    for pair in [
        "stream.grammar.unclosed-block info",
        "stream.grammar.unclosed-block must",
        "stream.grammar.partial-json info",
        "implied.thinking-unrequested info",
    ] {
        assert!(seen.contains(pair), "never seen: {pair}\n{seen:#?}");
    }
}
