//! Per-target memory of recent answers, shared by the case tasks of one target. It tells a
//! server error that belongs to one request (the target answers other requests: a conformance
//! failure, `http.server-error`) from the endpoint's own state (every recent request failed
//! too: infrastructure, an `error` result).
//!
//! Every exchange of the target adds one entry: *answered* when its final status is not one a
//! client retries (so not 408, 409, 429 or 5xx), *failed* otherwise or when no response came.
//! The memory keeps the last [`WINDOW`] entries and the run's count of answered ones.

use crate::http::client::retry::is_retryable_status;
use std::collections::VecDeque;
use std::sync::Mutex;

/// How many of the target's latest exchanges count as "recent".
const WINDOW: usize = 8;

/// What a server error repeated on every retry of one request says, given the target's other
/// recent answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerErrorCall {
    /// The target answered another recent request: the error is this request's own.
    RequestSpecific,
    /// The last [`WINDOW`] exchanges all failed: the endpoint is down or overloaded.
    Infrastructure,
    /// Too few exchanges yet to say (the start of a run); decided when the run's cases are in,
    /// by [`RecentAnswers::answered_any`].
    Undecided,
}

/// The recent answers of one target.
#[derive(Debug, Default)]
pub(crate) struct RecentAnswers {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The latest exchanges, oldest first: whether each was answered.
    window: VecDeque<bool>,
    /// How many exchanges of the run were answered.
    answered: u64,
}

impl RecentAnswers {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remember an exchange that ended with `status` (`None`: no response).
    pub(crate) fn note(&self, status: Option<u16>) {
        let answered = status.is_some_and(|s| !is_retryable_status(s));
        let mut st = self.state();
        if st.window.len() == WINDOW {
            st.window.pop_front();
        }
        st.window.push_back(answered);
        st.answered += u64::from(answered);
    }

    /// What a repeated server error on a request means, from the exchanges noted before it.
    pub(crate) fn call(&self) -> ServerErrorCall {
        let st = self.state();
        if st.window.iter().any(|a| *a) {
            ServerErrorCall::RequestSpecific
        } else if st.window.len() == WINDOW {
            ServerErrorCall::Infrastructure
        } else {
            ServerErrorCall::Undecided
        }
    }

    /// Whether the target answered any exchange of the run: how an [`ServerErrorCall::Undecided`]
    /// error is settled once every case is in.
    pub(crate) fn answered_any(&self) -> bool {
        self.state().answered > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_among_answers_is_the_request_own() {
        let r = RecentAnswers::default();
        assert_eq!(r.call(), ServerErrorCall::Undecided);
        assert!(!r.answered_any());
        r.note(Some(500));
        r.note(Some(200));
        assert_eq!(r.call(), ServerErrorCall::RequestSpecific);
        assert!(r.answered_any());
        // A 4xx is an answer too: the endpoint is up and judged the request.
        let r = RecentAnswers::default();
        r.note(Some(400));
        assert_eq!(r.call(), ServerErrorCall::RequestSpecific);
    }

    #[test]
    fn a_window_of_failures_is_infrastructure() {
        let r = RecentAnswers::default();
        r.note(Some(200));
        for s in [500, 429, 503, 529, 500, 408, 502] {
            r.note(Some(s));
        }
        assert_eq!(r.call(), ServerErrorCall::RequestSpecific, "the 200 is recent");
        r.note(None);
        assert_eq!(r.call(), ServerErrorCall::Infrastructure);
        // The run did answer once: an undecided error of its start settles as the request's.
        assert!(r.answered_any());
        r.note(Some(201));
        assert_eq!(r.call(), ServerErrorCall::RequestSpecific);
    }
}
