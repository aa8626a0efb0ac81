//! Sending a comparison's tasks: every endpoint (and the reference's repeat) gets each task,
//! through the runner's HTTP client (its rate limit, backpressure and retries), judged live by
//! the one judge and recorded, redacted, in `OUT/exchanges/ENDPOINT.ndjson`.
//!
//! An exchange already in that file (same label, same request body) is replayed instead of
//! sent, so an interrupted or budget-stopped comparison resumes where it stopped; with
//! `--replay DIR` nothing is sent at all (rescoring a recording with this conform). The request
//! and token budgets count only exchanges actually sent.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::{Value, json};

use super::observe::Obs;
use super::workload::{Family, Task};
use crate::exchange::Collector;
use crate::exchange::read::{Entry, Index};
use crate::exchange::write::Recorder;
use crate::http::client::{Client, ExecPolicy, Request};
use crate::protocol::anthropic::judge::{Judge, Options};
use crate::secrets::Redactor;
use crate::target::Target;

/// The most turns of an agent loop.
pub(crate) const LOOP_TURNS: u32 = 3;

/// What a tool returns in an agent loop.
const TOOL_RESULT: &str = "Light rain all day, 14°C, wind 20 km/h.";

/// One endpoint of a comparison, with its recording.
pub(crate) struct Endpoint {
    pub name: String,
    pub target: Target,
    /// How many times each task is sent (`--repeats`; the reference at least twice, for its
    /// own spread).
    pub repeats: u32,
    /// The rate limit kept to, in requests per minute.
    pub rpm: Option<u32>,
    client: Option<Client>,
    policy: ExecPolicy,
    recorded: HashMap<String, Entry>,
    index: Option<Index>,
    file: Option<Mutex<std::fs::File>>,
    redactor: Redactor,
}

/// The comparison could not start.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot build the http client for `{target}`: {message}")]
    Client { target: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("--replay {dir}: no recorded exchanges for `{target}` ({file})")]
    Missing {
        dir: String,
        target: String,
        file: String,
    },
    #[error("{path}: {message}")]
    Read { path: String, message: String },
}

/// Where `name`'s exchanges are recorded under `dir`.
pub(crate) fn exchange_file(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join("exchanges")
        .join(format!("{}.ndjson", crate::fsutil::safe_name(name, "._-")))
}

impl Endpoint {
    /// An endpoint sending live and recording into `out` (reusing what `out` already holds),
    /// or, with `replay`, one reading `replay`'s recording only.
    pub(crate) fn open(
        name: &str,
        target: Target,
        repeats: u32,
        rpm: Option<u32>,
        out: &Path,
        replay: Option<&Path>,
        redactor: Redactor,
    ) -> Result<Endpoint, ExecError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| ExecError::Io { path, source }
        };
        let (client, file, source) = match replay {
            Some(dir) => {
                let f = exchange_file(dir, name);
                if !f.is_file() {
                    return Err(ExecError::Missing {
                        dir: dir.display().to_string(),
                        target: name.to_string(),
                        file: f.display().to_string(),
                    });
                }
                (None, None, f)
            }
            None => {
                let client =
                    Client::for_base_url(&target.base_url, &target.timeouts).map_err(|e| {
                        ExecError::Client {
                            target: name.to_string(),
                            message: e.to_string(),
                        }
                    })?;
                let f = exchange_file(out, name);
                if let Some(parent) = f.parent() {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                }
                let handle = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&f)
                    .map_err(io(&f))?;
                (Some(client), Some(Mutex::new(handle)), f)
            }
        };
        let index = if source.is_file() && std::fs::metadata(&source).is_ok_and(|m| m.len() > 0) {
            Some(Index::build(&source).map_err(|e| ExecError::Read {
                path: source.display().to_string(),
                message: e.to_string(),
            })?)
        } else {
            None
        };
        let recorded = index
            .iter()
            .flat_map(|i| i.entries.iter())
            .map(|e| (e.label.clone(), e.clone()))
            .collect();
        let mut policy = target.exec_policy();
        if let Some(n) = rpm {
            // `--rpm` replaces the target's own limit (conform.toml `rpm`).
            policy.limiter = crate::http::client::RateLimiter::per_minute(n);
        }
        let rpm = rpm.or(target.rpm);
        Ok(Endpoint {
            name: name.to_string(),
            target,
            repeats,
            rpm,
            client,
            policy,
            recorded,
            index,
            file,
            redactor,
        })
    }
}

