//! Per-target memory of recent answers, shared by the case tasks of one target. It tells a
//! server error that belongs to one request (the target answers other requests: a conformance
//! failure, `http.server-error`) from the endpoint's own state (every recent request failed
//! too: infrastructure, an `error` result).
//!
//! Every exchange of the target is noted: *answered* when its final status is not one a client
//! retries (so not 408, 409, 429 or 5xx), *failed* otherwise or when no response came. Recent
//! means within [`RECENT`]: a library runs similar requests together (all the image scenarios,
//! say), so a fixed number of latest exchanges could all be the same failing kind although the
//! target answers everything else.

use crate::http::client::retry::is_retryable_status;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer keeps showing that the target is up.
const RECENT: Duration = Duration::from_secs(120);
/// How many failed exchanges in a row, with no answer within [`RECENT`], show it is down.
const OUTAGE: u32 = 8;
/// How many failed exchanges in a row show it is down when it never answered: more than
/// [`OUTAGE`], because a run may start with a cluster of similar failing requests.
const NEVER_ANSWERED: u32 = 3 * OUTAGE;

/// What a server error repeated on every retry of one request says, given the target's other
/// recent answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerErrorCall {
    /// The target answered another request within [`RECENT`]: the error is this request's own.
    RequestSpecific,
    /// The target answered before, but not within [`RECENT`], and at least [`OUTAGE`]
    /// exchanges failed since (or it never answered and [`NEVER_ANSWERED`] failed): the
    /// endpoint is down or overloaded.
    Infrastructure,
    /// Too little to say yet (no answer so far, or few failures since an old one); settled
    /// when the run's cases are in, by [`RecentAnswers::answered_any`].
    Undecided,
}

/// The recent answers of one target.
#[derive(Debug, Default)]
pub(crate) struct RecentAnswers {
    state: Mutex<State>,
    /// Whether the target's first requests all failed the same way.
    pub(crate) breaker: super::breaker::Breaker,
}

#[derive(Debug, Default)]
struct State {
    /// When the latest answered exchange was noted.
    last_answer: Option<Instant>,
    /// Failed exchanges noted since then.
    failures_since: u32,
}

impl RecentAnswers {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remember an exchange that ended with `status` (`None`: no response).
    pub(crate) fn note(&self, status: Option<u16>) {
        self.note_at(status, Instant::now());
    }

    fn note_at(&self, status: Option<u16>, now: Instant) {
        let mut st = self.state();
        if status.is_some_and(|s| !is_retryable_status(s)) {
            st.last_answer = Some(now);
            st.failures_since = 0;
        } else {
            st.failures_since = st.failures_since.saturating_add(1);
        }
    }

    /// What a repeated server error on a request means, from the exchanges noted before it.
    pub(crate) fn call(&self) -> ServerErrorCall {
        self.call_at(Instant::now())
    }

    fn call_at(&self, now: Instant) -> ServerErrorCall {
        let st = self.state();
        match st.last_answer {
            Some(t) if now.saturating_duration_since(t) <= RECENT => {
                ServerErrorCall::RequestSpecific
            }
            Some(_) if st.failures_since >= OUTAGE => ServerErrorCall::Infrastructure,
            None if st.failures_since >= NEVER_ANSWERED => ServerErrorCall::Infrastructure,
            _ => ServerErrorCall::Undecided,
        }
    }

    /// Whether the target answered any exchange of the run: how a
    /// [`ServerErrorCall::Undecided`] error is settled once every case is in.
    pub(crate) fn answered_any(&self) -> bool {
        self.state().last_answer.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_among_recent_answers_is_the_request_own() {
        let t0 = Instant::now();
        let r = RecentAnswers::default();
        assert_eq!(r.call_at(t0), ServerErrorCall::Undecided);
        assert!(!r.answered_any());
        r.note_at(Some(500), t0);
        r.note_at(Some(200), t0);
        // However many failures follow within RECENT (similar requests run together).
        for _ in 0..3 * OUTAGE {
            r.note_at(Some(500), t0);
        }
        assert_eq!(r.call_at(t0 + RECENT), ServerErrorCall::RequestSpecific);
        assert!(r.answered_any());
        // A 4xx is an answer too: the endpoint is up and judged the request.
        let r = RecentAnswers::default();
        r.note_at(Some(400), t0);
        assert_eq!(r.call_at(t0), ServerErrorCall::RequestSpecific);
    }

    #[test]
    fn failures_in_a_row_with_no_recent_answer_are_infrastructure() {
        let t0 = Instant::now();
        let later = t0 + RECENT + Duration::from_secs(1);
        let r = RecentAnswers::default();
        r.note_at(Some(200), t0);
        for s in [500, 429, 503, 529, 500, 408, 502] {
            r.note_at(Some(s), t0);
        }
        assert_eq!(r.call_at(later), ServerErrorCall::Undecided, "7 failures");
        r.note_at(None, later);
        assert_eq!(r.call_at(later), ServerErrorCall::Infrastructure);
        // The run did answer once: an undecided error of its start settles as the request's.
        assert!(r.answered_any());
        r.note_at(Some(201), later);
        assert_eq!(r.call_at(later), ServerErrorCall::RequestSpecific);
        // Failures from the start with no answer at all: the run's end settles the first ones
        // (as infrastructure if the target never answers); after many, they are at once.
        let r = RecentAnswers::default();
        for _ in 1..NEVER_ANSWERED {
            r.note_at(Some(500), later);
        }
        assert_eq!(r.call_at(later), ServerErrorCall::Undecided);
        assert!(!r.answered_any());
        r.note_at(Some(500), later);
        assert_eq!(r.call_at(later), ServerErrorCall::Infrastructure);
    }
}
