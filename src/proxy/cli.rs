//! The `conform proxy` command: a proxy whose exchanges become the results of a report,
//! rewritten (through the report sinks' writer) after every exchange and once more on exit,
//! with the records appended to `exchanges/proxy.ndjson`. With `-- COMMAND` the command runs
//! with `ANTHROPIC_BASE_URL` pointing at the proxy, and the proxy exits with its exit code.

use super::{Config, Exchanged};
use crate::protocol::anthropic::judge::Judgement;
use crate::report::model::{ResultRecord, RunReport, TargetInfo, Timing};
use crate::secrets::Redactor;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Arguments of `conform proxy`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProxyArgs {
    /// The endpoint to forward to (e.g. https://dashscope-intl.aliyuncs.com/apps/anthropic).
    #[arg(long)]
    pub upstream: String,
    /// Where to listen (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Send this environment variable's key upstream instead of the client's credentials.
    #[arg(long)]
    pub api_key_env: Option<String>,
    /// Send the key as `authorization: Bearer` instead of `x-api-key`.
    #[arg(long)]
    pub bearer: bool,
    /// Where report.md, report.json, junit.xml and exchanges/ go.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// The largest request or response body forwarded (MiB).
    #[arg(long, default_value_t = 64)]
    pub max_body_mb: usize,
    /// A command to run through the proxy (after `--`): it gets `ANTHROPIC_BASE_URL`.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// The command's report: one result per exchange, and the recording.
struct Recording {
    report_dir: PathBuf,
    redactor: Redactor,
    report: Mutex<RunReport>,
    exchanges: Mutex<std::fs::File>,
}

impl Recording {
    /// Append one exchange's records, record its result and rewrite the reports.
    fn finished(&self, x: Exchanged) {
        {
            let mut f = self.exchanges.lock().unwrap_or_else(|e| e.into_inner());
            let _ = f.write_all(&x.records).and_then(|_| f.flush());
        }
        let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        report.push(result(x.n, &x.method, &x.path, &x.judgement));
        report.planned = report.results.len();
        report.update_summary();
        if let Err(e) = crate::report::write_all(&report, &self.report_dir, &self.redactor) {
            eprintln!(
                "error: writing reports: {}",
                self.redactor.redact(&e.to_string())
            );
        }
    }
}

/// A result of the proxy's report: one per exchange.
pub(crate) fn result(n: usize, method: &str, path: &str, judged: &Judgement) -> ResultRecord {
    let v = &judged.validation;
    let verdict = crate::verdict::judge(&crate::verdict::JudgeInputs {
        findings: &v.findings,
        infra_error: judged.infra.is_some(),
        ..Default::default()
    });
    let resp = judged.exchange.response.as_ref();
    let scenario = format!(
        "proxy/{n:04} {method} {}",
        path.split('?').next().unwrap_or(path)
    );
    let mode = if v.stream.is_some() { "stream" } else { "sync" };
    ResultRecord {
        title: format!("{method} {path} as the application sent it"),
        findings: v.findings.clone(),
        timing: Timing {
            ttfb_ms: resp.map(|r| r.head_ms),
            ttft_ms: v.stream.as_ref().and_then(|s| s.timing.first_token_ms),
            total_ms: resp.map(|r| r.total_ms),
        },
        error: judged.infra.clone(),
        ..ResultRecord::new("proxy", scenario, "proxy", mode, verdict)
    }
}

/// Run `conform proxy`; returns the exit code.
pub fn run_cli(a: &ProxyArgs) -> i32 {
    crate::exit::block_on(run(a))
}

async fn run(a: &ProxyArgs) -> i32 {
    let key = match &a.api_key_env {
        Some(var) => match std::env::var(var) {
            Ok(k) if !k.is_empty() => Some((k, a.bearer)),
            _ => {
                eprintln!("error: --api-key-env {var}: the variable is not set");
                return crate::exit::USAGE;
            }
        },
        None => None,
    };
    let exchanges_dir = a.report_dir.join("exchanges");
    let file = match std::fs::create_dir_all(&exchanges_dir)
        .and_then(|_| std::fs::File::create(exchanges_dir.join("proxy.ndjson")))
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --report-dir {}: {e}", a.report_dir.display());
            return crate::exit::USAGE;
        }
    };
    let mut redactor = Redactor::default();
    if let Some((k, _)) = &key {
        redactor.add(k.clone());
    }
    let recording = Arc::new(Recording {
        report_dir: a.report_dir.clone(),
        redactor: redactor.clone(),
        report: Mutex::new(RunReport::new(vec![TargetInfo {
            name: "proxy".into(),
            base_url: a.upstream.clone(),
            model: String::new(),
        }])),
        exchanges: Mutex::new(file),
    });
    let config = Config {
        listen: a.listen,
        upstream: a.upstream.clone(),
        key,
        extra_headers: Vec::new(),
        redactor: redactor.clone(),
        max_body: a.max_body_mb << 20,
        label: "proxy".into(),
    };
    let sink = recording.clone();
    let proxy = match super::start(config, Box::new(move |x| sink.finished(x))).await {
        Ok(p) => p,
        Err(e @ (super::StartError::NotLoopback(_) | super::StartError::Upstream(_))) => {
            eprintln!("error: {e}");
            return crate::exit::USAGE;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return crate::exit::INFRA;
        }
    };
    // The report exists from the start (no exchange yet), then follows every exchange.
    {
        let report = recording.report.lock().unwrap_or_else(|e| e.into_inner());
        let _ = crate::report::write_all(&report, &a.report_dir, &redactor);
    }
    let base = proxy.base_url.clone();
    eprintln!(
        "proxy listening on {base} → {}",
        redactor.redact(a.upstream.trim_end_matches('/'))
    );
    let code = if a.command.is_empty() {
        let _ = tokio::signal::ctrl_c().await;
        crate::exit::OK
    } else {
        let mut cmd = tokio::process::Command::new(&a.command[0]);
        cmd.args(&a.command[1..]).env("ANTHROPIC_BASE_URL", &base);
        match cmd.status().await {
            Ok(s) => s.code().unwrap_or(crate::exit::INFRA),
            Err(e) => {
                eprintln!("error: cannot run {}: {e}", a.command[0]);
                crate::exit::USAGE
            }
        }
    };
    // Exchanges still streaming get a moment to end and be recorded.
    proxy.settle(std::time::Duration::from_secs(2)).await;
    drop(proxy);
    let mut report = recording
        .report
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    report.update_summary();
    match crate::report::write_all(&report, &a.report_dir, &redactor) {
        Ok(_) => eprintln!(
            "proxy: {} exchange(s) judged; report: {}",
            report.results.len(),
            a.report_dir
                .join(crate::report::markdown::FILE_NAME)
                .display()
        ),
        Err(e) => eprintln!("error: writing reports: {e}"),
    }
    code
}
