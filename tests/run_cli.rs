//! `conform run` end to end: the binary against `conform mock` processes on loopback.

mod support;

use support::*;

#[test]
fn the_embedded_server_passes_and_the_reports_agree() {
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    let out = run(dir.path(), &["--report-dir", "rep"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert!(
        results.iter().all(|r| r["verdict"] == "pass"),
        "{results:?}"
    );
    let junit = read(&dir.path().join("rep/junit.xml"));
    assert_eq!(junit.matches("<testcase").count(), results.len());
    assert!(read(&dir.path().join("rep/report.md")).contains("| basic | pass 2 |"));
    let exchanges = read(&dir.path().join("rep/exchanges/reference.ndjson"));
    let begins = exchanges
        .lines()
        .filter(|l| l.starts_with(r#"{"rec":"begin""#))
        .count();
    assert_eq!(begins, 4, "one exchange per result");
}

#[test]
fn two_targets_side_by_side_and_the_canary_key_never_leaks() {
    let clean = Mock::start(&[]);
    let faulty = Mock::start(&["--fault", "stop-sequence-ignored"]);
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    let config = format!(
        "[targets.clean]\nbase_url = \"{}\"\nmodel = \"conform-mock\"\napi_key_env = \"CONFORM_TEST_KEY\"\n\n\
         [targets.faulty]\nextends = \"clean\"\nbase_url = \"{}\"\nauth = \"bearer\"\n",
        clean.base_url, faulty.base_url
    );
    std::fs::write(dir.path().join("conform.toml"), config).unwrap();
    let out = run(
        dir.path(),
        &[
            "--target",
            "clean",
            "--target",
            "faulty",
            "--report-dir",
            "rep",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = read(&dir.path().join("rep/report.md"));
    assert!(md.contains("| feature | clean | faulty |"), "{md}");
    assert!(
        md.contains("| stop-sequences | pass 2 | ignored 2 |"),
        "{md}"
    );
    // The key appears nowhere: not on the terminal, not in any report or exchange file.
    let mut places = vec![
        (
            "stdout".into(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        (
            "stderr".into(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
    ];
    places.extend(
        all_files(&dir.path().join("rep"))
            .into_iter()
            .map(|(p, t)| (p.display().to_string(), t)),
    );
    for (place, text) in &places {
        assert!(!text.contains(CANARY), "the key leaked into {place}");
    }
    assert!(read(&dir.path().join("rep/exchanges/faulty.ndjson")).contains("[REDACTED]"));
}

#[test]
fn an_unreachable_endpoint_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    // Port 1 on loopback: nothing listens there; connection refused at once.
    let out = run(
        dir.path(),
        &[
            "--base-url",
            "http://127.0.0.1:1",
            "--model",
            "m",
            "--report-dir",
            "rep",
            "--filter",
            "t/hello",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
    assert!(
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["verdict"] == "error")
    );
}

#[test]
fn bad_usage_and_bad_config_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    assert_eq!(run(dir.path(), &["--jobs", "many"]).status.code(), Some(2));
    assert_eq!(
        run(dir.path(), &["--target", "nowhere"]).status.code(),
        Some(2),
        "no conform.toml"
    );
    std::fs::write(
        dir.path().join("conform.toml"),
        "[targets.x]\nbase_url = \"http://127.0.0.1:1\"\napi_key = \"inline\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["--target", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("inline"),
        "a key in the file is refused without echoing it"
    );
    assert_eq!(
        run(dir.path(), &["--mock-fault", "no-such-fault"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_broken_scenario_file_is_reported_and_the_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario_dir(dir.path());
    std::fs::write(
        s.join("t/broken.yaml"),
        "id: t/broken\nfeature: basic\ntitle: x\nreference: y\nstepz: []\n",
    )
    .unwrap();
    let out = run(dir.path(), &["--report-dir", "rep"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.yaml:5:1"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
    assert_eq!(
        report["results"].as_array().unwrap().len(),
        4,
        "the good scenarios ran"
    );
}

/// A provider that answers 429 every other request passes once retried, but the retries are
/// reported (`http.retried`, a `should`), so a strict run fails.
#[test]
fn retried_requests_are_reported_and_fail_a_strict_run() {
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    let out = run(
        dir.path(),
        &[
            "--mock-fault",
            "rate-limit",
            "--jobs",
            "1",
            "--report-dir",
            "rep",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings alone pass: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = read(&dir.path().join("rep/report.json"));
    assert!(report.contains("\"http.retried\""), "{report}");
    let out = run(
        dir.path(),
        &[
            "--mock-fault",
            "rate-limit",
            "--jobs",
            "1",
            "--strict",
            "--report-dir",
            "rep2",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}
