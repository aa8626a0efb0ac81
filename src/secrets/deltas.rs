//! A secret streamed token by token: found in the text the deltas of one content block make
//! together, and masked in every event that holds a part of it.
//!
//! A model that echoes a key streams it in pieces: `"sk-ant-"` in one `text_delta`, `"api03…"`
//! in the next. No event holds the key, so redacting bytes, however chunked, finds nothing.
//! [`DeltaMask`] sits in front of the byte redactor of a recorded `text/event-stream` body. It
//! reads the SSE frames as chunks arrive and keeps, per content block, the end of the text its
//! `text_delta`, `input_json_delta` and `thinking_delta` events made together (no longer than
//! a match can span, [`Redactor::window`]), with the frame each part came from. Each new delta
//! is searched for with what came before it; a secret found across several events is masked in
//! each of them (the part it holds becomes `[REDACTED]`, the rest of the text is kept).
//!
//! Masking an event means rewriting a frame already received, so chunks are held back, whole
//! and with their arrival times, while the end of some block's text may begin a secret (or a
//! frame is incomplete), and released in order once that is settled. The recorded chunks are
//! the same records with the same times, only written a little later. The work per event is
//! bounded by the window, so a stream costs time linear in its length; at most
//! [`HOLD_LIMIT`] bytes are held (past that the oldest chunks go out as they are, and a
//! secret spread over more stream than that is no longer masked), and a frame larger than
//! [`FRAME_LIMIT`] is not searched.

use super::{REDACTED, Redactor};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// The most bytes held back at once.
pub(crate) const HOLD_LIMIT: usize = 1 << 20;
/// Frames larger than this are passed on unsearched.
pub(crate) const FRAME_LIMIT: usize = 1 << 20;
/// The delta fields whose text a model streams.
const FIELDS: [&str; 3] = ["text", "partial_json", "thinking"];

/// One delta event's part of a block's text.
struct Piece {
    /// The frame's raw bytes, `[start, end)` in the stream.
    frame: (u64, u64),
    /// Where this piece begins in the tail (after trimming, possibly inside the piece).
    at: usize,
    /// Its bytes still in the tail.
    len: usize,
    /// Its bytes trimmed off the front of the tail.
    cut: usize,
}

/// The end of one content block's delta text.
#[derive(Default)]
struct Tail {
    text: Vec<u8>,
    pieces: VecDeque<Piece>,
    /// Where the frame holding what may begin a secret starts (the tail is empty otherwise).
    pin: Option<u64>,
}

/// The most content blocks whose text ends in what may begin a secret followed at once
/// (a stream interleaving more forgets them all, and stays linear).
const MAX_BLOCKS: usize = 256;

/// Masks secrets spread across the delta events of a stream (see the module doc).
pub(crate) struct DeltaMask {
    redactor: Redactor,
    /// Chunks not released yet: arrival time, bytes, offset in the stream.
    held: VecDeque<(f64, Vec<u8>, u64)>,
    held_bytes: usize,
    /// Everything before this offset has been released.
    released: u64,
    /// The stream's length so far.
    end: u64,
    /// The frame being read: where it starts and its bytes so far (`None`: too large, skipped
    /// to its end).
    frame_start: u64,
    frame: Option<Vec<u8>>,
    blocks: HashMap<u64, Tail>,
    /// Frames to rewrite when released: start → (end, the delta text's byte ranges to mask).
    masks: BTreeMap<u64, (u64, Vec<(usize, usize)>)>,
    /// Bytes of a rewritten frame still to leave out of the next chunks released.
    skip: u64,
}

impl DeltaMask {
    pub(crate) fn new(redactor: &Redactor) -> DeltaMask {
        DeltaMask {
            redactor: redactor.clone(),
            held: VecDeque::new(),
            held_bytes: 0,
            released: 0,
            end: 0,
            frame_start: 0,
            frame: Some(Vec::new()),
            blocks: HashMap::new(),
            masks: BTreeMap::new(),
            skip: 0,
        }
    }

    /// Take a chunk; the chunks (with their own arrival times) that are final now.
    pub(crate) fn push(&mut self, t_ms: f64, bytes: &[u8]) -> Vec<(f64, Vec<u8>)> {
        let offset = self.end;
        self.end += bytes.len() as u64;
        self.held.push_back((t_ms, bytes.to_vec(), offset));
        self.held_bytes += bytes.len();
        self.scan(bytes, offset);
        let pin = self.pin();
        let mut out = Vec::new();
        while let Some(chunk_end) = self.held.front().map(|(_, b, off)| off + b.len() as u64) {
            if chunk_end > pin && self.held_bytes <= HOLD_LIMIT {
                break;
            }
            self.release_front(&mut out);
        }
        out
    }

