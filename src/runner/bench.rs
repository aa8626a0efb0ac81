//! `conform bench library`: what the runner costs over the network it drives.
//!
//! The built-in reference server runs in another process (`conform mock`, this executable);
//! the whole scenario library runs against it as a user runs it (`conform run` in a child
//! process: loading, sending, judging live, snapshots, every report format). Then the very
//! requests that run sent, read back from its recorded exchanges, are replayed raw — same
//! order, the steps of a scenario one after the other, the same number of scenarios at once,
//! bodies read to the end, nothing judged or written — which is what `curl --parallel` over the
//! recording would do. The ratio of the two wall times is the runner's overhead (goal ≤ 1.5×);
//! the report's median time to first token is printed beside it.
//!
//! The in-process replay is timed once its runtime and HTTP client exist, while `conform run`
//! is timed as a process (start, exit). So the same requests are also replayed by
//! `curl --parallel --parallel-max JOBS` when curl is installed: a process too, the comparison
//! the goal was stated against. curl sends every request independently (a multi-step case's
//! steps may overlap), which the reference server allows.
//!
//! Where the time went is printed too: the cases (the report's own duration: sending, judging
//! live, snapshots) against the rest of the process (start, loading the library, reports,
//! exit), and the CPU time of each side and of the mock, read from `/proc` (left out where
//! there is none). On 2 cores the client and the mock share the machine, so a client's CPU
//! lengthens the wall time of both.

use crate::exchange::read::read_ndjson;
use crate::exchange::{Exchange, RecordedRequest};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The key the benchmark's mock accepts (the mock's default key).
const KEY: &str = "conform-test-key";
const KEY_VAR: &str = "CONFORM_BENCH_KEY";
use crate::secrets::REDACTED;

/// A child process stopped by its PID when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `conform mock` on a free loopback port; its base URL.
fn start_mock(exe: &Path) -> Result<(Killed, String), String> {
    let mut child = Command::new(exe)
        .args(["mock", "--addr", "127.0.0.1:0", "--api-key", KEY])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start `conform mock`: {e}"))?;
    let stdout = child.stdout.take().ok_or("the mock has no stdout")?;
    let child = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading the mock's address: {e}"))?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line from the mock: {line:?}"))?
        .to_string();
    Ok((child, url))
}

/// One `conform run` of the whole library; its wall time.
fn run_library(
    exe: &Path,
    url: &str,
    dir: &Path,
    jobs: usize,
    accept: bool,
) -> Result<Duration, String> {
    let mut cmd = Command::new(exe);
    cmd.args([
        "run",
        "--base-url",
        url,
        "--model",
        "conform-mock",
        "--api-key-env",
        KEY_VAR,
        "-q",
    ])
    .arg("--report-dir")
    .arg(dir.join("report"))
    .arg("--snapshots")
    .arg(dir.join("snapshots"))
    .args(["--jobs", &jobs.to_string()])
    .env(KEY_VAR, KEY)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if accept {
        cmd.arg("--update-snapshots");
    }
    let t = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run `conform run`: {e}"))?;
    let wall = t.elapsed();
    // 0: all passed; 1: some finding (still a full run). Anything else is not a run to time.
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(format!(
            "`conform run` exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(wall)
}

/// The recorded requests grouped by case (`label` up to its ` step`), in recording order.
fn cases_of(exchanges: Vec<Exchange>) -> Vec<Vec<RecordedRequest>> {
    let mut cases: Vec<(String, Vec<RecordedRequest>)> = Vec::new();
    for x in exchanges {
        let case = x
            .label
            .split(" step")
            .next()
            .unwrap_or_default()
            .to_string();
        let mut req = x.request;
        // The recording is redacted; the mock's key goes back where the secret was.
        for (_, value) in &mut req.headers {
            if value.contains(REDACTED) {
                *value = value.replace(REDACTED, KEY);
            }
        }
        match cases.iter_mut().find(|(c, _)| *c == case) {
            Some((_, reqs)) => reqs.push(req),
            None => cases.push((case, vec![req])),
        }
    }
    cases.into_iter().map(|(_, r)| r).collect()
}

/// Send one request and read its body to the end; the bytes received. A request that could
/// not be sent (a pooled connection the server closed after an earlier answer) is sent once
/// more, as the SDKs retry connection errors; a second failure names the request.
async fn send(client: &reqwest::Client, r: &RecordedRequest) -> Result<usize, String> {
    let method = reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|e| e.to_string())?;
    let build = || {
        let mut b = client.request(method.clone(), &r.url);
        for (name, value) in &r.headers {
            b = b.header(name, value);
        }
        if let Some(body) = &r.body {
            b = b.body(body.clone());
        }
        b
    };
    let sent = match build().send().await {
        Err(e) if e.is_request() || e.is_connect() => build().send().await,
        other => other,
    };
    let mut resp = sent.map_err(|e| {
        let cause = std::error::Error::source(&e)
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        format!("{e}{cause} ({} {})", r.method, r.url)
    })?;
    let mut n = 0;
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        n += chunk.len();
    }
    Ok(n)
}

