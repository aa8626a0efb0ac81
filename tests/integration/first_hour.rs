//! Issue 24, a newcomer's first hour: every documented promise holds. The targets file is
//! checked before anything runs and, without `--target`, runs every target it defines; a
//! `conform.toml` in the current directory is picked up the same way and the first line says
//! so; and the other stumbles of that issue, each with its exact message and exit code.

use crate::support::*;
use std::path::Path;
use std::process::Command;

/// The first line `conform run` prints on stderr.
fn first_line(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

const TYPO: &str = "[targets.local]\nbase-url = \"http://127.0.0.1:9\"\nmodel = \"m\"\n";

fn two_targets(base_url: &str) -> String {
    format!(
        "[targets.one]\nbase_url = \"{base_url}\"\nmodel = \"conform-mock\"\napi_key_env = \"CONFORM_TEST_KEY\"\n\n\
         [targets.two]\nextends = \"one\"\n"
    )
}

fn target_names(dir: &Path) -> Vec<String> {
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.join("rep/report.json"))).unwrap();
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_config_with_a_typo_is_an_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), TYPO).unwrap();
    let out = run(dir.path(), &["--config", "bad.toml", "--report-dir", "rep"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        first_line(&out)
            .starts_with("error: bad.toml: line 2, column 1: unknown field `base-url`, expected one of `extends`, `provider`, `base_url`"),
        "{}",
        first_line(&out)
    );
    assert!(!dir.path().join("rep/report.json").exists(), "nothing ran");
    // The same file as ./conform.toml, with no flag at all.
    std::fs::write(dir.path().join("conform.toml"), TYPO).unwrap();
    let out = run(dir.path(), &["--report-dir", "rep"]);
    assert_eq!(out.status.code(), Some(2));
    let line = first_line(&out);
    assert!(
        line.starts_with("error: conform.toml: line 2, column 1: unknown field `base-url`"),
        "{line}"
    );
    assert!(
        line.ends_with("(conform.toml in the current directory is read when no target is given; pass --base-url, --provider or --mock-fault to use another target)"),
        "{line}"
    );
    // An explicit target elsewhere leaves the file alone.
    let out = run(
        dir.path(),
        &["--mock-fault", "no-ping", "--report-dir", "rep"],
    );
    assert_eq!(
        first_line(&out),
        "target: the built-in reference server with faults no-ping"
    );
}

