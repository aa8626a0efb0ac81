//! Claude Code as a sandboxed test client, shared by `mock_claude_code` and `calibration`.
//!
//! Safety, always: a throw-away HOME and working directory, an environment cleared down to
//! PATH, `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`, every tool that writes, executes, spawns
//! agents or reaches the network disallowed, no permission-skipping flag, and a hard timeout
//! after which the process is killed by PID.
//!
//! Claude Code comes from npm (`npm install --prefix tests/clients`, done by `.ci/run`); set
//! CONFORM_CLAUDE to use another binary. Without it the `clients` harness (tests/clients.rs)
//! reports the tests as ignored with the reason, except under CI, where a missing install fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const MODEL: &str = "claude-sonnet-4-5";
pub const PROMPT: &str = "Say hello";
/// Tools that write, execute, spawn agents or reach the network (the list `conform run
/// --client claude-code` uses; unknown names are ignored by Claude Code with a notice).
pub const DISALLOWED: &[&str] = conform::claude_code::DISALLOWED_TOOLS;
/// Startup notices that say nothing about the answer.
const NOTICES: &[&str] = &["Permission deny rule", "⚠ Claude Sonnet 4.5 was retired"];

pub fn claude() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CONFORM_CLAUDE") {
        return Some(PathBuf::from(p));
    }
    let local =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/node_modules/.bin/claude");
    local.is_file().then_some(local)
}

/// The binary, for a test the `clients` harness runs only when Claude Code is installed.
pub fn installed() -> PathBuf {
    claude().expect("the clients harness runs this test only when Claude Code is installed")
}

/// The sandboxed command: `claude -p PROMPT --model MODEL --disallowedTools …` with a cleared
/// environment, HOME at `home`, run in `cwd`. The caller adds the base URL (or a proxy).
pub fn sandboxed(bin: &Path, home: &Path, cwd: &Path, key: &str) -> Command {
    let mut c = Command::new(bin);
    c.args(["-p", PROMPT, "--model", MODEL, "--disallowedTools"])
        .args(DISALLOWED)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("ANTHROPIC_API_KEY", key)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .current_dir(cwd)
        .stdin(Stdio::null());
    c
}

/// What one `claude -p` run did.
#[derive(Debug)]
pub struct Outcome {
    pub exit: Option<i32>,
    pub hung: bool,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// The first line of `text` that is not a startup notice, at most 120 characters.
    pub fn first_line(text: &str) -> String {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !NOTICES.iter().any(|n| l.starts_with(n)))
            .unwrap_or("")
            .chars()
            .take(120)
            .collect()
    }
}

/// Runs `claude -p PROMPT` against `base`, sandboxed, killed after `limit`.
pub fn run_claude(bin: &Path, base: &str, key: &str, limit: Duration) -> Outcome {
    let home = tempfile::tempdir().expect("temp HOME");
    let cwd = tempfile::tempdir().expect("temp cwd");
    let out_path = cwd.path().join(".out");
    let err_path = cwd.path().join(".err");
    let mut child = sandboxed(bin, home.path(), cwd.path(), key)
        .env("ANTHROPIC_BASE_URL", base)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("claude starts");
    let start = Instant::now();
    let (exit, hung) = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break (status.code(), false);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Outcome {
        exit,
        hung,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}