/// Replay `cases` raw with `jobs` cases at once; wall time and bytes received.
fn replay(cases: &[Vec<RecordedRequest>], jobs: usize) -> Result<(Duration, usize), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    crate::http::client::install_crypto_provider();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let permits = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
        let t = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for case in cases {
            let (client, permits, case) = (client.clone(), permits.clone(), case.clone());
            set.spawn(async move {
                let _p = permits.acquire_owned().await;
                let mut n = 0;
                for r in &case {
                    n += send(&client, r).await?;
                }
                Ok::<usize, String>(n)
            });
        }
        let mut bytes = 0;
        while let Some(done) = set.join_next().await {
            bytes += done.map_err(|e| e.to_string())??;
        }
        Ok((t.elapsed(), bytes))
    })
}

/// `curl --parallel` when a curl that has it is installed.
fn curl_available() -> bool {
    Command::new("curl")
        .arg("--version")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("curl"))
}

/// A value quoted for a curl config file (`-K`).
fn curl_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Write a curl config for every request of `cases` (bodies as files beside it) into `dir`;
/// the config's path.
fn curl_config(cases: &[Vec<RecordedRequest>], dir: &Path) -> Result<std::path::PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cfg = String::new();
    for (i, r) in cases.iter().flatten().enumerate() {
        if i > 0 {
            cfg.push_str("next\n");
        }
        cfg.push_str(&format!("url = {}\n", curl_quoted(&r.url)));
        cfg.push_str(&format!("request = {}\n", curl_quoted(&r.method)));
        for (name, value) in &r.headers {
            cfg.push_str(&format!(
                "header = {}\n",
                curl_quoted(&format!("{name}: {value}"))
            ));
        }
        if let Some(body) = &r.body {
            let file = dir.join(format!("body-{i}"));
            std::fs::write(&file, body).map_err(|e| format!("{}: {e}", file.display()))?;
            cfg.push_str(&format!(
                "data-binary = {}\n",
                curl_quoted(&format!("@{}", file.display()))
            ));
        }
        cfg.push_str("output = \"/dev/null\"\n");
    }
    let path = dir.join("replay.curlrc");
    std::fs::write(&path, cfg).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// One `curl --parallel` run over `config`; its wall time.
fn curl_replay(config: &Path, jobs: usize) -> Result<Duration, String> {
    let t = Instant::now();
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--parallel", "--parallel-max"])
        .arg(jobs.max(1).to_string())
        .arg("--config")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run curl: {e}"))?;
    let wall = t.elapsed();
    if !out.status.success() {
        return Err(format!(
            "curl exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(wall)
}

/// The median time to first token over the report's streamed results, in ms.
fn median_ttft(report_json: &Path) -> Option<f64> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(report_json).ok()?).ok()?;
    let mut v: Vec<f64> = doc["results"]
        .as_array()?
        .iter()
        .filter_map(|r| r["timing"]["ttft_ms"].as_f64())
        .collect();
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

/// The report's own duration of the run: from the first case sent to the last one judged
/// (sending, judging live, snapshots), without loading the library, the reports or the process.
fn report_duration(report_json: &Path) -> Option<Duration> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(report_json).ok()?).ok()?;
    Some(Duration::from_secs_f64(
        doc["duration_ms"].as_f64().filter(|ms| *ms >= 0.0)? / 1e3,
    ))
}

