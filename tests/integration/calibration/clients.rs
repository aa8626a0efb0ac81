//! The clients of the calibration and how their behaviour is classified: the Python SDK and
//! the TypeScript SDK each run every case in one process (tests/sdk/calibrate_*.{py,mjs});
//! Claude Code runs once per case, two at a time, sandboxed (`support::claude`).

use super::cases::{Summary, Truth, clip};
use crate::support::claude::Outcome;
use conform::catalogue::ClientImpact;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// One case as the SDK scripts read it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanCase {
    pub name: String,
    pub base_url: String,
    pub passback_url: String,
    pub api_key: String,
    pub endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    pub modes: Vec<String>,
}

/// One line an SDK script prints.
#[derive(Debug, Clone, Deserialize)]
pub struct Line {
    pub case: String,
    pub mode: String,
    pub outcome: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub result: Option<Value>,
}

/// A client's verdict on one case (or one mode of it), with what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub impact: ClientImpact,
    pub note: String,
}

impl Cell {
    pub fn new(impact: ClientImpact, note: impl Into<String>) -> Cell {
        Cell {
            impact,
            note: note.into(),
        }
    }

    /// The worst of several modes; notes of the modes that are not ok.
    pub fn worst(cells: &[(String, Cell)]) -> Cell {
        let impact = cells
            .iter()
            .map(|(_, c)| c.impact)
            .max()
            .unwrap_or(ClientImpact::Unknown);
        let notes: Vec<String> = cells
            .iter()
            .filter(|(_, c)| c.impact == impact && impact != ClientImpact::Ok)
            .map(|(mode, c)| format!("{mode}: {}", c.note))
            .collect();
        Cell::new(impact, notes.join("; "))
    }
}

/// Classify one SDK line against the truth of its mode (`clean`: the clean server's answer,
/// for a client that retried a retryable error).
pub fn classify(line: &Line, truth: Option<&Truth>, clean: Option<&Truth>) -> Cell {
    let err = || clip(line.error.as_deref().unwrap_or(""), 110);
    match line.outcome.as_str() {
        "timeout" => return Cell::new(ClientImpact::Hangs, format!("timed out: {}", err())),
        "raised" => {
            if line.mode == "passback" {
                return Cell::new(
                    ClientImpact::Raises,
                    format!("next turn rejected: {}", err()),
                );
            }
            return match truth {
                Some(Truth::Error { .. }) => Cell::new(ClientImpact::Ok, err()),
                _ => Cell::new(ClientImpact::Raises, err()),
            };
        }
        _ => {}
    }
    let result = line.result.clone().unwrap_or(Value::Null);
    if line.mode == "passback" {
        return Cell::new(ClientImpact::Ok, "");
    }
    let got = || serde_json::from_value::<Summary>(result.clone());
    match truth {
        None => Cell::new(ClientImpact::Unknown, "no ground truth"),
        Some(Truth::Value(v)) => {
            let same = match (v.get("input_tokens"), v.get("data")) {
                (Some(n), _) => result.get("input_tokens") == Some(n),
                (_, Some(data)) => {
                    let ids: Vec<&Value> = data
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|m| &m["id"])
                        .collect();
                    result
                        .get("models")
                        .and_then(Value::as_array)
                        .is_some_and(|r| r.iter().collect::<Vec<_>>() == ids)
                }
                _ => false,
            };
            if same {
                Cell::new(ClientImpact::Ok, "")
            } else {
                Cell::new(
                    ClientImpact::DataLost,
                    format!("got {}", clip(&result.to_string(), 80)),
                )
            }
        }
        Some(Truth::Error { retryable, .. }) => {
            if let (true, Some(Truth::Message(clean)), Ok(got)) = (retryable, clean, got()) {
                let d = clean.diff(&got);
                if d.is_empty() {
                    return Cell::new(ClientImpact::Ok, "retried");
                }
                return Cell::new(
                    ClientImpact::DataLost,
                    format!("retried, then {}", d.join(", ")),
                );
            }
            Cell::new(
                ClientImpact::DataLost,
                format!(
                    "returned a message for an error response: {}",
                    clip(&result.to_string(), 80)
                ),
            )
        }
        Some(Truth::Message(want)) => match got() {
            Ok(got) => {
                let d = want.diff(&got);
                if d.is_empty() {
                    Cell::new(ClientImpact::Ok, "")
                } else {
                    Cell::new(ClientImpact::DataLost, d.join(", "))
                }
            }
            Err(e) => Cell::new(ClientImpact::DataLost, format!("unreadable result: {e}")),
        },
        Some(Truth::Incomplete(want)) => match got() {
            Ok(got) if want.diff(&got).is_empty() && got.stop_reason.is_some() => {
                Cell::new(ClientImpact::Ok, "")
            }
            Ok(got) => Cell::new(
                ClientImpact::DataLost,
                format!(
                    "incomplete stream accepted silently ({})",
                    want.diff(&got).join(", ")
                ),
            ),
            Err(e) => Cell::new(ClientImpact::DataLost, format!("unreadable result: {e}")),
        },
    }
}

