//! Running one case — a scenario against one target in one mode — and judging it.
//!
//! Steps run in order; each step's request is rendered (templates from the target and from
//! earlier captures), sent, recorded as an [`Exchange`], validated by the protocol module, and
//! checked against the step's `expect`. A step that gets no usable answer, is rejected, or
//! whose captures fail ends the case: later steps depend on it.

use super::recent::{RecentAnswers, ServerErrorCall};
use super::request;
use super::transport::Transport;
use crate::check::assert::{self, Env, Subject};
use crate::check::catalogue::ids;
use crate::check::{Finding, Severity};
use crate::exchange::spool::Spool;
use crate::exchange::{Exchange, Recorder};
use crate::protocol::anthropic::grammar::Profile;
use crate::protocol::anthropic::judge::{Judge, Judgement, Options};
use crate::protocol::anthropic::schema::{self, Shape};
use crate::protocol::anthropic::validate::Validation;
use crate::protocol::anthropic::wire;
use crate::report::model::Timing;
use crate::run::{CaseId, StepId};
use crate::scenario::Scenario;
use crate::scenario::model::{Auth, Mode};
use crate::scenario::render::{RequestBody, render_request};
use crate::scenario::template::Context;
use crate::secrets::Redactor;
use crate::target::Target;
use crate::verdict::{self, JudgeInputs, Verdict};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write as _};

/// One step's record: what was sent and received (without the body), what the judge made of
/// it, and the exchange's redacted records (with the body, as they arrived) for the sinks.
pub(crate) struct StepRecord {
    pub step: StepId,
    pub exchange: Exchange,
    pub validation: Validation,
    /// `None` when the records could not be kept (the case is then an `error`).
    pub records: Option<Spool>,
}

/// Everything a case produced. The verdict is judged from it on demand, so findings added
/// later (a snapshot comparison) count like the others.
pub struct CaseRun {
    pub findings: Vec<Finding>,
    pub(crate) steps: Vec<StepRecord>,
    pub timing: Timing,
    pub attempts: u32,
    pub error: Option<String>,
    /// A well-formed 4xx answered a step that expected success.
    pub rejected: bool,
    /// The target declares this scenario or its feature unsupported.
    pub declared_unsupported: bool,
    /// A step sent with the target's own credentials was answered 401/403: the target's
    /// configuration, not the feature.
    pub credentials_rejected: bool,
    /// The case ended on a 429 or 529 that outlasted its retries: the runner runs it again at
    /// the end of the run, when the target has cooled down.
    pub(crate) throttled: bool,
    /// The case ended on a server error repeated on every retry before the target's recent
    /// answers could say whose it is: the finding it becomes when the target answered other
    /// requests in the run ([`CaseRun::settle_server_error`]); until then the case is `error`.
    pub(crate) undecided_server_error: Option<Finding>,
}

/// What a run's verdict is judged from besides its findings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VerdictFlags {
    infra_error: bool,
    rejected: bool,
    declared_unsupported: bool,
    nothing_sent: bool,
}

impl VerdictFlags {
    /// The verdict with these findings (see [`verdict::judge`]).
    pub(crate) fn judge(&self, findings: &[Finding]) -> Verdict {
        verdict::judge(&JudgeInputs {
            findings,
            infra_error: self.infra_error,
            rejected: self.rejected,
            declared_unsupported: self.declared_unsupported,
            skipped: self.nothing_sent && !self.infra_error && findings.is_empty(),
        })
    }
}

impl CaseRun {
    /// The verdict of this run (see [`verdict::judge`]).
    pub fn verdict(&self) -> Verdict {
        self.flags().judge(&self.findings)
    }

    /// What its verdict is judged from besides its findings.
    pub(crate) fn flags(&self) -> VerdictFlags {
        VerdictFlags {
            infra_error: self.error.is_some(),
            rejected: self.rejected,
            declared_unsupported: self.declared_unsupported,
            nothing_sent: self.steps.is_empty(),
        }
    }

    /// Settle an undecided server error: the request's own when the target answered other
    /// requests (`error` becomes the finding), else it stays infrastructure.
    pub(crate) fn settle_server_error(&mut self, target_answered: bool) {
        if let Some(finding) = self.undecided_server_error.take()
            && target_answered
        {
            self.error = None;
            self.findings.push(finding);
        }
    }

