//! `conform compare` end to end against in-process reference servers: two seeds of the same
//! realistic model are not told apart, rescoring a recording by replay gives identical numbers
//! (and a rerun into the same directory resumes without sending), the request budget stops
//! sending, pass^k over `--repeats`, a cache that reads nothing on an identical repeat is
//! `worse`, `--rpm` and 429s waited out (report.html in headless Chromium:
//! `compare_browser.rs`, in the `clients` harness).

use crate::support::{compare, compare_args as args};
use conform::comparison::Word;

#[test]
fn two_seeds_of_one_realistic_reference_are_neither_better_nor_worse() {
    let dir = tempfile::tempdir().unwrap();
    let c = compare(&args("mock", &["mock:seed=1"], 16, dir.path()));
    let told_apart: Vec<String> = c
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Word::Worse | Word::Better))
        .map(|r| format!("{} {:?}", r.metric, r.diff))
        .collect();
    assert!(told_apart.is_empty(), "{told_apart:?}");
    assert!(c.results.iter().any(|r| r.verdict == Word::Equivalent));
    // Every metric has data (pass^k only with --repeats 2 or more), and the endpoints echoed
    // their model and request ids.
    for r in &c.results {
        assert_eq!(
            r.n > 0,
            r.metric != "reliability_pass_k",
            "{}: n = {}",
            r.metric,
            r.n
        );
    }
    for e in &c.endpoints {
        assert_eq!(e.models_echoed.keys().collect::<Vec<_>>(), ["conform-mock"]);
        assert!(!e.request_ids.is_empty());
    }
    for f in ["report.md", "report.html", "summary.json", "samples.jsonl"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert!(summary["run_date"].as_str().is_some_and(|d| d.len() >= 20));
    assert_eq!(
        summary["results"].as_array().unwrap().len(),
        c.results.len()
    );
}

#[test]
fn rescoring_a_recording_by_replay_gives_identical_numbers() {
    let live_dir = tempfile::tempdir().unwrap();
    let a = args(
        "mock:seed=3",
        &["mock:seed=4,tool-skill=0.5,arg-error-rate=0.3"],
        12,
        live_dir.path(),
    );
    let live = compare(&a);
    assert!(live.spent.sent > 0);
    // The weaker model is measured as such: its arguments break their schema.
    let args_valid = live
        .results
        .iter()
        .find(|r| r.metric == "args_valid")
        .unwrap();
    assert!(args_valid.value < args_valid.reference, "{args_valid:?}");

    let replay_dir = tempfile::tempdir().unwrap();
    let mut r = a.clone();
    r.replay = Some(live_dir.path().to_path_buf());
    r.out = Some(replay_dir.path().to_path_buf());
    let replayed = compare(&r);
    assert_eq!(replayed.spent.sent, 0);
    assert_eq!(replayed.mode, "replay");
    assert_eq!(replayed.results, live.results);
    for (x, y) in replayed.endpoints.iter().zip(&live.endpoints) {
        assert_eq!(
            (&x.models_echoed, &x.request_ids, &x.tasks_scored),
            (&y.models_echoed, &y.request_ids, &y.tasks_scored)
        );
    }

    // A rerun into the same directory resumes from the recording: nothing is sent again.
    let resumed = compare(&a);
    assert_eq!(resumed.spent.sent, 0);
    assert!(resumed.spent.replayed > 0);
    assert_eq!(resumed.results, live.results);
}

#[test]
fn the_request_budget_stops_sending_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = args("mock", &["mock:seed=2"], 8, dir.path());
    a.budget_requests = Some(30);
    let first = compare(&a);
    assert_eq!(first.spent.sent, 30);
    assert!(first.spent.exhausted);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("Budget reached"), "{md}");
    a.budget_requests = None;
    let second = compare(&a);
    assert!(!second.spent.exhausted);
    assert!(second.spent.replayed >= 30, "{:?}", second.spent);
}

#[test]
fn repeats_measure_pass_k_and_an_ignored_cache_is_worse() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = args("mock", &["mock:seed=1,faults=cache-ignored"], 4, dir.path());
    a.repeats = 2;
    a.rpm = vec!["mock:seed=1,faults=cache-ignored=6000".into()];
    let c = compare(&a);
    assert_eq!(c.repeats, 2);
    let get = |m: &str| c.results.iter().find(|r| r.metric == m).unwrap();
    let pass_k = get("reliability_pass_k");
    assert!(pass_k.n >= 4, "{pass_k:?}");
    assert_eq!((pass_k.value, pass_k.reference), (Some(1.0), Some(1.0)));
    let cache = get("cache_read_repeat");
    assert_eq!(cache.n, 5);
    assert_eq!((cache.value, cache.reference), (Some(0.0), Some(1.0)));
    assert_eq!(cache.verdict, Word::Worse);
    // Both endpoints answered every task twice; the target kept to its --rpm.
    for e in &c.endpoints {
        assert_eq!(e.tasks_scored.len(), 2, "{}", e.name);
        assert_eq!(e.tasks_scored[0], e.tasks_scored[1], "{}", e.name);
    }
    assert_eq!(c.endpoints[1].rpm, Some(6000));
    assert_eq!(c.endpoints[0].rpm, None);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("6000/min"), "{md}");

    // An unknown endpoint in --rpm is a usage error.
    a.rpm = vec!["nobody=5".into()];
    let err = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(conform::comparison::run(&a))
        .unwrap_err();
    assert!(err.to_string().contains("not an endpoint"), "{err}");
}

#[test]
fn answers_of_429_are_waited_out_and_what_retries_cannot_get_is_not_reliable() {
    let dir = tempfile::tempdir().unwrap();
    let limited = "mock:seed=1,faults=rate-limit";
    let c = compare(&args("mock", &[limited], 1, dir.path()));
    assert!(c.endpoints[1].pauses > 0, "{:?}", c.endpoints[1]);
    assert_eq!(c.endpoints[0].pauses, 0);
    // Every other request is answered 429: the runner waits out its retry-after and retries
    // (twice at most), so most tasks are answered; a task whose retries all met a 429 is
    // scored as not reliable, and nothing else failed.
    let statuses: Vec<u16> = c
        .sample_rows
        .iter()
        .filter(|s| s.endpoint == limited)
        .flat_map(|s| s.exchanges.iter().filter_map(|o| o.status))
        .collect();
    assert!(
        statuses.iter().all(|s| [200, 429].contains(s)),
        "{statuses:?}"
    );
    let reliability = c
        .results
        .iter()
        .find(|r| r.metric == "reliability")
        .unwrap();
    assert!(reliability.value.unwrap() >= 0.5, "{reliability:?}");
    for s in c.sample_rows.iter().filter(|s| s.endpoint == limited) {
        let throttled = s.exchanges.iter().any(|o| o.status == Some(429));
        assert_eq!(
            s.score.reliable, !throttled,
            "{}: {:?}",
            s.task, s.exchanges
        );
    }
}
