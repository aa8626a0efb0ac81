//! Target-wide backpressure: a 429 or 529 says the *endpoint* wants fewer requests, not that
//! one request should try again on its own. Shared by every request to one target (clones
//! share it), it
//!
//! * pauses the whole target: no attempt starts until the pause ends. The pause honours
//!   `retry-after-ms` / `retry-after` (at most [`MAX_PAUSE`]); without a hint it backs off
//!   exponentially, 1 s, 2 s, 4 s … up to [`MAX_PAUSE`], for each throttled answer in a row
//!   (an answer that arrives while a pause is on was already counted);
//! * halves the number of attempts in flight at each pause (at least one), and raises it by
//!   one after as many answers in a row as the current limit, until no limit is left;
//! * keeps what happened for the report ([`Pauses`]).
//!
//! A gateway that cools a deployment down answers 429 without `retry-after` to every request
//! for a while; per-request retries run out long before that (issue 22, point 3).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The first target-wide backoff without a hint; doubled for each throttled answer in a row.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause, with or without a hint.
pub(crate) const MAX_PAUSE: Duration = Duration::from_secs(60);

/// The backpressure of one target.
#[derive(Debug, Clone, Default)]
pub struct Backpressure {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    changed: Notify,
    /// [`FIRST_PAUSE`] and [`MAX_PAUSE`] (shorter in tests).
    first_pause: Duration,
    max_pause: Duration,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            state: Mutex::default(),
            changed: Notify::new(),
            first_pause: FIRST_PAUSE,
            max_pause: MAX_PAUSE,
        }
    }
}

#[derive(Debug)]
struct State {
    paused_until: Option<Instant>,
    /// Throttled answers in a row (each that started a pause).
    streak: u32,
    /// Attempts allowed in flight (`usize::MAX`: no limit).
    limit: usize,
    in_flight: usize,
    /// The most attempts ever in flight at once: above it a limit limits nothing.
    peak: usize,
    /// Answers since the limit last changed.
    answers: usize,
    pauses: Pauses,
}

impl Default for State {
    fn default() -> Self {
        State {
            paused_until: None,
            streak: 0,
            limit: usize::MAX,
            in_flight: 0,
            peak: 0,
            answers: 0,
            pauses: Pauses::default(),
        }
    }
}

/// What the target's pauses were, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pauses {
    /// How many pauses, by cause (`HTTP 429 without retry-after`).
    pub causes: BTreeMap<String, u32>,
    /// Their total length.
    pub total: Duration,
    /// The longest.
    pub longest: Duration,
    /// The lowest concurrency they brought the target down to.
    pub lowest_limit: Option<usize>,
}

impl Pauses {
    /// How many pauses there were.
    pub fn count(&self) -> u32 {
        self.causes.values().sum()
    }
}

/// An attempt in flight; dropping it frees its place.
pub(crate) struct Slot {
    shared: Arc<Shared>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.in_flight = st.in_flight.saturating_sub(1);
        drop(st);
        self.shared.changed.notify_waiters();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Backpressure {
    /// Wait until the target is not paused and has room for one more attempt; the slot is
    /// held for the attempt (head and body).
    pub(crate) async fn enter(&self) -> Slot {
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let until = {
                let mut st = self.shared.lock();
                match st.paused_until {
                    Some(u) if u > Instant::now() => Some(u),
                    _ if st.in_flight < st.limit => {
                        st.in_flight += 1;
                        st.peak = st.peak.max(st.in_flight);
                        return Slot {
                            shared: self.shared.clone(),
                        };
                    }
                    _ => None,
                }
            };
            match until {
                Some(u) => tokio::time::sleep_until(u).await,
                None => notified.await,
            }
        }
    }