    /// A case that could not even start (e.g. no HTTP client): an `error` verdict.
    pub(crate) fn infra_error(error: String) -> CaseRun {
        CaseRun {
            undecided_server_error: None,
            throttled: false,
            credentials_rejected: false,
            rejected: false,
            declared_unsupported: false,
            findings: Vec::new(),
            steps: Vec::new(),
            timing: Timing::default(),
            attempts: 0,
            error: Some(error),
        }
    }
}

/// Named protocol schemas for `schema: NAME` assertions.
fn named_schema(name: &str, value: &Value) -> Option<Vec<Finding>> {
    Shape::from_name(name).map(|s| schema::validate(s, value))
}

/// The template context of a target.
pub(crate) fn target_context(scenario: &Scenario, target: &Target) -> Context {
    let mut t = BTreeMap::new();
    t.insert("model".to_string(), target.model.clone());
    t.insert("base_url".to_string(), target.base_url.clone());
    t.insert("name".to_string(), target.name.clone());
    let headers = target
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    Context {
        target: t,
        target_headers: headers,
        steps: BTreeMap::new(),
        fixtures_dir: scenario.fixtures_dir.clone(),
    }
}

/// What an answer about the infrastructure (see [`wire::InfrastructureStatus`]) means for a
/// step, given the credentials it sent and the target's recent answers.
enum InfraCall {
    /// Not about the infrastructure after all (a key left out or changed on purpose): the
    /// step's assertions judge it.
    Judge,
    /// A finding about the endpoint; the case ends.
    Finding(Finding),
    /// An `error`; the case ends.
    Error {
        why: String,
        /// The target's own credentials were rejected: it gets no further request.
        credentials: bool,
        /// The finding it becomes if the target turns out to answer other requests.
        unless_answered: Option<Finding>,
        /// A 429 or 529: the target asked for fewer requests.
        throttled: bool,
    },
}

/// Whether a step's credentials are the target's own: its key in its configured style.
fn uses_target_auth(auth: Option<&Auth>, target: &Target) -> bool {
    match auth {
        None => true,
        Some(Auth::Style(style)) => *style == target.auth,
        Some(Auth::None | Auth::Key(_)) => false,
    }
}

/// How an infrastructure status is judged on a step that sent `auth`.
fn infra_call(
    why: wire::InfrastructureStatus,
    auth: Option<&Auth>,
    target: &Target,
    recent: &RecentAnswers,
    at: &str,
) -> InfraCall {
    let throttled = matches!(
        why,
        wire::InfrastructureStatus::RateLimited { .. }
            | wire::InfrastructureStatus::Failed { status: 529, .. }
    );
    let error = |credentials, unless_answered| InfraCall::Error {
        why: format!("{at}: {why}"),
        credentials,
        unless_answered,
        throttled,
    };
    if let wire::InfrastructureStatus::CredentialsRejected { status } = why {
        return match auth {
            _ if uses_target_auth(auth, target) => error(true, None),
            Some(Auth::Style(style)) => InfraCall::Finding(
                Finding::new(
                    ids::AUTH_STYLE_REJECTED,
                    "",
                    // Worded like the access preflight's finding: one cause in the report.
                    format!(
                        "HTTP {status} to the key sent as `{}`, while it is accepted as `{}`",
                        style.header_name(),
                        target.auth.header_name()
                    ),
                )
                .expected("the key accepted in either style")
                .actual(format!("HTTP {status}")),
            ),
            _ => InfraCall::Judge,
        };
    }
    let Some(status) = why.server_error() else {
        return error(false, None);
    };
    let finding = Finding::new(
        ids::HTTP_SERVER_ERROR,
        "",
        format!("{why}, while the target answered other requests"),
    )
    .expected("an answer, or a 4xx error saying what is not supported")
    .actual(format!("HTTP {status} on every attempt"));
    match recent.call() {
        ServerErrorCall::RequestSpecific => InfraCall::Finding(finding),
        ServerErrorCall::Infrastructure => error(false, None),
        ServerErrorCall::Undecided => error(false, Some(finding)),
    }
}