#[test]
fn a_config_without_target_runs_every_target_and_conform_toml_is_picked_up() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    std::fs::write(dir.path().join("two.toml"), two_targets(&mock.base_url)).unwrap();
    let out = run(dir.path(), &["--config", "two.toml", "--report-dir", "rep"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        first_line(&out),
        "target: one, two from two.toml (every target of --config; --target NAME picks one)"
    );
    assert_eq!(target_names(dir.path()), ["one", "two"]);
    // --config and --base-url name different targets.
    let out = run(
        dir.path(),
        &["--config", "two.toml", "--base-url", &mock.base_url],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        first_line(&out),
        "error: --config two.toml and --base-url name different targets: give one or the other"
    );
    // A missing --config file is an error, not the built-in server.
    let out = run(dir.path(), &["--config", "nope.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        first_line(&out),
        "error: cannot read nope.toml: No such file or directory (os error 2)"
    );
    // ./conform.toml, with no flag: every target, and the first line says where from.
    std::fs::rename(dir.path().join("two.toml"), dir.path().join("conform.toml")).unwrap();
    std::fs::remove_dir_all(dir.path().join("rep")).unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("CONFORM_TEST_KEY", CANARY)
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
        .args(["run", "--quiet", "--no-snapshots", "--report-dir", "rep"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        first_line(&out),
        "target: one, two from conform.toml in the current directory (every target; --target NAME picks one, --config FILE reads another file); ANTHROPIC_BASE_URL is set but the file comes first"
    );
    assert_eq!(target_names(dir.path()), ["one", "two"]);
}

fn conform_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir)
        .env_remove("ANTHROPIC_BASE_URL")
        .env_remove("CI")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn run_baseline_and_diff_share_one_regression_rule_and_one_exit_rule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run1 = conform_in(
        d,
        &[
            "run",
            "--quiet",
            "--no-snapshots",
            "--report-dir",
            "r1",
            "--filter",
            "basic/hello",
        ],
    );
    assert_eq!(run1.status.code(), Some(0));
    // pass → warn (a `should` finding): the run's own verdicts pass, but it regressed.
    let run2 = conform_in(
        d,
        &[
            "run",
            "--quiet",
            "--no-snapshots",
            "--report-dir",
            "r2",
            "--filter",
            "basic/hello",
            "--mock-fault",
            "no-request-id",
            "--baseline",
            "r1/report.json",
        ],
    );
    let stderr = String::from_utf8_lossy(&run2.stderr);
    assert_eq!(run2.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("baseline r1/report.json: 2 regression(s), 0 fix(es) — the run fails on a regression, as `conform diff` does (`conform diff r1/report.json r2/report.json` groups them by cause)"),
        "{stderr}"
    );
    let diff = conform_in(
        d,
        &[
            "diff",
            "r1/report.json",
            "r2/report.json",
            "--format",
            "text",
        ],
    );
    assert_eq!(diff.status.code(), Some(1));
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        text.contains("Regressions (2), 1 cause:\n  headers.request-id (should): "),
        "{text}"
    );
    assert!(
        text.contains("[2 results, pass → warn]\n    reference/basic/hello@stream, reference/basic/hello@sync\n"),
        "{text}"
    );
    // The other way round: fixes, exit 0, for both commands.
    let back = conform_in(
        d,
        &[
            "run",
            "--quiet",
            "--no-snapshots",
            "--report-dir",
            "r3",
            "--filter",
            "basic/hello",
            "--baseline",
            "r2/report.json",
        ],
    );
    assert_eq!(back.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&back.stderr)
            .contains("baseline r2/report.json: 0 regression(s), 2 fix(es)\n"),
        "{}",
        String::from_utf8_lossy(&back.stderr)
    );
    // Targets with other names: no silent "2 new, 2 removed"; --map compares them.
    let mut renamed: serde_json::Value =
        serde_json::from_str(&read(&d.join("r1/report.json"))).unwrap();
    for r in renamed["results"].as_array_mut().unwrap() {
        r["target"] = "old-name".into();
    }
    std::fs::write(d.join("old.json"), renamed.to_string()).unwrap();
    let diff = conform_in(d, &["diff", "old.json", "r2/report.json"]);
    assert_eq!(diff.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&diff.stderr),
        "error: no target matched: the base's targets (old-name) and the new run's (reference) have different names, so nothing can be compared; pass --map old-name=reference to compare them\n"
    );
    let diff = conform_in(
        d,
        &[
            "diff",
            "old.json",
            "r2/report.json",
            "--map",
            "old-name=reference",
            "--format",
            "text",
        ],
    );
    assert_eq!(diff.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&diff.stdout).starts_with("conform diff: 2 regressions, 0 fixes"),
        "{}",
        String::from_utf8_lossy(&diff.stdout)
    );
    let diff = conform_in(d, &["diff", "old.json", "r2/report.json", "--map", "x"]);
    assert_eq!(diff.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&diff.stderr),
        "error: --map \"x\": expected OLD=NEW (a base target and its new name)\n"
    );
}

