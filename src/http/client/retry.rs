//! The retry decision: a pure function from what an attempt produced to "wait this long and try
//! again" or "keep this result".
//!
//! Retried: transport errors before any response, and the statuses 408, 409, 429, 5xx
//! (529 included). The server's hints are honoured: `retry-after-ms` (milliseconds), then
//! `retry-after` (seconds or an HTTP date); `x-should-retry: false` forbids a retry and
//! `x-should-retry: true` allows one for any error status (4xx, 5xx). Like the official SDKs
//! (the Python SDK consults `_should_retry` only for the `HTTPStatusError` httpx raises on an
//! error status; the TypeScript SDK only when `!response.ok`), an answer below 400 is never
//! re-sent, whatever its headers say: a 200 with `x-should-retry: true` is kept, not paid for
//! again. A hint longer than the policy's `max_wait`
//! is not retried at all (waiting less than the server asked would only fail again). Without a
//! hint the wait is an exponential backoff, capped. An assertion failure is never a reason to
//! retry: this module only ever sees transport outcomes and statuses.

use std::time::Duration;
use time::OffsetDateTime;

/// How many times and how long to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `attempts <= max_retries + 1`).
    pub max_retries: u32,
    /// The first backoff; doubled on every further retry.
    pub base_backoff: Duration,
    /// The longest backoff computed without a server hint.
    pub max_backoff: Duration,
    /// The longest wait accepted from a server hint; longer hints end the retries.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// What one attempt produced, as far as retrying is concerned.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AttemptOutcome<'a> {
    /// No response head arrived (connect error, reset, timeout before the head).
    TransportBeforeResponse,
    /// A response head arrived with this status and these headers.
    Response {
        status: u16,
        headers: &'a [(String, String)],
    },
}

/// Whether a status is worth another attempt: 408, 409, 429 and every 5xx (529 included).
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..=599).contains(&status)
}

/// `Some(wait)` to retry after `wait`, `None` to keep this outcome.
///
/// `attempts_made` counts the attempts so far, this one included (1 after the first attempt).
/// `now` is used to turn an HTTP-date `retry-after` into a wait.
pub(crate) fn retry_decision(
    outcome: AttemptOutcome<'_>,
    attempts_made: u32,
    policy: &RetryPolicy,
    now: OffsetDateTime,
) -> Option<Duration> {
    if attempts_made > policy.max_retries {
        return None;
    }
    let backoff = backoff(attempts_made, policy);
    match outcome {
        AttemptOutcome::TransportBeforeResponse => Some(backoff),
        AttemptOutcome::Response { status, .. } if status < 400 => None,
        AttemptOutcome::Response { status, headers } => {
            let should_retry =
                header(headers, "x-should-retry").map(|v| v.trim().to_ascii_lowercase());
            match should_retry.as_deref() {
                Some("false") => return None,
                Some("true") => {}
                _ if !is_retryable_status(status) => return None,
                _ => {}
            }
            match server_hint(headers, now) {
                Some(hint) if hint > policy.max_wait => None,
                Some(hint) => Some(hint),
                None => Some(backoff),
            }
        }
    }
}

/// The exponential backoff before retry number `attempts_made` (1-based), capped.
pub(crate) fn backoff(attempts_made: u32, policy: &RetryPolicy) -> Duration {
    let exp = attempts_made.saturating_sub(1).min(16);
    policy
        .base_backoff
        .saturating_mul(1u32 << exp)
        .min(policy.max_backoff)
}

/// The longest wait a server hint can express here. Larger (or absurd: `1e30`, huge integers)
/// hints are clamped to it, which is far beyond any policy's `max_wait`, so they end the
/// retries instead of overflowing a `Duration`.
pub(crate) const MAX_HINT: Duration = Duration::from_secs(600);

/// The wait the server asked for: `retry-after-ms`, else `retry-after` (seconds or HTTP date),
/// at most [`MAX_HINT`]. Unparseable, negative and NaN values are ignored; infinite and huge
/// ones are clamped. Never panics, whatever the header says.
pub(crate) fn server_hint(headers: &[(String, String)], now: OffsetDateTime) -> Option<Duration> {
    if let Some(ms) = header(headers, "retry-after-ms").and_then(|v| parse_wait(v, 1e-3)) {
        return Some(ms);
    }
    let value = header(headers, "retry-after")?.trim();
    if value.parse::<f64>().is_ok() {
        return parse_wait(value, 1.0);
    }
    let when = parse_http_date(value)?;
    let delta = when - now;
    Some(if delta.is_negative() {
        Duration::ZERO
    } else {
        delta.unsigned_abs().min(MAX_HINT)
    })
}

