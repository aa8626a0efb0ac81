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
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(k, _)| forwardable(k.as_str()))
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
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_string(),
        url: url.clone(),
        headers: headers.clone(),
        body: (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned()),
    };
    let label = format!("{}/{n:04} {} {path}", cfg.label, parts.method);
    let mut judge = Judge::new(Options {
        timing_known: true,
        ..Options::default()
    });
    let mut rec = crate::exchange::Recorder::to_writer(Vec::new(), &cfg.redactor);
    (&mut judge, &mut rec).begin(&label, &recorded);
    let mut builder = st.client.request(parts.method.clone(), &url);
    for (k, v) in &headers {
        builder = builder.header(k, v);
    }
    let sent = Instant::now();
    let resp = match builder.body(body.clone()).send().await {
        Ok(r) => r,
        Err(e) => {
            // The whole cause chain: "error sending request" alone hides the DNS or connect cause.
            let message = format!(
                "conform proxy: the upstream did not answer: {}",
                crate::http::client::error_chain(&e)
            );
            (&mut judge, &mut rec).end(&End {
                total_ms: since_ms(sent),
                transport: Some(TransportFailure {
                    kind: FailureKind::Connect,
                    message: message.clone(),
                }),
            });
            finish(&st, n, &parts.method, &path, judge, rec);
            return error(
                StatusCode::BAD_GATEWAY,
                "api_error",
                cfg.redactor.redact(&message),
            );
        }
    };
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
        head_ms: since_ms(sent),
    };
    (&mut judge, &mut rec).head(&head);
    let mut out_headers = HeaderMap::new();
    for (k, v) in resp.headers() {
        if forwardable(k.as_str())
            && let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_str().as_bytes()),
                HeaderValue::from_bytes(v.as_bytes()),
            )
        {
            out_headers.append(k, v);
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(16);
    let method = parts.method.clone();
    tokio::spawn(async move {
        let _in_flight = in_flight;
        let mut upstream = resp.bytes_stream();
        let mut transport = None;
        let cancelled = || TransportFailure {
            kind: FailureKind::Cancelled,
            message: "the client closed the connection before the end".into(),
        };
        loop {
            // A client that goes away is noticed at once, not at the upstream's next chunk.
            let next = tokio::select! {
                biased;
                next = upstream.next() => next,
                _ = tx.closed() => {
                    transport = Some(cancelled());
                    break;
                }
            };
            match next {
                Some(Ok(bytes)) => {
                    // Forwarded first, judged while the client reads it.
                    let t = since_ms(sent);
                    let gone = tx.send(Ok(bytes.clone())).await.is_err();
                    (&mut judge, &mut rec).chunk(t, &bytes);
                    if gone {
                        transport = Some(cancelled());
                        break;
                    }
                }
                Some(Err(e)) => {
                    let message = format!("the upstream body was interrupted: {e}");
                    let _ = tx.send(Err(std::io::Error::other(message.clone()))).await;
                    transport = Some(TransportFailure {
                        kind: FailureKind::Interrupted,
                        message,
                    });
                    break;
                }
                None => break,
            }
        }
        (&mut judge, &mut rec).end(&End {
            total_ms: since_ms(sent),
            transport,
        });
        finish(&st, n, &method, &path, judge, rec);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    *response.headers_mut() = out_headers;
    response
}

/// The exchange ended: its result and records go to the shared state.
fn finish(
    st: &State,
    n: usize,
    method: &axum::http::Method,
    path: &str,
    mut judge: Judge,
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
