//! `conform run` end to end: the binary against `conform mock` processes on loopback.

use crate::support::*;
use std::process::Command;

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
    let md = read(&dir.path().join("rep/report.md"));
    assert!(md.contains("| basic | ✅ 1/1 | ✅ 1/1 |"), "{md}");
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
    assert!(
        md.contains("| feature | clean sync | clean stream | faulty sync | faulty stream |"),
        "{md}"
    );
    assert!(
        md.contains("| stop-sequences | ✅ 1/1 | ✅ 1/1 | 🚫 0/1 | 🚫 0/1 |"),
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
    // Port 1 on loopback: nothing listens there; connection refused at once. An unresolvable
    // name the same, within the preflight's limit, whatever the rate limit says.
    for url in ["http://127.0.0.1:1", "http://no-such-host.invalid"] {
        let start = std::time::Instant::now();
        let out = run(
            dir.path(),
            &[
                "--base-url",
                url,
                "--model",
                "m",
                "--no-auth",
                "--report-dir",
                "rep",
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{url}: {err}");
        assert!(
            start.elapsed().as_secs() < 10,
            "{url}: took {:?}",
            start.elapsed()
        );
        let report: serde_json::Value =
            serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
        assert_eq!(
            report["results"].as_array().unwrap().len(),
            0,
            "no request was sent"
        );
        let why = report["stopped"][0].as_str().unwrap();
        assert!(why.contains("unreachable"), "{why}");
        let out_text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out_text.contains("unreachable") || err.contains("unreachable"),
            "{out_text}{err}"
        );
    }
}

/// A key the endpoint rejects (401 everywhere) ends the run early: one clear `error`, no
/// conformance verdicts about the features.
#[test]
fn rejected_credentials_stop_the_run_with_one_message() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("WRONG_KEY", "sk-wrong-key-0000")
        .args([
            "run",
            "--quiet",
            "--no-snapshots",
            "--report-dir",
            "rep",
            "--jobs",
            "1",
        ])
        .args(["--base-url", &mock.base_url, "--model", "conform-mock"])
        .args(["--api-key-env", "WRONG_KEY"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        1,
        "one request, then the run stops: {results:?}"
    );
    assert_eq!(results[0]["verdict"], "error");
    assert!(
        report["stopped"][0]
            .as_str()
            .unwrap()
            .contains("rejected the credentials")
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

/// A broken scenario file is reported with its position and nothing is sent (issue 24: the
/// run lints first, as `conform lint` does, instead of running every case and then exiting 2).
#[test]
fn a_broken_scenario_file_stops_the_run_before_anything_is_sent() {
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
    assert!(
        stderr.contains("error: 1 scenario file error(s) in scenarios: nothing was sent (`conform lint` checks files without running)"),
        "{stderr}"
    );
    assert!(!dir.path().join("rep/report.json").exists(), "no case ran");
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

/// SIGTERM (what CI timeouts send) and SIGINT exit 143 and 130 and still write a valid partial
/// report marked interrupted, JUnit included, replacing the previous run's files.
#[test]
fn signals_write_partial_reports_and_exit_128_plus_n() {
    use std::io::Read;
    for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
        // An endpoint that accepts and never answers: the run is in flight when signalled.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in listener.incoming().take(4).flatten() {
                held.push(s);
            }
            std::thread::sleep(std::time::Duration::from_secs(8));
        });
        let dir = tempfile::tempdir().unwrap();
        scenario_dir(dir.path());
        std::fs::create_dir_all(dir.path().join("rep")).unwrap();
        std::fs::write(dir.path().join("rep/report.json"), "stale").unwrap();
        let mut child = std::process::Command::new(BIN)
            .current_dir(dir.path())
            .env("CONFORM_TEST_KEY", CANARY)
            .env_remove("CI")
            .args(["run", "--quiet", "--no-snapshots", "--report-dir", "rep"])
            .args(["--base-url", &format!("http://{addr}"), "--model", "m"])
            .args(["--api-key-env", "CONFORM_TEST_KEY"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(800));
        let sent = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(start.elapsed().as_secs() < 10, "no exit after {signal}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(code), "{signal}: {err}");
        let report: serde_json::Value =
            serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
        assert_eq!(report["interrupted"], true);
        let junit = read(&dir.path().join("rep/junit.xml"));
        assert!(junit.contains("interrupted"), "{junit}");
        let exchange_files: Vec<_> = std::fs::read_dir(dir.path().join("rep/exchanges"))
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "ndjson"))
            .collect();
        assert_eq!(exchange_files.len(), 1, "the exchange file is in place");
        drop(hold);
    }
}

