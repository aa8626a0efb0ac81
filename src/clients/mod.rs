//! Real clients as probes: `conform run --client claude-code`.
//!
//! A client case drives one fixed prompt through a real application (Claude Code) whose
//! traffic goes through the in-process proxy ([`crate::proxy`]) to the run's target. Every
//! exchange it makes is judged by the one judge (request-implied checks included) and recorded
//! redacted like any other; the case's result carries those findings, each located in its
//! exchange, plus whether the client itself succeeded (exit 0 with output — else a
//! `client.exit` finding with its stderr as evidence). A client that did not finish in time is
//! killed by PID and the result is `error`, not `fail`; a client that is not installed gives
//! `skip` results and a clear line, never a failure.
//!
//! Files: this one plans and judges client cases; [`claude_code`] knows Claude Code (finding
//! it, its sandbox, its prompts).

pub(crate) mod claude_code;

use crate::check::Finding;
use crate::check::catalogue::ids;
use crate::exchange::spool::Spool;
use crate::proxy::{self, Exchanged};
use crate::report::model::ResultRecord;
use crate::run::{CaseId, StepId};
use crate::scenario::Mode;
use crate::target::Target;
use crate::verdict::{self, Verdict};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A real client `conform run --client` can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum ClientKind {
    /// Claude Code (`claude -p`), sandboxed.
    ClaudeCode,
}

/// The client settings of a run.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub clients: Vec<ClientKind>,
    /// `--claude-bin` (or `CONFORM_CLAUDE_BIN`); else `claude` on PATH.
    pub claude_bin: Option<PathBuf>,
    /// The longest one prompt may take before the client is killed.
    pub timeout: Duration,
    /// `--max-body-mb`, applied by the client's proxy to responses.
    pub max_body: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            clients: Vec::new(),
            claude_bin: None,
            max_body: crate::http::client::DEFAULT_MAX_BODY,
            timeout: Duration::from_secs(120),
        }
    }
}

/// One fixed prompt of a client.
#[derive(Debug)]
pub struct Prompt {
    /// The result's scenario id, e.g. `claude-code-live/hello`.
    pub id: &'static str,
    pub title: &'static str,
    pub text: &'static str,
    /// Files created in the throw-away working directory first: (name, contents).
    pub files: &'static [(&'static str, &'static str)],
}

/// One client case: a prompt through a client against a target.
#[derive(Clone)]
pub(crate) struct ClientCase {
    pub kind: ClientKind,
    pub prompt: &'static Prompt,
    pub target: Arc<Target>,
}

impl ClientCase {
    /// The feature row of the report.
    pub(crate) fn feature(&self) -> &'static str {
        match self.kind {
            ClientKind::ClaudeCode => claude_code::FEATURE,
        }
    }

    /// The mode of the result: Claude Code always streams.
    pub(crate) fn mode(&self) -> Mode {
        Mode::Stream
    }

    /// The case this is.
    pub(crate) fn id(&self) -> CaseId {
        CaseId::new(&self.target.name, self.prompt.id, self.mode())
    }
}

/// The client's name on the command line.
pub(crate) fn name(kind: ClientKind) -> &'static str {
    match kind {
        ClientKind::ClaudeCode => "claude-code",
    }
}

/// The prompts of a client.
pub(crate) fn prompts(kind: ClientKind) -> &'static [Prompt] {
    match kind {
        ClientKind::ClaudeCode => claude_code::PROMPTS,
    }
}

