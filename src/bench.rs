//! `conform bench`: measures the validation core on a large generated stream.
//!
//! The stream is built from the events of a genuine corpus stream (text deltas, tool-input
//! deltas, thinking) repeated inside one message until it reaches the requested size, and it
//! is generated chunk by chunk so the input itself never sits in memory. In the same run the
//! time `serde_json` alone takes to parse the same event payloads is measured, as the floor to
//! compare against. Peak memory is read from `/proc/self/status` (VmHWM) where available.
//!
//! `conform bench proxy` ([`proxy`]) measures instead the per-event delay the proxy adds;
//! `conform bench library` (`runner::bench`) what the runner costs over the requests it sends.

mod proxy;

pub(crate) use proxy::ProxyBenchArgs;

use crate::protocol::anthropic::stream::{StreamCheck, StreamOptions};
use std::time::Instant;

/// What `conform bench` measures besides the validation core.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum BenchMode {
    /// The per-event delay `conform proxy` adds to a stream, direct vs through the proxy
    /// (goal: p50 < 1 ms, p99 < 5 ms).
    Proxy(ProxyBenchArgs),
    /// The whole scenario library against `conform mock` in another process, timed against a
    /// raw replay of the same requests: the runner's overhead (goal ≤ 1.5×).
    Library(LibraryBenchArgs),
    /// `conform compare`'s statistics by simulation: the false-alarm rate of two seeds of one
    /// realistic model, and the power to find a tool skill 5 points lower.
    Compare(crate::compare::sim::CompareBenchArgs),
}

/// Arguments of `conform bench`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    pub mode: Option<BenchMode>,
    /// Size of the generated stream in MB.
    #[arg(long, default_value_t = 100)]
    pub size_mb: usize,
    /// Bytes per chunk fed to the checker (as a network would deliver them).
    #[arg(long, default_value_t = 16 * 1024)]
    pub chunk: usize,
    /// Skip the serde_json baseline (to profile the checker alone).
    #[arg(long)]
    pub no_baseline: bool,
    /// Write the generated stream to this file instead of measuring (input for
    /// `conform check` measured from outside, e.g. with `/usr/bin/time -v`).
    #[arg(long, value_name = "FILE")]
    pub write: Option<std::path::PathBuf>,
}

/// Arguments of `conform bench library`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LibraryBenchArgs {
    /// Scenarios at once (as `conform run --jobs`).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub jobs: u64,
    /// Timed rounds each way (the median is reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub rounds: u64,
}

/// The generated stream: a prologue, a repeated body of events, an epilogue.
pub(crate) struct Generated {
    pub prologue: String,
    pub unit: String,
    pub epilogue: String,
    pub repeats: usize,
}

fn frame(event: &str, data: &str) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// Build a stream of about `size` bytes: a thinking block, then a long text block, then a
/// tool block whose input is a long JSON string split across deltas.
pub(crate) fn generate(size: usize) -> Generated {
    let start = r#"{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude-bench","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}"#;
    let mut prologue = frame("message_start", start);
    prologue += &frame(
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    );
    prologue += &frame("ping", r#"{"type": "ping"}"#);
    // Text deltas as Anthropic sends them (a few words each, with escapes now and then).
    let words = [
        "The",
        " quick",
        " brown",
        " fox",
        " jumps",
        " over",
        " the",
        " lazy",
        " dog",
        ".\n",
        " \"Quoted\"",
        " caf\u{e9}",
    ];
    let mut unit = String::new();
    for w in words {
        let data = serde_json::json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":w}});
        unit += &frame("content_block_delta", &data.to_string());
    }
    let mut epilogue = frame(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":0}"#,
    );
    epilogue += &frame(
        "content_block_start",
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_bench","name":"get_weather","input":{}}}"#,
    );
    epilogue += &frame(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
    );
    epilogue += &frame(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Par"}}"#,
    );
    epilogue += &frame(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"is\"}"}}"#,
    );
    epilogue += &frame(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":1}"#,
    );
    epilogue += &frame(
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":1000000}}"#,
    );
    epilogue += &frame("message_stop", r#"{"type":"message_stop"}"#);
    let repeats = size.saturating_sub(prologue.len() + epilogue.len()) / unit.len() + 1;
    Generated {
        prologue,
        unit,
        epilogue,
        repeats,
    }
}

impl Generated {
    pub(crate) fn total_bytes(&self) -> usize {
        self.prologue.len() + self.unit.len() * self.repeats + self.epilogue.len()
    }