    /// The end of the stream: every chunk still held.
    pub(crate) fn finish(&mut self) -> Vec<(f64, Vec<u8>)> {
        let mut out = Vec::new();
        while !self.held.is_empty() {
            self.release_front(&mut out);
        }
        out
    }

    /// Read frames out of `bytes` (at `offset` in the stream).
    fn scan(&mut self, bytes: &[u8], offset: u64) {
        let mut i = 0;
        while i < bytes.len() {
            // A frame ends at an empty line: "\n\n" or "\r\n\r\n" (or "\r\r").
            let rest = &bytes[i..];
            let at = frame_end_in(self.frame.as_deref().unwrap_or(&[]), rest);
            match at {
                Some(n) => {
                    if let Some(f) = &mut self.frame {
                        f.extend_from_slice(&rest[..n]);
                    }
                    let start = self.frame_start;
                    let end = offset + (i + n) as u64;
                    if let Some(frame) = self.frame.replace(Vec::new()) {
                        self.frame_done(&frame, start, end);
                    }
                    self.frame_start = end;
                    i += n;
                }
                None => {
                    if let Some(f) = &mut self.frame {
                        f.extend_from_slice(rest);
                        if f.len() > FRAME_LIMIT {
                            self.frame = None;
                        }
                    }
                    break;
                }
            }
        }
    }

    /// A whole frame `[start, end)` was read.
    fn frame_done(&mut self, frame: &[u8], start: u64, end: u64) {
        let Some((index, text)) = delta_text(frame) else {
            return;
        };
        let window = self.redactor.window();
        let tail = self.blocks.entry(index).or_default();
        tail.pieces.push_back(Piece {
            frame: (start, end),
            at: tail.text.len(),
            len: text.len(),
            cut: 0,
        });
        tail.text.extend_from_slice(text.as_bytes());
        let mut done = 0;
        for (s, e) in self.redactor.matches(&tail.text) {
            done = done.max(e);
            let spanned: Vec<&Piece> = tail
                .pieces
                .iter()
                .filter(|p| p.at < e && p.at + p.len > s)
                .collect();
            if spanned.len() < 2 {
                continue; // inside one event: the byte redactor finds it there
            }
            for p in spanned {
                let from = s.max(p.at) - p.at + p.cut;
                let to = e.min(p.at + p.len) - p.at + p.cut;
                if p.frame.0 >= self.released {
                    let m = self
                        .masks
                        .entry(p.frame.0)
                        .or_insert((p.frame.1, Vec::new()));
                    m.1.push((from, to));
                }
            }
        }
        // Keep only what a match still to come can reach: the end that may begin a secret.
        let hold = self
            .redactor
            .hold_back(&tail.text[done.min(tail.text.len())..]);
        let keep_from = if hold == 0 {
            tail.text.len()
        } else {
            done.max(tail.text.len() - hold)
                .max(tail.text.len().saturating_sub(window - 1))
        };
        if keep_from > 0 {
            tail.text.drain(..keep_from);
            while let Some(p) = tail.pieces.front_mut() {
                if p.at + p.len <= keep_from {
                    tail.pieces.pop_front();
                    continue;
                }
                if p.at < keep_from {
                    let cut = keep_from - p.at;
                    p.cut += cut;
                    p.len -= cut;
                    p.at = keep_from;
                }
                break;
            }
            for p in &mut tail.pieces {
                p.at -= keep_from;
            }
        }
        tail.pin = tail.pieces.front().map(|p| p.frame.0);
        if tail.pin.is_none() {
            self.blocks.remove(&index);
        } else if self.blocks.len() > MAX_BLOCKS {
            self.blocks.clear();
        }
    }

    /// Chunks ending after this offset must stay: the frame being read, and the events
    /// holding what may be the beginning of a secret.
    fn pin(&self) -> u64 {
        let mut pin = if self.frame.as_ref().is_some_and(|f| !f.is_empty()) {
            self.frame_start
        } else {
            self.end
        };
        for tail in self.blocks.values() {
            if let Some(p) = tail.pin {
                pin = pin.min(p);
            }
        }
        pin
    }

