//! `conform proxy --upstream URL [-- COMMAND …]`: judge the live traffic of a real application.
//!
//! A pass-through HTTP proxy on loopback. Every request is forwarded to the upstream as it came
//! (headers, query, body; the client's credentials, or `--api-key-env` in their place) and
//! every response streamed back chunk by chunk as it arrives. On the way, each exchange feeds
//! the same judge as `conform run` (request-implied checks included) and the same redacting
//! recorder, so `conform check` of the recorded exchanges gives the same findings. Reports are
//! rewritten after every exchange and once more on exit. With `-- COMMAND` the command runs
//! with `ANTHROPIC_BASE_URL` pointing at the proxy, and the proxy exits with its exit code.

mod forward;

use crate::exchange::Recorder;
use crate::report::model::{ResultRecord, RunReport, TargetInfo, Timing};
use crate::secrets::Redactor;
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

/// The proxy's shared state: where exchanges go and what was judged.
pub(crate) struct State {
    pub(crate) upstream: String,
    pub(crate) key: Option<(String, bool)>,
    pub(crate) redactor: Redactor,
    pub(crate) client: reqwest::Client,
    pub(crate) max_body: usize,
    pub(crate) report_dir: PathBuf,
    pub(crate) report: Mutex<RunReport>,
    pub(crate) exchanges: Mutex<Option<std::fs::File>>,
    pub(crate) seq: std::sync::atomic::AtomicUsize,
}

impl State {
    /// Append one exchange's records, record its result and rewrite the reports.
    pub(crate) fn finished(&self, record: ResultRecord, records: Vec<u8>) {
        use std::io::Write as _;
        if let Some(f) = self
            .exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            let _ = f.write_all(&records).and_then(|_| f.flush());
        }
        let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        report.push(record);
        report.planned = report.results.len();
        let _ = crate::report::write_all(&report, &self.report_dir, &self.redactor);
    }

    /// A recorder for one exchange (redacted records into memory, appended when it ends).
    pub(crate) fn recorder(&self) -> Recorder<Vec<u8>> {
        Recorder::to_writer(Vec::new(), &self.redactor)
    }
}

/// A result of the proxy's report: one per exchange.
pub(crate) fn result(
    n: usize,
    method: &str,
    path: &str,
    judged: &crate::protocol::anthropic::judge::Judgement,
) -> ResultRecord {
    let v = &judged.validation;
    let verdict = crate::verdict::judge(&crate::verdict::JudgeInputs {
        findings: &v.findings,
        infra_error: judged.infra.is_some(),
        ..Default::default()
    });
    let resp = judged.exchange.response.as_ref();
    ResultRecord {
        target: "proxy".into(),
        scenario: format!(
            "proxy/{n:04} {method} {}",
            path.split('?').next().unwrap_or(path)
        ),
        feature: "proxy".into(),
        title: format!("{method} {path} as the application sent it"),
        mode: if v.stream.is_some() { "stream" } else { "sync" }.into(),
        verdict,
        expected: false,
        documented: false,
        findings: v.findings.clone(),
        timing: Timing {
            ttfb_ms: resp.map(|r| r.head_ms),
            ttft_ms: v.stream.as_ref().and_then(|s| s.timing.first_token_ms),
            total_ms: resp.map(|r| r.total_ms),
        },
        attempts: 1,
        snapshot: None,
        error: judged.infra.clone(),
    }
}

/// Run `conform proxy`; returns the exit code.
pub fn run_cli(a: &ProxyArgs) -> i32 {
    crate::exit::block_on(run(a))
}

async fn run(a: &ProxyArgs) -> i32 {
    if !a.listen.ip().is_loopback() {
        eprintln!(
            "error: --listen {}: the proxy only listens on loopback",
            a.listen
        );
        return crate::exit::USAGE;
    }
    if let Err(e) = reqwest::Url::parse(&a.upstream) {
        eprintln!("error: --upstream: not a URL: {e}");
        return crate::exit::USAGE;
    }
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
    crate::http::client::install_crypto_provider();
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot build the HTTP client: {e}");
            return crate::exit::INFRA;
        }
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
    let state = Arc::new(State {
        upstream: a.upstream.trim_end_matches('/').to_string(),
        key,
        redactor,
        client,
        max_body: a.max_body_mb << 20,
        report_dir: a.report_dir.clone(),
        report: Mutex::new(RunReport::new(vec![TargetInfo {
            name: "proxy".into(),
            base_url: a.upstream.clone(),
            model: String::new(),
        }])),
        exchanges: Mutex::new(Some(file)),
        seq: Default::default(),
    });
    let listener = match tokio::net::TcpListener::bind(a.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", a.listen);
            return crate::exit::INFRA;
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let app = axum::Router::new()
        .fallback(forward::handle)
        .with_state(state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{addr}");
    eprintln!(
        "proxy listening on {base} → {}",
        state.redactor.redact(&state.upstream)
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
    server.abort();
    let mut report = state
        .report
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    report.update_summary();
    match crate::report::write_all(&report, &a.report_dir, &state.redactor) {
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
