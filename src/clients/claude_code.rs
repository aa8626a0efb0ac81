//! Claude Code as a live client: where `claude` is, the prompts it is given, and the sandbox
//! it runs in.
//!
//! Safety, always: a throw-away HOME and working directory (temporary directories, removed
//! after), an environment cleared down to PATH and what Claude Code needs, with
//! `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`; every tool that writes, executes, spawns
//! agents or reaches the network disallowed ([`DISALLOWED_TOOLS`]), never a
//! permission-skipping flag; `--max-turns` bounds the tokens and a timeout bounds the time,
//! after which the process is killed by its PID. It runs in a process group of its own, which
//! is killed when it ends or is killed (helpers it started go with it).
//!
//! Conform itself may die without a chance to clean up (SIGKILL, an OOM kill). On Linux the
//! child is started with `PR_SET_PDEATHSIG` = SIGKILL, so the kernel kills Claude Code (and
//! with it the key in its environment) the moment conform's thread that started it ends; its
//! throw-away directories are named after conform's PID (`conform-claude-PID-…`) and the next
//! conform that drives Claude Code removes those whose owner is gone ([`sweep_stale`]). The target's key
//! reaches the child only, as `ANTHROPIC_API_KEY`; the proxy sends it upstream the way the target wants it, and every
//! record is redacted.

use super::{ClientCase, Process, Prompt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt as _;

/// The feature row of the results.
pub const FEATURE: &str = "claude-code-live";

/// Tools that write, execute, spawn agents or reach the network. Claude Code ignores names it
/// does not know (with a notice), so the list may name tools of other versions.
pub const DISALLOWED_TOOLS: &[&str] = &[
    "Bash",
    "Edit",
    "Write",
    "MultiEdit",
    "NotebookEdit",
    "WebFetch",
    "WebSearch",
    "Task",
    "Agent",
    "Workflow",
    "Skill",
    "ScheduleWakeup",
    "CronCreate",
    "CronDelete",
    "EnterWorktree",
    "ExitWorktree",
    "SendMessage",
    "TaskCreate",
    "TaskUpdate",
    "Monitor",
    "PowerShell",
];

/// Startup notices on stderr that say nothing about the answer (left out of the evidence).
pub(crate) const NOTICES: &[&str] = &[
    "Permission deny rule",
    "doesn't recognize the model",
    "[claude-code:unrecognized_model]",
];

/// Model turns per prompt at most (a tool round trip needs two).
pub(crate) const MAX_TURNS: u32 = 3;

/// The fixed prompts: a plain answer, a read-only tool round trip on a file of the throw-away
/// working directory, and reasoning (Claude Code requests thinking on every turn).
pub const PROMPTS: &[Prompt] = &[
    Prompt {
        id: "claude-code-live/hello",
        title: "Claude Code answers a plain prompt (\"Say hello\") through the target",
        text: "Say hello",
        files: &[],
    },
    Prompt {
        id: "claude-code-live/read-file",
        title: "Claude Code reads a file with its Read tool and answers (a tool round trip)",
        text: "Read the file notes.txt in the current directory and tell me in one sentence what it says.",
        files: &[(
            "notes.txt",
            "The team meeting moved to Thursday at 10:00.\n",
        )],
    },
    Prompt {
        id: "claude-code-live/think",
        title: "Claude Code answers a question that needs reasoning (thinking requested)",
        text: "Think it through step by step, then answer with the number only: what is 17 times 23?",
        files: &[],
    },
];

/// The binary: `--claude-bin` / `CONFORM_CLAUDE_BIN` when given, else `claude` on PATH; the
/// skip reason otherwise.
pub(crate) fn locate(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("--claude-bin {}: no such file", p.display()))
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("claude"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "Claude Code is not installed (`claude` is not on PATH; `npm install -g @anthropic-ai/claude-code`, or --claude-bin PATH)".to_string()
        })
}

/// The largest part of stdout or stderr kept.
const OUTPUT_CAP: usize = 1 << 20;

/// Read a pipe to its end, keeping the first [`OUTPUT_CAP`] bytes.
fn drain(
    mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> (Arc<Mutex<Vec<u8>>>, tokio::task::JoinHandle<()>) {
    let kept: Arc<Mutex<Vec<u8>>> = Arc::default();
    let into = kept.clone();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let mut k = into.lock().unwrap_or_else(|e| e.into_inner());
            let room = OUTPUT_CAP.saturating_sub(k.len());
            k.extend_from_slice(&buf[..n.min(room)]);
        }
    });
    (kept, task)
}

