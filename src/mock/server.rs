//! The HTTP side of `conform mock`: axum router, auth, headers, error bodies and the request
//! handlers. Handlers read the raw body (so size, JSON and validation errors all get
//! Anthropic-shaped answers), then call validation, accounting and generation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::MockConfig;
use super::body::{BLOCK, BodyBuffer};
use super::cache::{self, CacheStore, InputUsage};
use super::context_edit;
use super::faults::{self, Fault, FaultSet};
use super::generate::{generate_with, request_hash};
use super::hash::{Rng, mix64};
use super::render::{self, Answer};
use super::stream::{self, Timing};
use super::validate::{Endpoint, Rules, validate};
use super::window;

/// How much of an oversized body is read and thrown away before answering 413.
const MAX_DRAIN_BYTES: usize = 256 * 1024 * 1024;
/// Draining stops when the client sends nothing for this long.
const DRAIN_IDLE: Duration = Duration::from_millis(500);

/// Shared state of one server.
#[derive(Debug)]
pub(crate) struct AppState {
    pub config: MockConfig,
    pub faults: FaultSet,
    pub cache: CacheStore,
    pub requests: AtomicU64,
    /// Messages generated so far: every answer's id is unique.
    pub answers: AtomicU64,
    /// Bytes of request bodies that may be buffered at once (`Limits::body_memory`).
    pub body_memory: Semaphore,
    /// `cooldown-429`: when the 429 window began.
    pub cooldown: super::faults::request::Cooldown,
}

/// An error answer before it is shaped (and possibly mangled by faults).
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }
}

fn body_timeout() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "timeout_error",
        "The request body was not received in time.",
    )
}

fn overloaded() -> ApiError {
    ApiError::new(
        StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        "overloaded_error",
        "Overloaded",
    )
}

/// Per-request context: the id and the state.
struct Ctx {
    st: Arc<AppState>,
    request_id: String,
}

impl Ctx {
    fn new(st: Arc<AppState>) -> (Self, u64) {
        let n = st.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let mut rng = Rng::new(mix64(st.config.seed) ^ n);
        let request_id = format!("req_011C{}", rng.base62(20));
        (Ctx { st, request_id }, n)
    }

    fn has(&self, f: Fault) -> bool {
        self.st.faults.has(f)
    }

    /// Headers every response carries.
    fn decorate(&self, resp: &mut Response) {
        let h = resp.headers_mut();
        if !self.has(Fault::NoRequestId)
            && let Ok(v) = HeaderValue::from_str(&self.request_id)
        {
            h.insert("request-id", v);
        }
        h.insert(
            "anthropic-organization-id",
            HeaderValue::from_static("00000000-0000-4000-8000-c0f0a11c0de0"),
        );
        if self.has(Fault::RatelimitHeadersMissing) {
            return;
        }
        let reset = time::OffsetDateTime::now_utc() + time::Duration::seconds(60);
        let reset = reset
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        let used = self.st.requests.load(Ordering::Relaxed) % 4000;
        for (kind, limit) in [
            ("requests", 4000u64),
            ("tokens", 2_000_000),
            ("input-tokens", 1_600_000),
            ("output-tokens", 400_000),
        ] {
            let remaining = if kind == "requests" {
                limit - used
            } else {
                limit
            };
            for (suffix, value) in [
                ("limit", limit.to_string()),
                ("remaining", remaining.to_string()),
                ("reset", reset.clone()),
            ] {
                if let (Ok(name), Ok(v)) = (
                    header::HeaderName::from_bytes(
                        format!("anthropic-ratelimit-{kind}-{suffix}").as_bytes(),
                    ),
                    HeaderValue::from_str(&value),
                ) {
                    h.insert(name, v);
                }
            }
        }
    }

    fn json(&self, status: StatusCode, body: &Value) -> Response {
        let mut resp = (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        self.decorate(&mut resp);
        resp
    }

    fn error(&self, e: ApiError) -> Response {
        let mut status = e.status;
        if self.has(Fault::WrongErrorStatus) {
            status = match status.as_u16() {
                400 => StatusCode::UNPROCESSABLE_ENTITY,
                404 => StatusCode::INTERNAL_SERVER_ERROR,
                _ => status,
            };
        }
        if self.has(Fault::ErrorAs200) {
            status = StatusCode::OK;
        }
        let mut resp = if self.has(Fault::TextPlainErrors) {
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{}: {}", e.kind, e.message),
            )
                .into_response()
        } else if self.has(Fault::OpenaiErrors) {
            let body = json!({"error": {"message": e.message, "type": e.kind, "param": null, "code": null}});
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        } else {
            let mut body =
                json!({"type": "error", "error": {"type": e.kind, "message": e.message}});
            if !self.has(Fault::NoRequestId) {
                body["request_id"] = json!(self.request_id);
            }
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        };
        if e.status == StatusCode::TOO_MANY_REQUESTS && !self.has(Fault::Cooldown) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        self.decorate(&mut resp);
        resp
    }

