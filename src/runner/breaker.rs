//! The circuit breaker of a target: when its first requests all fail the same way — 404 on the
//! Messages path, no connection, no answer within the timeout — the endpoint is wrong
//! everywhere, and judging feature by feature would only report the same misconfiguration
//! under every feature (a 404 read as "caching had no effect"), or wait hours on an endpoint
//! that never answers. The target is stopped with one line saying what is likely wrong.
//!
//! The breaker watches the target's exchanges as they end (shared by its cases, like
//! [`super::recent`]). It is *pending* until it can tell: the first answer the endpoint gives
//! (a status a step expected other than 404, or any status that is not a 404 on the Messages
//! path and not one a client retries) *closes* it for the rest of the run; [`TRIP`] failures of one kind
//! before any answer *open* it, with the diagnosis. Retried statuses (429, 5xx) and failures of
//! conform's own (a replay mismatch, a cut body) neither close nor open it: they are judged
//! elsewhere; nor does a 404 on another path (`count_tokens` may be left out on purpose).

use crate::exchange::{Exchange, FailureKind};
use crate::http::client::retry::is_retryable_status;
use serde_json::Value;
use std::sync::Mutex;

/// How many failures of one kind, before any answer, open the breaker: as many as run at once
/// by default (`--jobs 4`), so a hanging endpoint costs one timeout, not several rounds.
pub(crate) const TRIP: u32 = 4;

/// How one exchange failed, for the breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// 404 on the Messages path (`…/messages`), which the step did not expect.
    NotFound {
        url: String,
        /// The error message of the body, when it is an error object.
        said: Option<String>,
    },
    /// No connection (DNS, TCP, TLS).
    Connect(String),
    /// No response head within the time limit.
    Timeout(String),
}

impl Failure {
    fn same_kind(&self, other: &Failure) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// What an exchange says to the breaker.
enum Seen {
    /// The endpoint answered: it is not wrong everywhere.
    Answer,
    Failure(Failure),
    /// Says nothing either way.
    Nothing,
}

/// What the breaker says about its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// Too few exchanges to tell.
    Pending,
    /// The target answered: judge its cases.
    Closed,
    /// The target's first requests all failed the same way: why, in one line.
    Open(String),
}

/// The breaker of one target.
#[derive(Debug, Default)]
pub(crate) struct Breaker {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    closed: bool,
    first: Option<Failure>,
    failures: u32,
    /// Cases of the target running now.
    running: usize,
}

/// A case of the target running; dropping it ends it.
pub(crate) struct Running<'a>(&'a Breaker);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut st = self.0.inner();
        st.running = st.running.saturating_sub(1);
    }
}

impl Breaker {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Note an exchange that ended; `expected` when the step expected its status, `body` the
    /// response body as parsed (for the error message of a 404).
    pub(crate) fn note(&self, x: &Exchange, expected: bool, body: Option<&Value>) {
        let seen = seen(x, expected, body);
        let mut st = self.inner();
        if st.closed || st.failures >= TRIP {
            return;
        }
        match seen {
            Seen::Nothing => {}
            Seen::Answer => st.closed = true,
            Seen::Failure(f) => match &st.first {
                Some(first) if !first.same_kind(&f) => st.closed = true,
                Some(_) => st.failures += 1,
                None => {
                    st.first = Some(f);
                    st.failures = 1;
                }
            },
        }
    }

    /// Note that a case of the target starts running, until the guard is dropped.
    pub(crate) fn running(&self) -> Running<'_> {
        self.inner().running += 1;
        Running(self)
    }

    /// Whether a case about to start should wait: requests already failed and cases still
    /// running will soon tell whether the target is wrong everywhere (so an endpoint that never
    /// answers costs one round of timeouts, not two).
    pub(crate) fn should_wait(&self) -> bool {
        let st = self.inner();
        !st.closed && st.failures > 0 && st.failures < TRIP && st.running > 0
    }

    /// The breaker's state; an open one names what is likely wrong with `base_url`.
    pub(crate) fn state(&self, base_url: &str) -> State {
        let st = self.inner();
        match &st.first {
            _ if st.closed => State::Closed,
            Some(f) if st.failures >= TRIP => State::Open(diagnose(f, st.failures, base_url)),
            _ => State::Pending,
        }
    }
}

/// What one exchange says.
fn seen(x: &Exchange, expected: bool, body: Option<&Value>) -> Seen {
    match (&x.response, &x.transport) {
        // An expected 404 (an unknown model, say) cannot tell a missing route from a right one.
        (Some(r), _) if expected && r.status == 404 => Seen::Nothing,
        (Some(_), _) if expected => Seen::Answer,
        (Some(r), _) if r.status == 404 && x.request.path().ends_with("/messages") => {
            Seen::Failure(Failure::NotFound {
                url: x.request.url.clone(),
                said: body
                    .and_then(|b| b.pointer("/error/message"))
                    .and_then(Value::as_str)
                    .map(|s| crate::text::truncate(s, 160)),
            })
        }
        // A 404 elsewhere (`count_tokens`, `models`) may be an optional endpoint left out.
        (Some(r), _) if r.status == 404 || is_retryable_status(r.status) => Seen::Nothing,
        (Some(_), _) => Seen::Answer,
        (None, Some(t)) => match t.kind {
            FailureKind::Connect => Seen::Failure(Failure::Connect(t.message.clone())),
            FailureKind::FirstByteTimeout | FailureKind::TotalTimeout => {
                Seen::Failure(Failure::Timeout(t.message.clone()))
            }
            _ => Seen::Nothing,
        },
        (None, None) => Seen::Nothing,
    }
}

