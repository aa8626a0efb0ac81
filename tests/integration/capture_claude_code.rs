//! `conform scenarios capture` of real Claude Code (run by the `clients` harness, ignored with
//! its reason when Claude Code is not installed): sandboxed as every Claude Code test is — a
//! throw-away HOME and working directory, an environment cleared down to PATH,
//! `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`, the tools that write, execute or spawn
//! disallowed, no permission-skipping flag, killed after `--timeout` — its requests become
//! files that lint clean, carry no key and no literal model, and pass against the reference
//! server.

use super::support::BIN;
use super::support::claude::{DISALLOWED, MODEL, installed};
use std::process::{Command, Output};

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub(crate) fn claude_code_captured_lints_clean_and_passes() {
    let bin = installed();
    let home = tempfile::tempdir().expect("temp HOME");
    let cwd = tempfile::tempdir().expect("temp cwd");
    let out = tempfile::tempdir().expect("output directory");
    std::fs::write(
        cwd.path().join("notes.txt"),
        "The team meeting moved to Thursday.\n",
    )
    .unwrap();
    let o = Command::new(BIN)
        .args(["scenarios", "capture", "--timeout", "180", "--out"])
        .arg(out.path())
        .arg("--")
        .arg(&bin)
        .args([
            "-p",
            "Read the file notes.txt and tell me in one sentence what it says.",
            "--model",
            MODEL,
            "--max-turns",
            "3",
            "--disallowedTools",
        ])
        .args(DISALLOWED)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home.path())
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .current_dir(cwd.path())
        .output()
        .expect("conform runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let record = std::fs::read_to_string(out.path().join("CAPTURE.md")).unwrap();
    assert!(record.contains("**claude-cli/"), "{record}");
    assert!(record.contains("`claude-code-20250219`"), "{record}");
    let files: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(!files.is_empty(), "{}", text(&o));
    let cwd_path = cwd.path().to_string_lossy().into_owned();
    let home_path = home.path().to_string_lossy().into_owned();
    for f in &files {
        let s = std::fs::read_to_string(f).unwrap();
        assert!(s.contains("id: \"claude-code/"), "{s}");
        assert!(s.contains("\"model\":\"{{ target.model }}\""), "{s}");
        for leak in [MODEL, "sk-ant-conform-capture", &cwd_path, &home_path] {
            assert!(!s.contains(leak), "{} holds {leak}", f.display());
        }
    }
    let lint = Command::new(BIN)
        .arg("lint")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(lint.status.code(), Some(0), "{}", text(&lint));
    let reports = tempfile::tempdir().unwrap();
    let run = Command::new(BIN)
        .args(["run", "--no-builtin", "--no-snapshots", "--scenarios"])
        .arg(out.path())
        .arg("--report-dir")
        .arg(reports.path())
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
}
