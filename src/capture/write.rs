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
    let _ = writeln!(s, "modes: [{}]", if p.stream { "stream" } else { "sync" });
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
pub(crate) fn record_text(
    plan: &Plan,
    ctx: &Context<'_>,
    betas: &[String],
    versions: &[String],
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Captured scenarios\n");
    let _ = writeln!(
        s,
        "Written by `conform scenarios capture` from the requests of **{}**{}, through conform's proxy in front of {}: {} exchange(s) seen, {} scenario file(s) written.\n",
        ctx.client
            .user_agent
            .as_deref()
            .unwrap_or("an unnamed client"),
        ctx.client
            .sdk
            .as_deref()
            .map(|s| format!(" (SDK `{s}`)"))
            .unwrap_or_default(),
        ctx.upstream,
        ctx.total,
        plan.scenarios.len()
    );
    let _ = writeln!(s, "To capture again (`DIR`: this directory):\n");
    let _ = writeln!(s, "```sh\n{}\n```\n", ctx.command);
    if ctx.client.is_claude_code() {
        let _ = writeln!(
            s,
            "Run Claude Code sandboxed: from a throw-away working directory, with a throw-away `HOME` and `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`, the tools that write or execute disallowed, never a permission-skipping flag (the model behind the upstream drives its tools).\n"
        );
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter()
                .map(|b| format!("`{b}`"))
                .collect::<Vec<_>>()
                .join(", ")
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
    #[error(
        "--out {0}: it holds scenario files already (--force overwrites files of the same name)"
    )]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::shape::{Captured, plan};
    use serde_json::json;

    #[test]
    fn what_is_written_lints_clean_and_records_the_client() {
        let headers = vec![
            ("user-agent".to_string(), "my-app/3.1".to_string()),
            ("anthropic-beta".to_string(), "b-1,b-2".to_string()),
        ];
        let x = |n, body: serde_json::Value, message| Captured {
            n,
            method: "POST".into(),
            path: "/v1/messages".into(),
            headers: headers.clone(),
            body: Some(body),
            status: Some(200),
            message: Some(message),
        };
        let exchanges = [
            x(
                1,
                json!({"model": "m", "max_tokens": 9, "stream": true, "tools": [{"name": "t", "input_schema": {"type": "object"}}],
                       "messages": [{"role": "user", "content": "a \"{{quoted}}\" text: with # and ' and \n"}]}),
                json!({"stop_reason": "tool_use", "content": [{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}]}),
            ),
            x(
                2,
                json!({"model": "m", "max_tokens": 9, "tools": [{"name": "t", "input_schema": {"type": "object"}}],
                       "messages": [{"role": "user", "content": "go"},
                                    {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}]},
                                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]}]}),
                json!({"stop_reason": "end_turn", "content": [{"type": "text", "text": "done"}]}),
            ),
        ];
        let client = Client::of(&exchanges);
        let mut vol = crate::capture::normalise::Volatile::new(None, None);
        let p = plan(&exchanges, &mut vol, &client);
        let ctx = Context {
            client: &client,
            command: "conform scenarios capture --out d --force -- ./app".into(),
            upstream: "the built-in reference server".into(),
            prefix: "captured".into(),
            total: 2,
        };
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path(), false).unwrap();
        let written = write(
            dir.path(),
            &p,
            &ctx,
            &["b-1".into()],
            &["2023-06-01".into()],
        )
        .unwrap();
        assert_eq!(written.len(), 2);
        let d = crate::scenario::lint_with(
            dir.path(),
            Some(&crate::protocol::anthropic::wire::lint_request_body),
        );
        assert!(d.is_empty(), "{d:?}");
        let (loaded, _) = crate::scenario::load::load_dir(dir.path());
        let ids: Vec<&str> = loaded.iter().map(|s| s.id()).collect();
        assert_eq!(ids, ["captured/turn-1-tools", "captured/turn-2-tools"]);
        let record = std::fs::read_to_string(dir.path().join(RECORD)).unwrap();
        assert!(record.contains("**my-app/3.1**"), "{record}");
        assert!(
            record.contains("| `turn-2-tools.yaml` | 1, 2 |"),
            "{record}"
        );
        // A second capture into the same directory needs --force.
        assert!(matches!(
            prepare(dir.path(), false),
            Err(WriteError::NotEmpty(_))
        ));
        prepare(dir.path(), true).unwrap();
    }
}
