//! `conform proxy --upstream URL [-- COMMAND …]`: judge the live traffic of a real application.
//!
//! A pass-through HTTP proxy on loopback. Every request is forwarded to the upstream as it came
//! (headers, query, body; the client's credentials, or `--api-key-env` in their place) and
//! every response streamed back chunk by chunk as it arrives. On the way, each exchange feeds
//! the same judge as `conform run` (request-implied checks included) and the same redacting
//! recorder, so `conform check` of the recorded exchanges gives the same findings.
//!
//! Files: this one starts a proxy ([`start`]) for whoever needs one — the `conform proxy`
//! command ([`cli`]: the exchanges fed to the run's sinks, reports rewritten at most once a second
//! and once more on exit, `-- COMMAND`)
//! `conform run --client` ([`crate::clients`]) and `conform scenarios capture`
//! ([`crate::capture`]); [`forward`] handles one exchange;
//! [`sandbox`] warns when `-- claude …` runs Claude Code outside a sandbox.

mod cli;
mod forward;
mod lines;
mod sandbox;

pub(crate) use cli::{ProxyArgs, run_cli};
pub(crate) use sandbox::warning as sandbox_warning;

use crate::protocol::anthropic::judge::Judgement;
use crate::secrets::SharedRedactor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// One exchange the proxy forwarded, judged and recorded.
pub(crate) struct Exchanged {
    /// Its number in the proxy's order of arrival (from 1).
    pub(crate) n: usize,
    pub(crate) method: String,
    /// Path and query as the client sent them.
    pub(crate) path: String,
    pub(crate) judgement: Judgement,
    /// Its redacted records (NDJSON, the form of `exchanges/*.ndjson`).
    pub(crate) records: Vec<u8>,
}

/// What happens to each exchange when it ends (called once per exchange, from the task that
/// forwarded it).
pub(crate) type OnExchange = Box<dyn Fn(Exchanged) + Send + Sync>;

/// How a proxy forwards.
pub(crate) struct Config {
    /// Where to listen (loopback).
    pub(crate) listen: SocketAddr,
    /// The upstream base URL; request paths are appended.
    pub(crate) upstream: String,
    /// A key sent upstream instead of the client's credentials (`true`: as Bearer).
    pub(crate) key: Option<(String, bool)>,
    /// Headers added to every request that does not carry them already (a target's own).
    pub(crate) extra_headers: Vec<(String, String)>,
    /// What is redacted; it learns each client's credentials from its requests.
    pub(crate) redactor: SharedRedactor,
    /// The largest request body forwarded, in bytes.
    pub(crate) max_body: usize,
    /// Exchange labels are `LABEL/0001 METHOD PATH`.
    pub(crate) label: String,
}

impl Config {
    /// A proxy on a free loopback port in front of `target`: its key sent its way instead of
    /// the client's credentials, its headers added.
    pub(crate) fn for_target(
        target: &crate::target::Target,
        redactor: SharedRedactor,
        max_body: usize,
        label: String,
    ) -> Config {
        Config {
            listen: SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
            upstream: target.base_url.clone(),
            key: target.api_key.as_ref().map(|k| {
                (
                    k.expose().to_string(),
                    target.auth == crate::target::AuthStyle::Bearer,
                )
            }),
            extra_headers: target.headers.clone(),
            redactor,
            max_body,
            label,
        }
    }
}

/// The proxy's shared state.
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) client: reqwest::Client,
    pub(crate) seq: AtomicUsize,
    /// Exchanges begun and not yet handed to `on_exchange`.
    in_flight: AtomicUsize,
    pub(crate) on_exchange: OnExchange,
    /// Set when the proxy stops: exchanges still in flight end as `error` and are handed over.
    pub(crate) closing: tokio::sync::watch::Sender<bool>,
}

/// Counts an exchange in flight until dropped (it moves into the task streaming the body).
pub(crate) struct InFlight(Arc<State>);

impl InFlight {
    pub(crate) fn new(st: &Arc<State>) -> InFlight {
        st.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(st.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Why a proxy could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    #[error("--listen {0}: the proxy only listens on loopback")]
    NotLoopback(SocketAddr),
    #[error("--upstream: {0}")]
    Upstream(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running proxy; stopped when dropped.
pub(crate) struct Running {
    /// `http://127.0.0.1:PORT`, for `ANTHROPIC_BASE_URL`.
    pub(crate) base_url: String,
    state: Arc<State>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Wait (at most `limit`) until every exchange begun so far has been handed over; those
    /// still in flight then (a stalled upstream) are ended as `error`, with their request, and
    /// handed over too.
    pub(crate) async fn settle(&self, limit: Duration) -> bool {
        if self.wait_idle(limit).await {
            return true;
        }
        self.state.closing.send_replace(true);
        self.wait_idle(Duration::from_millis(500)).await;
        false
    }

    async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.state.in_flight.load(Ordering::SeqCst) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Start a proxy on `config.listen`; every finished exchange goes to `on_exchange`.
pub(crate) async fn start(config: Config, on_exchange: OnExchange) -> Result<Running, StartError> {
    if !config.listen.ip().is_loopback() {
        return Err(StartError::NotLoopback(config.listen));
    }
    crate::target::check_base_url(&config.upstream).map_err(StartError::Upstream)?;
    crate::http::client::install_crypto_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .build()
        .map_err(|e| StartError::Client(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let state = Arc::new(State {
        config: Config {
            upstream: config.upstream.trim_end_matches('/').to_string(),
            ..config
        },
        client,
        seq: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
        on_exchange,
        closing: tokio::sync::watch::channel(false).0,
    });
    let app = axum::Router::new()
        .fallback(forward::handle)
        .with_state(state.clone());
    // Events go out as they come: no Nagle delay on small writes.
    use axum::serve::ListenerExt as _;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Running {
        base_url: format!("http://{addr}"),
        state,
        server,
    })
}
