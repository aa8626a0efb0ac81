//! `conform mock`: the reference server (ARCHITECTURE.md, `src/mock/`). A faithful,
//! deterministic Anthropic Messages endpoint with a catalogue of real-world faults, usable from
//! the command line or in-process ([`spawn`]) as the embedded default target and the oracle of
//! the project's tests.
//!
//! Modules: [`listen`] (accept loop and resource limits), [`server`] (router, auth, headers,
//! errors), [`validate`] (request validation), [`generate`] (deterministic answers),
//! [`tokenize`] (the tokenizer), [`cache`] (prompt accounting and caching), [`render`] (message
//! body and SSE events), [`stream`] (framing and timing), [`faults`] (the catalogue).

mod body;
pub(crate) mod cache;
mod context_edit;
pub(crate) mod faults;
pub(crate) mod generate;
pub(crate) mod hash;
pub(crate) mod limits;
pub(crate) mod listen;
pub(crate) mod render;
pub(crate) mod server;
pub(crate) mod stream;
mod timed;
pub(crate) mod tokenize;
pub(crate) mod validate;
mod window;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::sync::oneshot;

pub(crate) use faults::{Fault, FaultSet, UnknownFault, fault_catalogue};
pub(crate) use generate::{Behaviour, Skill};
pub(crate) use limits::Limits;

/// The model every mock serves.
pub(crate) const DEFAULT_MODEL: &str = "conform-mock";
/// The key the mock accepts unless told otherwise.
pub(crate) const DEFAULT_API_KEY: &str = "conform-test-key";
/// `--api-key any`: every key is accepted (a request without a key still gets 401).
pub(crate) const ANY_API_KEY: &str = "any";
/// Model names with this prefix are served besides the configured ones, so clients with a
/// built-in model list (Claude Code, the SDK examples) work unchanged.
pub(crate) const SERVED_PREFIX: &str = "claude-";

/// How a mock server behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockConfig {
    /// Served model ids (always includes `conform-mock`); any `claude-*` name is served too,
    /// others get 404.
    pub models: Vec<String>,
    /// The accepted key; [`ANY_API_KEY`] accepts every key.
    pub api_key: String,
    pub faults: Vec<Fault>,
    pub seed: u64,
    /// How the model behaves: deterministic (the default) or realistic (varies with `seed`).
    pub behaviour: Behaviour,
    /// Delay before the first byte of the response body: the first SSE frame of a stream
    /// (the headers go out at once), or the whole body of a non-streaming answer.
    pub ttft_ms: u64,
    /// Delay between stream frames (none by default: frames are flushed one by one).
    pub chunk_delay_ms: u64,
    /// Accept `video` content blocks (the seed provider's extension).
    pub video: bool,
    /// The realistic model's skill and speed knobs (`generate/skill.rs`); all absent by default.
    pub skill: Skill,
    /// Connection and request-body limits.
    pub limits: Limits,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            models: vec![DEFAULT_MODEL.to_string()],
            api_key: DEFAULT_API_KEY.to_string(),
            faults: Vec::new(),
            seed: 0,
            behaviour: Behaviour::Deterministic,
            ttft_ms: 0,
            chunk_delay_ms: 0,
            video: true,
            skill: Skill::default(),
            limits: Limits::default(),
        }
    }
}

impl MockConfig {
    /// Whether `model` is answered (rather than 404).
    pub(crate) fn serves(&self, model: &str) -> bool {
        self.models.iter().any(|m| m == model)
            || (model.len() > SERVED_PREFIX.len() && model.starts_with(SERVED_PREFIX))
    }

    /// What the startup line says about keys.
    pub(crate) fn key_note(&self) -> String {
        if self.api_key == ANY_API_KEY {
            "any API key is accepted".to_string()
        } else {
            format!("API key: {}", self.api_key)
        }
    }
}

/// A running server; shuts down when dropped or on [`MockHandle::shutdown`].
#[derive(Debug)]
pub struct MockHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MockHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the server task to end.
    pub(crate) async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn state(mut config: MockConfig) -> Arc<server::AppState> {
    if !config.models.iter().any(|m| m == DEFAULT_MODEL) {
        config.models.insert(0, DEFAULT_MODEL.to_string());
    }
    let faults = FaultSet::new(config.faults.iter().copied());
    let body_memory = tokio::sync::Semaphore::new(config.limits.body_memory);
    Arc::new(server::AppState {
        config,
        faults,
        cache: cache::CacheStore::default(),
        requests: AtomicU64::new(0),
        answers: AtomicU64::new(0),
        body_memory,
        cooldown: Default::default(),
    })
}

/// Starts a server on `addr` (port 0 picks a free one) inside the current tokio runtime.
pub async fn spawn(config: MockConfig, addr: SocketAddr) -> std::io::Result<MockHandle> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let limits = config.limits;
    let app = server::router(state(config));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(listen::serve(listener, app, limits, rx));
    Ok(MockHandle {
        addr,
        stop: Some(tx),
        task: Some(task),
    })
}