/// Everything given on the command line is checked before the first request: a baseline that
/// is not a report, a filter that selects nothing, two ways of naming the target.
#[test]
fn command_line_mistakes_exit_2_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    // Nothing listens there: had a request gone out, the run would exit 3, not 2.
    let dead = "http://127.0.0.1:9";
    for (args, says) in [
        (vec!["--baseline", "missing.json"], "--baseline"),
        (vec!["--filter", "no-such-scenario"], "no scenario matches"),
        (
            vec!["--target", "x", "--base-url", dead, "--model", "m"],
            "--target and --base-url",
        ),
    ] {
        let out = run(dir.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!dir.path().join("reports").join("report.json").exists());
    }
}

/// `--replay` judges a previous run's exchanges with no network: the same verdicts and
/// findings; a step whose request changed since is an `error` naming both requests.
#[test]
fn replay_reproduces_a_run_and_names_a_changed_request() {
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    let out = run(dir.path(), &["--report-dir", "live"]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(dir.path(), &["--report-dir", "again", "--replay", "live"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = |d: &str| {
        let r: serde_json::Value =
            serde_json::from_str(&read(&dir.path().join(d).join("report.json"))).unwrap();
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["scenario"].clone(),
                    x["mode"].clone(),
                    x["verdict"].clone(),
                    x["findings"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(results("live"), results("again"));
    // Change what one scenario sends: its replay no longer matches the recording.
    let hello = dir.path().join("scenarios/t/hello.yaml");
    std::fs::write(&hello, read(&hello).replace("Say hello.", "Say goodbye.")).unwrap();
    let out = run(dir.path(), &["--report-dir", "changed", "--replay", "live"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "only errors: nothing else ran differently"
    );
    let report = read(&dir.path().join("changed/report.json"));
    assert!(report.contains("answers another request"), "{report}");
    assert!(
        report.contains("Say hello.") && report.contains("Say goodbye."),
        "{report}"
    );
}

/// A 429 that outlasts the retries, and again when the case runs a second time at the end of
/// the run, is infrastructure: `error` naming the status, exit 3, and the scenario's
/// assertions about the feature are not evaluated. (`cooldown-429` answers 429 for 6 s; with
/// no retries the target's pause of 1 s ends well within it.)
#[test]
fn a_429_that_outlasts_the_retries_is_an_error_not_a_failure() {
    let mock = Mock::start(&["--fault", "cooldown-429"]);
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    std::fs::write(
        dir.path().join("conform.toml"),
        format!(
            "[targets.busy]\nbase_url = \"{}\"\nmodel = \"conform-mock\"\napi_key_env = \"CONFORM_TEST_KEY\"\nretries = 0\n",
            mock.base_url
        ),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "--target",
            "busy",
            "--jobs",
            "1",
            "--mode",
            "sync",
            "--filter",
            "t/hello",
            "--report-dir",
            "rep",
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
    let r = &report["results"][0];
    assert_eq!(r["verdict"], "error");
    assert!(r["error"].as_str().unwrap().contains("HTTP 429"), "{r}");
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["check"].as_str().unwrap().starts_with("assert.")),
        "no assertion was evaluated: {r}"
    );
}

/// A probe whose precondition on the model's answer is not met (`requires: true`) is
/// `inconclusive`: legal behaviour, no conformance statement — the run passes, even strictly,
/// and its effect assertions do not make it `ignored`.
#[test]
fn an_unmet_probe_precondition_is_inconclusive() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("scenarios/t");
    std::fs::create_dir_all(&s).unwrap();
    std::fs::write(
        s.join("probe.yaml"),
        r#"id: t/probe
feature: stop-sequences
title: a probe the model does not cooperate with
reference: "Messages API"
modes: [sync]
steps:
  - id: ask
    request:
      body:
        model: "{{ target.model }}"
        max_tokens: 64
        stop_sequences: ["ZEBRA"]
        messages: [{role: user, content: "Say hello."}]
    expect:
      assert:
        - {path: "$.content[0].text", contains: "a word the model never writes", requires: true}
        - {path: "$.stop_reason", equals: max_tokens, effect: true}
"#,
    )
    .unwrap();
    let out = run(dir.path(), &["--report-dir", "rep", "--strict"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
    let r = &report["results"][0];
    assert_eq!(r["verdict"], "inconclusive", "{r}");
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "probe.inconclusive"),
        "{r}"
    );
}

/// `--partition 1/3` … `3/3` split the cases of the built-in library deterministically, and
/// `conform merge` of the three reports equals the unpartitioned run.
#[test]
fn partitions_merged_equal_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let key = |d: &std::path::Path| {
        let r: serde_json::Value = serde_json::from_str(&read(&d.join("report.json"))).unwrap();
        let mut rows: Vec<String> = r["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                format!(
                    "{} {}@{} {} {}",
                    x["target"], x["scenario"], x["mode"], x["verdict"], x["findings"]
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let out = run(dir.path(), &["--report-dir", "whole"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole = key(&dir.path().join("whole"));
    assert!(
        whole.len() > 100,
        "the built-in library ran: {}",
        whole.len()
    );
    let mut sizes = Vec::new();
    for k in 1..=3 {
        let shard = format!("shard{k}");
        let out = run(
            dir.path(),
            &["--report-dir", &shard, "--partition", &format!("{k}/3")],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        sizes.push(key(&dir.path().join(&shard)).len());
    }
    assert!(
        sizes.iter().all(|n| *n > 10),
        "every shard has cases: {sizes:?}"
    );
    let merged = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "merge",
            "shard1/report.json",
            "shard2/report.json",
            "shard3/report.json",
        ])
        .args(["--report-dir", "merged"])
        .output()
        .unwrap();
    assert_eq!(
        merged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    assert_eq!(key(&dir.path().join("merged")), whole);
    let begins = read(&dir.path().join("merged/exchanges/reference.ndjson"))
        .lines()
        .filter(|l| l.starts_with(r#"{"rec":"begin""#))
        .count();
    let whole_begins = read(&dir.path().join("whole/exchanges/reference.ndjson"))
        .lines()
        .filter(|l| l.starts_with(r#"{"rec":"begin""#))
        .count();
    assert_eq!(
        begins, whole_begins,
        "every shard's exchanges are in the merged report"
    );
}

/// The committed JSON Schemas (for editors: the `yaml-language-server` modeline, Even Better
/// TOML) are what the binary prints; regenerate with `conform schema scenario|config`.
#[test]
fn committed_schemas_match_the_binary() {
    for (what, file) in [
        ("scenario", "schemas/scenario.schema.json"),
        ("config", "schemas/conform.schema.json"),
    ] {
        let out = Command::new(BIN).args(["schema", what]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let committed = read(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            committed,
            "{file} is stale: run `conform schema {what} > {file}`"
        );
    }
}

/// `conform completions` prints a script for each shell; `conform init` writes a
/// conform.toml that `conform run --target` accepts.
#[test]
fn completions_and_init() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("conform") && text.contains("merge"),
            "{shell}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["init", "--provider", "deepseek"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = read(&dir.path().join("conform.toml"));
    assert!(
        toml.contains("[targets.deepseek]") && toml.contains("provider = \"deepseek\""),
        "{toml}"
    );
    let again = Command::new(BIN)
        .current_dir(dir.path())
        .args(["init", "--provider", "deepseek"])
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing file is kept without --force"
    );
}

/// Stream and sync answers to the same request are compared when the run ends: the clean
/// reference server agrees with itself, and one whose streamed usage is an increment, not the
/// running total, disagrees in token accounting on the streamed cases (a `should`, so `warn`).
#[test]
fn stream_and_sync_answers_to_the_same_request_must_agree() {
    let count = |fault: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["--report-dir", "rep", "--filter", "thinking/enabled"];
        if let Some(f) = fault {
            args.extend(["--mock-fault", f]);
        }
        let out = run(dir.path(), &args);
        let report: serde_json::Value =
            serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
        let hits: Vec<(String, String)> = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["check"] == "message.modes-disagree")
                    .map(move |_| (r["mode"].to_string(), r["verdict"].to_string()))
            })
            .collect();
        (out.status.code(), hits)
    };
    let (clean_exit, clean) = count(None);
    assert_eq!(clean_exit, Some(0));
    assert!(clean.is_empty(), "{clean:?}");
    let (_, faulty) = count(Some("usage-not-cumulative"));
    assert!(!faulty.is_empty(), "the disagreement was not found");
    assert!(
        faulty.iter().all(|(mode, _)| mode == "\"stream\""),
        "{faulty:?}"
    );
}

/// `conform bench library` runs the library against a mock in another process, replays the
/// recorded requests and prints the ratio (the figures are measured by hand, never asserted).
#[test]
fn the_library_bench_prints_the_runner_overhead() {
    let out = Command::new(BIN)
        .args(["bench", "library", "--rounds", "1"])
        .env_remove("CI")
        .output()
        .unwrap();
    let stdout = success_stdout(&out);
    for line in [
        "library: 1",
        "conform run (",
        "raw replay in",
        "ratio: ",
        "median TTFT",
        // Where the run's time went: the cases against the rest (read from report.json).
        "  of which the cases",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(line)),
            "no {line:?} line: {stdout}"
        );
    }
    // CPU figures come from /proc, which Linux has.
    if cfg!(target_os = "linux") {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("  CPU per run (user + system, mean): conform run ")),
            "{stdout}"
        );
    }
    // The replay by curl, a process as `conform run` is, or why it was skipped.
    assert!(
        stdout.lines().any(|l| l.starts_with("ratio to curl: "))
            || stdout.lines().any(|l| l.starts_with("curl not found"))
            || stdout
                .lines()
                .any(|l| l.starts_with("curl --parallel failed")),
        "{stdout}"
    );
}