    /// Rate limit and auth, common to every endpoint.
    fn gate(&self, n: u64, headers: &HeaderMap) -> Result<(), ApiError> {
        if self.has(Fault::Cooldown) && self.st.cooldown.throttles() {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "The deployment is cooling down. Please try again later.",
            ));
        }
        if self.has(Fault::RateLimit) && n % 2 == 1 {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "This request would exceed your account's rate limit. Please try again later.",
            ));
        }
        self.auth(headers)?;
        let version = headers
            .get("anthropic-version")
            .and_then(|v| v.to_str().ok());
        let Some(version) = version else {
            // As Anthropic: the header is required on every endpoint.
            return Err(ApiError::invalid("anthropic-version: header is required"));
        };
        if self.has(Fault::NewVersionRejected) && version == "2026-10-21" {
            return Err(ApiError::invalid(
                "anthropic-version: invalid version `2026-10-21`; use 2023-06-01",
            ));
        }
        Ok(())
    }

    /// The key, as `x-api-key` or `Authorization: Bearer`.
    fn auth(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if self.has(Fault::AuthIgnored) {
            return Ok(());
        }
        let key = &self.st.config.api_key;
        let any = key == super::ANY_API_KEY;
        let x = headers.get("x-api-key").and_then(|v| v.to_str().ok());
        // bearer-rejected: the authorization header is not read at all.
        let bearer = headers
            .get(header::AUTHORIZATION)
            .filter(|_| !self.has(Fault::BearerRejected))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        match (x, bearer) {
            (Some(k), _) if any || k == key => Ok(()),
            (_, Some(k)) if any || k.trim() == key => Ok(()),
            (None, None) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "x-api-key header is required",
            )),
            (Some(_), _) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "invalid x-api-key",
            )),
            (None, Some(_)) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "invalid bearer token",
            )),
        }
    }

    /// Reads and parses a JSON body within the limits of `listen::Limits`, enforced while
    /// reading (chunked uploads too): a body over `max_body_bytes` gets 413 after the rest is
    /// drained (up to [`MAX_DRAIN_BYTES`], stopping when the client goes quiet, so clients that
    /// are still sending read the answer instead of a broken pipe); a pause longer than
    /// `body_idle_timeout` gets 408; the buffer is charged to the server-wide body memory and a
    /// body that cannot get memory within `body_idle_timeout` gets 529.
    async fn read_json(&self, headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
        use futures_util::StreamExt;
        let limits = &self.st.config.limits;
        let max = limits.max_body_bytes;
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut oversized = declared.is_some_and(|n| n > max);
        let mut buf = BodyBuffer::default();
        // Memory charged for `buf` (its capacity), returned when this function ends.
        let mut charged: Option<tokio::sync::SemaphorePermit<'_>> = None;
        let mut seen = 0usize;
        let mut stream = body.into_data_stream();
        loop {
            let wait = if oversized {
                DRAIN_IDLE
            } else {
                limits.body_idle_timeout
            };
            let next = match tokio::time::timeout(wait, stream.next()).await {
                Ok(n) => n,
                Err(_) if oversized => break,
                Err(_) => return Err(body_timeout()),
            };
            let chunk = match next {
                None => break,
                Some(Err(_)) if oversized => break,
                Some(Err(e)) => {
                    return Err(ApiError::invalid(format!(
                        "could not read the request body: {e}"
                    )));
                }
                Some(Ok(chunk)) => chunk,
            };
            seen += chunk.len();
            if seen > MAX_DRAIN_BYTES {
                break;
            }
            if oversized {
                continue;
            }
            if seen > max {
                oversized = true;
                buf = BodyBuffer::default();
                charged = None;
                continue;
            }
            let needed = BodyBuffer::capacity_for(seen);
            if needed > buf.capacity() {
                // Charge the new blocks first; the first block of every body is free.
                let more =
                    needed.saturating_sub(BLOCK) - charged.as_ref().map_or(0, |p| p.num_permits());
                let more = u32::try_from(more).unwrap_or(u32::MAX);
                let permit = tokio::time::timeout(
                    limits.body_idle_timeout,
                    self.st.body_memory.acquire_many(more),
                )
                .await
                .map_err(|_| overloaded())?
                .map_err(|_| overloaded())?;
                match charged.as_mut() {
                    Some(p) => p.merge(permit),
                    None => charged = Some(permit),
                }
            }
            buf.extend(&chunk);
        }
        if oversized {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                "Request exceeds the maximum allowed number of bytes.",
            ));
        }
        let buf = buf.into_vec();
        let parsed = serde_json::from_slice(&buf)
            .map_err(|e| ApiError::invalid(format!("There was an error parsing the body: {e}")));
        drop(buf);
        drop(charged);
        parsed
    }

    fn model_for(&self, body: &Value) -> Result<String, ApiError> {
        let asked = body.get("model").and_then(Value::as_str).unwrap_or("");
        let known = self.st.config.serves(asked);
        let served = if known {
            asked.to_string()
        } else if self.has(Fault::UnknownModelRemap) {
            self.st
                .config
                .models
                .first()
                .cloned()
                .unwrap_or_else(|| "conform-mock".into())
        } else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found_error",
                format!("model: {asked}"),
            ));
        };
        Ok(if self.has(Fault::ModelRewrite) {
            format!("mock-provider/{served}")
        } else {
            served
        })
    }

    fn rules<'a>(&self, headers: &'a HeaderMap) -> Rules<'a> {
        Rules {
            version: headers
                .get("anthropic-version")
                .and_then(|v| v.to_str().ok()),
            video: self.st.config.video,
            seed: self.st.config.seed,
            check_signatures: !self.has(Fault::SignatureUnchecked) && !self.has(Fault::NoSignature),
            accept_unsigned: self.has(Fault::SignatureDroppedAfterToolTurn),
        }
    }
}

