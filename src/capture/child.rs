//! The command a capture runs: `ANTHROPIC_BASE_URL` pointing at the proxy, a stand-in key
//! (the proxy sends the upstream's own), the rest of the environment as it is (the user chose
//! the command and its sandbox: conform warns when Claude Code runs without one, and changes
//! nothing). It runs in a process group of its own, dies with conform (`PR_SET_PDEATHSIG` on
//! Linux, as `conform run --client` starts Claude Code), and is killed by its process id, with
//! its group, when it runs out of time.

use crate::clients::claude_code::{die_with_parent, kill_group};
use std::process::Stdio;
use std::time::Duration;

/// The key the command gets: the proxy replaces it with the upstream's (it must look like a
/// key, or clients ask to log in).
pub(crate) const STAND_IN_KEY: &str = "sk-ant-conform-capture";

/// How the command ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Ended {
    /// Its exit code (`None`: killed by a signal).
    Exited(Option<i32>),
    /// Still running after the timeout: killed.
    TimedOut,
}

/// Run `command` against `base_url`, killed after `limit`. Its output goes to conform's.
pub(crate) async fn run(
    command: &[String],
    base_url: &str,
    limit: Duration,
) -> Result<Ended, String> {
    let (program, args) = command
        .split_first()
        .ok_or("no command to run (after `--`)")?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env("ANTHROPIC_BASE_URL", base_url)
        .env("ANTHROPIC_API_KEY", STAND_IN_KEY)
        // One credential only: Claude Code refuses to choose between a token and a key.
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .process_group(0)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    die_with_parent(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let pid = child.id();
    let ended = match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(status)) => Ended::Exited(status.code()),
        Ok(Err(e)) => return Err(format!("waiting for {program} (pid {pid:?}): {e}")),
        Err(_) => {
            kill_group(pid);
            let _ = child.start_kill();
            let _ = child.wait().await;
            Ended::TimedOut
        }
    };
    // Whatever it started and left running goes with it.
    kill_group(pid);
    Ok(ended)
}
