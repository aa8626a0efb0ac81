//! A per-target rate limit: at most `rpm` requests per minute, spread evenly.
//!
//! One [`RateLimiter`] is shared (cloned) by every task that sends to the same target; each
//! attempt, retries included, takes the next free slot. The slots are spaced `60 s / rpm`
//! apart, so there are no bursts. Based on `tokio::time`.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Spaces requests `60 s / rpm` apart. Cloning shares the limit.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    interval: Duration,
    next: Arc<Mutex<Option<Instant>>>,
}

impl RateLimiter {
    /// `None` when `rpm` is 0 (no limit).
    pub fn per_minute(rpm: u32) -> Option<RateLimiter> {
        (rpm > 0).then(|| RateLimiter {
            interval: Duration::from_secs(60) / rpm,
            next: Arc::new(Mutex::new(None)),
        })
    }

    /// The gap between two requests.
    #[cfg(test)]
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// Wait for the next free slot.
    pub(crate) async fn acquire(&self) {
        let slot = {
            // A poisoned lock only means another task panicked while holding a timestamp.
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = match *next {
                Some(t) if t > now => t,
                _ => now,
            };
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spaces_requests_evenly_across_clones() {
        let limiter = RateLimiter::per_minute(1200).unwrap();
        assert_eq!(limiter.interval(), Duration::from_millis(50));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let l = limiter.clone();
            tasks.push(tokio::spawn(async move {
                l.acquire().await;
                Instant::now() - start
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap());
        }
        times.sort();
        for (i, t) in times.iter().enumerate() {
            let slot = Duration::from_millis(50 * i as u64);
            assert!(*t >= slot, "request {i} at {t:?}, before its slot {slot:?}");
            assert!(
                *t < slot + Duration::from_millis(500),
                "request {i} at {t:?} is far too late"
            );
        }
    }

    #[test]
    fn zero_means_unlimited() {
        assert!(RateLimiter::per_minute(0).is_none());
    }
}