/// Builds the router.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/models", get(list_models))
        .route("/v1/models/{id}", get(get_model))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn not_found(State(st): State<Arc<AppState>>) -> Response {
    let (ctx, _) = Ctx::new(st);
    ctx.error(ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found_error",
        "Not Found",
    ))
}

async fn method_not_allowed(State(st): State<Arc<AppState>>) -> Response {
    let (ctx, _) = Ctx::new(st);
    ctx.error(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        "Method Not Allowed",
    ))
}

async fn messages(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let (ctx, n) = Ctx::new(st);
    match handle_messages(&ctx, n, &headers, body).await {
        Ok(r) => r,
        Err(e) => ctx.error(e),
    }
}

async fn handle_messages(
    ctx: &Ctx,
    n: u64,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    ctx.gate(n, headers)?;
    let body = ctx.read_json(headers, body).await?;
    if faults::request::fails_on_blocks(&body, &ctx.st.faults) {
        // As a crashed upstream behind a reverse proxy answers: no API headers, no JSON.
        return Ok((
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Internal Server Error",
        )
            .into_response());
    }
    validate(&body, Endpoint::Messages, &ctx.rules(headers)).map_err(ApiError::invalid)?;
    if let Some(why) = faults::request::rejects_thinking_history(&body, &ctx.st.faults) {
        return Err(ApiError::invalid(why));
    }
    if let Some(message) = faults::request::rejected_field(&body, &ctx.st.faults) {
        return Err(ApiError::invalid(message));
    }
    if let Some(message) = faults::request::rejects_search_result(&body, &ctx.st.faults) {
        return Err(ApiError::invalid(message));
    }
    let model = ctx.model_for(&body)?;
    // Context editing acts on the prompt before it is counted, cached and answered.
    let edits = if ctx.has(Fault::ContextEditsIgnored) {
        None
    } else {
        context_edit::apply(&body)
    };
    let prompt = edits.as_ref().map_or(&body, |(edited, _)| edited);
    // history-dropped: the earlier turns never reach the model (nor its count).
    let dropped = faults::request::without_history(prompt, &ctx.st.faults);
    let prompt = dropped.as_ref().unwrap_or(prompt);
    let mut segments = cache::segments(prompt);
    let input: u64 = segments.iter().map(|s| s.tokens).sum();
    if let Some(message) = window::too_long(input) {
        return Err(ApiError::invalid(message));
    }
    let (prompt, window_limited) = window::fit(prompt, input);
    let prompt = prompt.as_ref();
    if ctx.has(Fault::CacheTtlIgnored) {
        cache::one_duration(&mut segments);
    }
    let usage = if ctx.has(Fault::CacheIgnored) {
        InputUsage::uncached(&segments)
    } else {
        ctx.st.cache.account(&segments, Instant::now())
    };
    let seed = ctx.st.config.seed;
    let asked = faults::request::for_generation(prompt, &ctx.st.faults);
    // effort-ignored: the words too are those of the request answered (every level alike).
    let hash = request_hash(if ctx.has(Fault::EffortIgnored) {
        &asked
    } else {
        &body
    });
    let mut generated = generate_with(
        &asked,
        hash,
        seed,
        ctx.st.config.behaviour,
        &ctx.st.config.skill,
    );
    // Every response has an id of its own, as on Anthropic (the content stays a function of
    // the request, so both modes and repeated requests still agree on it).
    let n = ctx.st.answers.fetch_add(1, Ordering::Relaxed);
    generated.id = format!(
        "msg_01{}",
        super::hash::Rng::new(hash ^ super::hash::mix64(n.wrapping_add(seed))).base62(22)
    );
    window::mark(&mut generated, window_limited);
    generated.context_management = edits
        .as_ref()
        .map(|(_, applied)| json!({"applied_edits": applied}));
    faults::answer::apply(&mut generated, &body, seed, &ctx.st.faults);
    let answer = Answer {
        generated,
        model,
        usage,
    };
    let timing = Timing {
        ttft: Duration::from_millis(
            ctx.st.config.ttft_ms + ctx.st.config.skill.ttft_jitter(hash, seed),
        ),
        gap: Duration::from_millis(ctx.st.config.chunk_delay_ms),
        lead: 0,
    };
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        let mut events = render::events(&answer);
        faults::events::apply(&mut events, &answer, &ctx.st.faults);
        let frames = stream::frames(&events, &ctx.st.faults);
        let mut timing = timing;
        if let Some(tps) = ctx.st.config.skill.output_tps_at(hash, seed) {
            // The output tokens spread over the frames after the first content delta; the
            // frames before it (message_start, content_block_start) go out with the first.
            let first_delta = frames
                .iter()
                .position(|f| f.windows(19).any(|w| w == b"content_block_delta"))
                .unwrap_or(0);
            let paced = frames.len().saturating_sub(first_delta + 1).max(1);
            let secs = answer.generated.output_tokens as f64 / tps;
            timing.gap = Duration::from_secs_f64(secs / paced as f64);
            timing.lead = first_delta;
        }
        let mut resp = Response::new(stream::body(frames, timing, &ctx.st.faults));
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        ctx.decorate(&mut resp);
        Ok(resp)
    } else {
        let mut message = render::message_json(&answer);
        faults::events::apply_message(&mut message, &answer, &ctx.st.faults);
        if !timing.ttft.is_zero() {
            tokio::time::sleep(timing.ttft).await;
        }
        Ok(ctx.json(StatusCode::OK, &message))
    }
}

