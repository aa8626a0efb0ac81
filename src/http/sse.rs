//! An incremental `text/event-stream` decoder that follows the WHATWG rules and reports what
//! it had to forgive.
//!
//! Bytes are fed in whatever chunks the network delivers; a frame may be split at any byte,
//! inside a UTF-8 character or between CR and LF. Lines end in LF, CRLF or CR; `data:` lines are
//! joined with `\n`; lines starting with `:` are comments; a leading BOM is skipped. Every frame
//! keeps the byte offset of its first line, its raw length and the arrival time of the chunk
//! that completed it. Irregularities become [`Finding`]s (check ids `stream.sse.*`) instead of
//! being swallowed: invalid UTF-8, unknown fields, a BOM, a final frame with no blank line.
//!
//! Unlike a browser, a frame is produced for every block that set any field (so `event: ping`
//! with no data is visible to the grammar), and the final unterminated block is still produced
//! (marked `terminated: false`) so later checks can see what the server meant to send.

use crate::check::Finding;
use crate::check::catalogue::ids;
use std::sync::Arc;

const REF_SSE: &str =
    "https://html.spec.whatwg.org/multipage/server-sent-events.html (event stream interpretation)";

/// One decoded server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Position in the stream, from 0.
    pub index: usize,
    /// The `event:` field, if the block had one.
    pub event: Option<Arc<str>>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// Whether the block had at least one `data` field (empty data is not "no data").
    pub has_data: bool,
    pub id: Option<String>,
    pub retry: Option<u64>,
    /// Byte offset of the block's first line in the stream.
    pub offset: u64,
    /// Raw length in bytes from the first line up to (not including) the blank line that ends it.
    pub len: u64,
    /// Arrival time (ms since the request was sent) of the chunk that completed the frame.
    pub t_ms: f64,
    /// False for a final block that the stream ended without a blank line after.
    pub terminated: bool,
}

/// Counts of what the decoder saw, for snapshots and diagnostics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SseStats {
    pub bytes: u64,
    pub lines_lf: u64,
    pub lines_crlf: u64,
    pub lines_cr: u64,
    pub comments: u64,
    pub bom: bool,
}