fn text(kept: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&kept.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// SIGKILL to the process group `pid` leads (Claude Code's, started with `process_group(0)`);
/// a group that is already gone is fine.
pub(crate) fn kill_group(pid: Option<u32>) {
    let group = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(group) = group {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

/// The start of every sandbox directory's name, followed by the owner's PID.
const SANDBOX_PREFIX: &str = "conform-claude-";

/// Linux: the child gets SIGKILL when the thread that started it ends (conform killed, even by
/// SIGKILL). The threads of conform's runtime live as long as the run, and a child is always
/// started from one of them. If conform died between the fork and this call, the child exits
/// at once instead of running unparented.
#[cfg(target_os = "linux")]
pub(crate) fn die_with_parent(cmd: &mut tokio::process::Command) {
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs between fork and exec; it only makes two system calls
    // (prctl, getppid), which are async-signal-safe, and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
            if rustix::process::getppid() != Some(parent) {
                // Conform exited before Claude Code started: no allocation here (after fork).
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
}

/// Elsewhere the process group is killed when the run ends (no kernel help when conform is
/// killed outright).
#[cfg(not(target_os = "linux"))]
pub(crate) fn die_with_parent(_: &mut tokio::process::Command) {}

/// Sweep once per process (the first Claude Code case).
fn sweep_stale_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        sweep_stale(&std::env::temp_dir());
    });
}

/// Remove the sandbox directories in `tmp` left by a conform that is gone (killed before it
/// could remove them); the names removed. A directory whose owner still runs is kept.
pub(crate) fn sweep_stale(tmp: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(SANDBOX_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // Only our own directories (not a symlink someone placed), whose owner is gone.
        let ours = e.file_type().is_ok_and(|t| t.is_dir() && !t.is_symlink());
        if ours && !alive(pid) && std::fs::remove_dir_all(e.path()).is_ok() {
            removed.push(e.path());
        }
    }
    removed
}

/// Whether process `pid` exists (a signal 0 probe: EPERM means it exists, as someone else's).
fn alive(pid: i32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid) else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e != rustix::io::Errno::SRCH,
    }
}

/// Run `claude -p PROMPT` in its sandbox against `base_url` (the proxy), killed after `limit`.
pub(crate) async fn run(
    bin: &Path,
    case: &ClientCase,
    base_url: &str,
    limit: Duration,
) -> Result<Process, String> {
    sweep_stale_once();
    let sandbox = |what: &str| {
        tempfile::Builder::new()
            .prefix(&format!("{SANDBOX_PREFIX}{}-{what}-", std::process::id()))
            .tempdir()
            .map_err(|e| format!("cannot create the throw-away {what} directory: {e}"))
    };
    let home = sandbox("home")?;
    let cwd = sandbox("cwd")?;
    for (name, contents) in case.prompt.files {
        std::fs::write(cwd.path().join(name), contents)
            .map_err(|e| format!("cannot write {name} in the working directory: {e}"))?;
    }
    let target = &case.target;
    // A target without auth still gets a key: Claude Code asks to log in without one.
    let key = target
        .api_key
        .as_ref()
        .map_or("conform-no-key", |k| k.expose());
    let model = target.model.as_str();
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let mut cmd = tokio::process::Command::new(bin);
    cmd.arg("-p")
        .arg(case.prompt.text)
        .args(["--model", model, "--max-turns", &MAX_TURNS.to_string()])
        .arg("--disallowedTools")
        .args(DISALLOWED_TOOLS)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .env("ANTHROPIC_BASE_URL", base_url)
        .env("ANTHROPIC_API_KEY", key)
        // Background requests go to the target's model too (a provider serves its own).
        .env("ANTHROPIC_DEFAULT_HAIKU_MODEL", model)
        .env("ANTHROPIC_SMALL_FAST_MODEL", model)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .current_dir(cwd.path())
        // A process group of its own, so whatever it starts is stopped with it.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    die_with_parent(&mut cmd);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let pid = child.id();
    let (out, out_task) = drain(child.stdout.take().ok_or("no stdout pipe")?);
    let (err, err_task) = drain(child.stderr.take().ok_or("no stderr pipe")?);
    let (code, timed_out) = match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(status)) => (status.code(), false),
        Ok(Err(e)) => return Err(format!("waiting for Claude Code (pid {pid:?}): {e}")),
        Err(_) => {
            // Killed by its PID (SIGKILL) with its process group, then reaped.
            kill_group(pid);
            let _ = child.start_kill();
            let _ = child.wait().await;
            (None, true)
        }
    };
    // Whatever it started and left running goes too (nothing is there after a clean exit).
    kill_group(pid);
    let elapsed = started.elapsed();
    // The pipes close with the process (a grandchild holding them gets a moment, no more).
    for task in [out_task, err_task] {
        let abort = task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
    drop((home, cwd));
    Ok(Process {
        code,
        timed_out,
        stdout: text(&out),
        stderr: text(&err),
        elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_binary_that_does_not_exist_is_named() {
        let e = locate(Some(Path::new("/nonexistent/claude"))).unwrap_err();
        assert!(e.contains("/nonexistent/claude"), "{e}");
    }

    #[test]
    fn every_prompt_has_its_own_id_in_the_feature() {
        let ids: std::collections::BTreeSet<&str> = PROMPTS.iter().map(|p| p.id).collect();
        assert!(ids.iter().all(|id| id.starts_with(&format!("{FEATURE}/"))));
        assert_eq!(ids.len(), PROMPTS.len());
    }

    #[test]
    fn sandboxes_of_a_dead_owner_are_swept_and_a_live_owners_kept() {
        let tmp = tempfile::tempdir().unwrap();
        // A PID above the kernel's maximum (4194304) never runs.
        let dead = tmp
            .path()
            .join(format!("{SANDBOX_PREFIX}999999999-home-abc"));
        let live = tmp
            .path()
            .join(format!("{SANDBOX_PREFIX}{}-cwd-abc", std::process::id()));
        let other = tmp.path().join("conform-claude-notapid-home-x");
        for d in [&dead, &live, &other] {
            std::fs::create_dir_all(d.join("sub")).unwrap();
        }
        let removed = sweep_stale(tmp.path());
        assert_eq!(removed, vec![dead.clone()]);
        assert!(!dead.exists() && live.exists() && other.exists());
    }

    #[test]
    fn no_tool_that_writes_or_executes_is_allowed() {
        for t in ["Bash", "Edit", "Write", "WebFetch", "WebSearch", "Task"] {
            assert!(DISALLOWED_TOOLS.contains(&t), "{t}");
        }
    }
}
