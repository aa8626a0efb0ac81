//! Reading exchange files back, one record line at a time, so that a file of any size is
//! judged (or replayed) in bounded memory.
//!
//! Two layouts are read: record lines (`{"rec":"begin",…}` … `{"rec":"end",…}`, what conform
//! writes now) and the wave-1 layout of one whole exchange per line (`{"request":…}`), which is
//! converted on the fly.

use super::{
    Collector, End, Exchange, FailureKind, Observer, Record, RecordedRequest, RecordedResponse,
    TransportFailure,
};
use serde::Deserialize;
use std::io::{self, BufRead, Seek, SeekFrom};
use std::path::Path;

/// The longest line read (a wave-1 line holds a whole exchange; record lines hold one chunk).
/// A replay bounds lines further, by its body limit ([`max_line_for`]).
pub(crate) const MAX_LINE: usize = 256 << 20;

/// The longest record line a body limit of `max_body` bytes can need: a chunk's bytes at most
/// six times over (JSON's `\u00XX` escape of a control byte) plus room for the record around
/// them; never more than [`MAX_LINE`]. A longer line cannot hold a body within the limit, so it
/// is refused before it is parsed (parsing costs several times the line).
pub(crate) fn max_line_for(max_body: usize) -> usize {
    max_body
        .saturating_mul(6)
        .saturating_add(1 << 20)
        .min(MAX_LINE)
}

/// An exchange file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
}

/// A wave-1 line: one whole exchange.
#[derive(Deserialize)]
struct Legacy {
    #[serde(default)]
    label: String,
    request: RecordedRequest,
    #[serde(default)]
    response: Option<RecordedResponse>,
    #[serde(default)]
    transport_error: Option<String>,
    #[serde(default)]
    attempts: Option<u32>,
}

impl Legacy {
    fn into_exchange(self) -> Exchange {
        let attempts = self.attempts.unwrap_or(1);
        let kind = if self.response.is_some() {
            FailureKind::Interrupted
        } else {
            FailureKind::Connect
        };
        Exchange {
            label: self.label,
            request: self.request,
            retries: (1..attempts)
                .map(|a| super::Retry {
                    attempt: a,
                    t_ms: 0.0,
                    status: None,
                    cause: "retried (recorded by an older conform)".into(),
                    wait_ms: 0.0,
                })
                .collect(),
            response: self.response,
            transport: self
                .transport_error
                .map(|message| TransportFailure { kind, message }),
        }
    }
}

/// Read one line (without its newline) into `buf`, at most `max_line` bytes of it; false at
/// the end of the input.
fn next_line(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    line_no: usize,
    max_line: usize,
) -> Result<bool, ReadError> {
    buf.clear();
    let n = io::Read::take(&mut *r, max_line as u64 + 1).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(false);
    }
    if buf.len() > max_line {
        return Err(ReadError::Line {
            line: line_no,
            message: format!(
                "a record line longer than {} (the body limit, --max-body-mb, allows no longer)",
                crate::text::human_size(max_line)
            ),
        });
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(true)
}

/// Feed every exchange of an exchange file to `obs`, record by record; the number of
/// exchanges. Stops at `stop_after` exchanges when given (replay of one exchange).
fn feed(
    r: &mut impl BufRead,
    obs: &mut impl Observer,
    first_line: usize,
    stop_after: Option<usize>,
    max_line: usize,
) -> Result<usize, ReadError> {
    let mut buf = Vec::new();
    let mut line = first_line;
    let mut count = 0;
    let mut open = false;
    while next_line(r, &mut buf, line + 1, max_line)? {
        line += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let bad = |e: serde_json::Error| ReadError::Line {
            line,
            message: format!("not an exchange record: {e}"),
        };
        // A record line (what conform writes) is parsed straight into its record: no
        // intermediate `Value` holding another copy of a chunk.
        let head = &buf[..buf.len().min(64)];
        let record_line = memchr::memmem::find(head, br#""rec":"#).is_some();
        let value: serde_json::Value = if record_line {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&buf).map_err(bad)?
        };
        if !record_line && value.get("rec").is_none() && value.get("request").is_some() {
            if open {
                return Err(ReadError::Line {
                    line,
                    message: "an exchange starts before the previous one ended".into(),
                });
            }
            let legacy: Legacy = serde_json::from_value(value).map_err(bad)?;
            legacy.into_exchange().replay_into(obs);
            count += 1;
        } else {
            let rec: Record = if record_line {
                serde_json::from_slice(&buf).map_err(bad)?
            } else {
                serde_json::from_value(value).map_err(bad)?
            };
            let expect_open = !matches!(rec, Record::Begin { .. });
            if expect_open != open {
                return Err(ReadError::Line {
                    line,
                    message: if open {
                        "an exchange starts before the previous one ended".into()
                    } else {
                        "a record outside an exchange (no `begin` before it)".into()
                    },
                });
            }
            match &rec {
                Record::Begin { label, request } => {
                    obs.begin(label, request);
                    open = true;
                }
                Record::Retry(x) => obs.retry(x),
                Record::Head(h) => obs.head(h),
                Record::Chunk(c) => obs.chunk(c.t_ms, &c.bytes()),
                Record::End(e) => {
                    obs.end(e);
                    open = false;
                    count += 1;
                }
            }
        }
        if stop_after.is_some_and(|n| count >= n) {
            return Ok(count);
        }
    }
    if open {
        // A file cut short (a run killed mid-write): end the exchange so it can be judged.
        obs.end(&End {
            total_ms: 0.0,
            transport: Some(TransportFailure {
                kind: FailureKind::Interrupted,
                message: "the exchange file ends in the middle of this exchange".into(),
            }),
        });
        count += 1;
    }
    Ok(count)
}

