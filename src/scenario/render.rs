//! Resolving a step for one mode: templates filled in, the mode's `stream` flag applied, the
//! header and credential overrides spelled out. The result is plain data for the HTTP client,
//! which adds the target's base URL, headers and key (parse → **resolve** → execute).

use super::diagnostics::Pos;
use super::model::{Auth, Mode, Step};
use super::template::{Context, TemplateError};
use crate::protocol::anthropic::wire::Endpoint;
use serde_json::Value;

/// The body to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RequestBody {
    Json(Value),
    /// Sent verbatim (malformed JSON on purpose).
    Raw(String),
}

/// A step's request with every template resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RenderedRequest {
    pub method: String,
    /// Path relative to the target's base URL, e.g. `/v1/messages`.
    pub path: String,
    /// Headers to set, replacing the target's headers of the same name (case-insensitive).
    pub headers: Vec<(String, String)>,
    /// Target headers to leave out (the step gave them `null`).
    pub drop_headers: Vec<String>,
    /// Credential override; `None` means the target's own key and style.
    pub auth: Option<Auth>,
    pub body: Option<RequestBody>,
    /// Whether the response is expected as SSE (`"stream": true` in the sent body).
    pub stream: bool,
}

/// A template error with the place it was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} ({pos}): {error}")]
pub(crate) struct RenderError {
    /// Which part of the request: `request.path`, `request.headers.x-api-key`, `request.body`.
    pub field: String,
    pub pos: Pos,
    pub error: TemplateError,
}

impl Step {
    /// Whether this step runs in `mode` (steps without `modes` run in every mode).
    pub(crate) fn runs_in(&self, mode: Mode) -> bool {
        self.modes.as_ref().is_none_or(|m| m.contains(&mode))
    }

    /// Whether this step runs in `mode` on a case under API version `version` (None: a
    /// version conform does not know, where only steps without `api_version` run).
    pub(crate) fn runs_for(
        &self,
        mode: Mode,
        version: Option<crate::protocol::anthropic::wire::ApiVersion>,
    ) -> bool {
        self.runs_in(mode) && self.api_version.is_none_or(|v| Some(v) == version)
    }
}

fn fail(field: &str, pos: Pos) -> impl Fn(TemplateError) -> RenderError + '_ {
    move |error| RenderError {
        field: field.to_string(),
        pos,
        error,
    }
}

