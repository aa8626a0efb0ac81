//! One proxied exchange: forward the request, stream the response back as it arrives, and
//! feed both to the judge and the recorder on the way.

use super::{Exchanged, InFlight, State};
use crate::exchange::{End, FailureKind, Head, Observer, RecordedRequest, TransportFailure};
use crate::protocol::anthropic::judge::{Judge, Options};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Instant;

/// Headers that belong to one hop, never forwarded. `accept-encoding` is dropped too: the
/// judge must see the bytes the protocol defines, so the upstream answers uncompressed.
const HOP: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "accept-encoding",
];

fn forwardable(name: &str) -> bool {
    !HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
}

/// The headers of `headers` that go to the next hop: neither a hop-by-hop header nor one the
/// sender named in `Connection` (RFC 9110 §7.6.1: "a proxy … MUST remove any header fields
/// listed in the Connection header field").
fn end_to_end(headers: &HeaderMap) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
    let named: Vec<String> = headers
        .get_all("connection")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty())
        .collect();
    headers
        .iter()
        .filter(move |(k, _)| forwardable(k.as_str()) && !named.iter().any(|n| n == k.as_str()))
}

/// How long the upstream may take to answer (the head) and to send its next chunk: the live
/// client's defaults (`conform run --timeout` does not apply to the proxy). An upstream that
/// stalls longer ends the exchange as `error`, recorded with its request.
const FIRST_BYTE: std::time::Duration = crate::http::client::Timeouts::DEFAULT_FIRST_BYTE;
const IDLE: std::time::Duration = crate::http::client::Timeouts::DEFAULT_IDLE;

/// An Anthropic-shaped error answered by the proxy itself.
fn error(status: StatusCode, kind: &str, message: String) -> Response {
    let body = serde_json::json!({"type": "error", "error": {"type": kind, "message": message}});
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn since_ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

pub(super) async fn handle(
    axum::extract::State(st): axum::extract::State<Arc<State>>,
    req: Request,
) -> Response {
    let n = st.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let in_flight = InFlight::new(&st);
    let cfg = &st.config;
    let (parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let url = format!("{}{path}", cfg.upstream);
    let body = match axum::body::to_bytes(body, cfg.max_body).await {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                format!("conform proxy: the request body could not be read: {e}"),
            );
        }
    };
    let mut headers: Vec<(String, String)> = end_to_end(&parts.headers)
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    for (k, v) in &cfg.extra_headers {
        if !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)) {
            headers.push((k.clone(), v.clone()));
        }
    }
    if let Some((key, bearer)) = &cfg.key {
        headers.retain(|(k, _)| {
            !k.eq_ignore_ascii_case("x-api-key") && !k.eq_ignore_ascii_case("authorization")
        });
        headers.push(if *bearer {
            ("authorization".into(), format!("Bearer {key}"))
        } else {
            ("x-api-key".into(), key.clone())
        });
    }
    // The client's own credentials are secrets too, whoever supplied them (ARCHITECTURE.md,
    // secrets): learned before anything of this exchange is recorded.
    cfg.redactor.learn_from_headers(
        parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))),
    );
    let redactor = cfg.redactor.get();
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_string(),
        url: url.clone(),
        headers: headers.clone(),
        body: (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned()),
    };
    let label = format!("{}/{n:04} {} {path}", cfg.label, parts.method);
    let mut open = Open {
        st: st.clone(),
        n,
        method: parts.method.clone(),
        path: path.clone(),
        sent: Instant::now(),
        judge: Judge::new(Options {
            timing_known: true,
            max_body: Some(cfg.max_body),
            ..Options::default()
        }),
        rec: Some(crate::exchange::Recorder::to_writer(Vec::new(), &redactor)),
        _in_flight: in_flight,
    };
    open.obs().begin(&label, &recorded);
    let mut builder = st.client.request(parts.method.clone(), &url);
    for (k, v) in &headers {
        builder = builder.header(k, v);
    }
    open.sent = Instant::now();
    let mut closing = st.closing.subscribe();
    // Until the head arrives, the client leaving drops this future and `open` with it: the
    // exchange is still recorded (see `Open`'s `Drop`).
    let answer = tokio::select! {
        r = tokio::time::timeout(FIRST_BYTE, builder.body(body.clone()).send()) => r,
        _ = closing.wait_for(|c| *c) => {
            open.close(Some(stopped()));
            return error(StatusCode::BAD_GATEWAY, "api_error", "conform proxy: stopped before the upstream answered".into());
        }
    };
    let (kind, message) = match answer {
        Ok(Ok(r)) => return forward_body(open, r, st.clone()),
        Err(_) => (
            FailureKind::FirstByteTimeout,
            format!(
                "conform proxy: the upstream sent no response head within {} s",
                FIRST_BYTE.as_secs()
            ),
        ),
        Ok(Err(e)) => (
            FailureKind::Connect,
            // The whole cause chain: "error sending request" alone hides the DNS or connect
            // cause.
            format!(
                "conform proxy: the upstream did not answer: {}",
                crate::http::client::error_chain(&e)
            ),
        ),
    };
    open.close(Some(TransportFailure {
        kind,
        message: message.clone(),
    }));
    let status = if kind == FailureKind::FirstByteTimeout {
        StatusCode::GATEWAY_TIMEOUT
    } else {
        StatusCode::BAD_GATEWAY
    };
    error(status, "api_error", redactor.redact(&message))
}