/// The incremental decoder. Feed chunks, collect frames, then call [`SseDecoder::finish`].
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: Vec<u8>,
    /// Index in `buf` of the first byte not yet consumed.
    start: usize,
    /// Stream offset of `buf[0]`.
    buf_offset: u64,
    /// The previous chunk ended in CR: a leading LF belongs to that line end.
    skip_lf: bool,
    /// Still at the very beginning (BOM detection).
    at_start: bool,
    started: bool,
    frames_out: usize,
    // The block being built.
    block_offset: Option<u64>,
    event: Option<Arc<str>>,
    /// The last event name seen, shared by the frames that repeat it (no allocation per
    /// frame for the handful of names a stream uses).
    last_event_name: Option<Arc<str>>,
    data: String,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
    any_field: bool,
    stats: SseStats,
    findings: Vec<Finding>,
    unknown_field_reported: bool,
    invalid_utf8_reported: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        SseDecoder {
            at_start: true,
            ..Default::default()
        }
    }

    pub(crate) fn stats(&self) -> &SseStats {
        &self.stats
    }

    /// Findings collected so far (drained).
    pub fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.findings)
    }

    /// Feed the next chunk; complete frames are pushed onto `out`.
    pub fn feed(&mut self, bytes: &[u8], t_ms: f64, out: &mut Vec<Frame>) {
        self.stats.bytes += bytes.len() as u64;
        self.buf.extend_from_slice(bytes);
        self.started = true;
        if self.at_start {
            // Wait until three bytes (or a non-BOM prefix) are there to decide on a BOM.
            let avail = &self.buf[self.start..];
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            if avail.len() < 3 && BOM.starts_with(avail) {
                return;
            }
            if avail.starts_with(BOM) {
                self.start += 3;
                self.stats.bom = true;
                self.findings.push(
                    Finding::new(
                        ids::STREAM_SSE_BOM,
                        "byte 0",
                        "the stream starts with a UTF-8 byte order mark; the Python SDK does not strip it and loses the first event's name",
                    )
                    .reference(REF_SSE),
                );
            }
            self.at_start = false;
        }
        self.drain_lines(t_ms, out);
        // Compact once the consumed prefix dominates, keeping appends amortised O(1).
        if self.start > 64 * 1024 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.buf_offset += self.start as u64;
            self.start = 0;
        }
    }

    /// The stream ended. A partial last line counts as a line; a block without its blank line
    /// is returned with `terminated: false` and reported.
    pub fn finish(&mut self, t_ms: f64) -> Option<Frame> {
        if self.at_start && self.start < self.buf.len() {
            // Fewer than three bytes arrived in total and they look like a BOM prefix.
            self.at_start = false;
        }
        if self.start < self.buf.len() {
            let line_start = self.start;
            let line = self.buf[line_start..].to_vec();
            let offset = self.buf_offset + line_start as u64;
            self.start = self.buf.len();
            self.process_line(&line, offset);
        }
        if !self.any_field {
            return None;
        }
        let offset = self.block_offset.unwrap_or(0);
        let end = self.buf_offset + self.buf.len() as u64;
        self.findings.push(
            Finding::new(
                ids::STREAM_SSE_UNTERMINATED_FRAME,
                format!("byte {offset}"),
                "the stream ended inside an event with no blank line after it; WHATWG parsers (and the official SDKs) drop such an event",
            )
            .reference(REF_SSE),
        );
        let mut f = self.take_frame(offset, end, t_ms);
        f.terminated = false;
        Some(f)
    }

    fn drain_lines(&mut self, t_ms: f64, out: &mut Vec<Frame>) {
        loop {
            if self.skip_lf && self.start < self.buf.len() {
                if self.buf[self.start] == b'\n' {
                    self.start += 1;
                    self.stats.lines_cr -= 1;
                    self.stats.lines_crlf += 1;
                }
                self.skip_lf = false;
            }
            let avail = &self.buf[self.start..];
            let Some(pos) = memchr::memchr2(b'\n', b'\r', avail) else {
                return;
            };
            let line_start = self.start;
            let line_end = line_start + pos;
            let term = self.buf[line_end];
            self.start = line_end + 1;
            if term == b'\r' {
                if self.start < self.buf.len() {
                    if self.buf[self.start] == b'\n' {
                        self.start += 1;
                        self.stats.lines_crlf += 1;
                    } else {
                        self.stats.lines_cr += 1;
                    }
                } else {
                    // CR at the end of the chunk: count as CR now, fix up if an LF follows.
                    self.stats.lines_cr += 1;
                    self.skip_lf = true;
                }
            } else {
                self.stats.lines_lf += 1;
            }
            let offset = self.buf_offset + line_start as u64;
            if line_start == line_end {
                // Blank line: dispatch.
                if self.any_field {
                    let block_offset = self.block_offset.unwrap_or(offset);
                    out.push(self.take_frame(block_offset, offset, t_ms));
                } else {
                    self.block_offset = None;
                }
                continue;
            }
            // Borrow dance: copy the line out only when it is not valid UTF-8 or long.
            // Lend the buffer out so the line is processed in place, without a copy.
            let buf = std::mem::take(&mut self.buf);
            self.process_line(&buf[line_start..line_end], offset);
            self.buf = buf;
        }
    }

    fn take_frame(&mut self, offset: u64, end: u64, t_ms: f64) -> Frame {
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        let f = Frame {
            index: self.frames_out,
            event: self.event.take(),
            data,
            has_data: self.has_data,
            id: self.id.take(),
            retry: self.retry.take(),
            offset,
            len: end.saturating_sub(offset),
            t_ms,
            terminated: true,
        };
        self.frames_out += 1;
        self.has_data = false;
        self.any_field = false;
        self.block_offset = None;
        f
    }

    fn process_line(&mut self, raw: &[u8], offset: u64) {
        let text: std::borrow::Cow<str> = match std::str::from_utf8(raw) {
            Ok(s) => s.into(),
            Err(e) => {
                if self.invalid_utf8_reported {
                    return self.process_text(&String::from_utf8_lossy(raw), offset);
                }
                self.invalid_utf8_reported = true;
                self.findings.push(
                    Finding::new(
                        ids::STREAM_SSE_INVALID_UTF8,
                        format!("byte {}", offset + e.valid_up_to() as u64),
                        "the event stream is not valid UTF-8 (reported once per stream); the Python SDK raises on it",
                    )
                    .reference(REF_SSE),
                );
                String::from_utf8_lossy(raw)
            }
        };
        self.process_text(&text, offset);
    }

    fn process_text(&mut self, text: &str, offset: u64) {
        if text.starts_with(':') {
            self.stats.comments += 1;
            return;
        }
        if self.block_offset.is_none() {
            self.block_offset = Some(offset);
        }
        let (field, value) = match memchr::memchr(b':', text.as_bytes()) {
            Some(i) => {
                let v = &text[i + 1..];
                (&text[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (text, ""),
        };
        match field {
            "event" => {
                let name = match &self.last_event_name {
                    Some(n) if &**n == value => n.clone(),
                    _ => {
                        let n: Arc<str> = Arc::from(value);
                        self.last_event_name = Some(n.clone());
                        n
                    }
                };
                self.event = Some(name);
                self.any_field = true;
            }
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
                self.any_field = true;
            }
            "id" => {
                if !value.contains('\0') {
                    self.id = Some(value.to_string());
                }
                self.any_field = true;
            }
            "retry" => {
                if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                    self.retry = value.parse().ok();
                }
                self.any_field = true;
            }
            other => {
                if !self.unknown_field_reported {
                    self.unknown_field_reported = true;
                    let shown = crate::text::head(other, 40);
                    self.findings.push(
                        Finding::new(
                            ids::STREAM_SSE_UNKNOWN_FIELD,
                            format!("byte {offset}"),
                            format!("unknown event-stream field {shown:?} is ignored (reported once per stream)"),
                        )
                        .reference(REF_SSE),
                    );
                }
            }
        }
    }
}