/// Resolve a step's request for `mode`. In stream mode a JSON object body sent to the
/// Messages endpoint ([`Endpoint::streams`]) gets `"stream": true`; other endpoints
/// (`count_tokens`, models) cannot stream and are sent as written in every mode. A step's
/// `stream:` overrides the mode in both directions, on any path; in sync mode the body is sent
/// as written.
pub(crate) fn render_request(
    step: &Step,
    mode: Mode,
    ctx: &Context,
) -> Result<RenderedRequest, RenderError> {
    let r = &step.request;
    let path = ctx
        .render_text(&r.path.value)
        .map_err(fail("request.path", r.path.pos))?;
    let mut headers = Vec::new();
    let mut drop_headers = Vec::new();
    for (name, value) in &r.headers {
        match &value.value {
            None => drop_headers.push(name.clone()),
            Some(v) => {
                let field = format!("request.headers.{name}");
                headers.push((
                    name.clone(),
                    ctx.render_text(v).map_err(fail(&field, value.pos))?,
                ));
            }
        }
    }
    let auth = match &r.auth {
        None => None,
        Some(a) => Some(match &a.value {
            Auth::Key(k) => Auth::Key(
                ctx.render_text(k)
                    .map_err(fail("request.auth.key", a.pos))?,
            ),
            other => other.clone(),
        }),
    };
    let streams = Endpoint::of(&r.method.value, &path).is_some_and(Endpoint::streams);
    let wanted_stream = step.stream.unwrap_or(mode == Mode::Stream && streams);
    let (body, stream) = match (&r.body, &r.raw_body) {
        (Some(node), _) => {
            let mut json = ctx
                .render_node(&node.value)
                .map_err(fail("request.body", node.pos))?;
            if let Value::Object(map) = &mut json
                && (step.stream.is_some() || (mode == Mode::Stream && streams))
            {
                map.insert("stream".to_string(), Value::Bool(wanted_stream));
            }
            let stream = json.get("stream").and_then(Value::as_bool).unwrap_or(false);
            (Some(RequestBody::Json(json)), stream)
        }
        (None, Some(raw)) => {
            let text = ctx
                .render_text(&raw.value)
                .map_err(fail("request.raw_body", raw.pos))?;
            (Some(RequestBody::Raw(text)), wanted_stream)
        }
        (None, None) => (None, false),
    };
    Ok(RenderedRequest {
        method: r.method.value.clone(),
        path,
        headers,
        drop_headers,
        auth,
        body,
        stream,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn step(yaml: &str) -> Step {
        let text = format!(
            "id: x\nfeature: basic\ntitle: t\nreference: r\nmodes: [sync, stream]\nsteps:\n{yaml}"
        );
        let (s, d) = super::super::load::load_text(Path::new("x.yaml"), &text);
        assert!(d.is_empty(), "{d:?}");
        s.unwrap().doc.steps[0].value.clone()
    }

    fn ctx() -> Context {
        let mut c = Context::default();
        c.target.insert("model".into(), "m-1".into());
        c.target.insert("name".into(), "t".into());
        c
    }

    #[test]
    fn stream_mode_sets_the_flag_and_templates_resolve() {
        let s = step(
            "  - id: a\n    request:\n      headers: {x-a: \"{{ target.name }}\", anthropic-version: null}\n      body: {model: \"{{ target.model }}\", max_tokens: 5}\n",
        );
        let sync = render_request(&s, Mode::Sync, &ctx()).unwrap();
        assert_eq!(
            sync.body,
            Some(RequestBody::Json(json!({"model": "m-1", "max_tokens": 5})))
        );
        assert!(!sync.stream);
        assert_eq!(sync.headers, vec![("x-a".to_string(), "t".to_string())]);
        assert_eq!(sync.drop_headers, vec!["anthropic-version".to_string()]);
        assert_eq!(
            (sync.method.as_str(), sync.path.as_str()),
            ("POST", "/v1/messages")
        );
        let stream = render_request(&s, Mode::Stream, &ctx()).unwrap();
        assert_eq!(
            stream.body,
            Some(RequestBody::Json(
                json!({"model": "m-1", "max_tokens": 5, "stream": true})
            ))
        );
        assert!(stream.stream);
    }

    #[test]
    fn other_endpoints_do_not_get_the_stream_flag() {
        let s = step(
            "  - id: a\n    request:\n      path: /v1/messages/count_tokens\n      body: {model: m}\n",
        );
        let r = render_request(&s, Mode::Stream, &ctx()).unwrap();
        assert_eq!(r.body, Some(RequestBody::Json(json!({"model": "m"}))));
        assert!(!r.stream);
        let s = step(
            "  - id: a\n    request:\n      path: /v1/messages?beta=true\n      body: {model: m}\n",
        );
        let r = render_request(&s, Mode::Stream, &ctx()).unwrap();
        assert_eq!(
            r.body,
            Some(RequestBody::Json(json!({"model": "m", "stream": true})))
        );
        assert!(r.stream);
    }

    #[test]
    fn step_stream_override_and_modes() {
        let s = step(
            "  - id: a\n    stream: false\n    modes: [stream]\n    request:\n      auth: {key: \"k-{{ target.name }}\"}\n      body: {model: m}\n",
        );
        assert!(s.runs_in(Mode::Stream) && !s.runs_in(Mode::Sync));
        let r = render_request(&s, Mode::Stream, &ctx()).unwrap();
        assert_eq!(
            r.body,
            Some(RequestBody::Json(json!({"model": "m", "stream": false})))
        );
        assert!(!r.stream);
        assert_eq!(r.auth, Some(Auth::Key("k-t".into())));
    }

    #[test]
    fn errors_name_the_field_and_position() {
        let s = step("  - id: a\n    request:\n      body: {model: \"{{ target.model }}\"}\n");
        let e = render_request(&s, Mode::Sync, &Context::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "request.body (9:13): unknown template variable `target.model`"
        );
        let s = step("  - id: a\n    request:\n      raw_body: '{\"model\": '\n");
        let r = render_request(&s, Mode::Sync, &ctx()).unwrap();
        assert_eq!(r.body, Some(RequestBody::Raw("{\"model\": ".into())));
    }
}
