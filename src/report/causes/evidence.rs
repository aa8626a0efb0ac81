//! Evidence from the exchange record: a bounded excerpt of the request and response that show
//! a deviation (status and headers, the start of the body or the stream's events with their
//! arrival times), a pointer to the full record (file, label, line), and a `curl` command that
//! replays the request with the key as `$API_KEY`, never its value.
//!
//! Exchange files are already redacted on disk; every text taken from them is redacted again by
//! the report writers. Reading is bounded: the file is indexed once per target, and only the
//! exchanges shown are read, each up to [`MAX_BODY`] bytes.

use super::Deviation;
use crate::exchange::read::Index;
use crate::exchange::{End, Head, Observer, RecordedRequest, Retry};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The most body bytes read from one exchange.
const MAX_BODY: usize = 16 * 1024;
/// The most stream events shown in a timeline.
const MAX_EVENTS: usize = 40;
/// Request bodies up to this size are written into the curl command; larger ones are read from
/// the exchange file with `jq`.
const MAX_INLINE_BODY: usize = 2000;
/// The longest excerpt line.
const MAX_LINE: usize = 240;

/// What shows a deviation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The exchange file, relative to the report dir (`exchanges/reference.ndjson`).
    pub file: String,
    /// The exchange's label in that file (`stop-sequences/several@sync step ask`).
    pub label: String,
    /// 1-based line of the exchange's `begin` record.
    pub line: usize,
    /// `POST /v1/messages` and the start of the body.
    pub request: Vec<String>,
    /// `HTTP 200`, headers, the start of the body (non-stream).
    pub response: Vec<String>,
    /// Stream events with their arrival times (ms since the request was sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<TimedLine>,
    /// Retried attempts before the final one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<String>,
    pub curl: String,
}

/// One line of an event timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedLine {
    pub t_ms: f64,
    pub text: String,
}

/// Collects a bounded excerpt of one exchange.
#[derive(Default)]
struct Excerpt {
    head: Option<Head>,
    body: Vec<u8>,
    /// (arrival time, byte offset where the chunk ends).
    marks: Vec<(f64, usize)>,
    truncated: bool,
    end: Option<End>,
    retries: Vec<String>,
}

impl Observer for Excerpt {
    fn begin(&mut self, _: &str, _: &RecordedRequest) {}
    fn retry(&mut self, r: &Retry) {
        self.retries.push(format!(
            "attempt {} at {:.0} ms: {} (waited {:.0} ms)",
            r.attempt, r.t_ms, r.cause, r.wait_ms
        ));
    }
    fn head(&mut self, h: &Head) {
        self.head = Some(h.clone());
    }
    fn chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        let room = MAX_BODY.saturating_sub(self.body.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.marks.push((t_ms, self.body.len()));
    }
    fn end(&mut self, e: &End) {
        self.end = Some(e.clone());
    }
}

fn clip(s: &str) -> String {
    crate::text::truncate(&s.replace(['\r', '\n'], " "), MAX_LINE)
}

/// Quote for a POSIX shell.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A `curl` command that sends `request` again. Secret headers (redacted in the record) take
/// `$API_KEY`; a large body is read from the exchange file (`file`, relative to the report
/// dir) by its label.
pub fn curl_for(request: &RecordedRequest, file: &str, label: &str) -> String {
    let mut lines = vec![format!(
        "curl -sS -N -X {} {}",
        request.method,
        sh(&request.url)
    )];
    for (k, v) in &request.headers {
        let lk = k.to_ascii_lowercase();
        if matches!(lk.as_str(), "content-length" | "host" | "accept-encoding") {
            continue;
        }
        let secret = v.contains("[REDACTED]") || crate::secrets::is_sensitive_header(&lk);
        if secret {
            let value = if lk == "authorization" {
                "Bearer $API_KEY".to_string()
            } else {
                "$API_KEY".to_string()
            };
            lines.push(format!("-H \"{k}: {value}\""));
        } else {
            lines.push(format!("-H {}", sh(&format!("{k}: {v}"))));
        }
    }
    let mut prefix = String::new();
    let mut suffix = String::new();
    if let Some(body) = &request.body {
        if body.len() <= MAX_INLINE_BODY && !body.contains("\nJSON\n") {
            lines.push("--data-binary @- <<'JSON'".to_string());
            suffix = format!("\n{body}\nJSON");
        } else {
            prefix = format!(
                "jq -nj {} {} | ",
                sh(&format!(
                    "first(inputs | select(.rec == \"begin\" and .label == {})) | .request.body",
                    serde_json::Value::String(label.to_string())
                )),
                sh(file)
            );
            lines.push("--data-binary @-".to_string());
        }
    }
    format!("{prefix}{}{suffix}", lines.join(" \\\n  "))
}

