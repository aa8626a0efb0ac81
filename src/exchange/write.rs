//! Writing exchanges: redaction of every record (across chunk boundaries too) and the NDJSON
//! record lines of an exchange file.
//!
//! [`Redacting`] wraps any [`Observer`] and hands it a redacted copy of each record. Body bytes
//! are redacted as one stream: a chunk that ends with what could be the start of a secret (or
//! in the middle of a UTF-8 character) keeps those bytes back and sends them with the next
//! chunk. Those bytes always precede the end of the SSE frame they belong to, so every frame
//! is still complete at the same arrival time, and a replay of the record judges like the live
//! exchange did. Bytes that are not UTF-8 are stored as base64 *after* redaction.
//!
//! Before that, an event stream's chunks pass through a [`DeltaMask`]: a secret a model
//! streams token by token, spread over consecutive delta events, is masked in each of them
//! (chunks wait, whole and with their arrival times, until what they end with is known not to
//! begin a secret).

use super::{Chunk, End, Exchange, Head, Observer, Record, RecordedRequest, Retry};
use crate::secrets::{DeltaMask, Redactor};
use std::io::{self, Write};
use std::path::Path;

/// Redacts every record before passing it on.
pub struct Redacting<O> {
    redactor: Redactor,
    inner: O,
    carry: Vec<u8>,
    carry_t: f64,
    /// For an event stream with secrets to look for: masks secrets spread over deltas.
    deltas: Option<DeltaMask>,
}

impl<O: Observer> Redacting<O> {
    pub(crate) fn new(redactor: &Redactor, inner: O) -> Self {
        Redacting {
            redactor: redactor.clone(),
            inner,
            carry: Vec::new(),
            carry_t: 0.0,
            deltas: None,
        }
    }

    /// The wrapped observer.
    pub(crate) fn into_inner(self) -> O {
        self.inner
    }

    fn flush_carry(&mut self) {
        if !self.carry.is_empty() {
            let bytes = self.redactor.redact_bytes(&std::mem::take(&mut self.carry));
            self.inner.chunk(self.carry_t, &bytes);
        }
    }

    /// How many bytes at the end of `buf` must wait for the next chunk.
    fn hold_back(&self, buf: &[u8]) -> usize {
        let hold = self.redactor.hold_back(buf);
        hold.max(incomplete_utf8_tail(&buf[..buf.len() - hold]) + hold)
            .min(buf.len())
    }
}

/// The length of an incomplete UTF-8 sequence at the end of `buf` (0 when it ends on a
/// character boundary or is not UTF-8 there anyway).
fn incomplete_utf8_tail(buf: &[u8]) -> usize {
    for back in 1..=3.min(buf.len()) {
        let b = buf[buf.len() - back];
        if b & 0xC0 == 0x80 {
            continue; // continuation byte: look further back
        }
        let need = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return 0,
        };
        return if need > back { back } else { 0 };
    }
    0
}

impl<O: Observer> Observer for Redacting<O> {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        self.carry.clear();
        self.deltas = None;
        let r = &self.redactor;
        let request = RecordedRequest {
            method: r.redact(&request.method),
            url: r.redact(&request.url),
            headers: r.redact_headers(&request.headers),
            body: request.body.as_deref().map(|b| r.redact(b)),
        };
        self.inner.begin(&r.redact(label), &request);
    }

    fn retry(&mut self, retry: &Retry) {
        let retry = Retry {
            cause: self.redactor.redact(&retry.cause),
            ..retry.clone()
        };
        self.inner.retry(&retry);
    }

    fn head(&mut self, head: &Head) {
        let stream = head.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("content-type")
                && v.to_ascii_lowercase().contains("event-stream")
        });
        self.deltas = (stream && !self.redactor.is_empty()).then(|| DeltaMask::new(&self.redactor));
        let head = Head {
            headers: self.redactor.redact_headers(&head.headers),
            ..head.clone()
        };
        self.inner.head(&head);
    }

    fn chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        match &mut self.deltas {
            Some(d) => {
                for (t, b) in d.push(t_ms, bytes) {
                    self.redact_chunk(t, &b);
                }
            }
            None => self.redact_chunk(t_ms, bytes),
        }
    }

    fn end(&mut self, end: &End) {
        if let Some(mut d) = self.deltas.take() {
            for (t, b) in d.finish() {
                self.redact_chunk(t, &b);
            }
        }
        self.flush_carry();
        let mut end = end.clone();
        if let Some(t) = &mut end.transport {
            t.message = self.redactor.redact(&t.message);
        }
        self.inner.end(&end);
    }
}

impl<O: Observer> Redacting<O> {
    /// One chunk through the byte redactor (what may begin a secret waits for the next).
    fn redact_chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(bytes);
        let hold = self.hold_back(&buf);
        let keep = buf.split_off(buf.len() - hold);
        if !buf.is_empty() {
            let out = self.redactor.redact_bytes(&buf);
            self.inner.chunk(t_ms, &out);
        }
        self.carry = keep;
        self.carry_t = t_ms;
    }
}

/// Writes records as NDJSON lines. The first write error is kept and reported by
/// [`LineWriter::finish`]; later records are dropped.
pub struct LineWriter<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> LineWriter<W> {
    pub(crate) fn new(out: W) -> Self {
        LineWriter { out, error: None }
    }

    fn write(&mut self, r: &Record) {
        if self.error.is_some() {
            return;
        }
        // JSON escapes C0 controls but writes C1 (U+0080–U+009F) raw; as `\u00XX` they read
        // back the same and no raw control character reaches the file.
        let res = serde_json::to_vec(r)
            .map_err(io::Error::from)
            .and_then(|line| {
                let text = std::str::from_utf8(&line).map_err(io::Error::other)?;
                self.out.write_all(crate::text::visible(text).as_bytes())?;
                self.out.write_all(b"\n")
            });
        if let Err(e) = res {
            self.error = Some(e);
        }
    }

    /// Flush and hand back the writer, or the first error.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Observer for LineWriter<W> {
    fn begin(&mut self, label: &str, request: &RecordedRequest) {
        self.write(&Record::Begin {
            label: label.to_string(),
            request: request.clone(),
        });
    }
    fn retry(&mut self, retry: &Retry) {
        self.write(&Record::Retry(retry.clone()));
    }
    fn head(&mut self, head: &Head) {
        self.write(&Record::Head(head.clone()));
    }
    fn chunk(&mut self, t_ms: f64, bytes: &[u8]) {
        self.write(&Record::Chunk(Chunk::new(t_ms, bytes)));
    }
    fn end(&mut self, end: &End) {
        self.write(&Record::End(end.clone()));
    }
}

/// Records exchanges to a writer, redacted: the live run's and the proxy's recorder.
pub type Recorder<W> = Redacting<LineWriter<W>>;

impl<W: Write> Recorder<W> {
    /// A recorder writing redacted record lines to `out`.
    pub fn to_writer(out: W, redactor: &Redactor) -> Self {
        Redacting::new(redactor, LineWriter::new(out))
    }

    /// Flush; the first write error if there was one.
    pub fn finish(self) -> io::Result<W> {
        self.into_inner().finish()
    }
}

/// Write whole exchanges as an exchange file, redacted, atomically (temp file + rename).
pub fn write_ndjson(path: &Path, exchanges: &[Exchange], redactor: &Redactor) -> io::Result<()> {
    let mut rec = Recorder::to_writer(Vec::new(), redactor);
    for x in exchanges {
        x.replay_into(&mut rec);
    }
    crate::fsutil::write_atomic(path, &rec.finish()?)
}
