//! The HTTP execution layer against a tiny axum server on 127.0.0.1:0: chunk timing, the
//! first-byte / idle / total timeouts, retries honouring `retry-after-ms` and
//! `x-should-retry`, connection refused, and the request recorded as sent.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use conform::Client;
use conform::ExecPolicy;
use conform::RateLimiter;
use conform::Request;
use conform::RetryPolicy;
use conform::Timeouts;
use futures_util::StreamExt;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Every test is bounded by this.
const BOUND: Duration = Duration::from_secs(20);

#[derive(Clone, Default)]
struct Counters {
    flaky: Arc<AtomicUsize>,
    refuse_retry: Arc<AtomicUsize>,
}

fn chunks(parts: Vec<(u64, &'static str)>) -> Body {
    let s = futures_util::stream::iter(parts).then(|(delay, text)| async move {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        Ok::<_, Infallible>(Bytes::from(text))
    });
    Body::from_stream(s)
}

async fn stream() -> Response {
    let body = chunks(vec![
        (0, "event: a\n\n"),
        (150, "event: b\n\n"),
        (150, "event: c\n\n"),
    ]);
    ([("content-type", "text/event-stream")], body).into_response()
}

async fn slow_head() -> Response {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late".into_response()
}

async fn stall() -> Response {
    (
        [("content-type", "text/event-stream")],
        chunks(vec![(0, "event: a\n\n"), (5000, "event: b\n\n")]),
    )
        .into_response()
}

async fn drip() -> Response {
    let parts: Vec<(u64, &'static str)> = (0..200).map(|_| (50, "x")).collect();
    chunks(parts).into_response()
}

async fn flaky(State(c): State<Counters>) -> Response {
    if c.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
        let body = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        (
            StatusCode::from_u16(529).unwrap(),
            [("retry-after-ms", "120"), ("retry-after", "20")],
            body,
        )
            .into_response()
    } else {
        (StatusCode::OK, "ok").into_response()
    }
}

async fn no_retry(State(c): State<Counters>) -> Response {
    c.refuse_retry.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::from_u16(529).unwrap(),
        [("x-should-retry", "false")],
        "busy",
    )
        .into_response()
}

async fn echo(headers: HeaderMap, body: String) -> Response {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (
        StatusCode::OK,
        [("x-seen-key-len", key.len().to_string())],
        body,
    )
        .into_response()
}

async fn server() -> (String, Counters) {
    let counters = Counters::default();
    let app = Router::new()
        .route("/stream", post(stream))
        .route("/slow-head", post(slow_head))
        .route("/stall", post(stall))
        .route("/drip", post(drip))
        .route("/flaky", post(flaky))
        .route("/no-retry", post(no_retry))
        .route("/echo", post(echo))
        .with_state(counters.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), counters)
}

fn policy(first_byte_ms: u64, idle_ms: u64, total_ms: u64, retries: u32) -> ExecPolicy {
    ExecPolicy {
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            first_byte: Duration::from_millis(first_byte_ms),
            idle: Duration::from_millis(idle_ms),
            total: Duration::from_millis(total_ms),
        },
        retry: RetryPolicy {
            max_retries: retries,
            base_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            max_wait: Duration::from_secs(2),
        },
        limiter: None,
        max_body: conform::DEFAULT_MAX_BODY,
        backpressure: None,
    }
}

fn client() -> Client {
    Client::new(Duration::from_secs(2), true).unwrap()
}

fn req(base: &str, path: &str) -> Request {
    Request::post(
        format!("{base}{path}"),
        vec![("content-type".into(), "application/json".into())],
        "{}",
    )
}

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(BOUND, f)
        .await
        .expect("test exceeded its time bound")
}

#[tokio::test]
async fn records_each_chunk_with_its_arrival_time() {
    bounded(async {
        let (base, _) = server().await;
        let mut seen = conform::Collector::default();
        client()
            .execute(
                &req(&base, "/stream"),
                &policy(2000, 2000, 5000, 0),
                "stream",
                &mut seen,
            )
            .await;
        let x = seen.into_exchanges().pop().unwrap();
        assert_eq!(x.transport_error(), None);
        assert_eq!(x.attempts(), 1);
        let r = x.response.unwrap();
        assert_eq!(r.status, 200);
        assert!(r.is_event_stream());
        assert_eq!(
            r.body_bytes(),
            b"event: a\n\nevent: b\n\nevent: c\n\n".to_vec()
        );
        assert_eq!(r.chunks.len(), 3, "{:?}", r.chunks);
        assert!(r.head_ms <= r.chunks[0].t_ms);
        // The server waits 150 ms before each later chunk, so these are lower bounds
        // whatever the load on the machine.
        let t: Vec<f64> = r.chunks.iter().map(|c| c.t_ms).collect();
        assert!(t[0] <= t[1] && t[1] <= t[2], "{t:?}");
        assert!(t[1] >= 150.0 && t[2] >= 300.0, "{t:?}");
        assert!(r.total_ms >= r.chunks[2].t_ms);
    })
    .await;
}