/// One line: what every request got, and what is likely wrong.
fn diagnose(f: &Failure, n: u32, base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    match f {
        Failure::NotFound { url, said } => {
            let fix = if base.ends_with("/v1/messages") {
                "the base URL already ends with /v1/messages; drop it".to_string()
            } else if base.ends_with("/v1") {
                "drop the trailing /v1".to_string()
            } else {
                format!("check that the endpoint serves the Messages API under {base}")
            };
            let said = said
                .as_ref()
                .map(|s| format!(" (the endpoint said: {s})"))
                .unwrap_or_default();
            format!(
                "every request got 404 at {url}{said}: conform appends /v1/messages to the base URL; {fix}"
            )
        }
        Failure::Connect(msg) => format!(
            "none of the first {n} requests could connect to {base} ({msg}): check the host, the port and the scheme (http or https)"
        ),
        Failure::Timeout(msg) => format!(
            "none of the first {n} requests got an answer from {base} ({msg}): the endpoint accepts connections but does not answer; check the base URL and the port, or raise --timeout if it is only slow"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{RecordedRequest, RecordedResponse, TransportFailure};

    fn exchange(url: &str, status: Option<u16>, failure: Option<FailureKind>) -> Exchange {
        Exchange {
            label: String::new(),
            request: RecordedRequest {
                method: "POST".into(),
                url: url.into(),
                headers: vec![],
                body: None,
            },
            retries: vec![],
            response: status.map(|status| RecordedResponse {
                status,
                headers: vec![],
                head_ms: 1.0,
                chunks: vec![],
                total_ms: 1.0,
            }),
            transport: failure.map(|kind| TransportFailure {
                kind,
                message: "first-byte timeout: no response head within 1000 ms".into(),
            }),
        }
    }

    #[test]
    fn four_404s_on_the_messages_path_open_it_with_the_fix() {
        let b = Breaker::default();
        let x = exchange("http://h:1/v1/v1/messages", Some(404), None);
        let body = serde_json::json!({"error": {"message": "no route"}});
        for _ in 1..TRIP {
            b.note(&x, false, Some(&body));
            assert_eq!(b.state("http://h:1/v1"), State::Pending);
        }
        b.note(&x, false, Some(&body));
        let State::Open(why) = b.state("http://h:1/v1") else {
            panic!("not open")
        };
        assert!(why.starts_with("every request got 404 at http://h:1/v1/v1/messages (the endpoint said: no route): conform appends /v1/messages"), "{why}");
        assert!(why.ends_with("drop the trailing /v1"), "{why}");
    }

    #[test]
    fn an_answer_closes_it_for_good() {
        let b = Breaker::default();
        b.note(
            &exchange("http://h/v1/messages", Some(404), None),
            false,
            None,
        );
        // A retried status says nothing; an expected 404 is an answer.
        b.note(
            &exchange("http://h/v1/messages", Some(429), None),
            false,
            None,
        );
        assert_eq!(b.state("http://h"), State::Pending);
        b.note(
            &exchange("http://h/v1/messages", Some(404), None),
            true,
            None,
        );
        assert_eq!(
            b.state("http://h"),
            State::Pending,
            "an expected 404 tells nothing"
        );
        b.note(
            &exchange("http://h/v1/messages", Some(400), None),
            true,
            None,
        );
        for _ in 0..TRIP {
            b.note(
                &exchange("http://h/v1/messages", Some(404), None),
                false,
                None,
            );
        }
        assert_eq!(b.state("http://h"), State::Closed);
        // A 404 elsewhere may be an optional endpoint left out: it tells nothing.
        let b = Breaker::default();
        b.note(
            &exchange("http://h/v1/models", Some(404), None),
            false,
            None,
        );
        assert_eq!(b.state("http://h"), State::Pending);
    }

    #[test]
    fn a_case_waits_while_failures_are_pending_and_others_run() {
        let b = Breaker::default();
        let x = exchange(
            "http://h/v1/messages",
            None,
            Some(FailureKind::TotalTimeout),
        );
        let other = b.running();
        assert!(!b.should_wait(), "no failure yet");
        b.note(&x, false, None);
        assert!(b.should_wait());
        drop(other);
        assert!(!b.should_wait(), "nobody left to tell");
    }

    #[test]
    fn timeouts_open_it_and_mixed_failures_close_it() {
        let b = Breaker::default();
        for _ in 0..TRIP {
            let x = exchange(
                "http://h/v1/messages",
                None,
                Some(FailureKind::TotalTimeout),
            );
            b.note(&x, false, None);
        }
        let State::Open(why) = b.state("http://h") else {
            panic!("not open")
        };
        assert!(
            why.contains("accepts connections but does not answer"),
            "{why}"
        );
        assert!(!why.contains("rate"), "{why}");
        let b = Breaker::default();
        b.note(
            &exchange("http://h/v1/messages", None, Some(FailureKind::Connect)),
            false,
            None,
        );
        b.note(
            &exchange("http://h/v1/messages", Some(404), None),
            false,
            None,
        );
        assert_eq!(b.state("http://h"), State::Closed);
    }
}
