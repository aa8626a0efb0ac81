//! The HTTP execution layer: sends one [`Request`] and records everything that happens as an
//! [`Exchange`] (the Exchange is the source of truth; nothing is validated here).
//!
//! [`Client::execute`] delivers the exchange to an [`Observer`] as it happens: the request as
//! sent, each retried attempt and its cause, the status and headers, every body chunk the moment
//! it arrives (ms since the request was sent), and the end with its transport outcome. The
//! runner's observer is the judge plus the recorder, so a stream is judged live and written to
//! disk without being held. Timeouts (connect, first byte, idle gap between chunks, whole
//! exchange) and the body limit end the exchange with a typed [`TransportFailure`].
//! Retries follow [`retry::retry_decision`]; the per-target rate limit is a shared
//! [`limit::RateLimiter`]; a 429 or 529 pauses the whole target ([`backpressure`]).
//!
//! Long streams: reqwest's `timeout()` is a whole-request deadline and would cut an SSE stream,
//! so it is not used; the idle gap is enforced here with tokio timers around every chunk, which
//! also lets the error say which limit was hit and after how many chunks.

pub(crate) mod backpressure;
pub(crate) mod limit;
pub(crate) mod retry;

pub(crate) use backpressure::{Backpressure, Pauses};
pub(crate) use limit::RateLimiter;
pub(crate) use retry::{AttemptOutcome, RetryPolicy, retry_decision};

use crate::exchange::{
    Collector, End, Exchange, FailureKind, Head, Observer, RecordedRequest, Retry, TransportFailure,
};
use futures_util::StreamExt;
use std::sync::Once;
use std::time::Duration;
use tokio::time::Instant;

/// The four time limits of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP and TLS connect (applied when the [`Client`] is built).
    pub connect: Duration,
    /// From sending the request to the response head (for a non-streaming request that is
    /// the whole generation, hence the generous default).
    pub first_byte: Duration,
    /// The longest gap between two body chunks (stream events).
    pub idle: Duration,
    /// The whole exchange, retries and backoff included.
    pub total: Duration,
}

impl Timeouts {
    /// The default first-byte limit (also the proxy's).
    pub(crate) const DEFAULT_FIRST_BYTE: Duration = Duration::from_secs(120);
    /// The default idle limit (also the proxy's).
    pub(crate) const DEFAULT_IDLE: Duration = Duration::from_secs(60);
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Timeouts::DEFAULT_FIRST_BYTE,
            idle: Timeouts::DEFAULT_IDLE,
            total: Duration::from_secs(300),
        }
    }
}

/// The default response body limit (`--max-body-mb`).
pub const DEFAULT_MAX_BODY: usize = 64 << 20;

/// How to execute: time limits, retries, the target's shared rate limit and the body limit.
#[derive(Debug, Clone)]
pub struct ExecPolicy {
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    /// Shared by every task of one target (clones share the limit); `None` = unlimited.
    pub limiter: Option<RateLimiter>,
    /// The most body bytes read; a longer body is cut with [`FailureKind::BodyLimit`].
    pub max_body: usize,
    /// Shared by every task of one target: pauses and throttles it on 429/529.
    pub backpressure: Option<Backpressure>,
}

impl Default for ExecPolicy {
    fn default() -> Self {
        ExecPolicy {
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            limiter: None,
            max_body: DEFAULT_MAX_BODY,
            backpressure: None,
        }
    }
}

/// A request exactly as it will be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Sent verbatim (it may be deliberately malformed).
    pub body: Option<String>,
}

impl Request {
    /// A POST with a body.
    pub fn post(
        url: impl Into<String>,
        headers: Vec<(String, String)>,
        body: impl Into<String>,
    ) -> Self {
        Request {
            method: "POST".into(),
            url: url.into(),
            headers,
            body: Some(body.into()),
        }
    }

    fn recorded(&self) -> RecordedRequest {
        RecordedRequest {
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot build the http client: {0}")]
    Build(String),
}

/// An HTTP client for one target (the connect timeout and proxy choice are per client).
#[derive(Debug, Clone)]
pub struct Client {
    inner: reqwest::Client,
}

/// Install rustls' ring crypto provider, once per process (an already installed provider is
/// fine). Without a provider reqwest's builder panics.
pub(crate) fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Whether a URL points at this machine (`localhost`, `127.0.0.0/8`, `::1`).
pub(crate) fn is_loopback(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = u.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    /// A client with this connect timeout. `no_proxy` ignores `HTTP(S)_PROXY` (for loopback).
    /// Redirects are not followed: a conformance tool records the 3xx it got.
    pub fn new(connect_timeout: Duration, no_proxy: bool) -> Result<Client, ClientError> {
        Client::build(connect_timeout, no_proxy, true)
    }

    /// `tls` false: a client for plain-HTTP URLs only, which skips loading the system's root
    /// certificates (a few hundred files read and parsed at every start).
    fn build(connect_timeout: Duration, no_proxy: bool, tls: bool) -> Result<Client, ClientError> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none());
        if no_proxy {
            builder = builder.no_proxy();
        }
        if !tls {
            builder = builder.tls_certs_only(std::iter::empty());
        }
        let inner = builder
            .build()
            .map_err(|e| ClientError::Build(error_chain(&e)))?;
        Ok(Client { inner })
    }

