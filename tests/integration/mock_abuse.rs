//! Abuse of the reference server, bounded in count and time, loopback only: slowloris heads,
//! stalled chunked uploads, idle and surplus connections. The two big tests run `conform mock`
//! as a child process (killed by PID) so its memory can be read from /proc; the limit checks run
//! in-process with small limits.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::mock_support::*;
use conform::reference_server::Limits;
use conform::reference_server::MockConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_conform");

/// `conform mock` in a child process; killed when dropped.
struct MockProcess {
    child: Child,
    base: String,
}

impl MockProcess {
    fn start() -> Self {
        let mut child = Command::new(BIN)
            .args(["mock", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("conform mock starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .strip_prefix("listening on ")
            .and_then(|r| r.split_whitespace().next())
            .expect("listening line")
            .to_string();
        MockProcess { child, base }
    }

    fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    /// A field of /proc/PID/status in kB (VmRSS, VmHWM).
    fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc status"))
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The soft limit on open files of this process.
fn fd_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(1024)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Probes `/v1/messages` `n` times (half on fresh connections, half on one keep-alive
/// connection) and returns the sorted latencies.
async fn probe(base: &str, n: usize) -> Vec<Duration> {
    let keep = client();
    let mut out = Vec::new();
    for i in 0..n {
        let c = if i % 2 == 0 { client() } else { keep.clone() };
        let t = Instant::now();
        let r = send(
            c.post(format!("{base}/v1/messages"))
                .header("x-api-key", KEY)
                .json(&basic("probe")),
        )
        .await;
        out.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.text());
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_do_not_slow_a_probe() {
    let mock = MockProcess::start();
    // Each slowloris connection costs one descriptor here and one in the mock.
    let limit = fd_limit();
    let wanted = 2000usize;
    let n = wanted.min(limit.saturating_sub(200) as usize);
    if n < wanted {
        println!("fd limit {limit}: measuring with {n} slowloris connections instead of {wanted}");
    }
    let addr = mock.addr();
    let mut conns: Vec<TcpStream> = Vec::with_capacity(n);
    while conns.len() < n {
        let batch = (n - conns.len()).min(200);
        let opened = futures_util::future::join_all((0..batch).map(|_| async {
            let mut s = TcpStream::connect(&addr).await.ok()?;
            s.write_all(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ")
                .await
                .ok()?;
            Some(s)
        }))
        .await;
        conns.extend(opened.into_iter().flatten());
    }
    assert_eq!(conns.len(), n);
    // Every connection is held by the mock (one descriptor each).
    let deadline = Instant::now() + Duration::from_secs(10);
    while mock.open_fds() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(mock.open_fds() >= n, "{} fds in the mock", mock.open_fds());
    // Trickle one more byte on every connection, as slowloris does, then probe.
    for s in &mut conns {
        let _ = s.write_all(b"c").await;
    }
    let lat = probe(&mock.base, 40).await;
    let p95 = percentile(&lat, 0.95);
    println!(
        "{n} slowloris connections: probe p50 {:?}, p95 {:?}, max {:?}",
        percentile(&lat, 0.5),
        p95,
        lat.last().unwrap()
    );
    assert!(p95 < Duration::from_millis(100), "p95 {p95:?}");
    drop(conns);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_chunked_uploads_keep_memory_bounded() {
    let mock = MockProcess::start();
    let addr = mock.addr();
    const UPLOADS: usize = 50;
    const BYTES: usize = 30 * 1024 * 1024;
    let rss_before = mock.status_kb("VmRSS");
    let tasks: Vec<_> = (0..UPLOADS)
        .map(|_| {
            let addr = addr.clone();
            tokio::spawn(async move {
                let mut s = TcpStream::connect(&addr).await.unwrap();
                s.write_all(
                    b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: conform-test-key\r\nanthropic-version: 2023-06-01\r\n\
                      content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
                )
                .await
                .unwrap();
                let head = br#"{"model":"conform-mock","max_tokens":5,"messages":[{"role":"user","content":""#;
                let mut chunk = format!("{:x}\r\n", head.len()).into_bytes();
                chunk.extend_from_slice(head);
                chunk.extend_from_slice(b"\r\n");
                s.write_all(&chunk).await.unwrap();
                let piece = vec![b'a'; 64 * 1024];
                let mut frame = format!("{:x}\r\n", piece.len()).into_bytes();
                frame.extend_from_slice(&piece);
                frame.extend_from_slice(b"\r\n");
                let mut sent = head.len();
                // Send until 30 MB are out or the mock stops reading (flow control); then
                // stall, never sending the last chunk.
                while sent < BYTES {
                    match tokio::time::timeout(Duration::from_secs(2), s.write_all(&frame)).await {
                        Ok(Ok(())) => sent += piece.len(),
                        _ => break,
                    }
                }
                (s, sent)
            })
        })
        .collect();
    let mut held = Vec::new();
    let mut total = 0usize;
    for t in tasks {
        let (s, sent) = t.await.unwrap();
        total += sent;
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = mock.status_kb("VmRSS");
    let hwm = mock.status_kb("VmHWM");
    println!(
        "{UPLOADS} stalled uploads, {} MB sent in all: mock RSS {} MB (before {} MB, peak {} MB)",
        total / 1_000_000,
        rss / 1024,
        rss_before / 1024,
        hwm / 1024
    );
    assert!(rss < 200 * 1024, "RSS {rss} kB");
    assert!(hwm < 200 * 1024, "peak RSS {hwm} kB");
    // Small requests are still answered while the uploads stall.
    let lat = probe(&mock.base, 4).await;
    assert!(*lat.last().unwrap() < Duration::from_secs(2), "{lat:?}");
    drop(held);
}

fn limited(limits: Limits) -> MockConfig {
    MockConfig {
        limits,
        ..MockConfig::default()
    }
}

/// Reads until EOF or error; true when the peer closed within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_and_idle_keep_alive_connections_are_closed() {
    // Two limits told apart: a head must arrive within 300 ms of its first byte; a connection
    // may wait 1.2 s for its next request.
    let m = start(limited(Limits {
        header_read_timeout: Duration::from_millis(300),
        keep_alive_timeout: Duration::from_millis(1200),
        ..Limits::default()
    }))
    .await;
    let addr = m.addr();
    // A head that never completes: cut by the header timeout, well before the keep-alive one.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    assert!(closed_within(&mut slow, Duration::from_secs(3)).await);
    assert!(
        t.elapsed() < Duration::from_millis(1100),
        "{:?}",
        t.elapsed()
    );
    // A keep-alive connection left idle after its answer: kept past the header timeout, then
    // closed by the keep-alive timeout.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let request = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nx-api-key: conform-test-key\r\nanthropic-version: 2023-06-01\r\n\r\n";
    idle.write_all(request).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let t = Instant::now();
    assert!(
        !closed_within(&mut idle, Duration::from_millis(600)).await,
        "cut by the header timeout"
    );
    idle.write_all(request).await.unwrap();
    let n = idle.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "the idle connection still answers"
    );
    assert!(closed_within(&mut idle, Duration::from_secs(5)).await);
    assert!(
        t.elapsed() >= Duration::from_millis(1200),
        "{:?}",
        t.elapsed()
    );
    // A connection that keeps talking is not cut.
    let c = client();
    for _ in 0..5 {
        let r = send(
            c.get(format!("{}/v1/models", m.base_url()))
                .header("x-api-key", KEY),
        )
        .await;
        assert_eq!(r.status, 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_closed() {
    let m = start(limited(Limits {
        max_connections: 4,
        ..Limits::default()
    }))
    .await;
    let addr = m.addr();
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut extra, Duration::from_secs(2)).await);
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = messages(&m.base_url(), &basic("room again")).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_unaffordable_bodies_get_errors() {
    let m = start(limited(Limits {
        body_idle_timeout: Duration::from_millis(300),
        body_memory: 1024 * 1024,
        ..Limits::default()
    }))
    .await;
    let addr = m.addr();
    // A body that stops halfway: 408.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: conform-test-key\r\nanthropic-version: 2023-06-01\r\ncontent-length: 100\r\n\r\n{\"model\"",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
        .await
        .expect("answered")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("timeout_error"), "{head}");
    // A body larger than all the body memory: 529 overloaded_error, and the server goes on.
    let big = with(basic(&"word ".repeat(400_000)), serde_json::json!({}));
    let r = messages(&m.base_url(), &big).await;
    assert_eq!(r.status, 529, "{}", r.text());
    assert_eq!(r.json()["error"]["type"], "overloaded_error");
    let r = messages(&m.base_url(), &basic("small")).await;
    assert_eq!(r.status, 200);
}
