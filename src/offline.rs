//! `conform check FILE...`: validates captured traffic offline, with the same validators as a
//! live run.
//!
//! Recognised inputs: raw `.sse` streams, `.json` bodies (message, error, count_tokens, models —
//! recognised by their shape, with the file name as a hint), and conform's own exchange files
//! (NDJSON, one exchange per line). `NAME.request.json` beside `NAME.sse` / `NAME.json` /
//! `NAME.error.json` (or `--request FILE`) supplies the request for the request-implied checks.
//! A `.sse` file is judged as a saved file: a last event that lost its blank line in storage
//! is only a note (`stream.sse.unterminated-frame` at `info`); an exchange file keeps the bytes
//! as they arrived and is judged like live traffic.

use crate::check::{Finding, Severity};
use crate::exchange::{self, End, Head, Observer, RecordedRequest};
use crate::http::sse::looks_like_event_stream;
use crate::protocol::anthropic::grammar::Profile;
use crate::protocol::anthropic::judge::{Judge, Options};
use crate::protocol::anthropic::validate::Validation;
use crate::protocol::anthropic::wire;
use serde::Serialize;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Output format of `conform check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Format {
    #[default]
    Text,
    Json,
}

/// Arguments of `conform check`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CheckArgs {
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

/// Bytes read at a time from a captured stream or an exchange file.
const PIECE: usize = 64 << 10;
/// The largest request file (`NAME.request.json`, `--request`) read.
const MAX_REQUEST_BYTES: u64 = 64 << 20;

/// Check one path. Never panics on content; unreadable input becomes `error`. Streams and
/// exchange files are read in bounded pieces and judged as they are read; a JSON body is one
/// value and is read whole.
pub fn check_path(
    path: &Path,
    request_override: Option<&Value>,
    profile: Profile,
) -> Vec<FileReport> {
    let name = path.display().to_string();
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if file_name.ends_with(".request.json") {
        return vec![FileReport {
            file: name,
            kind: "request".into(),
            findings: Vec::new(),
            error: None,
        }];
    }
    let file = match crate::fsutil::open_regular(path) {
        Ok(f) => f,
        Err(e) => return vec![unreadable(&name, format!("cannot read: {e}"))],
    };
    let mut reader = BufReader::with_capacity(PIECE, file);
    let start = match reader.fill_buf() {
        Ok(b) => b.to_vec(),
        Err(e) => return vec![unreadable(&name, format!("cannot read: {e}"))],
    };
    let is_exchange_file = file_name.ends_with(".ndjson")
        || file_name.ends_with(".jsonl")
        || looks_like_exchange(&start);
    if is_exchange_file {
        return check_exchange_file(&name, reader, profile);
    }
    let request = match request_override {
        Some(r) => Some(r.clone()),
        None => match sibling_request(path) {
            Ok(r) => r,
            Err(e) => return vec![unreadable(&name, e)],
        },
    };
    let is_stream = file_name.ends_with(".sse") || looks_like_event_stream(&start);
    if !is_stream {
        let trimmed = trim_start(&start);
        if !(trimmed.starts_with(b"{") || trimmed.starts_with(b"[")) {
            return vec![unreadable(&name, "neither JSON nor an event stream".into())];
        }
    }
    let opts = Options {
        profile,
        timing_known: false,
        status_unknown: true,
        force_stream: is_stream,
        file_hint: wire::shape_hint_from_file_name(file_name),
        max_body: None,
    };
    let mut judge = Judge::new(opts);
    let req = RecordedRequest {
        method: "POST".into(),
        url: String::new(),
        headers: Vec::new(),
        body: request.map(|r| r.to_string()),
    };
    judge.begin(&name, &req);
    judge.head(&Head {
        status: 200,
        headers: Vec::new(),
        head_ms: 0.0,
    });
    if is_stream {
        if let Err(e) = feed_pieces(&mut reader, &mut judge) {
            return vec![unreadable(&name, format!("cannot read: {e}"))];
        }
    } else {
        let mut bytes = Vec::new();
        if let Err(e) = reader.read_to_end(&mut bytes) {
            return vec![unreadable(&name, format!("cannot read: {e}"))];
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
            return vec![unreadable(
                &name,
                "neither JSON nor an event stream (the JSON does not parse)".into(),
            )];
        }
        judge.chunk(0.0, &bytes);
    }
    judge.end(&End {
        total_ms: 0.0,
        transport: None,
    });
    let Some(j) = judge.take() else {
        return vec![unreadable(&name, "nothing to judge".into())];
    };
    vec![FileReport {
        file: name,
        kind: if is_stream {
            "stream".into()
        } else {
            kind_name(&j.validation)
        },
        findings: j.validation.findings,
        error: None,
    }]
}

/// Feed a reader to the judge in bounded pieces.
fn feed_pieces(reader: &mut impl BufRead, judge: &mut Judge) -> std::io::Result<()> {
    loop {
        let piece = reader.fill_buf()?;
        if piece.is_empty() {
            return Ok(());
        }
        let n = piece.len();
        judge.chunk(0.0, piece);
        reader.consume(n);
    }
}

/// Judges each exchange of an exchange file as it is read, one report each.
struct FileJudge<'a> {
    file: &'a str,
    judge: Judge,
    reports: Vec<FileReport>,
}

impl Observer for FileJudge<'_> {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        self.judge.begin(label, request);
    }
    fn retry(&mut self, retry: &crate::exchange::Retry) {
        self.judge.retry(retry);
    }
    fn head(&mut self, head: &Head) {
        self.judge.head(head);
    }
    fn chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        self.judge.chunk(t_ms, bytes);
    }
    fn end(&mut self, end: &End) {
        self.judge.end(end);
        let Some(j) = self.judge.take() else { return };
        let label = if j.exchange.label.is_empty() {
            format!("exchange {}", self.reports.len() + 1)
        } else {
            j.exchange.label.clone()
        };
        let error = j.infra.as_ref().map(|e| {
            if j.exchange.response.is_none() {
                format!("no response: {e}")
            } else {
                format!("not judged to the end: {e}")
            }
        });
        self.reports.push(FileReport {
            file: format!("{} [{label}]", self.file),
            kind: kind_name(&j.validation),
            findings: j.validation.findings,
            error,
        });
    }
}

fn check_exchange_file(name: &str, reader: impl BufRead, profile: Profile) -> Vec<FileReport> {
    let mut fj = FileJudge {
        file: name,
        judge: Judge::new(Options {
            profile,
            timing_known: true,
            ..Options::default()
        }),
        reports: Vec::new(),
    };
    match exchange::for_each_exchange(reader, &mut fj) {
        Ok(0) => vec![unreadable(
            name,
            "an exchange file with no exchange in it".into(),
        )],
        Ok(_) => fj.reports,
        Err(e) => {
            let mut out = fj.reports;
            out.push(unreadable(name, format!("not an exchange file: {e}")));
            out
        }
    }
}

fn kind_name(v: &Validation) -> String {
    serde_json::to_value(v.kind)
        .ok()
        .and_then(|k| k.as_str().map(str::to_string))
        .unwrap_or_default()
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

/// Whether the first line is an exchange record (or a wave-1 whole exchange).
fn looks_like_exchange(start: &[u8]) -> bool {
    let first = start.split(|b| *b == b'\n').next().unwrap_or(&[]);
    serde_json::from_slice::<Value>(first)
        .ok()
        .is_some_and(|v| {
            v.get("rec").is_some_and(|r| r == "begin")
                || v.get("request")
                    .is_some_and(|r| r.get("method").is_some() && r.get("url").is_some())
        })
}

/// `NAME.request.json` beside `NAME.sse`, `NAME.json` or `NAME.error.json`: `Ok(None)` when
/// there is none, an error when it is there but unreadable or not JSON.
fn sibling_request(path: &Path) -> Result<Option<Value>, String> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let Some(stem) = [".error.json", ".json", ".sse"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
    else {
        return Ok(None);
    };
    let p = path.with_file_name(format!("{stem}.request.json"));
    if !p.exists() {
        return Ok(None);
    }
    let text = crate::fsutil::read_regular_string(&p, MAX_REQUEST_BYTES)
        .map_err(|e| format!("its request {} cannot be read: {e}", p.display()))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("its request {} is not JSON: {e}", p.display()))
}

/// Run `conform check`; returns the exit code.
pub(crate) fn run_cli(args: &CheckArgs) -> i32 {
    let request = match &args.request {
        Some(p) => match crate::fsutil::read_regular_string(p, MAX_REQUEST_BYTES)
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
    // Request companions named on the command line (`corpus/*.json`) are inputs of the
    // checks beside them, not responses.
    reports.retain(|r| r.kind != "request");
    if reports.is_empty() {
        eprintln!("error: nothing to check: every file given is a NAME.request.json companion");
        return crate::exit::USAGE;
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
pub(crate) fn exit_code(reports: &[FileReport]) -> i32 {
    if reports
        .iter()
        .any(|r| r.error.is_some() && r.kind == "unreadable")
    {
        crate::exit::USAGE
    } else if reports
        .iter()
        .any(|r| r.findings.iter().any(|f| f.severity() == Severity::Must))
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
            // What the endpoint wrote never reaches the terminal as ESC/OSC/BEL.
            println!(
                "{}",
                crate::text::visible(&format!("{}: error: {e}", r.file))
            );
            continue;
        }
        for f in &r.findings {
            println!("{}", crate::text::visible(&format!("{}: {f}", r.file)));
            match f.severity() {
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