/// Whether a body starts like an event stream (a field or a comment line, after an optional
/// BOM and blank lines): used to recognise captured streams and mislabelled responses.
pub(crate) fn looks_like_event_stream(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let b = &b[start..];
    b.starts_with(b"event:") || b.starts_with(b"data:") || b.starts_with(b":")
}

/// Decode a whole body at once (convenience for tests and offline checks).
pub fn decode_all(bytes: &[u8]) -> (Vec<Frame>, Vec<Finding>) {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    d.feed(bytes, 0.0, &mut out);
    out.extend(d.finish(0.0));
    let f = d.take_findings();
    (out, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(frames: &[Frame]) -> Vec<(Option<&str>, &str)> {
        frames
            .iter()
            .map(|f| (f.event.as_deref(), f.data.as_str()))
            .collect()
    }

    #[test]
    fn named_events_with_lf() {
        let (f, findings) =
            decode_all(b"event: ping\ndata: {\"type\": \"ping\"}\n\nevent: a\ndata: 1\n\n");
        assert_eq!(
            events(&f),
            vec![(Some("ping"), "{\"type\": \"ping\"}"), (Some("a"), "1")]
        );
        assert!(findings.is_empty());
        assert_eq!(f[0].offset, 0);
        assert_eq!(f[1].offset, 36);
        assert_eq!(f[0].len, 35);
    }

    #[test]
    fn crlf_cr_multiline_comments_and_space_rules() {
        let input = b": hello\r\nevent:x\r\ndata:a\rdata:  b\r\rdata\n\n";
        let (f, findings) = decode_all(input);
        assert_eq!(events(&f), vec![(Some("x"), "a\n b"), (None, "")]);
        assert!(f[1].has_data);
        assert!(findings.is_empty());
    }

    #[test]
    fn bom_is_skipped_and_reported() {
        let (f, findings) = decode_all(b"\xEF\xBB\xBFevent: a\ndata: 1\n\n");
        assert_eq!(events(&f), vec![(Some("a"), "1")]);
        assert_eq!(findings[0].check.as_str(), "stream.sse.bom");
    }

    #[test]
    fn unterminated_final_frame_is_kept_and_reported() {
        let (f, findings) = decode_all(b"event: a\ndata: 1\n\nevent: message_stop\ndata: {}");
        assert_eq!(f.len(), 2);
        assert!(!f[1].terminated);
        assert_eq!(f[1].data, "{}");
        assert_eq!(findings[0].check.as_str(), "stream.sse.unterminated-frame");
    }

    #[test]
    fn invalid_utf8_and_unknown_fields_are_findings() {
        let (f, findings) = decode_all(b"event: a\nfoo: bar\ndata: \xff\n\n");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].data, "\u{fffd}");
        let checks: Vec<_> = findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(
            checks,
            vec!["stream.sse.unknown-field", "stream.sse.invalid-utf8"]
        );
    }

    #[test]
    fn event_streams_are_recognised_by_their_first_line() {
        assert!(looks_like_event_stream(b"\xEF\xBB\xBF\n\nevent: ping\n"));
        assert!(looks_like_event_stream(b": comment\n"));
        assert!(!looks_like_event_stream(b"{\"type\":\"message\"}"));
        assert!(!looks_like_event_stream(b""));
    }

    #[test]
    fn id_and_retry() {
        let (f, _) = decode_all(b"id: 7\nretry: 100\nretry: x\ndata: d\n\n");
        assert_eq!(f[0].id.as_deref(), Some("7"));
        assert_eq!(f[0].retry, Some(100));
    }

    #[test]
    fn blank_lines_without_fields_dispatch_nothing() {
        let (f, _) = decode_all(b"\n\n: c\n\n\r\n");
        assert!(f.is_empty());
    }

    /// Split a stream at every byte position (and byte by byte): identical frames.
    #[test]
    fn every_split_gives_the_same_frames() {
        let input = "\u{feff}event: a\r\ndata: h\u{e9}llo \u{1F600}\r\n\r\n: c\revent: b\rdata: x\r\rdata: y\n\n".as_bytes();
        let (whole, whole_findings) = decode_all(input);
        for cut in 0..=input.len() {
            let mut d = SseDecoder::new();
            let mut out = Vec::new();
            d.feed(&input[..cut], 0.0, &mut out);
            d.feed(&input[cut..], 0.0, &mut out);
            out.extend(d.finish(0.0));
            assert_eq!(out, whole, "split at {cut}");
            assert_eq!(d.take_findings(), whole_findings, "split at {cut}");
        }
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for b in input {
            d.feed(std::slice::from_ref(b), 0.0, &mut out);
        }
        out.extend(d.finish(0.0));
        assert_eq!(out, whole);
    }
}