/// The request lines of an excerpt.
fn request_lines(req: &RecordedRequest) -> Vec<String> {
    let mut out = vec![format!("{} {}", req.method, req.path())];
    if let Some(b) = &req.body {
        out.push(clip(b));
    }
    out
}

/// Split an SSE body into `event: … data: …` lines with the time the event was complete.
fn timeline(x: &Excerpt) -> Vec<TimedLine> {
    let text = String::from_utf8_lossy(&x.body);
    let mut out = Vec::new();
    let mut pos = 0usize;
    for block in text.split_inclusive("\n\n") {
        pos += block.len();
        let line = block
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if line.is_empty() {
            continue;
        }
        let t = x
            .marks
            .iter()
            .find(|(_, end)| *end >= pos)
            .or(x.marks.last())
            .map(|(t, _)| *t)
            .unwrap_or(0.0);
        out.push(TimedLine {
            t_ms: (t * 10.0).round() / 10.0,
            text: clip(&line),
        });
        if out.len() >= MAX_EVENTS {
            break;
        }
    }
    out
}

/// Read the exchange labelled `label` from an index: its evidence.
fn excerpt(index: &Index, file: &str, label: &str) -> Option<Evidence> {
    let entry = index.entries.iter().find(|e| e.label == label)?;
    let mut x = Excerpt::default();
    index.replay(entry, &mut x).ok()?;
    let mut response = Vec::new();
    let mut events = Vec::new();
    if let Some(h) = &x.head {
        response.push(format!(
            "HTTP {} (head after {:.0} ms)",
            h.status, h.head_ms
        ));
        for (k, v) in h.headers.iter().take(16) {
            response.push(clip(&format!("{k}: {v}")));
        }
        let stream = h.media_type().is_some_and(|m| m == "text/event-stream");
        if stream {
            events = timeline(&x);
        } else if !x.body.is_empty() {
            response.push(String::new());
            response.push(clip(&String::from_utf8_lossy(&x.body)));
        }
    }
    if x.truncated {
        response.push(format!("… (first {} KiB shown)", MAX_BODY / 1024));
    }
    if let Some(end) = &x.end {
        let how = end
            .transport
            .as_ref()
            .map(|t| format!(": {}", t.message))
            .unwrap_or_default();
        response.push(format!("end after {:.0} ms{how}", end.total_ms));
    }
    Some(Evidence {
        file: file.to_string(),
        label: label.to_string(),
        line: entry.line() + 1,
        request: request_lines(&entry.request),
        response,
        events,
        retries: x.retries,
        curl: curl_for(&entry.request, file, label),
    })
}

/// The label of the exchange a finding's step belongs to.
pub fn label(case: &str, step: &str) -> String {
    format!("{case} step {step}")
}

