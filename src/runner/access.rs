//! The access preflight: before a target's cases, one cheap request (`max_tokens: 1`) with the
//! target's own auth style and API version. Today's SDKs send the key as `Authorization:
//! Bearer` with `anthropic-version: 2026-10-21`; an endpoint that rejects either but accepts
//! the older way (`x-api-key`, `2023-06-01`) fails every current SDK user, yet its other
//! features can still be judged. So:
//!
//! * accepted as configured (or no 4xx to tell from: no answer, a 5xx, a replay that recorded no
//!   preflight): the target runs as configured, and nothing is reported;
//! * rejected with a 4xx, and accepted in the other auth style and/or with 2023-06-01: a
//!   result `headers/preflight` carries the finding (`auth.style-rejected`,
//!   `version.current-rejected`) and the probes' exchanges, and the target runs the way it was
//!   accepted;
//! * rejected with 401/403 every way: the target's credentials are rejected; it is stopped, and
//!   its preflight result is an `error` saying so (a target without a key is left to its
//!   cases, which may expect the 401).
//!
//! The probes go through the run's transport, so a replay meets the recorded ones by label.

use super::case::{StepRecord, spooled};
use super::transport::Transport;
use crate::check::Finding;
use crate::check::catalogue::ids;
use crate::exchange::Recorder;
use crate::exchange::spool::Spool;
use crate::http::client::Request;
use crate::protocol::anthropic::judge::{Judge, Options};
use crate::protocol::anthropic::wire::{ApiVersion, AuthStyle, CREDENTIAL_HEADERS};
use crate::report::model::ResultRecord;
use crate::run::{CaseId, StepId};
use crate::scenario::model::Mode;
use crate::secrets::Redactor;
use crate::target::Target;
use crate::verdict::{JudgeInputs, Verdict};
use std::io::BufWriter;

/// The scenario id of the preflight's result.
pub(crate) const SCENARIO: &str = "headers/preflight";
const FEATURE: &str = "headers";
const TITLE: &str = "The endpoint accepts the target's own auth style and API version";
/// How long a probe's answer may take to start (a one-token answer), and in all.
const PROBE_FIRST_BYTE: std::time::Duration = std::time::Duration::from_secs(30);
const PROBE_TOTAL: std::time::Duration = std::time::Duration::from_secs(60);

/// What the preflight found.
pub(super) enum Access {
    /// Run as configured.
    AsConfigured,
    /// Accepted another way: the target runs with it; the result to report and its exchanges.
    Fallback {
        auth: AuthStyle,
        version: Option<ApiVersion>,
        record: ResultRecord,
        steps: Vec<StepRecord>,
    },
    /// 401/403 every way: the reason the target is stopped, its `error` result and the probes'
    /// exchanges.
    Rejected {
        why: String,
        record: ResultRecord,
        steps: Vec<StepRecord>,
    },
}

/// One way of sending the key and the version.
#[derive(Clone, Copy, PartialEq)]
struct Way {
    auth: AuthStyle,
    version: Option<ApiVersion>,
}

impl Way {
    fn name(self, keyed: bool) -> String {
        let auth = if keyed {
            match self.auth {
                AuthStyle::Bearer => "bearer",
                AuthStyle::XApiKey => "x-api-key",
            }
        } else {
            "no-key"
        };
        match self.version {
            Some(v) => format!("{auth} {v}"),
            None => auth.to_string(),
        }
    }
}

/// The case id of a target's preflight.
pub(super) fn case_id(target: &Target) -> CaseId {
    CaseId::new(&target.name, SCENARIO, Mode::Sync)
}

/// The probe request: the smallest Messages request, sent the given way.
fn request(target: &Target, way: Way) -> Request {
    let mut t = target.clone();
    t.auth = way.auth;
    if let Some(v) = way.version {
        t.set_api_version(v);
    }
    let mut headers = t.default_headers();
    if t.api_key.is_none() {
        headers.retain(|(k, _)| !CREDENTIAL_HEADERS.iter().any(|c| k.eq_ignore_ascii_case(c)));
    }
    let body = serde_json::json!({
        "model": target.model,
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "Hi"}],
    });
    Request {
        method: "POST".into(),
        url: t.url("/v1/messages"),
        headers,
        body: Some(body.to_string()),
    }
}

/// Send one probe; its status (None: no answer) and its record.
async fn probe(
    target: &Target,
    way: Way,
    transport: &Transport,
    redactor: &Redactor,
) -> (Option<u16>, Option<StepRecord>) {
    let keyed = target.api_key.is_some();
    let step = StepId::new(way.name(keyed));
    let label = case_id(target).label(&step);
    // Retried once, with no say in the target's backpressure and shorter limits: a 429, 5xx
    // or silence that outlasts them tells nothing about access, and the cases (and the
    // target's circuit breaker) meet it on their own.
    let mut policy = target.exec_policy();
    policy.max_body = transport.max_body();
    policy.backpressure = None;
    policy.retry.max_retries = policy.retry.max_retries.min(1);
    policy.timeouts.first_byte = policy.timeouts.first_byte.min(PROBE_FIRST_BYTE);
    policy.timeouts.total = policy.timeouts.total.min(PROBE_TOTAL);
    let mut judge = Judge::new(Options::default());
    let mut recorder = Recorder::to_writer(BufWriter::new(Spool::new()), redactor);
    transport
        .execute(
            &request(target, way),
            &policy,
            &label,
            &mut (&mut judge, &mut recorder),
        )
        .await;
    let records = spooled(recorder).ok();
    let Some(judged) = judge.take() else {
        return (None, None);
    };
    let status = judged.exchange.response.as_ref().map(|r| r.status);
    let record = StepRecord {
        step,
        exchange: judged.exchange,
        validation: judged.validation,
        records,
    };
    (status, Some(record))
}

