//! `conform check FILE...`: validates captured traffic offline, with the same validators as a
//! live run.
//!
//! Recognised inputs: raw `.sse` streams, `.json` bodies (message, error, count_tokens, models —
//! recognised by their shape, with the file name as a hint), and conform's own exchange files
//! (NDJSON, one exchange per line). `NAME.request.json` beside `NAME.sse` / `NAME.json` /
//! `NAME.error.json` (or `--request FILE`) supplies the request for the request-implied checks.

use crate::check::{Finding, Severity};
use crate::exchange::{self, Exchange};
use crate::http::sse::looks_like_event_stream;
use crate::protocol::anthropic::grammar::Profile;
use crate::protocol::anthropic::schema::Shape;
use crate::protocol::anthropic::stream::{StreamOptions, check_bytes};
use crate::protocol::anthropic::validate::{self, Options, ShapeHint, Validation};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Output format of `conform check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Arguments of `conform check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Files to check: .sse streams, .json bodies, conform exchange files (.ndjson).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The request that produced the traffic (default: NAME.request.json beside each file).
    #[arg(long)]
    pub request: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// strict: Anthropic's own block order; tolerant: interleaved blocks allowed.
    #[arg(long, value_enum, default_value_t)]
    pub profile: Profile,
}

/// The result of checking one input (a file, or one exchange of an exchange file).
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: String,
    /// What the input was recognised as.
    pub kind: String,
    pub findings: Vec<Finding>,
    /// Why the file could not be checked at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Check one path. Never panics on content; unreadable input becomes `error`.
pub fn check_path(
    path: &Path,
    request_override: Option<&Value>,
    profile: Profile,
) -> Vec<FileReport> {
    let name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return vec![unreadable(&name, format!("cannot read: {e}"))],
    };
    let request = request_override.cloned().or_else(|| sibling_request(path));
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let trimmed = trim_start(&bytes);
    let is_exchange_file = file_name.ends_with(".ndjson")
        || file_name.ends_with(".jsonl")
        || looks_like_exchange(&bytes);
    if is_exchange_file {
        return match exchange::parse_ndjson(&bytes) {
            Ok(xs) => xs
                .iter()
                .enumerate()
                .map(|(i, x)| report_exchange(&name, i, x, profile))
                .collect(),
            Err(e) => vec![unreadable(&name, format!("not an exchange file: {e}"))],
        };
    }
    if file_name.ends_with(".sse") || looks_like_event_stream(&bytes) {
        let outcome = check_bytes(
            &bytes,
            StreamOptions {
                profile,
                timing_known: false,
            },
        );
        let v = validate::validate_stream_outcome(outcome, request.as_ref());
        return vec![FileReport {
            file: name,
            kind: "stream".into(),
            findings: v.findings,
            error: None,
        }];
    }
    if trimmed.starts_with(b"{") || trimmed.starts_with(b"[") {
        if serde_json::from_slice::<Value>(&bytes).is_err() {
            return vec![unreadable(
                &name,
                "neither JSON nor an event stream (the JSON does not parse)".into(),
            )];
        }
        let hint = ShapeHint::Recognise(hint_from_name(file_name));
        let v = validate::validate_body(&bytes, None, hint, request.as_ref());
        return vec![FileReport {
            file: name,
            kind: kind_name(&v),
            findings: v.findings,
            error: None,
        }];
    }
    vec![unreadable(&name, "neither JSON nor an event stream".into())]
}

/// A file name says what a body should be when its content does not (e.g. `x.error.json`).
fn hint_from_name(file_name: &str) -> Option<Shape> {
    let n = file_name.to_ascii_lowercase();
    if n.ends_with(".error.json") {
        Some(Shape::Error)
    } else if n.contains("count_tokens") || n.contains("count-tokens") {
        Some(Shape::CountTokens)
    } else if n.contains("models") {
        Some(Shape::ModelList)
    } else {
        None
    }
}

fn kind_name(v: &Validation) -> String {
    serde_json::to_value(v.kind)
        .ok()
        .and_then(|k| k.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn report_exchange(file: &str, i: usize, x: &Exchange, profile: Profile) -> FileReport {
    let v = validate::validate_exchange(
        x,
        Options {
            profile,
            timing_known: true,
        },
    );
    let label = if x.label.is_empty() {
        format!("exchange {}", i + 1)
    } else {
        x.label.clone()
    };
    let kind = kind_name(&v);
    let mut findings = v.findings;
    let mut error = None;
    if let Some(e) = &x.transport_error {
        if x.response.is_none() {
            error = Some(format!("no response: {e}"));
        } else {
            findings.push(Finding::info(
                "transport.error",
                "connection",
                format!("the transfer ended with an error: {e}"),
            ));
        }
    }
    FileReport {
        file: format!("{file} [{label}]"),
        kind,
        findings,
        error,
    }
}

fn unreadable(file: &str, why: String) -> FileReport {
    FileReport {
        file: file.to_string(),
        kind: "unreadable".into(),
        findings: Vec::new(),
        error: Some(why),
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

fn looks_like_exchange(bytes: &[u8]) -> bool {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    serde_json::from_slice::<Value>(first)
        .ok()
        .is_some_and(|v| {
            v.get("request")
                .is_some_and(|r| r.get("method").is_some() && r.get("url").is_some())
        })
}

/// `NAME.request.json` beside `NAME.sse`, `NAME.json` or `NAME.error.json`.
fn sibling_request(path: &Path) -> Option<Value> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".request.json") {
        return None;
    }
    let stem = [".error.json", ".json", ".sse"]
        .iter()
        .find_map(|s| name.strip_suffix(s))?;
    let p = path.with_file_name(format!("{stem}.request.json"));
    let text = std::fs::read_to_string(p).ok()?;
    serde_json::from_str(&text).ok()
}

/// Run `conform check`; returns the exit code.
pub fn run_cli(args: &CheckArgs) -> i32 {
    let request = match &args.request {
        Some(p) => match std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
        {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("error: --request {}: {e}", p.display());
                return crate::exit::USAGE;
            }
        },
        None => None,
    };
    let mut reports = Vec::new();
    for f in &args.files {
        reports.extend(check_path(f, request.as_ref(), args.profile));
    }
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&reports) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("error: {e}"),
        },
        Format::Text => print_text(&reports),
    }
    exit_code(&reports)
}

/// 2 when a file could not be checked at all, else 1 when any `must` finding, else 0.
pub fn exit_code(reports: &[FileReport]) -> i32 {
    if reports
        .iter()
        .any(|r| r.error.is_some() && r.kind == "unreadable")
    {
        crate::exit::USAGE
    } else if reports
        .iter()
        .any(|r| r.findings.iter().any(|f| f.severity == Severity::Must))
    {
        crate::exit::FAILURES
    } else {
        crate::exit::OK
    }
}

fn print_text(reports: &[FileReport]) {
    let (mut must, mut should, mut info) = (0, 0, 0);
    for r in reports {
        if let Some(e) = &r.error {
            println!("{}: error: {e}", r.file);
            continue;
        }
        for f in &r.findings {
            println!("{}: {f}", r.file);
            match f.severity {
                Severity::Must => must += 1,
                Severity::Should => should += 1,
                Severity::Info => info += 1,
            }
        }
    }
    let unreadable = reports.iter().filter(|r| r.error.is_some()).count();
    println!(
        "checked {} input(s): {must} must, {should} should, {info} info{}",
        reports.len(),
        if unreadable > 0 {
            format!(", {unreadable} unreadable")
        } else {
            String::new()
        }
    );
}
