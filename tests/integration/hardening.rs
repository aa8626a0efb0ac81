//! Hardening (issue 12), end to end through the binary and the library entry points: a closed
//! stdout is a quiet exit 0; hostile JSONPaths end in a lint error, not a stack overflow or an
//! exponential parse; input nested a million levels deep (JSON, YAML, TOML) ends in a clear
//! error from every loader; an empty `--name` is a usage error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_conform");
const DEEP: usize = 1_000_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run the binary with stdout connected to a pipe whose reading end is already closed, so the
/// first write fails with `BrokenPipe` (deterministically: no race with a reader).
fn run_with_closed_stdout(dir: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exited by itself (no signal: a stack overflow aborts with SIGABRT) with this code.
fn assert_exit(o: &Output, code: i32, what: &str) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "{what}: {:?}\nstderr: {}",
        o.status,
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{what}: {}", stderr(o));
}

const STREAM_WITH_FINDINGS: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"x\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n";

#[test]
fn a_closed_stdout_is_a_quiet_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.sse"), STREAM_WITH_FINDINGS).unwrap();
    let snaps = root().join("snapshots");
    let scenarios = root().join("scenarios");
    let cases: Vec<(PathBuf, Vec<String>)> = vec![
        (dir.path().into(), vec!["check".into(), "a.sse".into()]),
        (
            dir.path().into(),
            vec![
                "check".into(),
                "--format".into(),
                "json".into(),
                "a.sse".into(),
            ],
        ),
        (
            root(),
            vec![
                "snapshots".into(),
                "--snapshots".into(),
                snaps.display().to_string(),
                "list".into(),
                "--all".into(),
            ],
        ),
        (
            root(),
            vec![
                "list".into(),
                "--dir".into(),
                scenarios.display().to_string(),
            ],
        ),
        (root(), vec!["schema".into(), "scenario".into()]),
    ];
    for (cwd, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run_with_closed_stdout(&cwd, &args);
        assert_exit(&o, 0, &args.join(" "));
        assert!(stderr(&o).is_empty(), "{args:?}: {}", stderr(&o));
    }
    // With a reader, the same check still reports its finding and fails.
    let o = run(dir.path(), &["check", "a.sse"]);
    assert_exit(&o, 1, "check with a reader");
}

fn hostile_scenario(path: &str) -> String {
    format!(
        "id: basic/hostile\nfeature: basic\ntitle: t\nreference: r\nsteps:\n  - id: a\n    request:\n      body: {{model: m, max_tokens: 1, messages: [{{role: user, content: hi}}]}}\n    expect:\n      assert:\n        - path: '{path}'\n          exists: true\n"
    )
}

#[test]
fn hostile_jsonpaths_end_in_a_lint_error_for_lint_list_and_run() {
    let parens = format!("$[?{}@.x{}]", "(".repeat(5000), ")".repeat(5000));
    let filters = format!("$.a{}{}", "[?@.b".repeat(25), "]".repeat(25));
    for (name, path, message) in [
        ("parens", parens.as_str(), "more than 16 deep"),
        ("filters", filters.as_str(), "filters more than 8 deep"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let scenarios = dir.path().join("scenarios");
        std::fs::create_dir(&scenarios).unwrap();
        std::fs::write(scenarios.join("hostile.yaml"), hostile_scenario(path)).unwrap();
        let started = Instant::now();
        let o = run(dir.path(), &["lint", "scenarios"]);
        assert_exit(&o, 2, name);
        assert!(stderr(&o).contains(message), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("hostile.yaml:11:"),
            "{name}: file:line:col: {}",
            stderr(&o)
        );
        let o = run(dir.path(), &["list", "--dir", "scenarios"]);
        assert_exit(&o, 2, name);
        assert!(stderr(&o).contains(message), "{name}: {}", stderr(&o));
        let o = run(
            dir.path(),
            &[
                "run",
                "--scenarios",
                "scenarios",
                "--no-snapshots",
                "--report-dir",
                "reports",
            ],
        );
        assert!(o.status.code().is_some(), "{name}: run: {:?}", o.status);
        assert_ne!(o.status.code(), Some(0), "{name}: run: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{name}: run: {}", stderr(&o));
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{name}: {:?}",
            started.elapsed()
        );
    }
}

