//! The HTTP execution layer: sends one [`Request`] and records everything that happens as an
//! [`Exchange`] (design §1: the Exchange is the source of truth; nothing is validated here).
//!
//! [`Client::execute`] records the request as sent, the status and headers, every body chunk
//! with its arrival time (ms since the request was sent), the time to the response head and the
//! total time. The caller's `on_chunk` callback sees each chunk as it arrives, so a stream can
//! be validated incrementally. Timeouts (connect, first byte, idle gap between chunks, whole
//! exchange) and transport errors end up in `transport_error`, keeping whatever arrived.
//! Retries follow [`retry::retry_decision`]; the per-target rate limit is a shared
//! [`limit::RateLimiter`].
//!
//! Long streams: reqwest's `timeout()` is a whole-request deadline and would cut an SSE stream,
//! so it is not used; the idle gap is enforced here with tokio timers around every chunk, which
//! also lets the error say which limit was hit and after how many chunks.

pub mod limit;
pub mod retry;

pub use limit::RateLimiter;
pub use retry::{AttemptOutcome, RetryPolicy, is_retryable_status, retry_decision};

use crate::exchange::{Chunk, Exchange, RecordedRequest, RecordedResponse};
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

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(120),
            idle: Duration::from_secs(60),
            total: Duration::from_secs(300),
        }
    }
}

/// How to execute: time limits, retries, and the target's shared rate limit.
#[derive(Debug, Clone, Default)]
pub struct ExecPolicy {
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    /// Shared by every task of one target (clones share the limit); `None` = unlimited.
    pub limiter: Option<RateLimiter>,
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
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Whether a URL points at this machine (`localhost`, `127.0.0.0/8`, `::1`).
pub fn is_loopback(url: &str) -> bool {
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
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none());
        if no_proxy {
            builder = builder.no_proxy();
        }
        let inner = builder
            .build()
            .map_err(|e| ClientError::Build(error_chain(&e)))?;
        Ok(Client { inner })
    }

    /// A client for a base URL: proxies are bypassed when the URL is a loopback address.
    pub fn for_base_url(base_url: &str, timeouts: &Timeouts) -> Result<Client, ClientError> {
        Client::new(timeouts.connect, is_loopback(base_url))
    }

    /// Send `req` (retrying as `policy` allows) and record the exchange. Never fails: a
    /// transport problem is recorded in `transport_error` next to whatever arrived.
    /// `on_chunk(bytes, t_ms)` is called for every body chunk of the final attempt.
    pub async fn execute(
        &self,
        req: &Request,
        policy: &ExecPolicy,
        mut on_chunk: impl FnMut(&[u8], f64),
    ) -> Exchange {
        let mut exchange = Exchange {
            label: String::new(),
            request: req.recorded(),
            response: None,
            transport_error: None,
            attempts: 0,
        };
        let method = match reqwest::Method::from_bytes(req.method.as_bytes()) {
            Ok(m) => m,
            Err(_) => {
                exchange.transport_error = Some(format!("invalid request method {:?}", req.method));
                return exchange;
            }
        };
        let t = policy.timeouts;
        let mut deadline: Option<Instant> = None;
        loop {
            if let Some(limiter) = &policy.limiter {
                limiter.acquire().await;
            }
            exchange.attempts += 1;
            let sent = Instant::now();
            let deadline = *deadline.get_or_insert(sent + t.total);
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
                    let what = if head_limit == deadline && deadline < sent + t.first_byte {
                        format!("total timeout: no response head within {} ms", ms(t.total))
                    } else {
                        format!(
                            "first-byte timeout: no response head within {} ms",
                            ms(t.first_byte)
                        )
                    };
                    (Some((what, true)), None)
                }
                Ok(Err(e)) => {
                    let retryable = !e.is_builder();
                    (Some((describe(&e), retryable)), None)
                }
                Ok(Ok(resp)) => (None, Some(resp)),
            };
            if let Some((error, retryable)) = error {
                let wait = retryable
                    .then(|| {
                        retry_decision(
                            AttemptOutcome::TransportBeforeResponse,
                            exchange.attempts,
                            &policy.retry,
                            now_utc(),
                        )
                    })
                    .flatten();
                if let Some(wait) = wait.filter(|w| Instant::now() + *w < deadline) {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                exchange.transport_error = Some(error);
                return exchange;
            }
            let Some(resp) = response else {
                return exchange;
            };
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
            let outcome = AttemptOutcome::Response {
                status,
                headers: &headers,
            };
            if let Some(wait) = retry_decision(outcome, exchange.attempts, &policy.retry, now_utc())
                && Instant::now() + wait < deadline
            {
                drop(resp);
                tokio::time::sleep(wait).await;
                continue;
            }
            let mut recorded = RecordedResponse {
                status,
                headers,
                head_ms,
                chunks: Vec::new(),
                total_ms: head_ms,
            };
            exchange.transport_error =
                read_body(resp, sent, deadline, &t, &mut recorded, &mut on_chunk).await;
            recorded.total_ms = since_ms(sent);
            exchange.response = Some(recorded);
            return exchange;
        }
    }
}

/// Read the body chunk by chunk within the idle and total limits; the error, if any.
async fn read_body(
    resp: reqwest::Response,
    sent: Instant,
    deadline: Instant,
    t: &Timeouts,
    recorded: &mut RecordedResponse,
    on_chunk: &mut impl FnMut(&[u8], f64),
) -> Option<String> {
    let mut stream = resp.bytes_stream();
    loop {
        let idle_limit = Instant::now() + t.idle;
        let limit = idle_limit.min(deadline);
        match tokio::time::timeout_at(limit, stream.next()).await {
            Err(_) if limit == deadline && deadline < idle_limit => {
                return Some(format!(
                    "total timeout: exchange not finished within {} ms ({} chunks received)",
                    ms(t.total),
                    recorded.chunks.len()
                ));
            }
            Err(_) => {
                return Some(format!(
                    "idle timeout: no data for {} ms after {} chunks",
                    ms(t.idle),
                    recorded.chunks.len()
                ));
            }
            Ok(None) => return None,
            Ok(Some(Err(e))) => {
                return Some(format!(
                    "body interrupted after {} chunks: {}",
                    recorded.chunks.len(),
                    describe(&e)
                ));
            }
            Ok(Some(Ok(bytes))) => {
                let t_ms = since_ms(sent);
                on_chunk(&bytes, t_ms);
                recorded.chunks.push(Chunk::new(t_ms, &bytes));
            }
        }
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

fn error_chain(e: &dyn std::error::Error) -> String {
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
        let x = client
            .execute(&req, &ExecPolicy::default(), |_, _| {})
            .await;
        assert_eq!(x.attempts, 0);
        assert!(
            x.transport_error
                .unwrap()
                .contains("invalid request method")
        );
    }
}
