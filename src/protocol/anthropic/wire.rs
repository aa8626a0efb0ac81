//! The protocol seam: questions the generic engine (scenario rendering, runner, target, judge,
//! offline check, mock) asks about the Anthropic Messages API on the wire, each answered once,
//! here: which endpoint a request goes to ([`Endpoint`]: whether it streams, the shapes of its
//! bodies), how a key travels ([`AuthStyle`]), which statuses are about the infrastructure
//! rather than the feature ([`InfrastructureStatus`]), what a rejection looks like
//! ([`is_rejection`]), which structured-output format a request asks for ([`output_format`]),
//! how a request body is linted, and what a captured file's name says its body is.

use super::schema::{self, Shape};
use crate::check::Finding;
use crate::http::client::retry::is_retryable_status;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Headers that carry a credential.
pub(crate) const CREDENTIAL_HEADERS: [&str; 2] = [
    AuthStyle::XApiKey.header_name(),
    AuthStyle::Bearer.header_name(),
];

// Spelled `x-api-key` / `bearer` in `conform.toml`, on the command line and in a scenario
// step's `auth`; the doc line below is the description `conform schema config` prints.
/// How the key is sent.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
pub enum AuthStyle {
    /// `x-api-key: KEY` (the style of the SDKs that send `anthropic-version: 2023-06-01`).
    #[serde(rename = "x-api-key")]
    XApiKey,
    /// `authorization: Bearer KEY`: what today's SDKs (Python ≥ 2.0, TypeScript ≥ 1.0) send,
    /// the API key included; the default.
    #[default]
    #[serde(rename = "bearer")]
    Bearer,
}

impl AuthStyle {
    /// The other style.
    pub(crate) const fn other(self) -> AuthStyle {
        match self {
            AuthStyle::XApiKey => AuthStyle::Bearer,
            AuthStyle::Bearer => AuthStyle::XApiKey,
        }
    }
}

/// The `anthropic-version` header's name.
pub(crate) const VERSION_HEADER: &str = "anthropic-version";

// Spelled `2023-06-01` / `2026-10-21` in `conform.toml`, profiles, on the command line and in
// a scenario step's `api_version`.
/// An API version (the `anthropic-version` header).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
pub enum ApiVersion {
    /// `2023-06-01`: named SSE events, incremental deltas; `x-api-key` SDKs (Python ≤ 0.x,
    /// TypeScript ≤ 0.x).
    #[serde(rename = "2023-06-01")]
    V2023_06_01,
    /// `2026-10-21`: what today's SDKs send; sampling parameters removed, `document` blocks
    /// in assistant turns and citations on user text rejected (docs/protocol.md §8).
    #[default]
    #[serde(rename = "2026-10-21")]
    V2026_10_21,
}

impl ApiVersion {
    /// Every version conform runs, oldest first.
    pub(crate) const ALL: [ApiVersion; 2] = [ApiVersion::V2023_06_01, ApiVersion::V2026_10_21];

    /// The header value.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2023_06_01 => "2023-06-01",
            ApiVersion::V2026_10_21 => "2026-10-21",
        }
    }

    /// The version a header value names, if conform knows it.
    pub(crate) fn of_header(value: &str) -> Option<ApiVersion> {
        ApiVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == value.trim())
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ApiVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiVersion::of_header(s).ok_or_else(|| {
            format!("unknown API version {s:?} (expected \"2023-06-01\" or \"2026-10-21\")")
        })
    }
}

impl AuthStyle {
    /// The name of the header that carries the key in this style.
    pub(crate) const fn header_name(self) -> &'static str {
        match self {
            AuthStyle::XApiKey => "x-api-key",
            AuthStyle::Bearer => "authorization",
        }
    }

    /// The header that carries `key` in this style.
    pub(crate) fn header(self, key: &str) -> (String, String) {
        let value = match self {
            AuthStyle::XApiKey => key.to_string(),
            AuthStyle::Bearer => format!("Bearer {key}"),
        };
        (self.header_name().to_string(), value)
    }
}

impl std::str::FromStr for AuthStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "x-api-key" => Ok(AuthStyle::XApiKey),
            "bearer" => Ok(AuthStyle::Bearer),
            other => Err(format!(
                "unknown auth style {other:?} (expected \"x-api-key\" or \"bearer\")"
            )),
        }
    }
}

/// The endpoints of the API that conform knows, told apart by a request's method and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST /v1/messages`, the only endpoint that streams.
    Messages,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
    /// `GET /v1/models`.
    Models,
    /// `GET /v1/models/{id}`.
    Model,
}

impl Endpoint {
    /// The endpoint a request goes to. The path is compared without its query, fragment and
    /// trailing slash, by its end (a base URL may add a prefix such as `/apps/anthropic`); the
    /// API's paths all start with `/v1`. The models endpoints answer `GET` only; the others are
    /// known by their path whatever the method.
    pub(crate) fn of(method: &str, path: &str) -> Option<Endpoint> {
        let path = path
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .trim_end_matches('/');
        let get = method.eq_ignore_ascii_case("GET");
        if path.ends_with("/v1/messages") {
            Some(Endpoint::Messages)
        } else if path.ends_with("/v1/messages/count_tokens") {
            Some(Endpoint::CountTokens)
        } else if get && path.ends_with("/v1/models") {
            Some(Endpoint::Models)
        } else if get && path.contains("/v1/models/") {
            Some(Endpoint::Model)
        } else {
            None
        }
    }

    /// Whether a request to this endpoint can ask for a stream (`"stream": true`).
    pub(crate) fn streams(self) -> bool {
        self == Endpoint::Messages
    }