/// Attach evidence to each deviation and a repro to each failing result, reading
/// `DIR/exchanges/TARGET.ndjson`. Missing or unreadable files leave the evidence out.
pub fn attach_evidence(
    deviations: &mut [Deviation],
    results: &[super::super::ResultRecord],
    dir: &Path,
) -> BTreeMap<String, Evidence> {
    let mut indexes: BTreeMap<String, Option<(String, Index)>> = BTreeMap::new();
    let targets = deviations.iter().map(|d| d.target.as_str()).chain(
        results
            .iter()
            .filter(|r| needs_repro(r))
            .map(|r| r.target.as_str()),
    );
    for target in targets {
        if indexes.contains_key(target) {
            continue;
        }
        let path = crate::report::events::ExchangeSink::file_for(dir, target);
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        indexes.insert(
            target.to_string(),
            Index::build(&path).ok().map(|i| (rel, i)),
        );
    }
    let index_for = |target: &str| indexes.get(target).and_then(Option::as_ref);
    for d in deviations.iter_mut() {
        let Some((file, index)) = index_for(&d.target) else {
            continue;
        };
        let step = if d.example.step.is_empty() {
            first_step(index, &d.example.case)
        } else {
            Some(d.example.step.clone())
        };
        if let Some(step) = step {
            d.evidence = excerpt(index, file, &label(&d.example.case, &step));
        }
    }
    let mut repros = BTreeMap::new();
    for r in results.iter().filter(|r| needs_repro(r)) {
        let Some((file, index)) = index_for(&r.target) else {
            continue;
        };
        let case = r.case_name();
        let step = r
            .findings
            .iter()
            .map(|f| super::step_of(&f.location))
            .find(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| first_step(index, &case));
        if let Some(ev) = step.and_then(|s| excerpt(index, file, &label(&case, &s))) {
            repros.insert(super::result_key(r), ev);
        }
    }
    repros
}

/// The first step recorded for a case.
fn first_step(index: &Index, case: &str) -> Option<String> {
    let prefix = format!("{case} step ");
    index
        .entries
        .iter()
        .find_map(|e| e.label.strip_prefix(&prefix).map(str::to_string))
}

/// Results that fail the run (or could not be judged) get a repro.
pub fn needs_repro(r: &super::super::ResultRecord) -> bool {
    use crate::verdict::Verdict::*;
    matches!(r.verdict, Fail | Ignored | Flaky | Error | Unsupported) && !r.expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_never_holds_the_key_and_quotes_for_the_shell() {
        let req = RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:9/v1/messages".into(),
            headers: vec![
                ("x-api-key".into(), "[REDACTED]".into()),
                ("anthropic-version".into(), "2023-06-01".into()),
                ("content-length".into(), "12".into()),
            ],
            body: Some(r#"{"a":"it's"}"#.into()),
        };
        let c = curl_for(&req, "exchanges/t.ndjson", "s@sync step ask");
        assert!(c.contains("-H \"x-api-key: $API_KEY\""), "{c}");
        assert!(
            !c.contains("REDACTED") && !c.contains("content-length"),
            "{c}"
        );
        assert!(c.ends_with("<<'JSON'\n{\"a\":\"it's\"}\nJSON"), "{c}");
        let big = RecordedRequest {
            body: Some("x".repeat(MAX_INLINE_BODY + 1)),
            ..req
        };
        let c = curl_for(&big, "exchanges/t.ndjson", "s@sync step ask");
        assert!(
            c.starts_with("jq -nj 'first(inputs | select(.rec == \"begin\" and .label == \"s@sync step ask\")) | .request.body' 'exchanges/t.ndjson' | curl"),
            "{c}"
        );
    }

    #[test]
    fn timeline_times_events_by_the_chunk_that_completed_them() {
        let mut x = Excerpt::default();
        x.chunk(5.0, b"event: a\ndata: {}\n\nevent: b\n");
        x.chunk(9.5, b"data: {}\n\n");
        let t = timeline(&x);
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].t_ms, t[0].text.as_str()), (5.0, "event: a data: {}"));
        assert_eq!(t[1].t_ms, 9.5);
    }
}
