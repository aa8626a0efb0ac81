//! Where users are (issue 14): the binary carries its library and runs from any directory,
//! the Anthropic SDKs' environment variables define the target, and provider profiles mark
//! documented deviations. Every server is a `conform mock` child on a 127.0.0.1 ephemeral
//! port, killed by PID when the test ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_conform");
const KEY: &str = "users-test-key";
const SDK_VARS: [&str; 4] = [
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_MODEL",
];

struct Mock {
    child: Child,
    url: String,
}

impl Mock {
    fn start(extra: &[&str]) -> Mock {
        let mut child = Command::new(BIN)
            .args(["mock", "--addr", "127.0.0.1:0", "--api-key", KEY])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the mock");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("mock said {line:?}"))
            .to_string();
        Mock { child, url }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `conform` (the binary given) in `dir`, with no SDK variable but those given.
fn conform(bin: &Path, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(bin);
    c.current_dir(dir).env_remove("CI");
    for v in SDK_VARS {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().expect("run conform")
}

fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut all = vec!["run", "--quiet", "--no-snapshots"];
    all.extend_from_slice(args);
    conform(Path::new(BIN), dir, env, &all)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("reports/report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The binary copied alone into a directory of its own, as `cargo install` leaves it: no
/// source tree beside it. (Copying proves what `cargo install --path . --root TMP` would,
/// without a second build on a shared 2-core machine.)
fn installed() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin/conform");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(BIN, &bin).unwrap();
    (root, bin)
}

#[test]
fn the_installed_binary_runs_its_library_from_an_empty_directory() {
    let (_root, bin) = installed();
    let empty = tempfile::tempdir().unwrap();
    // Images use fixtures: they come from the binary too.
    let o = conform(
        &bin,
        empty.path(),
        &[],
        &[
            "run",
            "--quiet",
            "--no-snapshots",
            "--filter",
            "image/*",
            "--filter",
            "document/pdf",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.lines()
            .next()
            .unwrap()
            .starts_with("target: the built-in reference server"),
        "{err}"
    );
    let r = report(empty.path());
    let results = r["results"].as_array().unwrap();
    assert!(results.len() >= 10, "{} results", results.len());
    assert!(
        results
            .iter()
            .all(|x| x["verdict"] == "pass" || x["expected"] == true)
    );
    // Export, edit one scenario (same id), run the directory on top of the library.
    let lib = empty.path().join("lib");
    let o = conform(
        &bin,
        empty.path(),
        &[],
        &["scenarios", "export", lib.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let again = conform(
        &bin,
        empty.path(),
        &[],
        &["scenarios", "export", lib.to_str().unwrap()],
    );
    assert_eq!(again.status.code(), Some(2), "export does not overwrite");
    let hello = lib.join("anthropic/basic/hello.yaml");
    let text = std::fs::read_to_string(&hello).unwrap();
    let edited = text.replacen("title:", "title: EDITED", 1);
    assert_ne!(text, edited);
    std::fs::write(&hello, edited).unwrap();
    std::fs::create_dir_all(lib.join("mine")).unwrap();
    std::fs::write(
        lib.join("mine/extra.yaml"),
        text.replacen("id: basic/hello", "id: basic/extra-hello", 1),
    )
    .unwrap();
    let o = conform(
        &bin,
        empty.path(),
        &[],
        &[
            "run",
            "--no-snapshots",
            "--filter",
            "basic/*hello",
            "--scenarios",
            lib.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 added, "), "{}", stderr(&o));
    let r = report(empty.path());
    let titles: Vec<(&str, &str)> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["scenario"].as_str().unwrap(),
                x["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        titles
            .iter()
            .any(|(id, t)| *id == "basic/hello" && t.starts_with("EDITED")),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|(id, _)| *id == "basic/extra-hello"),
        "{titles:?}"
    );
}

#[test]
fn the_sdk_variables_define_the_target_and_flags_win() {
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = mock.url.as_str();
    let hello = ["--filter", "basic/hello"];
    // ANTHROPIC_BASE_URL + ANTHROPIC_API_KEY (as Bearer, like today's SDKs) + ANTHROPIC_MODEL.
    let o = run(
        d,
        &[
            ("ANTHROPIC_BASE_URL", url),
            ("ANTHROPIC_API_KEY", KEY),
            ("ANTHROPIC_MODEL", "conform-mock"),
        ],
        &hello,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = stderr(&o).lines().next().unwrap().to_string();
    assert!(
        first.contains(url) && first.contains("from ANTHROPIC_BASE_URL"),
        "{first}"
    );
    assert!(first.contains("ANTHROPIC_API_KEY as Bearer"), "{first}");
    assert_eq!(report(d)["targets"][0]["base_url"], url);
    // ANTHROPIC_AUTH_TOKEN is sent as Bearer.
    let o = run(
        d,
        &[
            ("ANTHROPIC_BASE_URL", url),
            ("ANTHROPIC_AUTH_TOKEN", KEY),
            ("ANTHROPIC_MODEL", "conform-mock"),
        ],
        &hello,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .lines()
            .next()
            .unwrap()
            .contains("ANTHROPIC_AUTH_TOKEN as Bearer")
    );
    // A wrong key is noticed (the target is really used): credentials rejected, not 0.
    let o = run(
        d,
        &[
            ("ANTHROPIC_BASE_URL", url),
            ("ANTHROPIC_API_KEY", "wrong"),
            ("ANTHROPIC_MODEL", "conform-mock"),
        ],
        &hello,
    );
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    // No model: a usage error naming ANTHROPIC_MODEL.
    let o = run(
        d,
        &[("ANTHROPIC_BASE_URL", url), ("ANTHROPIC_API_KEY", KEY)],
        &hello,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ANTHROPIC_MODEL"), "{}", stderr(&o));
    // No key: a usage error, unless --no-auth.
    let o = run(
        d,
        &[
            ("ANTHROPIC_BASE_URL", url),
            ("ANTHROPIC_MODEL", "conform-mock"),
        ],
        &hello,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--no-auth"), "{}", stderr(&o));
    let o = run(
        d,
        &[],
        &[
            "--base-url",
            url,
            "--model",
            "conform-mock",
            "--filter",
            "basic/hello",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "--base-url without a key: {}",
        stderr(&o)
    );
    let o = run(
        d,
        &[],
        &[
            "--base-url",
            url,
            "--model",
            "conform-mock",
            "--no-auth",
            "--filter",
            "errors/no-key",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "--no-auth sends no key: {}",
        stderr(&o)
    );
    // Flags win over the variables: base URL, model and key.
    let o = run(
        d,
        &[
            ("ANTHROPIC_BASE_URL", "http://127.0.0.1:1"),
            ("ANTHROPIC_API_KEY", "wrong"),
            ("ANTHROPIC_MODEL", "no-such-model"),
            ("RIGHT_KEY", KEY),
        ],
        &[
            "--base-url",
            url,
            "--model",
            "conform-mock",
            "--api-key-env",
            "RIGHT_KEY",
            "--filter",
            "basic/hello",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .lines()
            .next()
            .unwrap()
            .contains("from --base-url")
    );
    assert_eq!(report(d)["targets"][0]["model"], "conform-mock");
    // None set: the built-in server, and the first line says so.
    let o = run(d, &[], &hello);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .lines()
            .next()
            .unwrap()
            .contains("built-in reference server")
    );
}

fn provider_config(dir: &Path, url: &str) {
    std::fs::write(
        dir.join("conform.toml"),
        format!(
            "[targets.ds]\nprovider = \"dashscope\"\nbase_url = \"{url}\"\napi_key_env = \"DS_KEY\"\n"
        ),
    )
    .unwrap();
}

#[test]
fn documented_deviations_are_marked_and_pass_while_a_surprise_fails() {
    let mock = Mock::start(&[
        "--model",
        "qwen3.7-plus",
        "--fault",
        "stop-sequence-end-turn",
        "--fault",
        "no-signature",
        "--fault",
        "tool-choice-ignored",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    provider_config(d, &mock.url);
    let env = [("DS_KEY", KEY)];
    let documented = [
        "--target",
        "ds",
        "--filter",
        "stop-sequences/*",
        "--filter",
        "thinking/enabled",
        "--filter",
        "streaming/thinking",
    ];
    let o = run(d, &env, &documented);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(d);
    let results = r["results"].as_array().unwrap();
    assert!(results.len() >= 5);
    for x in results {
        assert_ne!(x["verdict"], "pass", "the faults show: {x}");
        assert_eq!(x["documented"], true, "{x}");
    }
    let rows = r["documented"][0]["rows"].as_array().unwrap();
    let status = |id: &str| {
        rows.iter().find(|row| row["id"] == id).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("stop-reason-end-turn"), "observed");
    assert_eq!(status("empty-thinking-signature"), "observed");
    assert_eq!(r["documented"][0]["provider"], "dashscope");
    let md = std::fs::read_to_string(d.join("reports/report.md")).unwrap();
    assert!(
        md.contains("## Documented vs observed: ds (dashscope)"),
        "{md}"
    );
    assert!(
        md.contains("stop-reason-end-turn") && md.contains("**observed**"),
        "{md}"
    );
    // --strict-docs: documented deviations fail the run.
    let mut strict = documented.to_vec();
    strict.push("--strict-docs");
    assert_eq!(run(d, &env, &strict).status.code(), Some(1));
    // A fault DashScope does not document fails the run.
    let o = run(
        d,
        &env,
        &["--target", "ds", "--filter", "tools/choice-tool"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(report(d)["results"][0].get("documented").is_none());
}

#[test]
fn a_documented_claim_that_does_not_hold_is_a_finding() {
    // DashScope documents explicit caching; this server ignores cache_control.
    let mock = Mock::start(&["--model", "qwen3.7-plus", "--fault", "cache-ignored"]);
    let dir = tempfile::tempdir().unwrap();
    provider_config(dir.path(), &mock.url);
    let o = run(
        dir.path(),
        &[("DS_KEY", KEY)],
        &["--target", "ds", "--filter", "caching/seed-system"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = report(dir.path());
    let findings = r["results"][0]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "provider.documented-claim"),
        "{findings:?}"
    );
    let rows = r["documented"][0]["rows"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|row| row["id"] == "explicit-cache")
        .unwrap();
    assert_eq!(row["status"], "contradicted");
}

#[test]
fn provider_flag_needs_only_the_key_variable() {
    let mock = Mock::start(&["--model", "qwen3.7-plus"]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = run(
        d,
        &[],
        &["--provider", "dashscope", "--base-url", &mock.url],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("DASHSCOPE_API_KEY"), "{}", stderr(&o));
    let o = run(
        d,
        &[("DASHSCOPE_API_KEY", KEY)],
        &[
            "--provider",
            "dashscope",
            "--base-url",
            &mock.url,
            "--filter",
            "basic/hello",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(d);
    assert_eq!(r["targets"][0]["model"], "qwen3.7-plus");
    assert_eq!(r["targets"][0]["name"], "dashscope");
    let o = run(d, &[], &["--provider", "no-such"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("dashscope"), "names the known profiles");
    let o = conform(Path::new(BIN), d, &[], &["providers"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for p in [
        "dashscope",
        "deepseek",
        "moonshot",
        "zai",
        "minimax",
        "openrouter",
        "ollama",
        "vllm",
        "llama.cpp",
        "litellm",
    ] {
        assert!(out.lines().any(|l| l.starts_with(p)), "{p}: {out}");
    }
    // The columns line up: every row's deviation count starts at the same place.
    let at: Vec<Option<usize>> = out.lines().map(|l| l.find(" deviation(s)")).collect();
    assert!(at.iter().all(|a| a.is_some() && *a == at[0]), "{out}");
}