    /// A client for a base URL: proxies are bypassed when the URL is a loopback address.
    /// A plain `http://` loopback base URL never needs TLS: redirects are not followed and no
    /// proxy (which could be an `https://` one) is used for it.
    pub fn for_base_url(base_url: &str, timeouts: &Timeouts) -> Result<Client, ClientError> {
        let loopback = is_loopback(base_url);
        let plain = reqwest::Url::parse(base_url).is_ok_and(|u| u.scheme() == "http");
        Client::build(timeouts.connect, loopback, !(loopback && plain))
    }

    /// Send `req` (retrying as `policy` allows), delivering the exchange record by record to
    /// `obs` as it happens: `begin`, a `retry` per retried attempt, the final `head`, every
    /// body chunk the moment it arrives, and `end` with the transport outcome. Never fails: a
    /// transport problem ends the exchange with a [`TransportFailure`] after whatever arrived.
    pub async fn execute(
        &self,
        req: &Request,
        policy: &ExecPolicy,
        label: &str,
        obs: &mut impl Observer,
    ) {
        obs.begin(label, &req.recorded());
        let Ok(method) = reqwest::Method::from_bytes(req.method.as_bytes()) else {
            let message = format!("invalid request method {:?}", req.method);
            obs.end(&failed(FailureKind::InvalidRequest, message, 0.0));
            return;
        };
        let t = policy.timeouts;
        let first_sent = Instant::now();
        let mut deadline = first_sent + t.total;
        let mut attempt = 0u32;
        loop {
            // A target-wide pause does not count against this exchange's time.
            let waited = Instant::now();
            let slot = match &policy.backpressure {
                Some(b) => Some(b.enter().await),
                None => None,
            };
            deadline += waited.elapsed();
            if let Some(limiter) = &policy.limiter {
                limiter.acquire().await;
            }
            attempt += 1;
            let sent = Instant::now();
            let mut builder = self.inner.request(method.clone(), &req.url);
            for (k, v) in &req.headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            if let Some(body) = &req.body {
                builder = builder.body(body.clone());
            }
            let head_limit = (sent + t.first_byte).min(deadline);
            let outcome = tokio::time::timeout_at(head_limit, builder.send()).await;
            let (error, response) = match outcome {
                Err(_) => {
                    let (kind, what) = if head_limit == deadline && deadline < sent + t.first_byte {
                        (
                            FailureKind::TotalTimeout,
                            format!("total timeout: no response head within {} ms", ms(t.total)),
                        )
                    } else {
                        (
                            FailureKind::FirstByteTimeout,
                            format!(
                                "first-byte timeout: no response head within {} ms",
                                ms(t.first_byte)
                            ),
                        )
                    };
                    (Some((kind, what, true)), None)
                }
                Ok(Err(e)) if e.is_builder() => (
                    Some((FailureKind::InvalidRequest, describe(&e), false)),
                    None,
                ),
                Ok(Err(e)) => (Some((FailureKind::Connect, describe(&e), true)), None),
                Ok(Ok(resp)) => (None, Some(resp)),
            };
            if let Some((kind, error, retryable)) = error {
                let wait = retryable
                    .then(|| {
                        retry_decision(
                            AttemptOutcome::TransportBeforeResponse,
                            attempt,
                            &policy.retry,
                            now_utc(),
                        )
                    })
                    .flatten();
                if let Some(wait) = wait.filter(|w| Instant::now() + *w < deadline) {
                    drop(slot);
                    obs.retry(&Retry {
                        attempt,
                        t_ms: since_ms(first_sent),
                        status: None,
                        cause: error,
                        wait_ms: wait.as_secs_f64() * 1000.0,
                    });
                    tokio::time::sleep(wait).await;
                    continue;
                }
                obs.end(&failed(kind, error, since_ms(sent)));
                return;
            }
            let Some(resp) = response else { return };
            let head_ms = since_ms(sent);
            let status = resp.status().as_u16();
            let headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            if let Some(b) = &policy.backpressure {
                // A target is never paused longer than one exchange may take: a hint beyond
                // that (an absurd `retry-after`) pauses it for the exchange's whole budget.
                let hint = retry::server_hint(&headers, now_utc());
                b.note(status, hint.map(|h| h.min(policy.timeouts.total)));
            }
            let outcome = AttemptOutcome::Response {
                status,
                headers: &headers,
            };
            if let Some(wait) = retry_decision(outcome, attempt, &policy.retry, now_utc())
                && Instant::now() + wait < deadline
            {
                drop(resp);
                drop(slot);
                obs.retry(&Retry {
                    attempt,
                    t_ms: since_ms(first_sent),
                    status: Some(status),
                    cause: format!("HTTP {status}"),
                    wait_ms: wait.as_secs_f64() * 1000.0,
                });
                tokio::time::sleep(wait).await;
                continue;
            }
            obs.head(&Head {
                status,
                headers,
                head_ms,
            });
            let transport = read_body(resp, sent, deadline, policy, obs).await;
            obs.end(&End {
                total_ms: since_ms(sent),
                transport,
            });
            return;
        }
    }