    /// Note an attempt's answer: `hint` is the wait the server asked for, if any.
    pub(crate) fn note(&self, status: u16, hint: Option<Duration>) {
        let now = Instant::now();
        let mut st = self.shared.lock();
        match status {
            429 | 529 => {
                if st.paused_until.is_some_and(|u| u > now) {
                    return;
                }
                st.streak += 1;
                let first = self.shared.first_pause;
                let backoff = first.saturating_mul(1 << (st.streak - 1).min(16));
                let wait = hint.unwrap_or(backoff).min(self.shared.max_pause);
                st.paused_until = Some(now + wait);
                st.limit = (st.in_flight.min(st.limit) / 2).max(1);
                st.answers = 0;
                let cause = match hint {
                    Some(_) => format!("HTTP {status} with retry-after"),
                    None => format!("HTTP {status} without retry-after"),
                };
                let limit = st.limit;
                let p = &mut st.pauses;
                *p.causes.entry(cause).or_default() += 1;
                p.total += wait;
                p.longest = p.longest.max(wait);
                p.lowest_limit = Some(p.lowest_limit.map_or(limit, |l| l.min(limit)));
            }
            s if crate::http::client::retry::is_retryable_status(s) => {}
            _ => {
                st.streak = 0;
                if st.limit != usize::MAX {
                    st.answers += 1;
                    if st.answers >= st.limit {
                        st.answers = 0;
                        st.limit += 1;
                        if st.limit > st.peak {
                            st.limit = usize::MAX;
                        }
                    }
                }
                drop(st);
                self.shared.changed.notify_waiters();
            }
        }
    }

    /// What the pauses were so far.
    pub fn pauses(&self) -> Pauses {
        self.shared.lock().pauses.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pauses of 100 ms (then 200 ms, …) up to 1 s, and the time since `t0` in tenths of the
    /// first pause.
    fn short() -> Backpressure {
        Backpressure {
            shared: Arc::new(Shared {
                first_pause: Duration::from_millis(100),
                max_pause: Duration::from_secs(1),
                ..Shared::default()
            }),
        }
    }

    fn tenths(t0: Instant) -> u128 {
        (Instant::now() - t0).as_millis() / 100
    }

    #[tokio::test]
    async fn throttled_answers_pause_the_target_and_back_off_exponentially() {
        let b = short();
        let slots: Vec<Slot> = vec![b.enter().await, b.enter().await, b.enter().await];
        let t0 = Instant::now();
        b.note(429, None);
        // The others' answers during the pause were sent before it: counted once.
        b.note(429, None);
        b.note(529, None);
        drop(slots);
        let s = b.enter().await;
        assert_eq!(tenths(t0), 1);
        b.note(429, None);
        drop(s);
        let s = b.enter().await;
        assert_eq!(tenths(t0), 3, "then twice as long");
        // A hint is honoured, capped.
        b.note(529, Some(Duration::from_secs(600)));
        drop(s);
        let _s = b.enter().await;
        assert_eq!(tenths(t0), 13);
        let p = b.pauses();
        assert_eq!(p.count(), 3);
        assert_eq!(p.total, Duration::from_millis(1300));
        assert_eq!(p.causes["HTTP 429 without retry-after"], 2);
        assert_eq!(p.causes["HTTP 529 with retry-after"], 1);
        assert_eq!(p.lowest_limit, Some(1), "3 in flight, halved, then 1");
    }

    #[tokio::test]
    async fn the_concurrency_comes_back_after_answers() {
        let b = short();
        let mut slots = Vec::new();
        for _ in 0..4 {
            slots.push(b.enter().await);
        }
        b.note(429, None);
        slots.clear();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let first = b.enter().await;
        let second = b.enter().await;
        // Two in flight: a third waits for a place.
        let third = tokio::time::timeout(Duration::from_millis(200), b.enter()).await;
        assert!(third.is_err(), "the limit is 2");
        for _ in 0..2 {
            b.note(200, None);
        }
        let third = b.enter().await;
        for _ in 0..3 {
            b.note(200, None);
        }
        let fourth = b.enter().await;
        for _ in 0..4 {
            b.note(200, None);
        }
        let fifth = tokio::time::timeout(Duration::from_millis(200), b.enter()).await;
        assert!(fifth.is_ok(), "above the peak: no limit any more");
        drop((first, second, third, fourth));
    }
}
