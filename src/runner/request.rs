//! Building the HTTP request of a step: the rendered step (templates resolved) on top of the
//! target's base URL, default headers and credential, with the step's overrides applied.

use crate::http::client::Request;
use crate::protocol::anthropic::wire::CREDENTIAL_HEADERS;
use crate::scenario::model::Auth;
use crate::scenario::render::{RenderedRequest, RequestBody};
use crate::target::Target;

/// The request to send for `rendered` against `target`.
pub(crate) fn build(rendered: &RenderedRequest, target: &Target) -> Request {
    let mut headers = target.default_headers();
    if let Some(auth) = &rendered.auth {
        headers.retain(|(k, _)| !CREDENTIAL_HEADERS.iter().any(|c| k.eq_ignore_ascii_case(c)));
        let key = target.api_key.as_ref().map(|k| k.expose().to_string());
        let credential = match auth {
            Auth::None => None,
            Auth::Style(style) => key.map(|k| style.header(&k)),
            Auth::Key(k) => Some(target.auth.header(k)),
        };
        headers.extend(credential);
    }
    for name in &rendered.drop_headers {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }
    for (name, value) in &rendered.headers {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        headers.push((name.clone(), value.clone()));
    }
    let body = match &rendered.body {
        Some(RequestBody::Json(v)) => Some(v.to_string()),
        Some(RequestBody::Raw(s)) => Some(s.clone()),
        None => None,
    };
    if body.is_none() {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
    }
    Request {
        method: rendered.method.clone(),
        url: target.url(&rendered.path),
        headers,
        body,
    }
}