#[test]
fn merge_refuses_duplicate_shards_and_names_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for k in 1..=2 {
        let out = conform_in(
            d,
            &[
                "run",
                "--quiet",
                "--no-snapshots",
                "--filter",
                "basic/",
                "--report-dir",
                &format!("s{k}"),
                "--partition",
                &format!("{k}/2"),
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let merge = |args: &[&str]| {
        let out = conform_in(d, &[&["merge", "--report-dir", "m"], args].concat());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(
        merge(&["s1/report.json", "s1/report.json"]),
        (
            Some(2),
            "error: s1/report.json is given twice (s1/report.json and s1/report.json): each shard is merged once\n".into()
        )
    );
    std::fs::create_dir(d.join("copy")).unwrap();
    std::fs::copy(d.join("s1/report.json"), d.join("copy/report.json")).unwrap();
    assert_eq!(
        merge(&["s1/report.json", "copy/report.json", "s2/report.json"]),
        (
            Some(2),
            "error: s1/report.json and copy/report.json are both shard 1/2: each shard is merged once\n".into()
        )
    );
    assert_eq!(
        merge(&["s1/report.json"]),
        (
            Some(2),
            "error: shard 2/2 missing (given: 1/2): a merged report without it would look complete; pass its report.json, or --partial to merge anyway\n".into()
        )
    );
    assert!(!d.join("m/report.json").exists(), "nothing merged");
    let (code, stderr) = merge(&["s1/report.json", "--partial"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.starts_with("warning: shard 2/2 missing (given: 1/2); the merged report holds only the shards given (--partial)\nmerged 1 report(s), "),
        "{stderr}"
    );
    let (code, stderr) = merge(&["s2/report.json", "s1/report.json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.starts_with("merged 2 report(s), "), "{stderr}");
    let merged: serde_json::Value = serde_json::from_str(&read(&d.join("m/report.json"))).unwrap();
    assert!(
        merged.get("shard").is_none(),
        "the merged report is no shard"
    );
    let s1: serde_json::Value = serde_json::from_str(&read(&d.join("s1/report.json"))).unwrap();
    assert_eq!(s1["shard"], serde_json::json!({"index": 1, "count": 2}));
}

/// One file with four mistakes of four kinds: a mode, an operator, a missing key, a request
/// field.
const FOUR_MISTAKES: &str = r#"id: t/bad
feature: basic
title: a bad one
modes: [sync, strem]
steps:
  - id: ask
    request:
      body:
        model: "{{ target.model }}"
        max_token: 64
        messages: [{role: user, content: "Say hello."}]
    expect:
      assert:
        - {path: "$.stop_reason", equal: end_turn}
"#;

/// The errors every pass must report, in file order.
const EXPECTED: [&str; 5] = [
    "error: missing field `reference`\n --> mine/t/bad.yaml:1:1",
    "error: unknown variant `strem`, expected one of sync, stream\n --> mine/t/bad.yaml:4:15",
    "error: request body of step `ask` violates the request schema at `/`: required field \"max_tokens\" is missing",
    "error: request body of step `ask` violates the request schema at `/`: unknown field(s) max_token (the object is closed)",
    "error: unknown field `equal`\n  --> mine/t/bad.yaml:14:35",
];

#[test]
fn lint_reports_every_error_in_one_pass_and_run_lints_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("mine/t")).unwrap();
    std::fs::write(d.join("mine/t/bad.yaml"), FOUR_MISTAKES).unwrap();
    let lint = conform_in(d, &["lint", "mine"]);
    let stderr = String::from_utf8_lossy(&lint.stderr);
    assert_eq!(lint.status.code(), Some(2), "{stderr}");
    let mut at = 0;
    for e in EXPECTED {
        let found = stderr[at..]
            .find(e)
            .unwrap_or_else(|| panic!("{e:?} not in order in:\n{stderr}"));
        at += found + e.len();
    }
    assert!(
        stderr.contains("= hint: did you mean `equals`?"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("checked 1 scenario file(s): 5 error(s), 0 warning(s)\n"),
        "{stderr}"
    );
    // `conform run --scenarios DIR` lints the same and sends nothing.
    let run = conform_in(
        d,
        &[
            "run",
            "--quiet",
            "--no-snapshots",
            "--scenarios",
            "mine",
            "--report-dir",
            "rep",
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    for e in EXPECTED {
        assert!(stderr.contains(e), "{e:?} not in:\n{stderr}");
    }
    assert!(
        stderr.ends_with("error: 5 scenario file error(s) in the built-in library + mine (0 added, 0 overridden): nothing was sent (`conform lint` checks files without running)\n"),
        "{stderr}"
    );
    assert!(!d.join("rep/report.json").exists(), "nothing ran");
    // Without ./scenarios, lint checks the built-in library, as `conform run` and `list` use it.
    let lint = conform_in(d, &["lint"]);
    let stderr = String::from_utf8_lossy(&lint.stderr);
    assert_eq!(lint.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("checked "), "{stderr}");
    assert!(
        stderr.ends_with(" scenario file(s) of the built-in library (there is no ./scenarios here; `conform run` uses the same): 0 error(s), 0 warning(s)\n"),
        "{stderr}"
    );
}

#[test]
fn init_writes_a_config_for_any_endpoint_and_models_run_side_by_side() {
    let mock = Mock::start(&["--model", "model-b"]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let init = conform_in(
        d,
        &[
            "init",
            "--base-url",
            &mock.base_url,
            "--model",
            "conform-mock",
            "--model",
            "model-b",
            "--api-key-env",
            "CONFORM_TEST_KEY",
            "--name",
            "mine",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&init.stderr),
        "wrote conform.toml (target mine); run it with `conform run` (every target of ./conform.toml)\n"
    );
    assert_eq!(init.status.code(), Some(0));
    let toml = read(&d.join("conform.toml"));
    assert!(
        toml.contains("models = [\"conform-mock\", \"model-b\"]\n"),
        "{toml}"
    );
    // The file runs as written: both models, side by side.
    scenario_dir(d);
    let out = run(d, &["--report-dir", "rep"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(target_names(d), ["mine-conform-mock", "mine-model-b"]);
    // No model and no ANTHROPIC_MODEL: a usage error naming the flag.
    let out = Command::new(BIN)
        .current_dir(d)
        .env_remove("ANTHROPIC_MODEL")
        .args([
            "init",
            "--base-url",
            "https://api.example.com/anthropic",
            "--path",
            "x.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --base-url needs a model: pass --model MODEL (repeat it to compare models side by side) or set ANTHROPIC_MODEL\n"
    );
    // A URL with credentials is refused before the file is written.
    let out = conform_in(
        d,
        &[
            "init",
            "--base-url",
            "https://u:p@api.example.com",
            "--model",
            "m",
            "--path",
            "y.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!d.join("y.toml").exists());
    // `conform run --model A --model B`: the same comparison without a file.
    std::fs::remove_file(d.join("conform.toml")).unwrap();
    let out = run(
        d,
        &[
            "--base-url",
            &mock.base_url,
            "--api-key-env",
            "CONFORM_TEST_KEY",
            "--model",
            "conform-mock",
            "--model",
            "model-b",
            "--report-dir",
            "rep2",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        first_line(&out).ends_with("; models side by side: default-conform-mock, default-model-b"),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&read(&d.join("rep2/report.json"))).unwrap();
    let names: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default-conform-mock", "default-model-b"]);
}

#[test]
fn small_stumbles_have_their_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A misspelt --mock-fault gets a "did you mean".
    let out = conform_in(d, &["run", "--mock-fault", "no-pingg"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: --mock-fault: unknown fault `no-pingg` (did you mean `no-ping`?); known faults: "),
        "{stderr}"
    );
    // A mock started with faults says so.
    let mut mock = Command::new(BIN)
        .args([
            "mock",
            "--addr",
            "127.0.0.1:0",
            "--fault",
            "no-ping",
            "--fault",
            "extra-fields",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(mock.stdout.take().unwrap()));
    let third = lines.nth(2).unwrap().unwrap();
    let _ = mock.kill();
    let _ = mock.wait();
    assert_eq!(
        third,
        "faults: no-ping, extra-fields (`conform mock --list-faults` describes them)"
    );
    // Help that names the values and says what a flag does.
    let help = String::from_utf8_lossy(&conform_in(d, &["run", "--help"]).stdout).into_owned();
    assert!(help.contains("--auth <x-api-key|bearer>"), "{help}");
    let help = String::from_utf8_lossy(&conform_in(d, &["list", "--help"]).stdout).into_owned();
    assert!(
        help.contains("--dir <DIR>  A scenario directory to list instead"),
        "{help}"
    );
    assert!(
        help.contains("--json       Print the rows as JSON"),
        "{help}"
    );
    // The README's install command keeps the tested dependency versions.
    let readme = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"));
    assert!(readme.contains("cargo install --locked --path ."), "README");
    assert!(!readme.contains("cargo install --path ."), "README");
}

#[test]
fn the_proxy_prints_each_exchange_and_its_top_causes_and_a_dead_upstream_names_the_cause() {
    let mock = Mock::start(&["--fault", "no-request-id"]);
    let dir = tempfile::tempdir().unwrap();
    let body = r#"{"model":"conform-mock","max_tokens":16,"messages":[{"role":"user","content":"Say hello."}]}"#;
    let script = format!(
        "curl -s -o /dev/null -X POST \"$ANTHROPIC_BASE_URL/v1/messages?beta=true\" -H 'x-api-key: {CANARY}' -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' -d '{body}'"
    );
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "proxy",
            "--upstream",
            &mock.base_url,
            "--report-dir",
            "rep",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[1],
        "proxy #0001 POST /v1/messages → 200, warn: headers.request-id (should): no `request-id` header; SDKs expose it for support requests",
        "{stderr}"
    );
    assert_eq!(
        lines[2],
        "proxy: top causes: headers.request-id (should) in 1"
    );
    assert!(
        lines[3].starts_with("proxy: 1 exchange(s) judged; "),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("rep/report.json"))).unwrap();
    assert_eq!(
        report["targets"][0]["model"], "conform-mock",
        "the model column"
    );
    // A dead upstream: the 502 and the line name the cause.
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "proxy",
            "--upstream",
            "http://127.0.0.1:1",
            "--report-dir",
            "dead",
            "--",
        ])
        .args([
            "sh",
            "-c",
            "curl -s -X POST \"$ANTHROPIC_BASE_URL/v1/messages\" -d '{}'",
        ])
        .output()
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.ends_with("tcp connect error: Connection refused (os error 111)"),
        "{message}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("proxy #0001 POST /v1/messages → no answer, error: conform proxy: the upstream did not answer: "),
        "{stderr}"
    );
}
