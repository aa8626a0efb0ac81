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
use crate::exchange::spool::Spool;
use crate::exchange::{End, Head, Observer, RecordedRequest, Retry};
pub(crate) use crate::report::deviation::{Evidence, TimedLine};
use crate::run::{CaseId, StepId};
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// Collects a bounded excerpt of one exchange.
#[derive(Default)]
struct Excerpt {
    /// The exchange's label and request (from its `begin` record).
    begin: Option<(String, RecordedRequest)>,
    head: Option<Head>,
    body: Vec<u8>,
    /// (arrival time, byte offset where the chunk ends).
    marks: Vec<(f64, usize)>,
    truncated: bool,
    end: Option<End>,
    retries: Vec<String>,
}

impl Observer for Excerpt {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        self.begin = Some((label.to_string(), request.clone()));
    }
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

/// The repro of an exchange: [`curl_for`], preceded, for the built-in reference server (which
/// ended with the run, its port with it), by how to start one on the same port.
fn repro(request: &RecordedRequest, file: &str, label: &str) -> String {
    let curl = curl_for(request, file, label);
    let builtin = file == format!("exchanges/{}.ndjson", crate::runner::embedded::TARGET_NAME);
    let addr = request
        .url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .filter(|a| a.starts_with("127.0.0.1:"));
    match addr {
        Some(addr) if builtin => format!(
            "# Sent to the built-in reference server, which stopped with the run; start one on the same\n\
             # port first (add the run's --mock-fault flags as --fault), and export API_KEY=the key it\n\
             # prints: conform mock --addr {addr} &\n{curl}"
        ),
        _ => curl,
    }
}