/// Feed every exchange of a reader to `obs`; the number of exchanges.
pub fn for_each_exchange(r: impl BufRead, obs: &mut impl Observer) -> Result<usize, ReadError> {
    let mut r = r;
    feed(&mut r, obs, 0, None, MAX_LINE)
}

/// Parse exchanges held in memory.
pub fn parse_ndjson(bytes: &[u8]) -> Result<Vec<Exchange>, ReadError> {
    let mut c = Collector::default();
    for_each_exchange(bytes, &mut c)?;
    Ok(c.into_exchanges())
}

/// Read a whole exchange file into memory (small files; the runner and `conform check` stream).
pub(crate) fn read_ndjson(path: &Path) -> Result<Vec<Exchange>, ReadError> {
    let f = crate::fsutil::open_regular(path)?;
    let mut c = Collector::default();
    for_each_exchange(io::BufReader::new(f), &mut c)?;
    Ok(c.into_exchanges())
}

/// Where each exchange of a file starts, for replaying exchanges one at a time.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub label: String,
    pub request: RecordedRequest,
    offset: u64,
    line: usize,
}

/// An index of an exchange file: the label and request of every exchange, and where it is.
pub(crate) struct Index {
    path: std::path::PathBuf,
    pub entries: Vec<Entry>,
}

/// Records only where exchanges begin.
struct Indexer<'a> {
    entries: &'a mut Vec<Entry>,
    offset: u64,
    line: usize,
}

impl Observer for Indexer<'_> {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        self.entries.push(Entry {
            label: label.to_string(),
            request: request.clone(),
            offset: self.offset,
            line: self.line,
        });
    }
    fn retry(&mut self, _: &super::Retry) {}
    fn head(&mut self, _: &super::Head) {}
    fn chunk(&mut self, _: f64, _: &[u8]) {}
    fn end(&mut self, _: &End) {}
}

impl Entry {
    /// The 0-based line where this exchange starts.
    pub(crate) fn line(&self) -> usize {
        self.line
    }
}

impl Index {
    /// Index a file in one pass, holding one line at a time.
    pub(crate) fn build(path: &Path) -> Result<Index, ReadError> {
        let f = crate::fsutil::open_regular(path)?;
        let mut r = io::BufReader::new(f);
        let mut entries = Vec::new();
        let mut offset = 0u64;
        let mut line = 0usize;
        let mut buf = Vec::new();
        loop {
            let start = offset;
            let n = bounded_line(&mut r, &mut buf, MAX_LINE)?;
            if n == 0 {
                break;
            }
            offset += n as u64;
            line += 1;
            // Only `begin` lines and wave-1 lines start an exchange; read just those fully.
            let head = &buf[..buf.len().min(64)];
            let begins = memchr::memmem::find(head, br#""rec":"begin""#).is_some()
                || (memchr::memmem::find(head, br#""rec""#).is_none()
                    && !buf.iter().all(u8::is_ascii_whitespace));
            if !begins {
                continue;
            }
            if n > buf.len() {
                return Err(ReadError::Line {
                    line,
                    message: format!("longer than {} MiB", MAX_LINE >> 20),
                });
            }
            let mut ix = Indexer {
                entries: &mut entries,
                offset: start,
                line: line - 1,
            };
            // A `begin` line alone reads as an unfinished exchange; only its start matters.
            feed(&mut &buf[..], &mut ix, line - 1, Some(1), MAX_LINE)?;
        }
        Ok(Index {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// Feed the exchange of `entry` to `obs`, refusing lines longer than `max_line`.
    pub(crate) fn replay(
        &self,
        entry: &Entry,
        obs: &mut impl Observer,
        max_line: usize,
    ) -> Result<(), ReadError> {
        let mut f = crate::fsutil::open_regular(&self.path)?;
        f.seek(SeekFrom::Start(entry.offset))?;
        feed(
            &mut io::BufReader::new(f),
            obs,
            entry.line,
            Some(1),
            max_line,
        )?;
        Ok(())
    }
}

/// Read one line into `buf`, keeping at most `max` bytes of it (its start: enough to tell a
/// `begin` line) and skipping the rest without holding it; the bytes consumed (0 at the end).
/// A begin line cut this way fails to parse and is reported with its line number.
fn bounded_line(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    buf.clear();
    let mut consumed = 0;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(consumed);
        }
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        let keep = take.min(max.saturating_sub(buf.len()));
        buf.extend_from_slice(&avail[..keep]);
        r.consume(take);
        consumed += take;
        if done {
            return Ok(consumed);
        }
    }
}