/// Arguments of `conform mock`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MockArgs {
    /// Address to bind (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,
    /// A model to serve besides `conform-mock` and any `claude-*` name (repeatable).
    #[arg(long = "model", value_name = "NAME")]
    pub models: Vec<String>,
    /// The API key to accept (x-api-key or Authorization: Bearer); `any` accepts every key.
    #[arg(long, default_value = DEFAULT_API_KEY)]
    pub api_key: String,
    /// A fault to reproduce (repeatable; see --list-faults).
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// Print the fault catalogue and exit.
    #[arg(long)]
    pub list_faults: bool,
    /// Seed of the generation (words and ids; with `--behaviour realistic` also the model's
    /// choices).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How the model behaves. `deterministic`: every choice follows from the request alone
    /// (the same block structure for every seed; probes build on it).
    /// `realistic`: like a sampled model, the seed varies answer and thinking lengths (so
    /// stop_reason end_turn or max_tokens), tool calls under tool_choice auto, counting, stop
    /// sequences written or not, JSON asked for in prose; the protocol stays conformant.
    #[arg(long, value_enum, default_value_t = Behaviour::Deterministic)]
    pub behaviour: Behaviour,
    /// Delay before the first byte of the response body, in milliseconds: the first SSE frame
    /// of a stream (status and headers are sent at once), or the whole body of a non-streaming
    /// answer.
    #[arg(long, default_value_t = 0)]
    pub ttft_ms: u64,
    /// Delay between stream events, in milliseconds (none by default).
    #[arg(long, default_value_t = 0)]
    pub chunk_delay_ms: u64,
    /// Open connections at most; more are closed right after accept.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Milliseconds to receive a request head, from its first byte.
    #[arg(long, default_value_t = Limits::default().header_read_timeout.as_millis() as u64)]
    pub header_timeout_ms: u64,
    /// Milliseconds a connection may wait for its next request (after accept or a response).
    #[arg(long, default_value_t = Limits::default().keep_alive_timeout.as_millis() as u64)]
    pub keep_alive_timeout_ms: u64,
    /// Reject `video` content blocks like Anthropic does.
    #[arg(long)]
    pub no_video: bool,
    /// With `--behaviour realistic`: the probability (0 to 1) that under tool_choice auto the
    /// model calls the tool the prompt names, or none when it names none (default: the
    /// realistic model's own habits, about 0.8).
    #[arg(long, value_name = "P")]
    pub tool_skill: Option<f64>,
    /// With `--behaviour realistic`: the probability (0 to 1) that a tool call's input breaks
    /// its schema (a required property left out, or a value of the wrong type).
    #[arg(long, value_name = "P")]
    pub arg_error_rate: Option<f64>,
    /// With `--behaviour realistic`: an extra, exponentially distributed time to first byte
    /// of this mean (milliseconds), drawn from the request and the seed.
    #[arg(long, value_name = "MS")]
    pub ttft_jitter_ms: Option<u64>,
}

impl MockArgs {
    /// The configuration these arguments describe.
    pub(crate) fn config(&self) -> Result<MockConfig, String> {
        let skill = Skill {
            tool_skill: self.tool_skill,
            arg_error_rate: self.arg_error_rate,
            ttft_jitter_ms: self.ttft_jitter_ms,
        }
        .checked()
        .map_err(|e| e.to_string())?;
        if skill.is_set() && self.behaviour != Behaviour::Realistic {
            return Err(
                "--tool-skill, --arg-error-rate and --ttft-jitter-ms need --behaviour realistic"
                    .to_string(),
            );
        }
        let faults = self
            .faults
            .iter()
            .map(|f| f.parse())
            .collect::<Result<Vec<Fault>, UnknownFault>>()
            .map_err(|e| e.to_string())?;
        let mut models = vec![DEFAULT_MODEL.to_string()];
        for m in &self.models {
            if !models.contains(m) {
                models.push(m.clone());
            }
        }
        Ok(MockConfig {
            models,
            api_key: self.api_key.clone(),
            faults,
            seed: self.seed,
            behaviour: self.behaviour,
            ttft_ms: self.ttft_ms,
            chunk_delay_ms: self.chunk_delay_ms,
            video: !self.no_video,
            skill,
            limits: Limits {
                max_connections: self.max_connections,
                header_read_timeout: std::time::Duration::from_millis(self.header_timeout_ms),
                keep_alive_timeout: std::time::Duration::from_millis(self.keep_alive_timeout_ms),
                ..Limits::default()
            },
        })
    }
}

/// Runs `conform mock` until interrupted; returns the exit code.
pub(crate) fn run_cli(args: MockArgs) -> i32 {
    if args.list_faults {
        let mut out = std::io::stdout().lock();
        for info in fault_catalogue() {
            let _ = writeln!(out, "{}", faults::list_line(info));
        }
        return crate::exit::OK;
    }
    let config = match args.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::exit::USAGE;
        }
    };
    let key_note = config.key_note();
    crate::exit::block_on(async move {
        let handle = match spawn(config, args.addr).await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.addr);
                return crate::exit::INFRA;
            }
        };
        {
            let mut out = std::io::stdout().lock();
            // The first line stays `listening on URL` (scripts and tests parse it); the
            // second says which key and models are accepted.
            let _ = writeln!(out, "listening on {}", handle.base_url());
            let _ = writeln!(
                out,
                "{key_note} (x-api-key or Authorization: Bearer); models: conform-mock, claude-*{}",
                args.models
                    .iter()
                    .map(|m| format!(", {m}"))
                    .collect::<String>()
            );
            if args.behaviour == Behaviour::Realistic {
                let _ = writeln!(out, "realistic model, seed {}", args.seed);
            }
            if !args.faults.is_empty() {
                let _ = writeln!(
                    out,
                    "faults: {} (`conform mock --list-faults` describes them)",
                    args.faults.join(", ")
                );
            }
            let _ = out.flush();
        }
        let _ = tokio::signal::ctrl_c().await;
        handle.shutdown().await;
        crate::exit::OK
    })
}
