//! The protocol seam: what the generic engine (runner, verdict, target, offline check) needs
//! to know about the Anthropic Messages API on the wire, asked here and nowhere else — which
//! paths stream, which shape answers a path, how credentials travel, what a rejection looks
//! like, how a request body is linted.

use super::schema::{self, Shape};
use crate::check::Finding;
use crate::http::client::retry::is_retryable_status;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Headers that carry a credential.
pub const CREDENTIAL_HEADERS: [&str; 2] = [
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
    /// `x-api-key: KEY` (Anthropic's own style).
    #[default]
    #[serde(rename = "x-api-key")]
    XApiKey,
    /// `authorization: Bearer KEY`.
    #[serde(rename = "bearer")]
    Bearer,
}

impl AuthStyle {
    /// The name of the header that carries the key in this style.
    pub const fn header_name(self) -> &'static str {
        match self {
            AuthStyle::XApiKey => "x-api-key",
            AuthStyle::Bearer => "authorization",
        }
    }

    /// The header that carries `key` in this style.
    pub fn header(self, key: &str) -> (String, String) {
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
pub enum Endpoint {
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
    pub fn of(method: &str, path: &str) -> Option<Endpoint> {
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
    pub fn streams(self) -> bool {
        self == Endpoint::Messages
    }

    /// The shape of a request body this endpoint takes (none for the `GET` endpoints).
    pub fn request_shape(self) -> Option<Shape> {
        match self {
            Endpoint::Messages => Some(Shape::Request),
            Endpoint::CountTokens => Some(Shape::CountTokensRequest),
            Endpoint::Models | Endpoint::Model => None,
        }
    }

    /// The shape of this endpoint's successful non-streamed answer.
    pub fn response_shape(self) -> Shape {
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
pub fn lint_request_body(path: &str, body: &Value) -> Vec<Finding> {
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
pub enum InfrastructureStatus {
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
    pub fn of(status: u16, attempts: u32) -> Option<InfrastructureStatus> {
        match status {
            401 | 403 => Some(InfrastructureStatus::CredentialsRejected { status }),
            429 => Some(InfrastructureStatus::RateLimited { attempts }),
            _ if is_retryable_status(status) => {
                Some(InfrastructureStatus::Failed { status, attempts })
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
pub fn output_format(request: &Value) -> Option<&Value> {
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
pub fn is_rejection(status: u16, body: Option<&Value>) -> bool {
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
pub fn shape_hint_from_file_name(file_name: &str) -> Option<Shape> {
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
mod tests {
    use super::*;

    #[test]
    fn rejections_are_well_formed_4xx_errors_about_the_request() {
        let good: Value = serde_json::from_str(
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"no video"},"request_id":"req_1"}"#,
        )
        .unwrap();
        let good = Some(&good);
        assert!(is_rejection(400, good));
        assert!(is_rejection(404, good));
        assert!(
            !is_rejection(401, good),
            "auth errors are not about the feature"
        );
        assert!(!is_rejection(429, good));
        assert!(!is_rejection(500, good));
        let bad = serde_json::json!({"error": "bad"});
        assert!(
            !is_rejection(400, Some(&bad)),
            "not the Anthropic error shape"
        );
        assert!(!is_rejection(400, None), "no JSON body");
    }

    #[test]
    fn auth_styles_name_their_header_and_parse_their_spelling() {
        assert_eq!(
            AuthStyle::XApiKey.header("k"),
            ("x-api-key".to_string(), "k".to_string())
        );
        assert_eq!(
            AuthStyle::Bearer.header("k"),
            ("authorization".to_string(), "Bearer k".to_string())
        );
        assert_eq!(CREDENTIAL_HEADERS, ["x-api-key", "authorization"]);
        assert_eq!("bearer".parse(), Ok(AuthStyle::Bearer));
        assert_eq!("x-api-key".parse(), Ok(AuthStyle::XApiKey));
        assert_eq!(
            "Bearer".parse::<AuthStyle>(),
            Err(r#"unknown auth style "Bearer" (expected "x-api-key" or "bearer")"#.to_string())
        );
    }

    #[test]
    fn the_output_format_in_either_spelling_and_null_as_absent() {
        let f = serde_json::json!({"type": "json_schema", "schema": {"type": "object"}});
        let g = serde_json::json!({"type": "json_schema", "schema": {}});
        let read = |r: Value| output_format(&r).cloned();
        assert_eq!(
            read(serde_json::json!({"output_config": {"format": f}})),
            Some(f.clone())
        );
        assert_eq!(
            read(serde_json::json!({"output_format": f})),
            Some(f.clone())
        );
        assert_eq!(
            read(serde_json::json!({"output_config": {"format": f}, "output_format": g})),
            Some(f.clone()),
            "output_config.format first"
        );
        assert_eq!(
            read(serde_json::json!({"output_config": {"format": null}, "output_format": f})),
            Some(f.clone()),
            "a null format is left out, not a request for none"
        );
        assert_eq!(
            read(serde_json::json!({"output_config": {"format": null}})),
            None
        );
        assert_eq!(
            read(serde_json::json!({"output_config": null, "output_format": null})),
            None
        );
        assert_eq!(
            read(serde_json::json!({"output_config": {"effort": "low"}})),
            None
        );
        assert_eq!(read(serde_json::json!({})), None);
    }

    #[test]
    fn infrastructure_statuses_and_their_reasons() {
        let of = InfrastructureStatus::of;
        for s in [200, 400, 404, 413, 422] {
            assert_eq!(of(s, 3), None, "{s} is about the request");
        }
        assert_eq!(
            of(401, 1).map(|i| i.to_string()).as_deref(),
            Some(
                "HTTP 401: the endpoint rejected the credentials (check the key and the auth style)"
            )
        );
        assert_eq!(
            of(403, 3),
            Some(InfrastructureStatus::CredentialsRejected { status: 403 })
        );
        assert_eq!(
            of(429, 3).map(|i| i.to_string()).as_deref(),
            Some("HTTP 429 after 3 attempts: still rate limited when the retries ran out")
        );
        assert_eq!(
            of(529, 1).map(|i| i.to_string()).as_deref(),
            Some("HTTP 529: the endpoint failed or was overloaded when the retries ran out")
        );
        for s in [408, 409, 500, 503, 599] {
            assert_eq!(
                of(s, 2),
                Some(InfrastructureStatus::Failed {
                    status: s,
                    attempts: 2
                })
            );
        }
    }

    #[test]
    fn endpoints_by_method_and_path() {
        use Endpoint::*;
        let of = Endpoint::of;
        assert_eq!(of("POST", "/v1/messages"), Some(Messages));
        assert_eq!(of("POST", "/v1/messages?beta=true"), Some(Messages));
        assert_eq!(of("POST", "/v1/messages/#x"), Some(Messages));
        assert_eq!(of("POST", "/apps/anthropic/v1/messages"), Some(Messages));
        assert_eq!(of("POST", "/v1/messages/count_tokens/"), Some(CountTokens));
        assert_eq!(
            of("POST", "/v1/messages/count_tokens?beta=true"),
            Some(CountTokens)
        );
        assert_eq!(of("GET", "/v1/models?limit=1"), Some(Models));
        assert_eq!(of("get", "/v1/models/"), Some(Models));
        assert_eq!(of("GET", "/v1/models/claude-x"), Some(Model));
        assert_eq!(of("POST", "/v1/models"), None, "models answer GET only");
        assert_eq!(
            of("POST", "/messages"),
            None,
            "the API's paths start with /v1"
        );
        assert_eq!(of("POST", "/v1/messages/batches"), None);
        assert_eq!(of("POST", "/v1/complete"), None);
    }

    #[test]
    fn only_the_messages_endpoint_streams_and_each_has_its_shapes() {
        use Endpoint::*;
        let all = [Messages, CountTokens, Models, Model];
        let streams: Vec<bool> = all.iter().map(|e| e.streams()).collect();
        assert_eq!(streams, [true, false, false, false]);
        assert_eq!(Messages.request_shape(), Some(Shape::Request));
        assert_eq!(CountTokens.request_shape(), Some(Shape::CountTokensRequest));
        assert_eq!(Models.request_shape(), None);
        let responses: Vec<Shape> = all.iter().map(|e| e.response_shape()).collect();
        assert_eq!(
            responses,
            [
                Shape::Message,
                Shape::CountTokens,
                Shape::ModelList,
                Shape::Model
            ]
        );
    }
}
