//! The `conform proxy` command: a proxy whose exchanges become the cases of a run, announced
//! to the same sinks as `conform run`'s — the records appended to `exchanges/proxy.ndjson` as
//! each exchange ends, the reports rewritten at most once a second and once more on exit. With `-- COMMAND` the command runs
//! with `ANTHROPIC_BASE_URL` pointing at the proxy, and the proxy exits with its exit code.
//! Each exchange gets a line on stderr as it ends, and the exit a summary of its causes
//! ([`super::lines`]).

use super::{Config, Exchanged};
use crate::exchange::spool::Spool;
use crate::protocol::anthropic::judge::Judgement;
use crate::report::model::{ResultRecord, RunReport, TargetInfo, Timing};
use crate::report::sinks::{ExchangeSink, ReportSink};
use crate::run::{Dispatch, RunEvent, Sink, SinkError, StepId};
use crate::scenario::Mode;
use crate::secrets::{Redactor, SharedRedactor};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `conform proxy`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ProxyArgs {
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
    /// The largest request or response body forwarded (MiB). A longer response is judged and
    /// recorded up to the limit, the exchange is `error`, and the client's connection is cut.
    #[arg(long, default_value_t = 64)]
    pub max_body_mb: usize,
    /// A command to run through the proxy (after `--`): it gets `ANTHROPIC_BASE_URL`.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// How often the reports are rewritten at most while the proxy runs (and once more on exit).
const REWRITE_EVERY: Duration = Duration::from_secs(1);

/// One exchange the proxy forwarded, as a case of the run: started, recorded, finished; its
/// line is printed, and the model it asked for is kept in `models`.
fn announce(
    dispatch: &mut Dispatch<'_, '_>,
    x: &Exchanged,
    redactor: &Redactor,
    models: &mut Vec<String>,
) -> Result<(), SinkError> {
    let record = result(x.n, &x.method, &x.path, &x.judgement);
    eprintln!(
        "{}",
        super::lines::exchange_line(
            x.n,
            &x.method,
            &x.path,
            x.judgement.exchange.response.as_ref().map(|r| r.status),
            &record,
            redactor,
        )
    );
    if let Some(m) = x
        .judgement
        .exchange
        .request
        .body_json()
        .and_then(|b| b.get("model")?.as_str().map(str::to_string))
        && !models.contains(&m)
    {
        models.push(m);
    }
    let case = record.case_id();
    dispatch.emit(&RunEvent::CaseStarted { case: &case })?;
    let mut records = Spool::new();
    records
        .write_all(&x.records)
        .and_then(|_| records.flush())
        .map_err(|e| SinkError::new("keeping an exchange's records", e))?;
    dispatch.emit(&RunEvent::ExchangeRecorded {
        case: &case,
        step: &StepId::exchange(1),
        records: &records,
    })?;
    dispatch.emit(&RunEvent::CaseFinished { record: &record })
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
    let mode = if v.stream.is_some() {
        Mode::Stream
    } else {
        Mode::Sync
    };
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
pub(crate) fn run_cli(a: &ProxyArgs) -> i32 {
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
    let mut redactor = Redactor::default();
    if let Some((k, _)) = &key {
        redactor.add(k.clone());
    }
    // The client's credentials are learned from its requests as they come.
    let shared = SharedRedactor::new(redactor);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Exchanged>();
    let config = Config {
        listen: a.listen,
        upstream: a.upstream.clone(),
        key,
        extra_headers: Vec::new(),
        redactor: shared.clone(),
        max_body: a.max_body_mb << 20,
        label: "proxy".into(),
    };
    let proxy = match super::start(config, Box::new(move |x| drop(tx.send(x)))).await {
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
    let started = std::time::Instant::now();
    let targets = [TargetInfo {
        name: "proxy".into(),
        base_url: a.upstream.clone(),
        model: String::new(),
    }];
    let mut exchanges = ExchangeSink::appending(&a.report_dir);
    let mut reports = ReportSink::rewritten_every(&a.report_dir, shared.get(), REWRITE_EVERY)
        .learning(shared.clone());
    let mut sinks: [&mut dyn Sink; 2] = [&mut exchanges, &mut reports];
    let mut dispatch = Dispatch::new(RunReport::new(targets.to_vec()), &mut sinks);
    // The exchange file and the report exist from the start (no exchange yet).
    if let Err(e) = dispatch.emit(&RunEvent::Started {
        targets: &targets,
        planned: 0,
    }) {
        eprintln!("error: --report-dir {}: {e}", a.report_dir.display());
        return crate::exit::USAGE;
    }
    let base = proxy.base_url.clone();
    eprintln!(
        "proxy listening on {base} → {}",
        shared.get().redact(a.upstream.trim_end_matches('/'))
    );
    let work = async {
        if a.command.is_empty() {
            let _ = tokio::signal::ctrl_c().await;
            crate::exit::OK
        } else {
            if let Some(w) = super::sandbox::warning(&a.command) {
                eprintln!("{w}");
            }
            let mut cmd = tokio::process::Command::new(&a.command[0]);
            cmd.args(&a.command[1..]).env("ANTHROPIC_BASE_URL", &base);
            match cmd.status().await {
                Ok(s) => s.code().unwrap_or(crate::exit::INFRA),
                Err(e) => {
                    eprintln!("error: cannot run {}: {e}", a.command[0]);
                    crate::exit::USAGE
                }
            }
        }
    };
    tokio::pin!(work);
    let mut failed = None;
    // The models the application asked for (the report's model column).
    let mut models: Vec<String> = Vec::new();
    let mut tick = tokio::time::interval(REWRITE_EVERY / 4);
    let code = loop {
        tokio::select! {
            code = &mut work => break code,
            Some(x) = rx.recv(), if failed.is_none() => {
                failed = announce(&mut dispatch, &x, &shared.get(), &mut models).err();
            }
            _ = tick.tick(), if failed.is_none() => failed = dispatch.tick().err(),
        }
    };
    // Exchanges still streaming get a moment to end and be recorded.
    proxy.settle(Duration::from_secs(2)).await;
    drop(proxy);
    while failed.is_none()
        && let Ok(x) = rx.try_recv()
    {
        failed = announce(&mut dispatch, &x, &shared.get(), &mut models).err();
    }
    if let Some(e) = failed {
        eprintln!(
            "error: {}",
            crate::text::visible(&shared.get().redact(&e.to_string()))
        );
        return crate::exit::INFRA;
    }
    let (report, done) = dispatch.finish(|r| {
        if let Some(t) = r.targets.first_mut() {
            t.model = models.join(", ");
        }
        r.finish(started.elapsed(), false)
    });
    match done {
        Ok(()) => {
            if let Some(top) = super::lines::top_causes(&report.results) {
                eprintln!("{}", crate::text::visible(&shared.get().redact(&top)));
            }
            eprintln!(
                "proxy: {} exchange(s) judged; reports written {} time(s); report: {}",
                report.results.len(),
                reports.writes(),
                a.report_dir
                    .join(crate::report::markdown::FILE_NAME)
                    .display()
            )
        }
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::text::visible(&shared.get().redact(&e.to_string()))
            );
            return crate::exit::INFRA;
        }
    }
    code
}