/// Run one case, recording each exchange redacted by `redactor`. Never panics on anything
/// the endpoint sends. A server error is judged by this case's own answers only (the runner
/// shares a memory of the target's answers between its cases: [`run_case_noting`]).
pub async fn run_case(
    scenario: &Scenario,
    target: &Target,
    mode: Mode,
    transport: &Transport,
    profile: Profile,
    redactor: &Redactor,
) -> CaseRun {
    let recent = RecentAnswers::default();
    let mut run = run_case_noting(
        scenario, target, mode, transport, profile, redactor, &recent,
    )
    .await;
    run.settle_server_error(recent.answered_any());
    run
}

/// [`run_case`], noting every answer in the target's `recent` memory and judging a server
/// error by it.
pub(crate) async fn run_case_noting(
    scenario: &Scenario,
    target: &Target,
    mode: Mode,
    transport: &Transport,
    profile: Profile,
    redactor: &Redactor,
    recent: &RecentAnswers,
) -> CaseRun {
    let opts = Options {
        profile,
        timing_known: true,
        max_body: Some(transport.max_body()),
        ..Options::default()
    };
    let mut ctx = target_context(scenario, target);
    let mut policy = target.exec_policy();
    policy.max_body = transport.max_body();
    let mut findings = Vec::new();
    let mut steps = Vec::new();
    let mut infra_error = None;
    let mut rejected = false;
    let mut credentials_rejected = false;
    let mut throttled = false;
    let mut undecided_server_error = None;
    let mut attempts = 0;
    let reference = scenario.reference().to_string();
    for located in &scenario.doc.steps {
        let step = &located.value;
        if !step.runs_for(mode, target.api_version()) {
            continue;
        }
        let step_id = StepId::new(step.id.value.clone());
        let at = format!("step {step_id}");
        let rendered = match render_request(step, mode, &ctx) {
            Ok(r) => r,
            Err(e) => {
                findings.push(
                    Finding::new(
                        ids::SCENARIO_TEMPLATE,
                        "",
                        format!("{}: {e}", scenario.file.display()),
                    )
                    .reference(&reference)
                    .in_step(&step_id),
                );
                break;
            }
        };
        let req = request::build(&rendered, target);
        let label = CaseId::new(&target.name, scenario.id(), mode).label(&step_id);
        let mut judge = Judge::new(opts);
        let mut recorder = Recorder::to_writer(BufWriter::new(Spool::new()), redactor);
        transport
            .execute(&req, &policy, &label, &mut (&mut judge, &mut recorder))
            .await;
        let records = match spooled(recorder) {
            Ok(spool) => Some(spool),
            Err(e) => {
                infra_error = Some(format!("{at}: cannot record the exchange: {e}"));
                None
            }
        };
        let Some(judged) = judge.take() else {
            infra_error = Some(format!("{at}: the exchange did not end"));
            break;
        };
        let Judgement {
            validation,
            exchange,
            infra,
        } = judged;
        attempts += exchange.attempts();
        findings.extend(
            validation
                .findings
                .iter()
                .cloned()
                .map(|f| f.in_step(&step_id)),
        );
        if infra_error.is_some() || infra.is_some() || exchange.response.is_none() {
            recent.note(exchange.response.as_ref().map(|r| r.status));
            recent.breaker.note(&exchange, false, None);
            if infra_error.is_none() {
                infra_error = Some(format!(
                    "{at}: {}",
                    infra.unwrap_or_else(|| "no response".into())
                ));
            }
            steps.push(StepRecord {
                step: step_id,
                exchange,
                validation,
                records,
            });
            break;
        }
        let Some(resp) = &exchange.response else {
            break;
        };
        // An answer about the infrastructure, not the feature (credentials rejected, still
        // rate limited or overloaded when the retries ran out) is `error`: the step's
        // assertions are not evaluated.
        // An error body whose type contradicts the status is the endpoint's own mistake,
        // judged like any other finding.
        let status_contradicted = validation
            .findings
            .iter()
            .any(|f| f.check == ids::ERROR_STATUS_TYPE && f.severity() == Severity::Must);
        // A rejection of credentials the step chose on purpose (another auth style) and a
        // server error on this request alone are findings about the endpoint instead.
        let call = (!step.expect.statuses().contains(&resp.status) && !status_contradicted)
            .then(|| wire::InfrastructureStatus::of(resp.status, exchange.attempts()))
            .flatten()
            .map(|why| infra_call(why, rendered.auth.as_ref(), target, recent, &at));
        recent.note(Some(resp.status));
        recent.breaker.note(
            &exchange,
            step.expect.statuses().contains(&resp.status),
            validation.subject(),
        );
        let ends = match call {
            None | Some(InfraCall::Judge) => false,
            Some(InfraCall::Finding(f)) => {
                findings.push(f.reference(&reference).in_step(&step_id));
                true
            }
            Some(InfraCall::Error {
                why,
                credentials,
                unless_answered,
                throttled: by_throttle,
            }) => {
                throttled = by_throttle;
                credentials_rejected = credentials;
                undecided_server_error =
                    unless_answered.map(|f| f.reference(&reference).in_step(&step_id));
                infra_error = Some(why);
                true
            }
        };
        if ends {
            steps.push(StepRecord {
                step: step_id,
                exchange,
                validation,
                records,
            });
            break;
        }
        let null = Value::Null;
        let subject = validation.subject().unwrap_or(&null);
        let env = Env {
            ctx: &ctx,
            schemas: &named_schema,
            file: &scenario.file,
        };
        // A rejection the step names no rule for is read by its meaning (a documented optional
        // parameter named by the error: `request.documented-field-rejected`).
        let sent = match &rendered.body {
            Some(RequestBody::Json(v)) => Some(v),
            _ => None,
        };
        let inferred = assert::by_meaning(&step.expect, resp.status, sent, subject);
        let expect = inferred.as_ref().unwrap_or(&step.expect);
        let outcomes = assert::check_expect(
            expect,
            &Subject {
                status: resp.status,
                headers: &resp.headers,
                body: subject,
            },
            &env,
        );
        let expected_success = expect.statuses().iter().all(|s| (200..300).contains(s));
        // A step that names the rule a rejection breaks (`status_check`) is not `unsupported`
        // when rejected: the rejection is that rule's failure.
        let step_rejected = expected_success
            && expect.status_check.is_none()
            && wire::is_rejection(resp.status, validation.body.as_ref());
        for o in outcomes.iter().filter(|o| !o.success) {
            findings.push(
                o.to_finding(scenario.feature(), &reference)
                    .in_step(&step_id),
            );
        }
        // A failed step, or one whose answer lacks what the probe needs (inconclusive), ends
        // the case: later steps depend on it.
        let failed = outcomes
            .iter()
            .any(|o| !o.success && (o.requires || o.severity == Severity::Must && !o.effect));
        // A failed or rejected step ends the case; otherwise its captures feed later steps.
        let captured = if failed || step_rejected {
            None
        } else {
            Some(assert::capture(step, subject).map_err(|e| {
                Finding::new(ids::SCENARIO_CAPTURE, "", e)
                    .actual(crate::text::truncate(&subject.to_string(), 120))
                    .reference(&reference)
                    .in_step(&step_id)
            }))
        };
        steps.push(StepRecord {
            step: step_id.clone(),
            exchange,
            validation,
            records,
        });
        rejected = step_rejected;
        match captured {
            Some(Ok(values)) => {
                ctx.steps.insert(step_id.to_string(), values);
            }
            Some(Err(finding)) => {
                findings.push(finding);
                break;
            }
            None => break,
        }
    }
    let timing = steps.first().map(step_timing).unwrap_or_default();
    CaseRun {
        rejected,
        declared_unsupported: target
            .expects_unsupported(scenario.id(), scenario.feature().as_str()),
        findings,
        steps,
        timing,
        attempts,
        error: infra_error,
        credentials_rejected,
        throttled,
        undecided_server_error,
    }
}

/// The records a recorder wrote, flushed into their spool.
pub(super) fn spooled(recorder: Recorder<BufWriter<Spool>>) -> std::io::Result<Spool> {
    let mut spool = recorder
        .finish()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))?;
    spool.flush()?;
    Ok(spool)
}

/// Timing of a step: head and end from the exchange, first token from the stream check.
fn step_timing(s: &StepRecord) -> Timing {
    let Some(r) = &s.exchange.response else {
        return Timing::default();
    };
    Timing {
        ttfb_ms: Some(r.head_ms),
        ttft_ms: s
            .validation
            .stream
            .as_ref()
            .and_then(|st| st.timing.first_token_ms),
        total_ms: Some(r.total_ms),
    }
}