/// A non-negative number of `unit` seconds, clamped to [`MAX_HINT`]; None when it is not a
/// number, negative or NaN.
fn parse_wait(value: &str, unit: f64) -> Option<Duration> {
    let n = value.trim().parse::<f64>().ok()?;
    if n.is_nan() || n < 0.0 {
        return None;
    }
    let secs = n * unit;
    if secs >= MAX_HINT.as_secs_f64() {
        return Some(MAX_HINT);
    }
    Duration::try_from_secs_f64(secs)
        .ok()
        .map(|d| d.min(MAX_HINT))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP dates are sent in.
pub(crate) fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value.trim(), &format)
        .ok()
        .map(|t| t.assume_utc())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    crate::exchange::header(headers, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-11-25 04:00:00 UTC)
    }

    fn decide(status: u16, headers: &[(&str, &str)], attempts: u32) -> Option<Duration> {
        let headers = h(headers);
        let outcome = AttemptOutcome::Response {
            status,
            headers: &headers,
        };
        retry_decision(outcome, attempts, &RetryPolicy::default(), now())
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 409, 429, 500, 502, 503, 529] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 413, 422] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn status_without_hint_uses_exponential_backoff() {
        assert_eq!(decide(529, &[], 1), Some(Duration::from_millis(500)));
        assert_eq!(decide(529, &[], 2), Some(Duration::from_millis(1000)));
        assert_eq!(decide(529, &[], 3), None, "default policy allows 2 retries");
        assert_eq!(decide(400, &[], 1), None);
        assert_eq!(decide(200, &[], 1), None);
    }

    #[test]
    fn backoff_is_capped() {
        let p = RetryPolicy {
            max_retries: 50,
            ..RetryPolicy::default()
        };
        assert_eq!(backoff(40, &p), p.max_backoff);
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after() {
        let d = decide(429, &[("retry-after", "3"), ("Retry-After-Ms", "250")], 1);
        assert_eq!(d, Some(Duration::from_millis(250)));
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        assert_eq!(
            decide(503, &[("retry-after", "2")], 1),
            Some(Duration::from_secs(2))
        );
        let d = decide(503, &[("retry-after", "Wed, 25 Nov 2026 04:00:05 GMT")], 1);
        assert_eq!(d, Some(Duration::from_secs(5)));
        let past = decide(503, &[("retry-after", "Wed, 25 Nov 2026 03:00:00 GMT")], 1);
        assert_eq!(past, Some(Duration::ZERO));
        let junk = decide(503, &[("retry-after", "soon")], 1);
        assert_eq!(
            junk,
            Some(Duration::from_millis(500)),
            "junk hint falls back to backoff"
        );
    }

    #[test]
    fn hint_longer_than_max_wait_is_not_retried() {
        assert_eq!(decide(429, &[("retry-after", "120")], 1), None);
    }

    #[test]
    fn x_should_retry_is_honoured_both_ways() {
        assert_eq!(decide(529, &[("x-should-retry", "false")], 1), None);
        assert_eq!(
            decide(400, &[("x-should-retry", "true")], 1),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            decide(400, &[("x-should-retry", "true")], 3),
            None,
            "still bounded"
        );
    }

    #[test]
    fn a_success_is_never_re_sent_whatever_its_headers_say() {
        let hints = [("x-should-retry", "true"), ("retry-after", "29")];
        for s in [200, 201, 204, 206, 301, 304] {
            assert_eq!(decide(s, &hints, 1), None, "{s}");
        }
        assert_eq!(decide(429, &hints, 1), Some(Duration::from_secs(29)));
        assert_eq!(
            decide(418, &hints, 1),
            Some(Duration::from_secs(29)),
            "an error status the server marks as retryable"
        );
    }

    #[test]
    fn transport_errors_before_a_response_are_retried() {
        let p = RetryPolicy::default();
        let out = AttemptOutcome::TransportBeforeResponse;
        assert_eq!(
            retry_decision(out, 1, &p, now()),
            Some(Duration::from_millis(500))
        );
        assert_eq!(retry_decision(out, 3, &p, now()), None);
        let none = RetryPolicy {
            max_retries: 0,
            ..p
        };
        assert_eq!(retry_decision(out, 1, &none, now()), None);
    }

    #[test]
    fn absurd_hints_never_panic_and_are_clamped_or_ignored() {
        let hint = |name: &str, value: &str| server_hint(&h(&[(name, value)]), now());
        for v in [
            "1e20",
            "1e30",
            "1e308",
            "inf",
            "+inf",
            "infinity",
            "18446744073709551616",
            "99999999999999999999999999999999999",
            "1.8e19",
        ] {
            assert_eq!(hint("retry-after", v), Some(MAX_HINT), "retry-after {v}");
            assert_eq!(
                hint("retry-after-ms", v),
                Some(MAX_HINT),
                "retry-after-ms {v}"
            );
        }
        for v in ["-1", "-1e30", "-inf", "NaN", "nan", "-0.5", "0x10", "", " "] {
            assert_eq!(hint("retry-after", v), None, "retry-after {v:?}");
            assert_eq!(hint("retry-after-ms", v), None, "retry-after-ms {v:?}");
        }
        assert_eq!(hint("retry-after", "-0"), Some(Duration::ZERO));
        assert_eq!(hint("retry-after-ms", "1e-30"), Some(Duration::ZERO));
        assert_eq!(
            hint("retry-after-ms", "599999"),
            Some(Duration::from_millis(599_999))
        );
        // A date far in the future is clamped too.
        assert_eq!(
            hint("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(MAX_HINT)
        );
        // A clamped hint is beyond max_wait: no retry, no panic.
        assert_eq!(decide(429, &[("retry-after", "1e20")], 1), None);
        assert_eq!(decide(429, &[("retry-after-ms", "1e30")], 1), None);
        // An ignored retry-after-ms falls back to retry-after.
        assert_eq!(
            decide(429, &[("retry-after-ms", "NaN"), ("retry-after", "1")], 1),
            Some(Duration::from_secs(1))
        );
    }
}
