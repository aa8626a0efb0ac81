//! Planned scenarios as scenario files, and the capture's record (`CAPTURE.md`: the client and
//! its version, the betas and API version it sent, the command, what each file replays and
//! which exchanges were left out).
//!
//! Values are written as JSON, which is YAML's flow style: a request body is written on one
//! line exactly as it will be sent, and every string is double-quoted, so no text a client
//! sent can be read back as YAML syntax.

use super::shape::{Client, Plan, Planned, Step};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The name of the capture's record in the output directory.
pub(crate) const RECORD: &str = "CAPTURE.md";

/// What the record says besides the plan.
pub(crate) struct Context<'a> {
    pub(crate) client: &'a Client,
    /// `conform scenarios capture … -- COMMAND` as run (the program by its file name).
    pub(crate) command: String,
    /// `the built-in reference server`, or the target's name.
    pub(crate) upstream: String,
    /// The id prefix (`claude-code`): ids are `PREFIX/NAME`.
    pub(crate) prefix: String,
    /// The exchanges the proxy saw.
    pub(crate) total: usize,
}

/// JSON text of a value (a JSON string is a YAML double-quoted scalar).
fn j(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| unreachable!("JSON values serialise: {e}"))
}

/// One scenario file's text.
pub(crate) fn scenario_text(p: &Planned, ctx: &Context<'_>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Written by `conform scenarios capture` (see {RECORD} beside this file); edit the\n# command there and capture again rather than this file."
    );
    let _ = writeln!(s, "id: {}", j(&format!("{}/{}", ctx.prefix, p.name)));
    let _ = writeln!(s, "feature: {}", p.feature);
    let _ = writeln!(s, "title: {}", j(&p.title));
    let reference = if ctx.client.is_claude_code() {
        "Claude Code: LLM gateway requirements; Messages API".to_string()
    } else {
        "Messages API".to_string()
    };
    let _ = writeln!(s, "reference: {}", j(&reference));
    let _ = writeln!(s, "description: {}", j(&p.description));
    let _ = writeln!(
        s,
        "modes: [{}]",
        if p.stream { "stream" } else { "sync" }
    );
    let _ = writeln!(s, "tags: [captured]");
    let _ = writeln!(s, "steps:");
    for step in &p.steps {
        step_text(&mut s, step);
    }
    s
}

fn step_text(s: &mut String, step: &Step) {
    let _ = writeln!(s, "  - id: {}", step.id);
    if let Some(stream) = step.stream {
        let _ = writeln!(s, "    stream: {stream}");
    }
    let _ = writeln!(s, "    request:");
    if step.method != "POST" {
        let _ = writeln!(s, "      method: {}", j(&step.method));
    }
    let _ = writeln!(s, "      path: {}", j(&step.path));
    if !step.headers.is_empty() {
        let map: serde_json::Map<String, Value> = step
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let _ = writeln!(s, "      headers: {}", j(&map));
    }
    if let Some(body) = &step.body {
        let _ = writeln!(s, "      body: {}", j(body));
    }
    let _ = writeln!(s, "    expect:");
    let _ = writeln!(s, "      status: 200");
    if !step.asserts.is_empty() {
        let _ = writeln!(s, "      assert:");
        for a in &step.asserts {
            let _ = writeln!(s, "        - {}", j(a));
        }
    }
    if !step.captures.is_empty() {
        let _ = writeln!(s, "    capture:");
        for (name, path) in &step.captures {
            let _ = writeln!(s, "      {name}: {}", j(path));
        }
    }
}

/// The record's text.
pub(crate) fn record_text(plan: &Plan, ctx: &Context<'_>, betas: &[String], versions: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Captured scenarios\n");
    let _ = writeln!(
        s,
        "Written by `conform scenarios capture` from the requests of **{}**{}, through conform's proxy in front of {}: {} exchange(s) seen, {} scenario file(s) written.\n",
        ctx.client.user_agent.as_deref().unwrap_or("an unnamed client"),
        ctx.client
            .sdk
            .as_deref()
            .map(|s| format!(" (SDK `{s}`)"))
            .unwrap_or_default(),
        ctx.upstream,
        ctx.total,
        plan.scenarios.len()
    );
    let _ = writeln!(s, "To capture again (into this directory):\n");
    let _ = writeln!(s, "```sh\n{}\n```\n", ctx.command);
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")
        }
    };
    let _ = writeln!(s, "- `anthropic-beta` sent: {}", list(betas));
    let _ = writeln!(s, "- `anthropic-version` sent: {}\n", list(versions));
    let _ = writeln!(s, "| file | exchanges replayed | title |\n|---|---|---|");
    for p in &plan.scenarios {
        let ex: Vec<String> = p.exchanges.iter().map(usize::to_string).collect();
        let _ = writeln!(
            s,
            "| `{}.yaml` | {} | {} |",
            p.name,
            ex.join(", "),
            p.title.replace('|', "\\|")
        );
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(s, "\nExchanges without a file of their own:\n");
        for (n, why) in &plan.skipped {
            let _ = writeln!(s, "- exchange {n}: {why}");
        }
    }
    let _ = writeln!(
        s,
        "\nVolatile values are fixed: the model is `{{{{ target.model }}}}`, no credential is kept, ids passed back are captures of the step that answered them, and the working directory, HOME, the day's date, session and device ids are stand-ins."
    );
    s
}

/// Why the files could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    #[error("--out {0}: it holds scenario files already (--force overwrites files of the same name)")]
    NotEmpty(PathBuf),
    #[error("--out {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Check that `dir` may receive the files (before the client runs): created when missing; one
/// that holds `.yaml` files needs `force`.
pub(crate) fn prepare(dir: &Path, force: bool) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let has_yaml = crate::scenario::load::scenario_files(dir)
        .map_err(io)?
        .iter()
        .any(|p| p.parent() == Some(dir));
    if has_yaml && !force {
        return Err(WriteError::NotEmpty(dir.to_path_buf()));
    }
    Ok(())
}

/// Write the scenario files and the record into `dir`; the files written.
pub(crate) fn write(
    dir: &Path,
    plan: &Plan,
    ctx: &Context<'_>,
    betas: &[String],
    versions: &[String],
) -> Result<Vec<PathBuf>, WriteError> {
    let mut written = Vec::new();
    for p in &plan.scenarios {
        let path = dir.join(format!("{}.yaml", p.name));
        crate::fsutil::write_atomic(&path, scenario_text(p, ctx).as_bytes()).map_err(|source| {
            WriteError::Io {
                path: path.clone(),
                source,
            }
        })?;
        written.push(path);
    }
    let path = dir.join(RECORD);
    crate::fsutil::write_atomic(&path, record_text(plan, ctx, betas, versions).as_bytes())
        .map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
    Ok(written)
}