/// Every client case of a run: each client's prompts against each target, those the
/// `selects` filter keeps.
pub(crate) fn plan(
    settings: &ClientSettings,
    targets: &[Arc<Target>],
    selects: &dyn Fn(&str) -> bool,
) -> Vec<ClientCase> {
    let mut out = Vec::new();
    for target in targets {
        for &kind in &settings.clients {
            for prompt in prompts(kind) {
                if selects(prompt.id) {
                    out.push(ClientCase {
                        kind,
                        prompt,
                        target: target.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Where the client's binary is, or why there is none (the text of the skip line).
pub(crate) fn locate(kind: ClientKind, settings: &ClientSettings) -> Result<PathBuf, String> {
    match kind {
        ClientKind::ClaudeCode => claude_code::locate(settings.claude_bin.as_deref()),
    }
}

/// What one client process did.
#[derive(Debug, Default)]
pub(crate) struct Process {
    /// The exit code; `None` when killed on timeout or by a signal.
    pub(crate) code: Option<i32>,
    pub(crate) timed_out: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) elapsed: Duration,
}

/// A finished client case: its result, and each exchange's records with its step.
pub(crate) type ClientDone = (ResultRecord, Vec<(StepId, Spool)>);

/// Run one client case: the proxy in front of the target, the client through it, the
/// exchanges judged. `bin` is the located client (a skip result without it).
pub(crate) async fn run_case(
    case: &ClientCase,
    bin: Result<&std::path::Path, &str>,
    settings: &ClientSettings,
    redactor: &crate::secrets::Redactor,
) -> ClientDone {
    let mut record = base_record(case);
    let bin = match bin {
        Ok(b) => b,
        Err(why) => {
            record.verdict = Verdict::Skip;
            record.error = Some(why.to_string());
            return (record, Vec::new());
        }
    };
    if let Err(cause) = crate::http::preflight::reachable(&case.target.base_url).await {
        record.verdict = Verdict::Error;
        record.error = Some(redactor.redact(&format!(
            "target `{}` is unreachable: {cause}",
            case.target.name
        )));
        return (record, Vec::new());
    }
    let seen: Arc<Mutex<Vec<Exchanged>>> = Arc::default();
    let sink = seen.clone();
    let config = proxy::Config::for_target(
        &case.target,
        crate::secrets::SharedRedactor::new(redactor.clone()),
        settings.max_body,
        case.prompt.id.to_string(),
    );
    let running = match proxy::start(config, Box::new(move |x| lock(&sink).push(x))).await {
        Ok(r) => r,
        Err(e) => {
            record.verdict = Verdict::Error;
            record.error = Some(format!("cannot start the proxy: {e}"));
            return (record, Vec::new());
        }
    };
    let started = Instant::now();
    let process = match case.kind {
        ClientKind::ClaudeCode => {
            claude_code::run(bin, case, &running.base_url, settings.timeout).await
        }
    };
    // The last exchange's task hands it over just after the client read its end.
    running.settle(Duration::from_secs(5)).await;
    drop(running);
    let mut exchanges = std::mem::take(&mut *lock(&seen));
    exchanges.sort_by_key(|x| x.n);
    let process = match process {
        Ok(p) => p,
        Err(e) => {
            record.verdict = Verdict::Error;
            record.error = Some(redactor.redact(&e));
            return (record, Vec::new());
        }
    };
    judge_case(case.kind, &mut record, &process, &exchanges, redactor);
    record.timing.total_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    match spools(&exchanges) {
        Ok(records) => (record, records),
        Err(e) => {
            record.verdict = Verdict::Error;
            record.error = Some(format!("cannot record the exchanges: {e}"));
            (record, Vec::new())
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The result of a case the run's `--max-run-time` ended (or left no time for).
pub(crate) fn out_of_time(case: &ClientCase, why: String) -> ResultRecord {
    ResultRecord {
        verdict: Verdict::Error,
        error: Some(why),
        ..base_record(case)
    }
}

/// The result before anything ran.
fn base_record(case: &ClientCase) -> ResultRecord {
    ResultRecord {
        title: case.prompt.title.to_string(),
        ..ResultRecord::new(
            &case.target.name,
            case.prompt.id,
            case.feature(),
            case.mode(),
            Verdict::Skip,
        )
    }
}

/// The first lines of a client's output (its startup notices left out), redacted and
/// bounded, as evidence.
fn excerpt(text: &str, noise: &[&str], redactor: &crate::secrets::Redactor) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !noise.iter().any(|n| l.contains(n)))
        .take(8)
        .collect();
    let joined = lines.join("\n");
    let cut: String = joined.chars().take(800).collect();
    redactor.redact(&cut)
}

/// The verdict of a client case from what the client did and the exchanges it made.
pub(crate) fn judge_case(
    kind: ClientKind,
    record: &mut ResultRecord,
    process: &Process,
    exchanges: &[Exchanged],
    redactor: &crate::secrets::Redactor,
) {
    let noise = match kind {
        ClientKind::ClaudeCode => claude_code::NOTICES,
    };
    let excerpt = |text: &str| excerpt(text, noise, redactor);
    let mut findings = Vec::new();
    let mut infra = None;
    for (i, x) in exchanges.iter().enumerate() {
        let where_ = format!("exchange {} ({} {})", i + 1, x.method, x.path);
        findings.extend(x.judgement.validation.findings.iter().cloned().map(|f| {
            let mut f = f.located_in(&where_);
            f.step = Some(StepId::exchange(i + 1));
            f
        }));
        // A client that hangs up on a stream (it gave up on it) judges the stream, not the
        // infrastructure; anything else that stood in the way makes the case an error.
        let cancelled = x
            .judgement
            .exchange
            .transport
            .as_ref()
            .is_some_and(|t| t.kind == crate::exchange::FailureKind::Cancelled);
        if let Some(why) = &x.judgement.infra
            && !cancelled
            && infra.is_none()
        {
            infra = Some(format!("{where_}: {why}"));
        }
    }
    if let Some(first) = exchanges
        .first()
        .and_then(|x| x.judgement.exchange.response.as_ref())
    {
        record.timing.ttfb_ms = Some(first.head_ms);
    }
    record.timing.ttft_ms = exchanges.first().and_then(|x| {
        x.judgement
            .validation
            .stream
            .as_ref()
            .and_then(|s| s.timing.first_token_ms)
    });
    let secs = process.elapsed.as_secs_f64();
    if process.timed_out {
        infra = Some(format!(
            "the client did not finish within {secs:.0} s and was killed ({} exchange(s) made)",
            exchanges.len()
        ));
    } else if process.code != Some(0) {
        let status = process
            .code
            .map_or("ended by a signal".to_string(), |c| format!("exited {c}"));
        findings.push(
            Finding::new(
                ids::CLIENT_EXIT,
                "client",
                format!("the client {status} after {secs:.1} s"),
            )
            .expected("exit 0 with an answer on stdout")
            .actual(format!(
                "stderr: {}\nstdout: {}",
                excerpt(&process.stderr),
                excerpt(&process.stdout)
            )),
        );
    } else if process.stdout.trim().is_empty() {
        findings.push(
            Finding::new(
                ids::CLIENT_EXIT,
                "client",
                "the client exited 0 but printed no answer",
            )
            .expected("an answer on stdout")
            .actual(format!("stderr: {}", excerpt(&process.stderr))),
        );
    } else if exchanges.is_empty() && infra.is_none() {
        infra = Some("the client answered without any request through the proxy".into());
    }
    record.verdict = verdict::judge(&verdict::JudgeInputs {
        findings: &findings,
        infra_error: infra.is_some(),
        ..Default::default()
    });
    record.findings = findings;
    record.error = infra;
}

/// Each exchange's records in a spool of its own, with its step (`exchange N`), for the
/// run's sinks.
fn spools(exchanges: &[Exchanged]) -> std::io::Result<Vec<(StepId, Spool)>> {
    let mut out = Vec::with_capacity(exchanges.len());
    for (i, x) in exchanges.iter().enumerate() {
        let mut f = Spool::new();
        f.write_all(&x.records)?;
        f.flush()?;
        out.push((StepId::exchange(i + 1), f));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ResultRecord {
        ResultRecord::new(
            "t",
            "claude-code-live/hello",
            claude_code::FEATURE,
            Mode::Stream,
            Verdict::Skip,
        )
    }

    fn judged(p: Process) -> ResultRecord {
        let mut r = record();
        let redactor = crate::secrets::Redactor::new(vec!["sk-secret-123".into()]);
        judge_case(ClientKind::ClaudeCode, &mut r, &p, &[], &redactor);
        r
    }

    #[test]
    fn a_client_killed_on_timeout_is_an_error_not_a_failure() {
        let r = judged(Process {
            timed_out: true,
            elapsed: Duration::from_secs(5),
            ..Process::default()
        });
        assert_eq!(r.verdict, Verdict::Error);
        assert!(r.error.as_deref().unwrap().contains("killed"), "{r:?}");
        assert!(r.findings.is_empty());
    }

    #[test]
    fn a_non_zero_exit_fails_with_its_stderr_as_evidence_redacted_notices_left_out() {
        let r = judged(Process {
            code: Some(1),
            stderr: "Permission deny rule \"MultiEdit\" matches no known tool\nAPI Error: 500 with key sk-secret-123\n".into(),
            stdout: String::new(),
            ..Process::default()
        });
        assert_eq!(r.verdict, Verdict::Fail);
        let f = &r.findings[0];
        assert_eq!(f.check, ids::CLIENT_EXIT);
        let actual = f.actual.as_deref().unwrap();
        assert!(actual.contains("API Error: 500"), "{actual}");
        assert!(!actual.contains("sk-secret-123"), "{actual}");
        assert!(!actual.contains("Permission deny rule"), "{actual}");
        assert!(f.message.contains("exited 1"), "{}", f.message);
    }

    #[test]
    fn exit_zero_without_output_fails() {
        let r = judged(Process {
            code: Some(0),
            stdout: "  \n".into(),
            ..Process::default()
        });
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(r.findings[0].message.contains("printed no answer"));
    }

    #[test]
    fn an_answer_without_any_exchange_is_no_conformance_statement() {
        let r = judged(Process {
            code: Some(0),
            stdout: "Hello!".into(),
            ..Process::default()
        });
        assert_eq!(r.verdict, Verdict::Error);
    }
}