/// The comparison's shared limits and counters.
pub(crate) struct Budget {
    pub max_requests: Option<u64>,
    pub max_tokens: Option<u64>,
    pub sent: AtomicU64,
    pub tokens: AtomicU64,
    pub replayed: AtomicU64,
    /// Set when a budget stopped a request.
    pub exhausted: AtomicBool,
}

impl Budget {
    pub(crate) fn new(max_requests: Option<u64>, max_tokens: Option<u64>) -> Budget {
        Budget {
            max_requests,
            max_tokens,
            sent: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            replayed: AtomicU64::new(0),
            exhausted: AtomicBool::new(false),
        }
    }

    /// Reserve one request; false when a budget is spent.
    fn take(&self) -> bool {
        let over_tokens = self
            .max_tokens
            .is_some_and(|m| self.tokens.load(Ordering::SeqCst) >= m);
        let granted = !over_tokens
            && match self.max_requests {
                None => {
                    self.sent.fetch_add(1, Ordering::SeqCst);
                    true
                }
                Some(m) => self
                    .sent
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        (n < m).then_some(n + 1)
                    })
                    .is_ok(),
            };
        if !granted {
            self.exhausted.store(true, Ordering::SeqCst);
        }
        granted
    }
}

/// Why an exchange did not happen.
enum Skipped {
    Budget,
    NotRecorded,
}

/// Send (or replay) one exchange; the judge's observation.
async fn exchange(
    ep: &Endpoint,
    budget: &Budget,
    label: &str,
    path: &str,
    body: &Value,
    obs: Obs,
) -> Result<Obs, Skipped> {
    let opts = Options {
        timing_known: true,
        ..Options::default()
    };
    let mut judge = Judge::new(opts);
    let text = body.to_string();
    let same_body = |e: &Entry| {
        e.request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .as_ref()
            == Some(body)
    };
    if let (Some(entry), Some(index)) = (ep.recorded.get(label), &ep.index)
        && same_body(entry)
        && index
            .replay(
                entry,
                &mut judge,
                crate::exchange::read::max_line_for(crate::DEFAULT_MAX_BODY),
            )
            .is_ok()
    {
        budget.replayed.fetch_add(1, Ordering::SeqCst);
        return judge
            .take()
            .map(|j| obs.judged(&j))
            .ok_or(Skipped::NotRecorded);
    }
    let Some(client) = &ep.client else {
        return Err(Skipped::NotRecorded);
    };
    if !budget.take() {
        return Err(Skipped::Budget);
    }
    let req = Request::post(ep.target.url(path), ep.target.default_headers(), text);
    let mut pair = (judge, Collector::default());
    client.execute(&req, &ep.policy, label, &mut pair).await;
    let (mut judge, collector) = pair;
    if let Some(file) = &ep.file {
        let mut rec = Recorder::to_writer(Vec::new(), &ep.redactor);
        for x in collector.into_exchanges() {
            x.replay_into(&mut rec);
        }
        if let Ok(bytes) = rec.finish() {
            let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
            // A failed append loses only the resumability of this one exchange.
            let _ = f.write_all(&bytes);
        }
    }
    let j = judge.take().ok_or(Skipped::NotRecorded)?;
    let o = obs.judged(&j);
    let used = o.total_input().unwrap_or(0) + o.output_tokens.unwrap_or(0);
    budget.tokens.fetch_add(used, Ordering::SeqCst);
    Ok(o)
}

