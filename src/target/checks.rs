//! The checks a target's values pass when it is resolved (a base URL without credentials,
//! header names and values with no secret in the file, `expect_unsupported` patterns, names,
//! model names as name suffixes, globs) and the line and column of a toml error.

use crate::scenario::model::Feature;

/// A base URL that parses, is http(s), has a host and carries no credentials. Error messages
/// never echo a URL that contains `@` (it may hold a password), and a URL with credentials is
/// only named by its host.
pub(crate) fn check_base_url(url: &str) -> Result<String, String> {
    let shown = if url.contains('@') {
        "the URL (not shown: it contains `@`, perhaps credentials)".to_string()
    } else {
        format!("{url:?}")
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{shown} is not a URL: {e}"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let host = parsed.host_str().unwrap_or("?");
        return Err(format!(
            "the URL of host {host:?} contains credentials (`user:password@`), which would be sent as Basic auth and printed in reports; remove them (the key comes from `api_key_env`)"
        ));
    }
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{shown}: only http and https are supported"));
    }
    if parsed.host_str().is_none() {
        return Err(format!("{shown} has no host"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

pub(super) fn check_header(
    name: &str,
    value: &str,
    secret_headers: &[String],
) -> Result<(), String> {
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid header name"))?;
    reqwest::header::HeaderValue::from_str(value)
        .map_err(|_| "not a valid header value".to_string())?;
    let secret = crate::secrets::is_sensitive_header(name)
        || secret_headers.iter().any(|h| h.eq_ignore_ascii_case(name));
    if secret && !value.is_empty() {
        return Err("credentials do not belong in the file; use `api_key_env`".into());
    }
    Ok(())
}

/// An `expect_unsupported` entry: a feature id (or a glob matching one), or a scenario id
/// pattern, which has the `<feature>/<name>` form. Anything else is a typo: the error names the
/// feature ids.
pub(super) fn check_expectation(pattern: &str) -> Result<(), String> {
    if pattern.trim().is_empty() {
        return Err("an entry is empty".into());
    }
    if pattern.contains('/')
        || Feature::ALL
            .iter()
            .any(|f| crate::text::glob_match(pattern, f.as_str()))
    {
        return Ok(());
    }
    let features: Vec<&str> = Feature::ALL.iter().map(Feature::as_str).collect();
    Err(format!(
        "{pattern:?} is neither a feature id nor a scenario id (`<feature>/<name>`, `*` allowed); the feature ids are: {}",
        features.join(", ")
    ))
}

/// Why a target name cannot be used (it names report files: `exchanges/NAME.ndjson`,
/// `snapshots/NAME/`), if it cannot.
pub(super) fn bad_name(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("the target name is empty".into());
    }
    if name.chars().any(char::is_control) {
        return Some("the target name contains control characters".into());
    }
    None
}

pub(super) fn sanitize(model: &str) -> String {
    crate::fsutil::safe_name(model, "._-")
}

/// The toml error with line and column of its span.
pub(super) fn parse_message(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim_end().to_string();
    match e.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}