    /// The shape of a request body this endpoint takes (none for the `GET` endpoints).
    pub(crate) fn request_shape(self) -> Option<Shape> {
        match self {
            Endpoint::Messages => Some(Shape::Request),
            Endpoint::CountTokens => Some(Shape::CountTokensRequest),
            Endpoint::Models | Endpoint::Model => None,
        }
    }

    /// The shape of this endpoint's successful non-streamed answer.
    pub(crate) fn response_shape(self) -> Shape {
        match self {
            Endpoint::Messages => Shape::Message,
            Endpoint::CountTokens => Shape::CountTokens,
            Endpoint::Models => Shape::ModelList,
            Endpoint::Model => Shape::Model,
        }
    }
}

/// Request-body validation for `conform lint`: a scenario's body must be a valid request for
/// its path (the protocol's request schema), except for `video` blocks, the seed provider's
/// extension that scenarios send on purpose.
pub(crate) fn lint_request_body(path: &str, body: &Value) -> Vec<Finding> {
    // A step with a body sends it with POST, the method of every endpoint that takes one.
    let Some(shape) = Endpoint::of("POST", path).and_then(Endpoint::request_shape) else {
        return Vec::new();
    };
    let mut body = body.clone();
    if let Some(messages) = body.get_mut("messages").and_then(Value::as_array_mut) {
        for m in messages {
            if let Some(blocks) = m.get_mut("content").and_then(Value::as_array_mut) {
                blocks.retain(|b| b.get("type").and_then(Value::as_str) != Some("video"));
            }
        }
    }
    schema::validate(shape, &body)
}

/// An answer whose status says nothing about the feature the request asked for: the
/// credentials were rejected, or the endpoint was still rate limited, failed or overloaded
/// when the retries ran out. Such a step is `error`, not a conformance statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InfrastructureStatus {
    /// 401 or 403.
    CredentialsRejected { status: u16 },
    /// 429, after `attempts` attempts.
    RateLimited { attempts: u32 },
    /// A retried status other than 429 (408, 409, 5xx), after `attempts` attempts.
    Failed { status: u16, attempts: u32 },
}

impl InfrastructureStatus {
    /// What an answer with `status` after `attempts` attempts says about the infrastructure,
    /// when it is about the infrastructure. The statuses a client retries
    /// ([`is_retryable_status`]) are about the infrastructure once the retries ran out.
    pub(crate) fn of(status: u16, attempts: u32) -> Option<InfrastructureStatus> {
        match status {
            401 | 403 => Some(InfrastructureStatus::CredentialsRejected { status }),
            429 => Some(InfrastructureStatus::RateLimited { attempts }),
            _ if is_retryable_status(status) => {
                Some(InfrastructureStatus::Failed { status, attempts })
            }
            _ => None,
        }
    }

    /// The status of a server error that may be the request's own rather than the endpoint's
    /// state: a 5xx repeated on every retry (at least two attempts), except 529
    /// (`overloaded_error`, which says the endpoint lacks capacity whatever the request).
    /// Whether it is the request's own depends on the target's other answers, which the
    /// runner knows.
    pub(crate) fn server_error(self) -> Option<u16> {
        match self {
            InfrastructureStatus::Failed { status, attempts }
                if (500..=599).contains(&status) && status != 529 && attempts > 1 =>
            {
                Some(status)
            }
            _ => None,
        }
    }
}

impl fmt::Display for InfrastructureStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tries = |attempts: u32| {
            if attempts > 1 {
                format!(" after {attempts} attempts")
            } else {
                String::new()
            }
        };
        match *self {
            InfrastructureStatus::CredentialsRejected { status } => write!(
                f,
                "HTTP {status}: the endpoint rejected the credentials (check the key and the auth style)"
            ),
            InfrastructureStatus::RateLimited { attempts } => write!(
                f,
                "HTTP 429{}: still rate limited when the retries ran out",
                tries(attempts)
            ),
            InfrastructureStatus::Failed { status, attempts } => write!(
                f,
                "HTTP {status}{}: the endpoint failed or was overloaded when the retries ran out",
                tries(attempts)
            ),
        }
    }
}

/// The structured-output format a request asks for: `output_config.format`, else the older
/// `output_format` (deprecated, still sent by clients). A `null` in either place is the same as
/// leaving it out, as in the SDKs (they move a non-null `output_format` into a null
/// `output_config.format`): it asks for no structured output by itself.
pub(crate) fn output_format(request: &Value) -> Option<&Value> {
    request
        .pointer("/output_config/format")
        .filter(|f| !f.is_null())
        .or_else(|| request.get("output_format").filter(|f| !f.is_null()))
}

/// Whether an answer is a *rejection* in the sense of `unsupported`: a 4xx answer carrying a
/// well-formed Anthropic error body (`{"type":"error","error":{"type":..,"message":..}}`).
/// A status about the infrastructure ([`InfrastructureStatus`]: 401, 403, 408, 409, 429) says
/// nothing about the feature and is not a rejection. The caller still passes `rejected` only
/// for steps the scenario expected to succeed.
pub(crate) fn is_rejection(status: u16, body: Option<&Value>) -> bool {
    if !(400..500).contains(&status) || InfrastructureStatus::of(status, 1).is_some() {
        return false;
    }
    let Some(body) = body else { return false };
    body["type"] == "error"
        && body["error"]["type"].is_string()
        && body["error"]["message"].is_string()
}

/// A file name says what a captured body should be when its content does not
/// (e.g. `x.error.json`).
pub(crate) fn shape_hint_from_file_name(file_name: &str) -> Option<Shape> {
    let n = file_name.to_ascii_lowercase();
    if n.ends_with(".error.json") {
        Some(Shape::Error)
    } else if n.contains("count_tokens") || n.contains("count-tokens") {
        Some(Shape::CountTokens)
    } else if n.contains("models") {
        Some(Shape::ModelList)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