    /// Release the oldest chunk held, its masked frames rewritten.
    fn release_front(&mut self, out: &mut Vec<(f64, Vec<u8>)>) {
        let Some((t, bytes, off)) = self.held.front().cloned() else {
            return;
        };
        let len = bytes.len() as u64;
        let chunk_end = off + len;
        let mut data = Vec::with_capacity(bytes.len());
        let mut cursor = self.skip.min(len);
        self.skip -= cursor;
        let starts: Vec<u64> = self.masks.range(off..chunk_end).map(|(&s, _)| s).collect();
        for start in starts {
            let Some((end, ranges)) = self.masks.remove(&start) else {
                continue;
            };
            let local = start - off;
            if local < cursor {
                continue;
            }
            data.extend_from_slice(&bytes[cursor as usize..local as usize]);
            let raw = self.bytes_between(start, end);
            data.extend_from_slice(&rewrite(&raw, &ranges).unwrap_or(raw));
            if end <= chunk_end {
                cursor = end - off;
            } else {
                cursor = len;
                self.skip = end - chunk_end;
            }
        }
        data.extend_from_slice(&bytes[cursor as usize..]);
        self.held.pop_front();
        self.held_bytes -= bytes.len();
        self.released = chunk_end;
        if !data.is_empty() {
            out.push((t, data));
        }
    }

    /// The stream's bytes `[start, end)`, all still held.
    fn bytes_between(&self, start: u64, end: u64) -> Vec<u8> {
        let mut out = Vec::new();
        for (_, b, off) in &self.held {
            let (s, e) = (*off, off + b.len() as u64);
            if e <= start || s >= end {
                continue;
            }
            let from = start.max(s) - s;
            let to = end.min(e) - s;
            out.extend_from_slice(&b[from as usize..to as usize]);
        }
        out
    }
}

/// Where the frame that `before` began ends in `rest` (just after its empty line).
fn frame_end_in(before: &[u8], rest: &[u8]) -> Option<usize> {
    let prev = |back: usize, i: usize| -> Option<u8> {
        // The byte `back` places before position `i` of `rest`, looking into `before`.
        if i >= back {
            Some(rest[i - back])
        } else {
            before.len().checked_sub(back - i).map(|j| before[j])
        }
    };
    for (i, &b) in rest.iter().enumerate() {
        let ends = match b {
            b'\n' => {
                prev(1, i) == Some(b'\n')
                    || (prev(1, i) == Some(b'\r') && prev(2, i) == Some(b'\n'))
            }
            // "\r\r", unless the second "\r" begins a "\r\n" (then the "\n" ends the frame).
            b'\r' => prev(1, i) == Some(b'\r') && rest.get(i + 1).is_some_and(|&n| n != b'\n'),
            _ => false,
        };
        if ends {
            return Some(i + 1);
        }
    }
    None
}

/// The data of a frame (its `data:` lines joined), and its other lines.
fn split_frame(frame: &[u8]) -> (Vec<u8>, Vec<&[u8]>) {
    let mut data = Vec::new();
    let mut other = Vec::new();
    let mut first = true;
    for line in frame.split(|&b| b == b'\n' || b == b'\r') {
        if line.is_empty() {
            continue;
        }
        if let Some(v) = line.strip_prefix(b"data:") {
            if !first {
                data.push(b'\n');
            }
            first = false;
            data.extend_from_slice(v.strip_prefix(b" ").unwrap_or(v));
        } else {
            other.push(line);
        }
    }
    (data, other)
}

/// The block index and delta text of a `content_block_delta` frame.
fn delta_text(frame: &[u8]) -> Option<(u64, String)> {
    let (data, _) = split_frame(frame);
    // Most frames are no delta: skip them without parsing.
    memchr::memmem::find(&data, b"content_block_delta")?;
    let v: Value = serde_json::from_slice(&data).ok()?;
    if v.get("type")?.as_str()? != "content_block_delta" {
        return None;
    }
    let index = v.get("index")?.as_u64()?;
    let delta = v.get("delta")?;
    let text = FIELDS.iter().find_map(|f| delta.get(f)?.as_str())?;
    Some((index, text.to_string()))
}

/// The frame with the byte ranges of its delta text replaced by `[REDACTED]` (its other lines
/// kept, its data written back as one line).
fn rewrite(frame: &[u8], ranges: &[(usize, usize)]) -> Option<Vec<u8>> {
    let (data, other) = split_frame(frame);
    let mut v: Value = serde_json::from_slice(&data).ok()?;
    let delta = v.get_mut("delta")?.as_object_mut()?;
    let field = FIELDS
        .iter()
        .find(|f| delta.get(**f).is_some_and(Value::is_string))?;
    let text = delta.get(*field)?.as_str()?.to_string();
    let mut ranges = ranges.to_vec();
    ranges.sort_unstable();
    let mut masked = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in ranges {
        let s = floor_char(&text, s.max(at));
        let e = ceil_char(&text, e.min(text.len()));
        if e <= s {
            continue;
        }
        masked.push_str(&text[at..s]);
        masked.push_str(REDACTED);
        at = e;
    }
    masked.push_str(&text[at..]);
    delta.insert((*field).to_string(), Value::String(masked));
    let mut out = Vec::new();
    for line in other {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(v.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
    Some(out)
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests;
