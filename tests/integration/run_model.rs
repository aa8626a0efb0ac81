//! The run model: every producer's events reach the sinks in order, records never change
//! after a sink saw them (amendments are events of their own), and a sink that cannot write
//! stops the run with its error, leaving no stale evidence in a report.

use crate::support::*;
use conform::CaseId;
use conform::ResultRecord;
use conform::RunEvent;
use conform::RunReport;
use conform::Settings;
use conform::Sink;
use conform::SinkError;
use conform::load_dir;
use std::path::Path;

/// Keeps what it was told: each finished record as it was seen, and each amendment.
#[derive(Default)]
struct Witness {
    finished: Vec<ResultRecord>,
    amended: Vec<(CaseId, conform::Finding, conform::Verdict)>,
    exchanges: usize,
    final_report: Option<RunReport>,
    /// Fail on the nth finished case.
    fail_at: Option<usize>,
}

impl Sink for Witness {
    fn event(&mut self, e: &RunEvent<'_>, report: &RunReport) -> Result<(), SinkError> {
        match e {
            RunEvent::CaseFinished { record } => {
                self.finished.push((*record).clone());
                if self.fail_at == Some(self.finished.len()) {
                    return Err(SinkError::new(
                        "writing the witness",
                        std::io::Error::other("disk full"),
                    ));
                }
            }
            RunEvent::CaseAmended {
                case,
                finding,
                verdict,
            } => self
                .amended
                .push(((*case).clone(), (*finding).clone(), *verdict)),
            RunEvent::ExchangeRecorded { .. } => self.exchanges += 1,
            RunEvent::Finished => self.final_report = Some(report.clone()),
            _ => {}
        }
        Ok(())
    }
}

fn scenarios(filter: &str) -> Vec<conform::Scenario> {
    let (all, _) = load_dir(Path::new("scenarios"));
    all.into_iter()
        .filter(|s| s.id().starts_with(filter))
        .collect()
}

fn settings() -> Settings {
    Settings {
        jobs: 2,
        repeat: 1,
        quiet: true,
        max_body: conform::DEFAULT_MAX_BODY,
        ..Settings::default()
    }
}

/// The final report is the finished records with the amendments applied, nothing else: no
/// record changed behind the sinks' backs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_is_the_finished_records_plus_their_amendments() {
    let faults = vec![
        "usage-not-cumulative"
            .parse::<conform::reference_server::Fault>()
            .unwrap(),
    ];
    let (_handle, target) = conform::reference_server::start(faults).await.unwrap();
    let mut w = Witness::default();
    let out = conform::execute(
        scenarios("thinking/"),
        vec![target],
        &settings(),
        &mut [&mut w],
        std::future::pending(),
    )
    .await
    .unwrap();
    assert!(
        !w.amended.is_empty(),
        "the fault gives stream/sync disagreements"
    );
    assert!(
        w.exchanges >= w.finished.len(),
        "every case announced its exchanges"
    );
    let mut expected = w.finished.clone();
    for (case, finding, verdict) in &w.amended {
        let r = expected.iter_mut().find(|r| r.is(case)).unwrap();
        r.findings.push(finding.clone());
        r.verdict = *verdict;
    }
    let key = |r: &ResultRecord| r.case_id();
    expected.sort_by_key(key);
    let mut got = out.report.results.clone();
    got.sort_by_key(key);
    assert_eq!(got, expected);
    assert_eq!(w.final_report.as_ref(), Some(&out.report));
}

/// A sink error ends the run early with that error; cases not yet started never run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_that_cannot_write_stops_the_run() {
    let (_handle, target) = conform::reference_server::start(Vec::new()).await.unwrap();
    let library = scenarios("");
    let mut w = Witness {
        fail_at: Some(3),
        ..Witness::default()
    };
    let out = conform::execute(
        library.clone(),
        vec![target],
        &Settings {
            jobs: 1,
            ..settings()
        },
        &mut [&mut w],
        std::future::pending(),
    )
    .await;
    match out {
        Err(conform::RunError::Sink(e)) => {
            assert!(e.to_string().contains("disk full"), "{e}");
        }
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("the run went on after its sink failed"),
    }
    assert_eq!(
        w.finished.len(),
        3,
        "nothing is announced after the failure"
    );
    assert!(w.final_report.is_none());
}

/// An exchange file that cannot be written stops `conform run` (exit 3, the path named), and
/// the previous run's recording is never taken as this run's evidence.
#[test]
fn an_unwritable_exchange_file_stops_the_run_without_stale_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("rep/exchanges");
    std::fs::create_dir_all(&ex).unwrap();
    std::fs::write(
        ex.join("reference.ndjson"),
        "{\"stale\":\"STALE-EVIDENCE\"}\n",
    )
    .unwrap();
    // A directory where the run's exchange file goes: creating it fails.
    std::fs::create_dir_all(ex.join("reference.ndjson.partial")).unwrap();
    let out = run(dir.path(), &["--report-dir", "rep", "--filter", "basic/"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(conform::exit::INFRA), "{stderr}");
    assert!(stderr.contains("reference.ndjson.partial"), "{stderr}");
    for (path, text) in all_files(&dir.path().join("rep")) {
        if path.ends_with("reference.ndjson") {
            continue;
        }
        assert!(!text.contains("STALE-EVIDENCE"), "{}", path.display());
    }
}