    /// Visit the stream in chunks of `chunk` bytes without building it whole.
    pub(crate) fn for_each_chunk(&self, chunk: usize, mut f: impl FnMut(&[u8])) {
        let mut buf: Vec<u8> = Vec::with_capacity(chunk * 2);
        let mut push = |bytes: &[u8], buf: &mut Vec<u8>| {
            buf.extend_from_slice(bytes);
            while buf.len() >= chunk {
                f(&buf[..chunk]);
                buf.drain(..chunk);
            }
        };
        push(self.prologue.as_bytes(), &mut buf);
        for _ in 0..self.repeats {
            push(self.unit.as_bytes(), &mut buf);
        }
        push(self.epilogue.as_bytes(), &mut buf);
        if !buf.is_empty() {
            f(&buf);
        }
    }

    /// The data payloads of every event, in order (for the serde_json baseline).
    pub(crate) fn for_each_payload(&self, mut f: impl FnMut(&str)) {
        let each = |s: &str, f: &mut dyn FnMut(&str)| {
            for line in s.lines() {
                if let Some(d) = line.strip_prefix("data: ") {
                    f(d);
                }
            }
        };
        each(&self.prologue, &mut f);
        let unit: Vec<&str> = self
            .unit
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .collect();
        for _ in 0..self.repeats {
            for d in &unit {
                f(d);
            }
        }
        each(&self.epilogue, &mut f);
    }
}

/// Peak resident memory of this process in KiB (Linux), if known.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run the benchmark and print its figures; returns the exit code.
pub(crate) fn run_cli(args: &BenchArgs) -> i32 {
    match &args.mode {
        Some(BenchMode::Proxy(p)) => return proxy::run_cli(p),
        Some(BenchMode::Compare(c)) => return crate::compare::sim::bench(c),
        Some(BenchMode::Library(l)) => {
            return match crate::runner::bench::run(l.jobs, l.rounds) {
                Ok(()) => crate::exit::OK,
                Err(e) => {
                    eprintln!("error: {e}");
                    crate::exit::INFRA
                }
            };
        }
        None => {}
    }
    if let Some(path) = &args.write {
        let g = generate(args.size_mb * 1_000_000);
        let res = std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            let mut err = Ok(());
            g.for_each_chunk(1 << 16, |c| {
                if err.is_ok() {
                    err = std::io::Write::write_all(&mut w, c);
                }
            });
            err.and_then(|_| std::io::Write::flush(&mut w))
        });
        return match res {
            Ok(()) => crate::exit::OK,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                crate::exit::USAGE
            }
        };
    }
    let g = generate(args.size_mb * 1_000_000);
    let total = g.total_bytes();
    let mb = total as f64 / 1e6;
    println!(
        "stream: {mb:.1} MB generated from corpus-shaped events, fed in {} byte chunks",
        args.chunk
    );
    let rss_before = peak_rss_kib();

    // serde_json alone: parse every event payload into a Value.
    let t = Instant::now();
    let mut events = 0usize;
    g.for_each_payload(|d| {
        if args.no_baseline {
            return;
        }
        if serde_json::from_str::<serde_json::Value>(d).is_ok() {
            events += 1;
        }
    });
    let serde_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut check = StreamCheck::new(StreamOptions::default());
    g.for_each_chunk(args.chunk, |c| check.feed(c, 0.0));
    let outcome = check.finish(0.0);
    let check_s = t.elapsed().as_secs_f64();
    let text_len = outcome
        .message
        .as_ref()
        .and_then(|m| m.pointer("/content/0/text"))
        .and_then(|t| t.as_str())
        .map_or(0, str::len);

    println!("events: {events} ({} checked)", outcome.events);
    println!(
        "serde_json parse only: {serde_s:.2} s  {:.1} MB/s  {:.0} events/s",
        mb / serde_s,
        events as f64 / serde_s
    );
    println!(
        "conform check (decode + schema + grammar + accumulate): {check_s:.2} s  {:.1} MB/s  {:.0} events/s",
        mb / check_s,
        outcome.events as f64 / check_s
    );
    println!("ratio to serde_json alone: {:.2}x", check_s / serde_s);
    println!(
        "accumulated text: {:.1} MB; findings: {}",
        text_len as f64 / 1e6,
        outcome.findings.len()
    );
    for f in outcome.findings.iter().take(5) {
        println!("  {f}");
    }
    if let (Some(before), Some(peak)) = (rss_before, peak_rss_kib()) {
        println!(
            "peak RSS: {:.1} MB (before the run {:.1} MB)",
            peak as f64 / 1024.0,
            before as f64 / 1024.0
        );
    }
    crate::exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_stream_is_clean_and_as_large_as_asked() {
        let g = generate(200_000);
        assert!(g.total_bytes() >= 200_000);
        let mut whole = Vec::new();
        g.for_each_chunk(777, |c| whole.extend_from_slice(c));
        assert_eq!(whole.len(), g.total_bytes());
        let o = crate::protocol::anthropic::stream::check_bytes(&whole, StreamOptions::default());
        assert!(o.findings.is_empty(), "{:?}", o.findings);
        let mut n = 0;
        g.for_each_payload(|_| n += 1);
        assert_eq!(n, o.events);
    }
}
