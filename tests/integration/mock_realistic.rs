//! The scenario library against a *realistic* reference server (`conform mock --behaviour
//! realistic`, issue 11 part 4): a model that varies like a sampled one — answer lengths,
//! `stop_reason` end_turn or max_tokens, tool calls under `auto`, counting, stop sequences
//! written or not, JSON asked for in prose — behind a perfectly conformant protocol.
//!
//! For every one of [`SEEDS`], each result must be `pass`, `warn` or `inconclusive` (never
//! `fail`, `ignored` or `error`: those would blame the endpoint for the model's choices), and
//! every snapshot must match the accepted `snapshots/reference/` ones (recorded against the
//! deterministic server): a snapshot keeps what a conformant endpoint determines, not what a
//! model varies. Snapshots are compared in a copy, so no pending file reaches the repository.

use crate::support::*;
use conform::ResultRecord;
use conform::Scenario;
use conform::Settings;
use conform::SnapshotStatus;
use conform::Verdict;
use conform::reference_server::Behaviour;
use conform::reference_server::MockConfig;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Five fixed seeds (arbitrary, spread out).
const SEEDS: [u64; 5] = [1, 2, 7, 42, 2024];

/// How many realistic servers (each with its own run) work at once.
const CONCURRENT_SEEDS: usize = 2;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the snapshot copy");
    for entry in std::fs::read_dir(from).expect("read snapshots") {
        let entry = entry.expect("a snapshot entry");
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else if path.extension().is_some_and(|e| e == "snap") {
            std::fs::copy(&path, &dest).expect("copy a snapshot");
        }
    }
}

/// The library against a realistic server with `seed`, snapshots compared with a copy of the
/// accepted ones.
async fn run(scenarios: Vec<Scenario>, seed: u64) -> Vec<ResultRecord> {
    let (handle, target) = conform::reference_server::start_with(MockConfig {
        seed,
        behaviour: Behaviour::Realistic,
        ..MockConfig::default()
    })
    .await
    .expect("the realistic server starts");
    let snaps = tempfile::tempdir().expect("a temp dir");
    copy_dir(Path::new("snapshots"), snaps.path());
    let settings = Settings {
        jobs: 4,
        repeat: 1,
        quiet: true,
        max_body: conform::DEFAULT_MAX_BODY,
        snapshots_dir: Some(snaps.path().to_path_buf()),
        ..Settings::default()
    };
    let outcome = conform::execute(
        scenarios,
        vec![target],
        &settings,
        &mut [],
        std::future::pending(),
    )
    .await
    .expect("the run starts");
    drop(handle);
    outcome.report.results
}

/// What is wrong with one result, if anything.
fn problem(seed: u64, r: &ResultRecord) -> Option<String> {
    let verdict_ok = matches!(
        r.verdict,
        Verdict::Pass | Verdict::Warn | Verdict::Inconclusive
    );
    let snapshot = r.snapshot.as_ref().map(|s| s.status);
    let snapshot_ok = matches!(snapshot, None | Some(SnapshotStatus::Same));
    if verdict_ok && snapshot_ok {
        return None;
    }
    let mut lines = vec![format!(
        "seed {seed}: {}@{} {}{}",
        r.scenario,
        r.mode,
        r.verdict,
        r.error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    )];
    for f in r
        .findings
        .iter()
        .filter(|f| f.severity() != conform::Severity::Info)
    {
        lines.push(format!(
            "    {:?} {}: {}",
            f.severity(),
            f.check,
            f.message.trim()
        ));
    }
    if let Some(s) = &r.snapshot
        && s.status != SnapshotStatus::Same
    {
        lines.push(format!(
            "    snapshot {:?}\n{}",
            s.status,
            s.diff.as_deref().unwrap_or("")
        ));
    }
    Some(lines.join("\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_judges_the_protocol_not_the_model_for_five_seeds() {
    let scenarios = library();
    let cases: usize = scenarios.iter().map(|s| s.modes().len()).sum();
    let started = Instant::now();
    let mut pending = SEEDS.iter().copied();
    let mut set = tokio::task::JoinSet::new();
    let mut by_seed: BTreeMap<u64, Vec<ResultRecord>> = BTreeMap::new();
    loop {
        while set.len() < CONCURRENT_SEEDS {
            let Some(seed) = pending.next() else { break };
            let chosen = scenarios.clone();
            set.spawn(async move { (seed, run(chosen, seed).await) });
        }
        match set.join_next().await {
            Some(done) => {
                let (seed, results) = done.expect("a seed's run panicked");
                by_seed.insert(seed, results);
            }
            None => break,
        }
    }
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (seed, results) in &by_seed {
        assert_eq!(results.len(), cases, "seed {seed}: every case has a result");
        let mut mine: BTreeMap<String, usize> = BTreeMap::new();
        for r in results {
            *tally.entry(r.verdict.to_string()).or_default() += 1;
            *mine.entry(r.verdict.to_string()).or_default() += 1;
            problems.extend(problem(*seed, r));
        }
        eprintln!("seed {seed}: {mine:?}");
    }
    eprintln!(
        "library × {} realistic seeds: {} results in {} ms, verdicts {tally:?}",
        SEEDS.len(),
        by_seed.values().map(Vec::len).sum::<usize>(),
        started.elapsed().as_millis()
    );
    assert!(
        problems.is_empty(),
        "{} results blame the endpoint for the model (or move a snapshot):\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The realistic model does vary: across the seeds some probe needs a model that
    // cooperates and does not get one.
    assert!(
        tally.get("inconclusive").copied().unwrap_or(0) > 0,
        "no seed made any probe inconclusive: {tally:?}"
    );
}