#[tokio::test]
async fn first_byte_timeout_is_a_transport_error() {
    bounded(async {
        let (base, _) = server().await;
        let start = Instant::now();
        let x = client()
            .execute_collect(&req(&base, "/slow-head"), &policy(200, 2000, 5000, 0))
            .await;
        let err = x.transport_error().expect("a timeout");
        assert!(err.starts_with("first-byte timeout"), "{err}");
        assert!(x.response.is_none());
        assert_eq!(x.attempts(), 1);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn idle_timeout_keeps_what_arrived() {
    bounded(async {
        let (base, _) = server().await;
        let start = Instant::now();
        let x = client()
            .execute_collect(&req(&base, "/stall"), &policy(2000, 250, 10_000, 2))
            .await;
        let err = x.transport_error().expect("an idle timeout");
        assert!(err.starts_with("idle timeout"), "{err}");
        let r = x.response.clone().expect("the head arrived");
        assert_eq!(r.status, 200);
        assert_eq!(r.body_bytes(), b"event: a\n\n".to_vec());
        assert_eq!(x.attempts(), 1, "a broken body is never retried");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn total_timeout_cuts_a_dripping_body() {
    bounded(async {
        let (base, _) = server().await;
        let start = Instant::now();
        let x = client()
            .execute_collect(&req(&base, "/drip"), &policy(2000, 1000, 400, 0))
            .await;
        let err = x.transport_error().expect("a total timeout");
        assert!(err.starts_with("total timeout"), "{err}");
        let r = x.response.unwrap();
        assert!(!r.chunks.is_empty() && r.chunks.len() < 200);
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn overloaded_then_ok_is_retried_honouring_retry_after_ms() {
    bounded(async {
        let (base, counters) = server().await;
        let start = Instant::now();
        let x = client()
            .execute_collect(&req(&base, "/flaky"), &policy(2000, 2000, 5000, 2))
            .await;
        let elapsed = start.elapsed();
        assert_eq!(x.transport_error(), None);
        assert_eq!(x.attempts(), 2);
        assert_eq!(counters.flaky.load(Ordering::SeqCst), 2);
        let r = x.response.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body_bytes(), b"ok".to_vec());
        // retry-after-ms (120 ms) wins over retry-after (20 s, beyond max_wait).
        assert!(elapsed >= Duration::from_millis(120), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    })
    .await;
}

#[tokio::test]
async fn no_retry_when_disabled_or_when_the_server_says_so() {
    bounded(async {
        let (base, counters) = server().await;
        let x = client()
            .execute_collect(&req(&base, "/flaky"), &policy(2000, 2000, 5000, 0))
            .await;
        assert_eq!(x.attempts(), 1);
        let r = x.response.unwrap();
        assert_eq!(r.status, 529);
        assert!(
            r.body_bytes().starts_with(b"{\"type\":\"error\""),
            "the error body is recorded"
        );

        let x = client()
            .execute_collect(&req(&base, "/no-retry"), &policy(2000, 2000, 5000, 2))
            .await;
        assert_eq!(x.attempts(), 1);
        assert_eq!(x.response.unwrap().status, 529);
        assert_eq!(counters.refuse_retry.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn connection_refused_is_a_fast_transport_error() {
    bounded(async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let start = Instant::now();
        let r = Request::post(format!("http://127.0.0.1:{port}/v1/messages"), vec![], "{}");
        let x = client()
            .execute_collect(&r, &policy(2000, 2000, 5000, 2))
            .await;
        let err = x.transport_error().expect("connection refused");
        assert!(err.starts_with("connect error"), "{err}");
        assert!(x.response.is_none());
        assert_eq!(
            x.attempts(),
            3,
            "transport errors before a response are retried"
        );
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn the_request_is_recorded_as_sent() {
    bounded(async {
        let (base, _) = server().await;
        let headers = vec![("x-api-key".to_string(), "sk-canary-42".to_string())];
        let r = Request {
            method: "POST".into(),
            url: format!("{base}/echo"),
            headers,
            body: Some("{\"a\":1}".into()),
        };
        let x = client()
            .execute_collect(&r, &policy(2000, 2000, 5000, 0))
            .await;
        assert_eq!(x.request.method, "POST");
        assert_eq!(x.request.url, format!("{base}/echo"));
        assert_eq!(
            x.request.headers,
            vec![("x-api-key".to_string(), "sk-canary-42".to_string())]
        );
        assert_eq!(x.request.body.as_deref(), Some("{\"a\":1}"));
        let resp = x.response.unwrap();
        assert_eq!(resp.header("x-seen-key-len"), Some("12"));
        assert_eq!(resp.body_bytes(), b"{\"a\":1}".to_vec());
    })
    .await;
}

#[tokio::test]
async fn an_unsendable_header_is_recorded_not_retried() {
    bounded(async {
        let (base, _) = server().await;
        let headers = vec![("bad header".to_string(), "v".to_string())];
        let r = Request {
            method: "POST".into(),
            url: format!("{base}/echo"),
            headers,
            body: None,
        };
        let x = client()
            .execute_collect(&r, &policy(2000, 2000, 5000, 2))
            .await;
        let err = x.transport_error().expect("an invalid request");
        assert!(err.starts_with("invalid request"), "{err}");
        assert_eq!(
            x.attempts(),
            0,
            "nothing could be sent, nothing was retried"
        );
        assert!(x.response.is_none());
    })
    .await;
}

#[tokio::test]
async fn the_rate_limit_spaces_attempts() {
    bounded(async {
        let (base, _) = server().await;
        let mut p = policy(2000, 2000, 5000, 0);
        p.limiter = RateLimiter::per_minute(600); // one request every 100 ms
        let c = client();
        let start = Instant::now();
        for _ in 0..3 {
            let x = c.execute_collect(&req(&base, "/echo"), &p).await;
            assert_eq!(x.response.unwrap().status, 200);
        }
        assert!(
            start.elapsed() >= Duration::from_millis(200),
            "{:?}",
            start.elapsed()
        );
    })
    .await;
}