fn accepted(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

/// A 4xx that says the request, not the endpoint's state, was refused.
fn refused(status: Option<u16>) -> bool {
    status.is_some_and(|s| (400..500).contains(&s) && !matches!(s, 408 | 409 | 429))
}

/// Probe `target`: see the module doc.
pub(super) async fn check(target: &Target, transport: &Transport, redactor: &Redactor) -> Access {
    let own = Way {
        auth: target.auth,
        version: target.api_version(),
    };
    let (status, first) = probe(target, own, transport, redactor).await;
    if !refused(status) {
        return Access::AsConfigured;
    }
    let mut steps: Vec<StepRecord> = first.into_iter().collect();
    let mut ways = Vec::new();
    let keyed = target.api_key.is_some();
    if keyed {
        ways.push(Way {
            auth: own.auth.other(),
            ..own
        });
    }
    if own.version == Some(ApiVersion::V2026_10_21) {
        let old = Some(ApiVersion::V2023_06_01);
        ways.push(Way {
            version: old,
            ..own
        });
        if keyed {
            ways.push(Way {
                auth: own.auth.other(),
                version: old,
            });
        }
    }
    let own_status = status.unwrap_or_default();
    for way in ways {
        let (status, record) = probe(target, way, transport, redactor).await;
        steps.extend(record);
        if accepted(status) {
            return fallback(target, own, own_status, way, steps);
        }
    }
    // A target without a key has no credentials to reject: its cases judge the 401s (a
    // scenario may expect them).
    if keyed && matches!(own_status, 401 | 403) {
        let t = &target.name;
        let why = format!(
            "target `{t}` rejected the credentials: HTTP {own_status} to the key as `{}` and in the other style; no further request was sent to it",
            own.auth.header_name()
        );
        let record = ResultRecord {
            title: TITLE.into(),
            error: Some(why.clone()),
            attempts: steps.iter().map(|s| s.exchange.attempts()).sum(),
            ..ResultRecord::new(&target.name, SCENARIO, FEATURE, Mode::Sync, Verdict::Error)
        };
        return Access::Rejected { why, record, steps };
    }
    Access::AsConfigured
}

/// The result reporting what was rejected and how the target runs instead. Each finding sits
/// on the probe that shows it alone: the target's own style with the accepted version, the
/// accepted style with the target's own version (the first probe when that one was not sent).
fn fallback(
    target: &Target,
    own: Way,
    own_status: u16,
    way: Way,
    steps: Vec<StepRecord>,
) -> Access {
    let keyed = target.api_key.is_some();
    let at = |probe: Way| -> (Option<StepId>, u16) {
        steps
            .iter()
            .find(|s| s.step.as_str() == probe.name(keyed))
            .and_then(|s| Some((Some(s.step.clone()), s.exchange.response.as_ref()?.status)))
            .unwrap_or_else(|| (steps.first().map(|s| s.step.clone()), own_status))
    };
    let accepted_as = way.name(keyed);
    let mut findings = Vec::new();
    if way.auth != own.auth {
        let (step, status) = at(Way {
            auth: own.auth,
            version: way.version,
        });
        let mut f = Finding::new(
            ids::AUTH_STYLE_REJECTED,
            "",
            format!(
                "HTTP {status} to the key sent as `{}`, while it is accepted as `{}`",
                own.auth.header_name(),
                way.auth.header_name()
            ),
        )
        .expected("the key accepted in either style")
        .actual(format!("HTTP {status}; the run went on as {accepted_as}"));
        if let Some(s) = &step {
            f = f.in_step(s);
        }
        findings.push(f);
    }
    if way.version != own.version
        && let (Some(mine), Some(theirs)) = (own.version, way.version)
    {
        let (step, status) = at(Way {
            auth: way.auth,
            version: own.version,
        });
        let mut f = Finding::new(
            ids::VERSION_CURRENT_REJECTED,
            "anthropic-version",
            format!(
                "HTTP {status} to `anthropic-version: {mine}` (what today's SDKs send), while `{theirs}` is accepted"
            ),
        )
        .expected(format!("`anthropic-version: {mine}` accepted"))
        .actual(format!(
            "HTTP {status}; the run went on as {accepted_as}"
        ));
        if let Some(s) = &step {
            f = f.in_step(s);
        }
        findings.push(f);
    }
    let verdict = crate::verdict::judge(&JudgeInputs {
        findings: &findings,
        infra_error: false,
        rejected: false,
        declared_unsupported: false,
        skipped: false,
    });
    let record = ResultRecord {
        title: TITLE.into(),
        findings,
        attempts: steps.iter().map(|s| s.exchange.attempts()).sum(),
        ..ResultRecord::new(&target.name, SCENARIO, FEATURE, Mode::Sync, verdict)
    };
    Access::Fallback {
        auth: way.auth,
        version: way.version,
        record,
        steps,
    }
}