fn deep_json_array() -> String {
    format!("{}{}", "[".repeat(DEEP), "]".repeat(DEEP))
}

fn deep_json_object() -> String {
    format!("{}1{}", "{\"a\":".repeat(DEEP), "}".repeat(DEEP))
}

#[test]
fn a_million_levels_of_yaml_or_json_in_a_scenario_is_a_clear_error() {
    let file = Path::new("deep.yaml");
    for (name, nested) in [
        ("flow sequences", deep_json_array()),
        ("JSON objects", deep_json_object()),
    ] {
        for text in [
            nested.clone(),
            format!(
                "id: basic/deep\nfeature: basic\ntitle: t\nreference: r\nsteps:\n  - id: a\n    request:\n      body: {nested}\n"
            ),
        ] {
            let (s, d) = conform::load_text(file, &text);
            assert!(s.is_none(), "{name}");
            assert!(d.iter().any(|d| d.is_error()), "{name}: {d:?}");
            let shown = format!("{}", d[0]);
            assert!(shown.contains("deep.yaml"), "{name}: {shown}");
            assert!(shown.len() < 2000, "{name}: the input is not echoed whole");
        }
    }
    // Block-style nesting, deep enough to pass any budget by far.
    let mut block = String::from("id: basic/deep\nbody:\n");
    for i in 0..2000 {
        block.push_str(&" ".repeat(i + 1));
        block.push_str("a:\n");
    }
    let (s, d) = conform::load_text(file, &block);
    assert!(s.is_none() && d.iter().any(|d| d.is_error()));
}

#[test]
fn a_million_levels_in_conform_toml_is_a_clear_error() {
    let file = Path::new("conform.toml");
    for text in [
        format!(
            "[targets.t]\nheaders = {}{}\n",
            "[".repeat(DEEP),
            "]".repeat(DEEP)
        ),
        format!(
            "[targets.t]\nheaders = {}1{}\n",
            "{a=".repeat(DEEP),
            "}".repeat(DEEP)
        ),
        format!(
            "{}\n",
            (0..DEEP).map(|_| "a").collect::<Vec<_>>().join(".") + " = 1"
        ),
    ] {
        let e = conform::Config::parse(&text, file).unwrap_err().to_string();
        assert!(e.starts_with("conform.toml:"), "{}", &e[..e.len().min(300)]);
        assert!(e.len() < 2000, "the input is not echoed whole");
    }
}

#[test]
fn a_million_levels_in_a_checked_body_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deep.json"), deep_json_array()).unwrap();
    std::fs::write(dir.path().join("obj.json"), deep_json_object()).unwrap();
    let event = format!(
        "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{}}}\n\n",
        deep_json_object()
    );
    std::fs::write(dir.path().join("deep.sse"), event).unwrap();
    std::fs::write(
        dir.path().join("deep.request.json"),
        format!(
            "{{\"model\":\"m\",\"max_tokens\":1,\"messages\":{}}}",
            deep_json_array()
        ),
    )
    .unwrap();
    for f in ["deep.json", "obj.json", "deep.sse"] {
        let o = run(dir.path(), &["check", f]);
        let code = o.status.code();
        assert!(
            code == Some(1) || code == Some(2),
            "{f}: {:?} {}",
            o.status,
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{f}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.len() < 100_000, "{f}: the input is not echoed whole");
    }
}

#[test]
fn an_empty_name_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[
            "run",
            "--base-url",
            "http://127.0.0.1:9",
            "--model",
            "m",
            "--name",
            "",
            "--report-dir",
            "reports",
            "--no-snapshots",
            "--scenarios",
            root().join("scenarios").to_str().unwrap(),
        ],
    );
    assert_exit(&o, 2, "--name ''");
    assert!(stderr(&o).contains("--name"), "{}", stderr(&o));
    assert!(!dir.path().join("reports/exchanges/.ndjson").exists());
    // Credentials in --base-url: refused, and the password is not printed.
    let o = run(
        dir.path(),
        &[
            "run",
            "--base-url",
            "http://alice:PASS-s3cr3t@127.0.0.1:9",
            "--model",
            "m",
            "--report-dir",
            "reports",
            "--no-snapshots",
            "--scenarios",
            root().join("scenarios").to_str().unwrap(),
        ],
    );
    assert_exit(&o, 2, "userinfo");
    assert!(!stderr(&o).contains("PASS-s3cr3t"), "{}", stderr(&o));
    assert!(stderr(&o).contains("credentials"), "{}", stderr(&o));
}