/// CPU time (user + system) from `/proc`: of `pid`, or with `children` of this process's reaped
/// children. None where there is no `/proc` (the figures are then left out).
fn cpu_time(pid: u32, children: bool) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) start with the state, field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    let ticks = if children {
        field(16)? + field(17)?
    } else {
        field(14)? + field(15)?
    };
    // /proc counts in USER_HZ, which Linux fixes at 100 whatever the kernel's tick.
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time of `conform run` or curl (children of this process) and of the mock over `f`.
fn with_cpu<T>(mock: u32, f: impl FnOnce() -> T) -> (T, Option<(Duration, Duration)>) {
    let me = std::process::id();
    let before = cpu_time(me, true).zip(cpu_time(mock, false));
    let out = f();
    let after = cpu_time(me, true).zip(cpu_time(mock, false));
    let spent = before
        .zip(after)
        .map(|((c0, m0), (c1, m1))| (c1.saturating_sub(c0), m1.saturating_sub(m0)));
    (out, spent)
}

/// Mean CPU per round of the client and of the mock, in ms; None unless every round has one.
fn mean_cpu(v: &[Option<(Duration, Duration)>]) -> Option<(f64, f64)> {
    let all: Vec<(Duration, Duration)> = v.iter().copied().collect::<Option<_>>()?;
    let n = all.len().max(1) as f64;
    let ms = |f: fn(&(Duration, Duration)) -> Duration| {
        all.iter().map(f).sum::<Duration>().as_secs_f64() * 1e3 / n
    };
    (!all.is_empty()).then(|| (ms(|c| c.0), ms(|c| c.1)))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Run the library benchmark `rounds` times each way and print the figures.
pub(crate) fn run(jobs: u64, rounds: u64) -> Result<(), String> {
    let jobs = jobs as usize;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let (mock, url) = start_mock(&exe)?;
    let mock_pid = mock.0.id();
    println!("reference server: {url} (another process); jobs {jobs}; {rounds} round(s) each");
    // A first run accepts the snapshots, so the timed runs compare against them as a user's do.
    run_library(&exe, &url, dir.path(), jobs, true)?;
    let exchanges = dir.path().join("report/exchanges/default.ndjson");
    let recorded = read_ndjson(&exchanges).map_err(|e| format!("{}: {e}", exchanges.display()))?;
    let requests = recorded.len();
    let cases = cases_of(recorded);
    let mut curl = if curl_available() {
        Some(curl_config(&cases, &dir.path().join("curl"))?)
    } else {
        println!("curl not found: the comparison with `curl --parallel` is skipped");
        None
    };
    let report_json = dir.path().join("report/report.json");
    let mut lib = Vec::new();
    let mut in_cases = Vec::new();
    let (mut lib_cpu, mut curl_cpu) = (Vec::new(), Vec::new());
    let mut raw = Vec::new();
    let mut by_curl = Vec::new();
    let mut bytes = 0;
    for _ in 0..rounds.max(1) {
        let (t, cpu) = with_cpu(mock_pid, || {
            run_library(&exe, &url, dir.path(), jobs, false)
        });
        lib.push(t?);
        lib_cpu.push(cpu);
        in_cases.push(report_duration(&report_json));
        let (t, b) = replay(&cases, jobs)?;
        raw.push(t);
        bytes = b;
        if let Some(config) = &curl {
            match with_cpu(mock_pid, || curl_replay(config, jobs)) {
                (Ok(t), cpu) => {
                    by_curl.push(t);
                    curl_cpu.push(cpu);
                }
                // An old curl (no --parallel) or a failing one: the other figures still stand.
                (Err(e), _) => {
                    println!("curl --parallel failed, its comparison is skipped: {e}");
                    curl = None;
                    by_curl.clear();
                    curl_cpu.clear();
                }
            }
        }
    }
    let (lib, raw) = (median(lib), median(raw));
    println!(
        "library: {} cases, {requests} requests, {:.1} MB received",
        cases.len(),
        bytes as f64 / 1e6
    );
    println!(
        "conform run (load, send, judge live, snapshots, reports): {:.0} ms (median)",
        lib.as_secs_f64() * 1e3
    );
    // Only when every round's report gave its duration.
    if let Some(durations) = in_cases.into_iter().collect::<Option<Vec<_>>>() {
        let cases_ms = median(durations).as_secs_f64() * 1e3;
        println!(
            "  of which the cases (send, judge live, snapshots; the report's duration): {cases_ms:.0} ms; \
             the rest (process start, loading the library, reports, exit): {:.0} ms",
            (lib.as_secs_f64() * 1e3 - cases_ms).max(0.0)
        );
    }
    if let Some((own, mock)) = mean_cpu(&lib_cpu) {
        println!(
            "  CPU per run (user + system, mean): conform run {own:.0} ms, the mock {mock:.0} ms"
        );
    }
    println!(
        "raw replay in this process (send, read to the end; runtime and client already up): {:.0} ms (median)",
        raw.as_secs_f64() * 1e3
    );
    println!(
        "ratio: {:.2}x",
        lib.as_secs_f64() / raw.as_secs_f64().max(1e-9)
    );
    if !by_curl.is_empty() {
        let c = median(by_curl);
        println!(
            "curl --parallel --parallel-max {jobs} over the same requests (a process, as conform run is): {:.0} ms (median)",
            c.as_secs_f64() * 1e3
        );
        if let Some((own, mock)) = mean_cpu(&curl_cpu) {
            println!(
                "  CPU per run (user + system, mean): curl {own:.0} ms, the mock {mock:.0} ms"
            );
        }
        println!(
            "ratio to curl: {:.2}x (goal ≤ 1.5x)",
            lib.as_secs_f64() / c.as_secs_f64().max(1e-9)
        );
    }
    if let Some(ttft) = median_ttft(&report_json) {
        println!("median TTFT in the report: {ttft:.1} ms");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(label: &str, key_header: (&str, &str)) -> Exchange {
        Exchange::new(
            label,
            RecordedRequest {
                method: "POST".into(),
                url: "http://127.0.0.1:1/v1/messages".into(),
                headers: vec![(key_header.0.into(), key_header.1.into())],
                body: Some("{}".into()),
            },
        )
    }

    #[test]
    fn curl_config_quotes_values_and_writes_bodies_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let req = |body: Option<&str>| RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/v1/messages".into(),
            headers: vec![("x-note".into(), "say \"hi\" \\ bye".into())],
            body: body.map(str::to_string),
        };
        let cfg = curl_config(&[vec![req(Some("{}")), req(None)]], dir.path()).unwrap();
        let text = std::fs::read_to_string(cfg).unwrap();
        assert!(
            text.contains(r#"header = "x-note: say \"hi\" \\ bye""#),
            "{text}"
        );
        assert_eq!(text.matches("next\n").count(), 1);
        assert_eq!(text.matches("data-binary").count(), 1);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("body-0")).unwrap(),
            "{}"
        );
    }

    #[test]
    fn cpu_figures_need_every_round_and_average_them() {
        let ms = Duration::from_millis;
        assert_eq!(
            mean_cpu(&[Some((ms(80), ms(30))), Some((ms(100), ms(40)))]),
            Some((90.0, 35.0))
        );
        assert_eq!(mean_cpu(&[Some((ms(80), ms(30))), None]), None);
        assert_eq!(mean_cpu(&[]), None);
        // This process has a /proc entry on Linux; a PID that cannot exist has none.
        if cfg!(target_os = "linux") {
            assert!(cpu_time(std::process::id(), false).is_some());
            assert!(cpu_time(std::process::id(), true).is_some());
        }
        assert_eq!(cpu_time(u32::MAX, false), None);
    }

    #[test]
    fn the_cases_part_of_a_run_is_the_report_duration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, r#"{"duration_ms": 47.5}"#).unwrap();
        assert_eq!(report_duration(&path), Some(Duration::from_micros(47_500)));
        std::fs::write(&path, r#"{"duration_ms": -1}"#).unwrap();
        assert_eq!(report_duration(&path), None);
        assert_eq!(report_duration(&dir.path().join("missing.json")), None);
    }

    #[test]
    fn requests_are_grouped_by_case_in_order_with_the_key_restored() {
        let cases = cases_of(vec![
            exchange("a@sync step one", ("x-api-key", "[REDACTED]")),
            exchange("b@stream", ("authorization", "Bearer [REDACTED]")),
            exchange("a@sync step two", ("x-api-key", "[REDACTED]")),
        ]);
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].len(), 2);
        assert_eq!(cases[0][0].headers[0].1, KEY);
        assert_eq!(cases[1][0].headers[0].1, format!("Bearer {KEY}"));
    }
}