/// Run an SDK script over the plan; the lines it printed and the SDK version.
pub fn run_sdk(
    mut cmd: Command,
    plan: &Path,
    limit: Duration,
) -> Result<(Vec<Line>, String), String> {
    crate::support::without_proxy_env(&mut cmd);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out_path = dir.path().join("out");
    let err_path = dir.path().join("err");
    let mut child = cmd
        .env("CONFORM_CALIBRATION_PLAN", plan)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).map_err(|e| e.to_string())?)
        .stderr(std::fs::File::create(&err_path).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let mut lines = Vec::new();
    let mut version = String::new();
    for l in stdout.lines() {
        let v: Value = serde_json::from_str(l).map_err(|e| format!("bad line {l:?}: {e}"))?;
        if let Some(sdk) = v.get("sdk") {
            version = format!(
                "{} {}",
                sdk.as_str().unwrap_or(""),
                v["version"].as_str().unwrap_or("")
            );
        } else {
            lines.push(serde_json::from_value(v).map_err(|e| e.to_string())?);
        }
    }
    match status {
        Some(s) if s.success() && !version.is_empty() => Ok((lines, version)),
        Some(s) => Err(format!("exited with {s}\n{stdout}\n{stderr}")),
        None => Err(format!(
            "killed after {} s\n{stdout}\n{stderr}",
            limit.as_secs()
        )),
    }
}

pub fn python() -> String {
    std::env::var("CONFORM_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

pub fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk")
}

/// What Claude Code should print for a case, and whether an error is the right answer.
#[derive(Debug, Clone)]
pub struct ClaudeExpect {
    /// Any of these in stdout with exit 0 is the answer.
    pub texts: Vec<String>,
    pub truth: Truth,
}

/// Classify one `claude -p` run.
pub fn classify_claude(o: &Outcome, want: &ClaudeExpect, limit: Duration) -> Cell {
    let out = Outcome::first_line(&o.stdout);
    let err = Outcome::first_line(&o.stderr);
    let said = if out.is_empty() {
        err.clone()
    } else {
        out.clone()
    };
    if o.hung {
        return Cell::new(
            ClientImpact::Hangs,
            format!("killed after {} s", limit.as_secs()),
        );
    }
    let answered = o.exit == Some(0) && want.texts.iter().any(|t| o.stdout.contains(t.as_str()));
    match (&want.truth, o.exit) {
        // A retryable error (429, 5xx) invites a retry: the answer is then right.
        (
            Truth::Error {
                retryable: true, ..
            },
            Some(0),
        ) if answered => Cell::new(ClientImpact::Ok, "retried"),
        (Truth::Error { .. }, Some(0)) => Cell::new(
            ClientImpact::DataLost,
            format!("exit 0 for an error response: {:?}", clip(&said, 80)),
        ),
        (Truth::Error { .. }, _) => Cell::new(
            ClientImpact::Ok,
            format!("exit {:?}: {}", o.exit, clip(&said, 80)),
        ),
        (_, Some(0)) if answered => Cell::new(ClientImpact::Ok, ""),
        (_, Some(0)) => Cell::new(
            ClientImpact::DataLost,
            format!("exit 0 without the answer: {:?}", clip(&said, 80)),
        ),
        (_, code) => Cell::new(
            ClientImpact::Raises,
            format!("exit {code:?}: {}", clip(&said, 80)),
        ),
    }
}
