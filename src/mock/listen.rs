//! The accept loop of the mock and the limits that keep it alive under abuse.
//!
//! Every accepted connection gets `TCP_NODELAY` (without it, each streamed answer after the
//! first on a keep-alive connection waited ~40 ms for a delayed ACK) and is served by hyper's
//! HTTP/1 connection directly, so the limits below can be set:
//!
//! * **connection cap** ([`Limits::max_connections`]): a connection accepted beyond it is closed
//!   at once, so half-open clients cannot exhaust the file descriptors;
//! * **header-read timeout** ([`Limits::header_read_timeout`]): from the first byte of a request
//!   to the end of its head (slowloris heads), and
//! * **idle keep-alive timeout** ([`Limits::keep_alive_timeout`]): while a connection waits for
//!   its next request, after accept and after each response — both timed per connection by
//!   [`super::timed::Timed`];
//! * **request bodies** (enforced while reading, in `server.rs`): at most
//!   [`Limits::max_body_bytes`] per request, a pause longer than [`Limits::body_idle_timeout`]
//!   ends the request, and all bodies being buffered at once share [`Limits::body_memory`]
//!   bytes (a reader that cannot get memory in time is answered 529), so memory stays bounded
//!   whatever the number of stalled uploads.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;

use super::limits::Limits;

/// After a failed `accept` (e.g. out of file descriptors) the loop waits this long.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// Serves `app` on `listener` until `stop` fires (or the task is aborted); dropping the loop
/// drops every connection with it.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stop: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // Heads and idle connections are timed by `Timed`, which tells them apart.
        .header_read_timeout(None)
        .keep_alive(true);
    let mut conns: JoinSet<()> = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let conn = builder.serve_connection(
                    TokioIo::new(super::timed::Timed::new(stream, &limits)),
                    TowerToHyperService::new(app.clone()),
                );
                conns.spawn(async move {
                    let _ = conn.await;
                    drop(slot);
                });
            }
        }
    }
}
