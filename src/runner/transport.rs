//! Where a case's exchanges come from: the network (the HTTP client) or a previous run's
//! recorded exchanges (`conform run --replay DIR`). Both deliver records to the same observer
//! (judge + recorder), so a replay judges exactly like the live run it recorded.

use crate::exchange::read::{Entry, Index};
use crate::exchange::{End, FailureKind, Observer, TransportFailure};
use crate::http::client::{Client, ExecPolicy, Request};
use crate::secrets::Redactor;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The source of a target's exchanges.
#[derive(Clone)]
pub enum Transport {
    Http {
        client: Arc<Client>,
        max_body: usize,
    },
    Replay(Arc<Replayer>),
}

impl Transport {
    /// The body limit of live exchanges.
    pub(crate) fn max_body(&self) -> usize {
        match self {
            Transport::Http { max_body, .. } => *max_body,
            Transport::Replay(r) => r.max_body,
        }
    }

    /// Execute (or replay) one request, feeding `obs`.
    pub(crate) async fn execute(
        &self,
        req: &Request,
        policy: &ExecPolicy,
        label: &str,
        obs: &mut impl Observer,
    ) {
        match self {
            Transport::Http { client, .. } => client.execute(req, policy, label, obs).await,
            Transport::Replay(r) => r.replay(req, label, obs),
        }
    }
}

/// A previous run's exchanges of one target, handed out by label in recorded order.
pub struct Replayer {
    file: PathBuf,
    index: Index,
    queue: Mutex<HashMap<String, VecDeque<Entry>>>,
    redactor: Redactor,
    /// `--max-body-mb`, honoured as the live client does: a recorded body beyond it is cut and
    /// the exchange ends as `error` (and a record line too long to hold a body within it is
    /// refused before it is parsed).
    max_body: usize,
}

/// The replay directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("--replay {dir}: no recorded exchanges for target `{target}` (expected {file})")]
    Missing {
        dir: String,
        target: String,
        file: String,
    },
    #[error("--replay {file}: {source}")]
    Read {
        file: String,
        source: crate::exchange::ReadError,
    },
}

impl Replayer {
    /// The recorded exchanges of `target` in `dir` (a report dir or its `exchanges/`).
    pub(crate) fn open(
        dir: &Path,
        target: &str,
        redactor: Redactor,
        max_body: usize,
    ) -> Result<Replayer, ReplayError> {
        let name = format!("{}.ndjson", crate::fsutil::safe_name(target, "._-"));
        let file = [dir.join(&name), dir.join("exchanges").join(&name)]
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| ReplayError::Missing {
                dir: dir.display().to_string(),
                target: target.to_string(),
                file: dir.join(&name).display().to_string(),
            })?;
        let index = Index::build(&file).map_err(|source| ReplayError::Read {
            file: file.display().to_string(),
            source,
        })?;
        let mut queue: HashMap<String, VecDeque<Entry>> = HashMap::new();
        for e in &index.entries {
            queue
                .entry(e.label.clone())
                .or_default()
                .push_back(e.clone());
        }
        Ok(Replayer {
            file,
            index,
            queue: Mutex::new(queue),
            redactor,
            max_body,
        })
    }

    /// Replay the next recorded exchange labelled `label`, after checking that it answers
    /// this request; a missing or mismatching record ends the exchange with a clear error.
    fn replay(&self, req: &Request, label: &str, obs: &mut impl Observer) {
        let entry = self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(label)
            .and_then(VecDeque::pop_front);
        let problem = match &entry {
            None => Some(format!(
                "replay: no recorded exchange `{label}` (left) in {}",
                self.file.display()
            )),
            Some(e) => self.mismatch(req, e),
        };
        match (entry, problem) {
            (Some(e), None) => {
                let mut cut = crate::exchange::Capped::new(self.max_body, obs);
                let replayed = self.index.replay(
                    &e,
                    &mut cut,
                    crate::exchange::read::max_line_for(self.max_body),
                );
                if let Err(err) = replayed {
                    cut.end(&End {
                        total_ms: 0.0,
                        transport: Some(TransportFailure {
                            kind: FailureKind::Replay,
                            message: format!("replay: {}: {err}", self.file.display()),
                        }),
                    });
                }
            }
            (_, problem) => {
                obs.begin(label, &recorded(req, &self.redactor));
                obs.end(&End {
                    total_ms: 0.0,
                    transport: Some(TransportFailure {
                        kind: FailureKind::Replay,
                        message: problem.unwrap_or_default(),
                    }),
                });
            }
        }
    }

    /// Why the recorded request does not match this one (method, path and query, body).
    fn mismatch(&self, req: &Request, e: &Entry) -> Option<String> {
        let now = recorded(req, &self.redactor);
        let then = &e.request;
        let body = |b: &Option<String>| {
            b.as_deref().map(|s| {
                serde_json::from_str::<serde_json::Value>(s)
                    .map(|v| v.to_string())
                    .unwrap_or_else(|_| s.to_string())
            })
        };
        let same = now.method == then.method
            && now.path() == then.path()
            && body(&now.body) == body(&then.body);
        (!same).then(|| {
            format!(
                "replay: the recorded exchange `{}` ({}, line {}) answers another request: recorded {} {} {}; this step sends {} {} {}",
                e.label,
                self.file.display(),
                e.line() + 1,
                then.method,
                then.path(),
                short(body(&then.body)),
                now.method,
                now.path(),
                short(body(&now.body)),
            )
        })
    }
}

/// The request as a record would hold it (redacted, as recorded files are).
fn recorded(req: &Request, redactor: &Redactor) -> crate::exchange::RecordedRequest {
    crate::exchange::RecordedRequest {
        method: req.method.clone(),
        url: redactor.redact(&req.url),
        headers: redactor.redact_headers(&req.headers),
        body: req.body.as_deref().map(|b| redactor.redact(b)),
    }
}

fn short(body: Option<String>) -> String {
    let b = body.unwrap_or_else(|| "(no body)".into());
    crate::text::truncate(&b, 160)
}
