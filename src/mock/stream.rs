//! SSE framing and delivery: events become raw `event:`/`data:` frames (written by hand, so
//! faults can break the framing), sent through `Body::from_stream` one frame per chunk, with
//! `--ttft-ms` before the first frame and `--chunk-delay-ms` between frames (by default none:
//! the task yields between frames so each one is flushed on its own). Connection-level
//! faults (truncation, buffering) are applied here.

use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::stream;

use super::faults::{Fault, FaultSet};
use super::hash::fnv;
use super::render::Event;

/// Anthropic pads the JSON of most events with spaces before the closing brace (see the
/// corpus); the mock does the same, deterministically, so clients are exercised on it.
fn padded(data: &str) -> String {
    match data.strip_suffix('}') {
        Some(head) if !data.contains("\"ping\"") => {
            let n = (fnv(0x9e37_79b9, data.as_bytes()) % 14) as usize;
            format!("{head}{}}}", " ".repeat(n))
        }
        _ => data.to_string(),
    }
}

/// The raw frames of `events`.
pub(crate) fn frames(events: &[Event], faults: &FaultSet) -> Vec<Bytes> {
    let mut out: Vec<Bytes> = events
        .iter()
        .map(|e| {
            // Anthropic writes the ping with a space (see the corpus).
            let data = if e.name == "ping" {
                "{\"type\": \"ping\"}".to_string()
            } else {
                e.data.to_string()
            };
            if faults.has(Fault::DataOnlyEvents) {
                Bytes::from(format!("data: {}\n\n", padded(&data)))
            } else {
                let name = if faults.has(Fault::EventNameMismatch)
                    && e.name.starts_with("content_block_")
                {
                    "content_block"
                } else {
                    e.name.as_str()
                };
                Bytes::from(format!("event: {name}\ndata: {}\n\n", padded(&data)))
            }
        })
        .collect();
    if faults.has(Fault::DoneSentinel) {
        out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    }
    if faults.has(Fault::TruncatedStream) {
        let keep = out.len() / 2;
        let partial = out.get(keep).map(|f| f.slice(..f.len() / 2));
        out.truncate(keep);
        if let Some(p) = partial {
            out.push(p);
        }
    }
    out
}

/// Timing of a stream.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timing {
    pub ttft: Duration,
    pub gap: Duration,
    /// Frames after the first that go out without `gap` (the frames before the first
    /// content delta, when `gap` paces the output: `--output-tps`).
    pub lead: usize,
}

enum Step {
    Frame(Bytes, Duration),
    Abort,
}

/// The response body delivering `frames` with `timing`.
pub(crate) fn body(frames: Vec<Bytes>, timing: Timing, faults: &FaultSet) -> Body {
    let mut steps: Vec<Step> = Vec::new();
    if faults.has(Fault::FakeStreaming) {
        let wait = timing.ttft + timing.gap * frames.len() as u32;
        let all: Vec<u8> = frames.iter().flat_map(|f| f.iter().copied()).collect();
        steps.push(Step::Frame(Bytes::from(all), wait));
    } else {
        for (i, f) in frames.into_iter().enumerate() {
            let wait = match i {
                0 => timing.ttft,
                i if i <= timing.lead => Duration::ZERO,
                _ => timing.gap,
            };
            steps.push(Step::Frame(f, wait));
        }
    }
    if faults.has(Fault::TruncatedStream) {
        steps.push(Step::Abort);
    }
    let s = stream::unfold(steps.into_iter(), |mut it| async move {
        match it.next()? {
            Step::Frame(bytes, wait) => {
                if wait.is_zero() {
                    // Give the connection a chance to flush the previous frame: each frame
                    // leaves in its own write (with TCP_NODELAY, its own segment), so the
                    // stream stays incremental without any pacing.
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(wait).await;
                }
                Some((Ok::<Bytes, std::io::Error>(bytes), it))
            }
            Step::Abort => {
                // Let what was sent reach the client before the connection is cut.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let e = std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "mock: truncated-stream fault",
                );
                Some((Err(e), it))
            }
        }
    });
    Body::from_stream(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str) -> Event {
        Event::new(name, serde_json::json!({"type": name}))
    }

    #[test]
    fn framing_and_faults() {
        let evs = vec![
            ev("message_start"),
            ev("content_block_start"),
            ev("message_stop"),
        ];
        let clean = frames(&evs, &FaultSet::default());
        let first = std::str::from_utf8(&clean[0]).unwrap();
        assert!(first.starts_with("event: message_start\ndata: {\"type\":\"message_start\""));
        assert!(first.ends_with("}\n\n"));
        let data = first
            .lines()
            .nth(1)
            .unwrap()
            .strip_prefix("data: ")
            .unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(data).unwrap()["type"],
            "message_start"
        );
        let data_only = frames(
            &evs,
            &FaultSet::new([Fault::DataOnlyEvents, Fault::DoneSentinel]),
        );
        assert!(data_only.iter().all(|f| f.starts_with(b"data: ")));
        assert_eq!(&data_only.last().unwrap()[..], b"data: [DONE]\n\n");
        let mismatch = frames(&evs, &FaultSet::new([Fault::EventNameMismatch]));
        assert!(mismatch[1].starts_with(b"event: content_block\n"));
        let cut = frames(&evs, &FaultSet::new([Fault::TruncatedStream]));
        assert_eq!(cut.len(), 2);
        assert!(!cut[1].ends_with(b"\n\n"));
    }
}