    /// [`Client::execute`] into a whole in-memory [`Exchange`] (small exchanges, tests).
    pub async fn execute_collect(&self, req: &Request, policy: &ExecPolicy) -> Exchange {
        let mut c = Collector::default();
        self.execute(req, policy, "", &mut c).await;
        c.into_exchanges()
            .pop()
            .expect("execute always begins an exchange")
    }
}

/// Read the body chunk by chunk within the idle, total and size limits, handing each chunk to
/// `obs` as it arrives; how the body ended, when not normally.
async fn read_body(
    resp: reqwest::Response,
    sent: Instant,
    deadline: Instant,
    policy: &ExecPolicy,
    obs: &mut impl Observer,
) -> Option<TransportFailure> {
    let t = &policy.timeouts;
    let mut stream = resp.bytes_stream();
    let mut chunks = 0usize;
    let mut size = 0usize;
    let fail = |kind, message| Some(TransportFailure { kind, message });
    loop {
        let idle_limit = Instant::now() + t.idle;
        let limit = idle_limit.min(deadline);
        match tokio::time::timeout_at(limit, stream.next()).await {
            Err(_) if limit == deadline && deadline < idle_limit => {
                return fail(
                    FailureKind::TotalTimeout,
                    format!(
                        "total timeout: exchange not finished within {} ms ({chunks} chunks received)",
                        ms(t.total),
                    ),
                );
            }
            Err(_) => {
                return fail(
                    FailureKind::IdleTimeout,
                    format!(
                        "idle timeout: no data for {} ms after {chunks} chunks",
                        ms(t.idle)
                    ),
                );
            }
            Ok(None) => return None,
            Ok(Some(Err(e))) => {
                return fail(
                    FailureKind::Interrupted,
                    format!("body interrupted after {chunks} chunks: {}", describe(&e)),
                );
            }
            Ok(Some(Ok(bytes))) => {
                let t_ms = since_ms(sent);
                let room = policy.max_body.saturating_sub(size);
                if bytes.len() > room {
                    obs.chunk(t_ms, &bytes[..room]);
                    return Some(crate::exchange::body_limit(policy.max_body));
                }
                size += bytes.len();
                chunks += 1;
                obs.chunk(t_ms, &bytes);
            }
        }
    }
}

/// The end of an exchange that failed.
fn failed(kind: FailureKind, message: String, total_ms: f64) -> End {
    End {
        total_ms,
        transport: Some(TransportFailure { kind, message }),
    }
}

/// A reqwest error with its kind and source chain, e.g.
/// `connect error: error sending request ...: tcp connect error: Connection refused`.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "connect error"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_builder() {
        "invalid request"
    } else if e.is_body() || e.is_decode() {
        "body error"
    } else {
        "transport error"
    };
    format!("{kind}: {}", error_chain(e))
}

/// An error with its sources, each once (`error sending request: dns error: …`).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn since_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn now_utc() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        assert!(is_loopback("http://127.0.0.1:8080/v1"));
        assert!(is_loopback("http://localhost:1"));
        assert!(is_loopback("http://[::1]:1"));
        assert!(!is_loopback(
            "https://dashscope.aliyuncs.com/apps/anthropic"
        ));
        assert!(!is_loopback("not a url"));
    }

    #[tokio::test]
    async fn an_invalid_method_is_recorded_not_sent() {
        let client = Client::new(Duration::from_secs(1), true).unwrap();
        let req = Request {
            method: "BAD METHOD".into(),
            url: "http://127.0.0.1:9/".into(),
            headers: vec![],
            body: None,
        };
        let x = client.execute_collect(&req, &ExecPolicy::default()).await;
        assert_eq!(x.attempts(), 0);
        assert!(
            x.transport_error()
                .unwrap()
                .contains("invalid request method")
        );
    }
}