async fn count_tokens(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let (ctx, n) = Ctx::new(st);
    if ctx.has(Fault::CountTokensMissing) {
        return ctx.json(StatusCode::NOT_FOUND, &json!({"detail": "Not Found"}));
    }
    let result = async {
        ctx.gate(n, &headers)?;
        let body = ctx.read_json(&headers, body).await?;
        validate(&body, Endpoint::CountTokens, &ctx.rules(&headers)).map_err(ApiError::invalid)?;
        ctx.model_for(&body)?;
        let total: u64 = cache::segments(&body).iter().map(|s| s.tokens).sum();
        Ok::<_, ApiError>(ctx.json(StatusCode::OK, &json!({"input_tokens": total})))
    }
    .await;
    result.unwrap_or_else(|e| ctx.error(e))
}

fn model_info(id: &str) -> Value {
    json!({"type": "model", "id": id, "display_name": id, "created_at": "2026-01-01T00:00:00Z"})
}

async fn list_models(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let (ctx, n) = Ctx::new(st);
    if ctx.has(Fault::ModelsMissing) {
        return ctx.json(StatusCode::NOT_FOUND, &json!({"detail": "Not Found"}));
    }
    if let Err(e) = ctx.gate(n, &headers) {
        return ctx.error(e);
    }
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 20,
        Some(Ok(l)) if (1..=1000).contains(&l) => l,
        Some(_) => {
            return ctx.error(ApiError::invalid(
                "limit: Input should be an integer between 1 and 1000",
            ));
        }
    };
    let models = &ctx.st.config.models;
    let mut start = 0;
    let mut end = models.len();
    if let Some(after) = q.get("after_id") {
        start = models
            .iter()
            .position(|m| m == after)
            .map(|p| p + 1)
            .unwrap_or(models.len());
    }
    if let Some(before) = q.get("before_id") {
        end = models.iter().position(|m| m == before).unwrap_or(0);
    }
    let slice: Vec<&String> = models
        .get(start..end.max(start))
        .unwrap_or(&[])
        .iter()
        .take(limit)
        .collect();
    let has_more = start + slice.len() < end;
    let body = json!({
        "data": slice.iter().map(|m| model_info(m)).collect::<Vec<_>>(),
        "has_more": has_more,
        "first_id": slice.first(),
        "last_id": slice.last(),
    });
    ctx.json(StatusCode::OK, &body)
}

async fn get_model(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (ctx, n) = Ctx::new(st);
    if ctx.has(Fault::ModelsMissing) {
        return ctx.json(StatusCode::NOT_FOUND, &json!({"detail": "Not Found"}));
    }
    if let Err(e) = ctx.gate(n, &headers) {
        return ctx.error(e);
    }
    if ctx.st.config.serves(&id) {
        ctx.json(StatusCode::OK, &model_info(&id))
    } else {
        ctx.error(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found_error",
            format!("model: {id}"),
        ))
    }
}
