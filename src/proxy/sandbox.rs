//! `conform proxy -- claude …`: a warning when the command runs Claude Code outside a sandbox.
//!
//! The proxy passes traffic through and never changes the command it runs; a hostile or
//! confused model behind the upstream drives Claude Code's tools, and in a project directory
//! its Read tool reaches `.env` and the rest. So conform warns (on stderr, before starting the
//! command) when Claude Code runs in a working directory that holds files without the sandbox
//! the README's example uses: a throw-away `HOME` and working directory, the tools that write or
//! execute disallowed, `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`. It warns rather than applies
//! them: the user chose the command, and rewriting its arguments or environment would change
//! what is being observed.

use std::path::Path;

/// Tools whose absence from `--disallowedTools` leaves Claude Code able to write or execute.
const MUST_DISALLOW: &[&str] = &["Bash", "Edit", "Write"];

/// What is missing from a Claude Code command's sandbox; empty when it is sandboxed, when the
/// working directory is empty, or when the command is not Claude Code.
pub(crate) fn missing(
    command: &[String],
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let Some(program) = command.first() else {
        return Vec::new();
    };
    if Path::new(program).file_name().and_then(|n| n.to_str()) != Some("claude") {
        return Vec::new();
    }
    let has_files = std::fs::read_dir(cwd).is_ok_and(|mut d| d.next().is_some());
    if !has_files {
        return Vec::new();
    }
    let mut out = Vec::new();
    out.push(format!(
        "it runs in {}, a directory with files (use a throw-away working directory)",
        cwd.display()
    ));
    let disallowed: Vec<&str> = command
        .iter()
        .skip_while(|a| !matches!(a.as_str(), "--disallowedTools" | "--disallowed-tools"))
        .skip(1)
        .take_while(|a| !a.starts_with('-'))
        .flat_map(|a| a.split([',', ' ']))
        .collect();
    let allowed: Vec<&str> = MUST_DISALLOW
        .iter()
        .copied()
        .filter(|t| !disallowed.contains(t))
        .collect();
    if !allowed.is_empty() {
        out.push(format!(
            "its tools {} are not disallowed (--disallowedTools Bash Edit Write …)",
            allowed.join(", ")
        ));
    }
    if env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC").as_deref() != Some("1") {
        out.push("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 is not set".into());
    }
    out
}

/// The warning printed before the command starts, when something is missing.
pub(crate) fn warning(command: &[String]) -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let missing = missing(command, &cwd, &|v| std::env::var(v).ok());
    (!missing.is_empty()).then(|| {
        format!(
            "warning: Claude Code runs unsandboxed: {}. A model behind the upstream drives its tools; see the README's `conform proxy` example for the sandbox.",
            missing.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn claude_in_a_directory_with_files_and_no_flags_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "SECRET=1").unwrap();
        let m = missing(&cmd(&["claude", "-p", "Say hello"]), dir.path(), &|_| None);
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(m[1].contains("Bash, Edit, Write"), "{m:?}");
    }

    #[test]
    fn a_sandboxed_command_or_an_empty_directory_or_another_program_is_quiet() {
        let dir = tempfile::tempdir().unwrap();
        let on = |v: &str| (v == "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC").then(|| "1".into());
        let empty = missing(&cmd(&["claude", "-p", "x"]), dir.path(), &|_| None);
        assert!(empty.is_empty(), "{empty:?}");
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let other = missing(&cmd(&["python3", "app.py"]), dir.path(), &|_| None);
        assert!(other.is_empty());
        let flags = cmd(&[
            "/usr/bin/claude",
            "-p",
            "x",
            "--disallowedTools",
            "Bash",
            "Edit",
            "Write",
        ]);
        let m = missing(&flags, dir.path(), &on);
        assert_eq!(m.len(), 1, "only the directory: {m:?}");
    }
}