/// Run one task on one endpoint for one repeat: its turns, in order (`None` when a budget or
/// a gap in the recording left it incomplete).
pub(crate) async fn run_task(
    ep: &Endpoint,
    budget: &Budget,
    task: &Task,
    repeat: u32,
    seed: u64,
) -> Option<Vec<Obs>> {
    let model = ep.target.model.clone();
    let mut body = task.request(&model, repeat, seed);
    let mut turns = Vec::new();
    for turn in 0..LOOP_TURNS {
        let label = format!("compare {} r{repeat} t{turn}", task.id);
        let obs = Obs::new(&ep.name, &task.id, task.family, repeat, turn);
        let mut o = exchange(ep, budget, &label, "/v1/messages", &body, obs)
            .await
            .ok()?;
        if turn == 0 && matches!(task.family, Family::Ladder1k | Family::Ladder10k) {
            let count = json!({"model": model, "messages": body["messages"]});
            let label = format!("compare {} r{repeat} count", task.id);
            let c = Obs::new(&ep.name, &task.id, task.family, repeat, turn);
            let c = exchange(ep, budget, &label, "/v1/messages/count_tokens", &count, c)
                .await
                .ok()?;
            o.count_tokens = c.input_tokens;
        }
        let next = next_turn(task.family, &o);
        // A cache task sends the identical request once more.
        let again = task.family == Family::Cache && turn == 0;
        turns.push(o);
        if again {
            continue;
        }
        let Some(content) = next else { break };
        continue_loop(&mut body, &content);
    }
    Some(turns)
}

/// The content an agent loop passes back after this answer (a clean `tool_use` answer of a
/// loop task), or `None` when the loop ends.
pub(crate) fn next_turn(family: Family, o: &Obs) -> Option<Value> {
    (family == Family::Loop && o.reliable() && o.stop_reason.as_deref() == Some("tool_use"))
        .then(|| o.content.clone())
        .flatten()
}

/// Append the assistant's `content` and a tool result for each of its calls to `body`.
pub(crate) fn continue_loop(body: &mut Value, content: &Value) {
    let results: Vec<Value> = content
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "tool_use")
        .map(|b| json!({"type": "tool_result", "tool_use_id": b["id"], "content": TOOL_RESULT}))
        .collect();
    if let Some(messages) = body["messages"].as_array_mut() {
        messages.push(json!({"role": "assistant", "content": content}));
        messages.push(json!({"role": "user", "content": results}));
    }
}

/// Observations by `(endpoint, repeat)`: each task's id with its turns, in task order.
pub(crate) type Observed = HashMap<(String, u32), Vec<(String, Vec<Obs>)>>;

/// Every task on every endpoint and repeat, `jobs` tasks at a time; the observations by
/// `(endpoint, repeat)` and task id, in task order.
pub(crate) async fn run_all(
    endpoints: &[Arc<Endpoint>],
    tasks: &[Task],
    budget: &Budget,
    seed: u64,
    jobs: usize,
) -> Observed {
    use futures_util::stream::{self, StreamExt};
    let work: Vec<(usize, Arc<Endpoint>, u32)> = (0..tasks.len())
        .flat_map(|t| {
            endpoints
                .iter()
                .flat_map(move |e| (0..e.repeats).map(move |r| (t, e.clone(), r)))
        })
        .collect();
    let done: Vec<(usize, String, u32, Option<Vec<Obs>>)> = stream::iter(work)
        .map(|(t, ep, r)| async move {
            let turns = run_task(&ep, budget, &tasks[t], r, seed).await;
            (t, ep.name.clone(), r, turns)
        })
        .buffer_unordered(jobs.max(1))
        .collect()
        .await;
    let mut sorted = done;
    sorted.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
    let mut out = Observed::new();
    for (t, name, r, turns) in sorted {
        if let Some(turns) = turns {
            out.entry((name, r))
                .or_default()
                .push((tasks[t].id.clone(), turns));
        }
    }
    out
}
