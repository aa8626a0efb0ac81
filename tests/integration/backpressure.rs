//! A target that cools down (issue 22, point 3): the reference server with `cooldown-429`
//! answers 429 without `retry-after` to every request for 2 s from its first request, longer
//! than one request's own retries last. The runner pauses the whole target, backs off
//! target-wide, lowers its concurrency and re-runs at the end the cases the cooldown still
//! left without an answer: nearly the whole library gets a verdict, and the report says how
//! long the target was paused and why.

use crate::support::*;
use conform::Verdict;
use conform::reference_server::Fault;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooldown_leaves_nearly_every_result_judged() {
    let scenarios = library();
    let planned: usize = scenarios.iter().map(|s| s.modes().len()).sum();
    let report = run_reference(scenarios, vec![Fault::Cooldown], 4).await;
    let unjudged: Vec<String> = report
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Error | Verdict::Skip))
        .map(|r| {
            format!(
                "{}@{} {}",
                r.scenario,
                r.mode,
                r.error.as_deref().unwrap_or("")
            )
        })
        .collect();
    let judged = report.results.len() - unjudged.len();
    eprintln!("cooldown-429: {judged} of {planned} results judged; not: {unjudged:#?}");
    let paused = report.paused.join("\n");
    eprintln!("{paused}");
    assert!(
        paused.contains("was paused") && paused.contains("HTTP 429 without retry-after"),
        "the report says how long and why: {paused:?}"
    );
    assert!(
        judged * 10 >= planned * 9,
        "{judged} of {planned} judged; not judged:\\n{}",
        unjudged.join("\\n")
    );
}