/// A `curl` command that sends `request` again. Secret headers (redacted in the record) take
/// `$API_KEY`; a large body is read from the exchange file (`file`, relative to the report
/// dir) by its label.
pub(crate) fn curl_for(request: &RecordedRequest, file: &str, label: &str) -> String {
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

impl Excerpt {
    /// The evidence this excerpt shows: `file` is the exchange file relative to the report dir,
    /// `line` the 1-based line of the exchange's `begin` record in it.
    fn into_evidence(self, file: &str, line: usize) -> Option<Evidence> {
        let (label, request) = self.begin.clone()?;
        let mut response = Vec::new();
        let mut events = Vec::new();
        if let Some(h) = &self.head {
            response.push(format!(
                "HTTP {} (head after {:.0} ms)",
                h.status, h.head_ms
            ));
            for (k, v) in h.headers.iter().take(16) {
                response.push(clip(&format!("{k}: {v}")));
            }
            let stream = h.media_type().is_some_and(|m| m == "text/event-stream");
            if stream {
                events = timeline(&self);
            } else if !self.body.is_empty() {
                response.push(String::new());
                response.push(clip(&String::from_utf8_lossy(&self.body)));
            }
        }
        if self.truncated {
            response.push(format!("… (first {} KiB shown)", MAX_BODY / 1024));
        }
        if let Some(end) = &self.end {
            let how = end
                .transport
                .as_ref()
                .map(|t| format!(": {}", t.message))
                .unwrap_or_default();
            response.push(format!("end after {:.0} ms{how}", end.total_ms));
        }
        Some(Evidence {
            file: file.to_string(),
            curl: repro(&request, file, &label),
            label,
            line,
            request: request_lines(&request),
            response,
            events,
            retries: self.retries,
        })
    }
}

/// The evidence of a run's exchanges, built while they stream past: a bounded excerpt of each
/// exchange of each result that may need one (a result with findings, or one that fails the
/// run), keyed by case and step. Nothing is read back from disk.
#[derive(Default)]
pub struct EvidenceIndex {
    /// Lines written so far to each target's exchange file.
    lines: HashMap<String, usize>,
    /// Excerpts of cases still running.
    pending: HashMap<CaseId, Vec<(StepId, Evidence)>>,
    /// Excerpts of finished cases that may need them.
    kept: HashMap<CaseId, Vec<(StepId, Evidence)>>,
}

impl EvidenceIndex {
    /// Take the excerpt of one exchange of `case` from its records (as appended to
    /// `file`, the target's exchange file relative to the report dir).
    pub(crate) fn exchange(
        &mut self,
        case: &CaseId,
        step: &StepId,
        file: &str,
        records: &Spool,
    ) -> std::io::Result<()> {
        let mut x = Excerpt::default();
        let mut lines = 0usize;
        let mut counted = LineCount {
            inner: records.reader()?,
            lines: &mut lines,
        };
        crate::exchange::for_each_exchange(std::io::BufReader::new(&mut counted), &mut x)
            .map_err(std::io::Error::other)?;
        let first = self.lines.entry(case.target.clone()).or_default();
        let line = *first + 1;
        *first += lines;
        if let Some(ev) = x.into_evidence(file, line) {
            self.pending
                .entry(case.clone())
                .or_default()
                .push((step.clone(), ev));
        }
        Ok(())
    }

    /// `record`'s case ended: its excerpts are kept when it may need evidence.
    pub(crate) fn finished(&mut self, record: &super::super::ResultRecord) {
        let case = record.case_id();
        let Some(excerpts) = self.pending.remove(&case) else {
            return;
        };
        if !record.findings.is_empty() || needs_repro(record) {
            self.kept.insert(case, excerpts);
        }
    }

    /// The evidence of `step` of `case`, or of its first exchange when no step is named.
    pub(crate) fn get(&self, case: &CaseId, step: Option<&StepId>) -> Option<&Evidence> {
        let excerpts = self.kept.get(case).or_else(|| self.pending.get(case))?;
        match step {
            Some(s) => excerpts.iter().find(|(id, _)| id == s),
            None => excerpts.first(),
        }
        .map(|(_, ev)| ev)
    }

    /// The index of a recording made earlier (`conform merge`): each target's exchange file in
    /// `dir`, its exchanges matched to `results` by the label a run gives them
    /// ([`CaseId::label`]).
    pub(crate) fn from_recordings(
        dir: &Path,
        results: &[super::super::ResultRecord],
    ) -> EvidenceIndex {
        let mut out = EvidenceIndex::default();
        let mut labels: HashMap<(String, String), (CaseId, StepId)> = HashMap::new();
        for r in results {
            let case = r.case_id();
            for step in r.findings.iter().filter_map(|f| f.step.as_ref()) {
                labels.insert(
                    (r.target.clone(), case.label(step)),
                    (case.clone(), step.clone()),
                );
            }
        }
        let targets: BTreeSet<&str> = results.iter().map(|r| r.target.as_str()).collect();
        for target in targets {
            let path = crate::report::sinks::exchange_file(dir, target);
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let Ok(index) = Index::build(&path) else {
                continue;
            };
            for entry in &index.entries {
                let Some((case, step)) = labels.get(&(target.to_string(), entry.label.clone()))
                else {
                    continue;
                };
                let mut x = Excerpt::default();
                if index
                    .replay(entry, &mut x, crate::exchange::read::MAX_LINE)
                    .is_err()
                {
                    continue;
                }
                if let Some(ev) = x.into_evidence(&rel, entry.line() + 1) {
                    out.kept
                        .entry(case.clone())
                        .or_default()
                        .push((step.clone(), ev));
                }
            }
        }
        out
    }
}

/// Counts the lines read through it.
struct LineCount<'a, R> {
    inner: R,
    lines: &'a mut usize,
}

impl<R: std::io::Read> std::io::Read for LineCount<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
        Ok(n)
    }
}

/// Attach evidence to each deviation and a repro to each failing result, from `index`.
pub(crate) fn attach_evidence(
    deviations: &mut [Deviation],
    results: &[super::super::ResultRecord],
    index: &EvidenceIndex,
) -> BTreeMap<String, Evidence> {
    for d in deviations.iter_mut() {
        if let Some((case, step)) = &d.example_of {
            d.evidence = index.get(case, step.as_ref()).cloned();
        }
    }
    let mut repros = BTreeMap::new();
    for r in results.iter().filter(|r| needs_repro(r)) {
        let case = r.case_id();
        let step = r.findings.iter().find_map(|f| f.step.as_ref());
        if let Some(ev) = index.get(&case, step) {
            repros.insert(case.to_string(), ev.clone());
        }
    }
    repros
}

/// Results that fail the run (or could not be judged) get a repro.
pub(crate) fn needs_repro(r: &super::super::ResultRecord) -> bool {
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