/// Stream the upstream's answer back to the client, judged and recorded on the way, within
/// the body limit and the idle limit.
fn forward_body(mut open: Open, resp: reqwest::Response, st: Arc<State>) -> Response {
    let status = resp.status();
    let head = Head {
        status: status.as_u16(),
        headers: resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        head_ms: since_ms(open.sent),
    };
    open.obs().head(&head);
    let mut out_headers = HeaderMap::new();
    for (k, v) in end_to_end(resp.headers()) {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_str().as_bytes()),
            HeaderValue::from_bytes(v.as_bytes()),
        ) {
            out_headers.append(k, v);
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(16);
    let max_body = st.config.max_body;
    let mut closing = st.closing.subscribe();
    tokio::spawn(async move {
        let mut upstream = resp.bytes_stream();
        let mut size = 0usize;
        let transport = loop {
            // A client that goes away is noticed at once, not at the upstream's next chunk.
            let next = tokio::select! {
                biased;
                next = tokio::time::timeout(IDLE, upstream.next()) => next,
                _ = tx.closed() => break Some(cancelled()),
                _ = closing.wait_for(|c| *c) => break Some(stopped()),
            };
            match next {
                Ok(Some(Ok(bytes))) => {
                    let t = since_ms(open.sent);
                    let room = max_body.saturating_sub(size);
                    if bytes.len() > room {
                        // Beyond --max-body-mb: judged and recorded up to the limit, and the
                        // client's connection is cut (it never gets a body the report does
                        // not show).
                        open.obs().chunk(t, &bytes[..room]);
                        let failure = crate::exchange::body_limit(max_body);
                        let _ = tx
                            .send(Err(std::io::Error::other(failure.message.clone())))
                            .await;
                        break Some(failure);
                    }
                    size += bytes.len();
                    // Forwarded first, judged while the client reads it.
                    let gone = tx.send(Ok(bytes.clone())).await.is_err();
                    open.obs().chunk(t, &bytes);
                    if gone {
                        break Some(cancelled());
                    }
                }
                Ok(Some(Err(e))) => {
                    let message = format!("the upstream body was interrupted: {e}");
                    let _ = tx.send(Err(std::io::Error::other(message.clone()))).await;
                    break Some(TransportFailure {
                        kind: FailureKind::Interrupted,
                        message,
                    });
                }
                Ok(None) => break None,
                Err(_) => {
                    let message = format!(
                        "idle timeout: the upstream sent nothing for {} s",
                        IDLE.as_secs()
                    );
                    let _ = tx.send(Err(std::io::Error::other(message.clone()))).await;
                    break Some(TransportFailure {
                        kind: FailureKind::IdleTimeout,
                        message,
                    });
                }
            }
        };
        open.close(transport);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    *response.headers_mut() = out_headers;
    response
}

fn cancelled() -> TransportFailure {
    TransportFailure {
        kind: FailureKind::Cancelled,
        message: "the client closed the connection before the end".into(),
    }
}

fn stopped() -> TransportFailure {
    TransportFailure {
        kind: FailureKind::Cancelled,
        message: "conform proxy stopped while this exchange was in flight".into(),
    }
}

/// An exchange begun and not yet handed over. Whatever ends it — the upstream's end, a
/// timeout, the body limit, the proxy stopping, or the client leaving before the head (axum
/// then drops the handler, and this with it) — it is judged and recorded exactly once, so an
/// upstream that stalls still leaves the request in the report.
struct Open {
    st: Arc<State>,
    n: usize,
    method: axum::http::Method,
    path: String,
    sent: Instant,
    judge: Judge,
    /// `None` once handed over.
    rec: Option<crate::exchange::Recorder<Vec<u8>>>,
    _in_flight: InFlight,
}

/// The judge and the recorder, fed together.
type Both<'a> = (&'a mut Judge, &'a mut crate::exchange::Recorder<Vec<u8>>);

impl Open {
    fn obs(&mut self) -> Both<'_> {
        let rec = self
            .rec
            .as_mut()
            .expect("an exchange is fed only before it is closed");
        (&mut self.judge, rec)
    }

    /// End the exchange with `transport` and hand it over (once).
    fn close(&mut self, transport: Option<TransportFailure>) {
        let Some(mut rec) = self.rec.take() else {
            return;
        };
        (&mut self.judge, &mut rec).end(&End {
            total_ms: since_ms(self.sent),
            transport,
        });
        finish(
            &self.st,
            self.n,
            &self.method,
            &self.path,
            &mut self.judge,
            rec,
        );
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.close(Some(TransportFailure {
            kind: FailureKind::Cancelled,
            message: "the client closed the connection before the upstream answered".into(),
        }));
    }
}

/// The exchange ended: its result and records go to the shared state.
fn finish(
    st: &State,
    n: usize,
    method: &axum::http::Method,
    path: &str,
    judge: &mut Judge,
    rec: crate::exchange::Recorder<Vec<u8>>,
) {
    let Some(judgement) = judge.take() else {
        return;
    };
    let records = rec.finish().unwrap_or_default();
    (st.on_exchange)(Exchanged {
        n,
        method: method.as_str().to_string(),
        path: path.to_string(),
        judgement,
        records,
    });
}