/// Run the binary, killed (by its PID) if it has not ended within `limit`: a FIFO must never
/// hang a command.
fn run_bounded(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Scenario files and fixtures are what they claim to be: a fixture or a scenario symlinked
/// outside its directory, a scenario that is a symlink to `/dev/zero`, a FIFO named `x.yaml`
/// and a fixture that is a FIFO are refused by `lint` and by `run`, each with a message naming
/// the file, and nothing hangs or swallows memory.
#[cfg(unix)]
#[test]
fn files_that_are_not_what_they_claim_are_refused_by_name() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    let scenario = |name: &str, content: &str| {
        format!(
            "id: basic/{name}\nfeature: basic\ntitle: t\nreference: r\nsteps:\n  - id: a\n    request:\n      body: {{model: m, max_tokens: 1, messages: [{{role: user, content: [{{type: text, text: \"{content}\"}}]}}]}}\n"
        )
    };
    let mkfifo = |p: &Path| {
        let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
        assert!(ok, "mkfifo {}", p.display());
    };
    // (what, the file the message must name, how to make the case)
    type Make = Box<dyn Fn(&Path)>;
    let secret = outside.path().join("secret.txt");
    let cases: Vec<(&str, &str, Make)> = vec![
        (
            "a fixture symlinked outside its directory",
            "leak.txt",
            Box::new({
                let secret = secret.clone();
                move |s: &Path| {
                    std::fs::create_dir_all(s.join("fixtures")).unwrap();
                    symlink(&secret, s.join("fixtures/leak.txt")).unwrap();
                    std::fs::write(s.join("a.yaml"), scenario("a", "{{ fixtures.leak.txt }}"))
                        .unwrap();
                }
            }),
        ),
        (
            "a fixture that is a FIFO",
            "pipe.bin",
            Box::new(move |s: &Path| {
                std::fs::create_dir_all(s.join("fixtures")).unwrap();
                mkfifo(&s.join("fixtures/pipe.bin"));
                std::fs::write(s.join("a.yaml"), scenario("a", "{{ fixtures.pipe.bin }}")).unwrap();
            }),
        ),
        (
            "a scenario symlinked outside its directory",
            "outside.yaml",
            Box::new({
                let outside = outside.path().to_path_buf();
                move |s: &Path| {
                    std::fs::write(outside.join("real.yaml"), scenario("o", "hi")).unwrap();
                    symlink(outside.join("real.yaml"), s.join("outside.yaml")).unwrap();
                }
            }),
        ),
        (
            "a scenario that is a symlink to /dev/zero",
            "zero.yaml",
            Box::new(|s: &Path| symlink("/dev/zero", s.join("zero.yaml")).unwrap()),
        ),
        (
            "a FIFO named x.yaml",
            "x.yaml",
            Box::new(move |s: &Path| mkfifo(&s.join("x.yaml"))),
        ),
    ];
    for (what, name, make) in cases {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("scenarios");
        std::fs::create_dir(&s).unwrap();
        make(&s);
        for args in [
            vec!["lint", "scenarios"],
            vec![
                "run",
                "--scenarios",
                "scenarios",
                "--no-snapshots",
                "--report-dir",
                "reports",
            ],
        ] {
            let o = run_bounded(dir.path(), &args, Duration::from_secs(60));
            let err = stderr(&o);
            assert!(
                o.status.code().is_some_and(|c| c != 0),
                "{what}: {args:?}: {:?} {err}",
                o.status
            );
            assert!(!err.contains("panicked"), "{what}: {err}");
            assert!(
                err.contains(name),
                "{what}: {args:?}: the message names {name}: {err}"
            );
            for f in walk(&dir.path().join("reports")) {
                let text = std::fs::read_to_string(&f).unwrap_or_default();
                assert!(!text.contains("top secret"), "{what}: {}", f.display());
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
