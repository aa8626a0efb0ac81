//! Targets: the endpoints a run talks to, from `conform.toml` (design §5) or from CLI flags.
//!
//! The raw file ([`RawConfig`], [`RawTarget`]: serde, every key optional) is kept apart from
//! the resolved [`Target`] (every value decided: `extends` applied, the API key read from the
//! environment, defaults filled in). API keys are never read from the file: a key in the file
//! is an error. The key is held as a [`Secret`], which prints as `[REDACTED]`.
//!
//! `extends = "other"` starts from another target: scalar keys of the child replace the
//! parent's, `headers` are merged (the child wins per header name, case-insensitively), lists
//! (`models`, `expect_unsupported`) are replaced. Cycles are errors.
//!
//! `models = ["a", "b"]` (instead of `model`) expands one table into one target per model,
//! named `NAME-MODEL` (characters other than letters, digits, `.`, `_`, `-` become `_`), so
//! models of one provider are compared side by side; `--target NAME` selects all of them.
//!
//! Checked at resolution: `base_url` carries no credentials (`user:password@` would be sent as
//! Basic auth and printed in reports; the error names only the host, and a URL containing `@`
//! is never echoed); `expect_unsupported` entries are feature ids (globs allowed) or scenario
//! ids (`<feature>/<name>`), so a typo names the feature ids; `secret_headers = ["x-auth"]`
//! names extra headers redacted like `x-api-key` (and, like it, not settable in the file); a
//! target name is not empty.

use crate::http::client::{ExecPolicy, RateLimiter, RetryPolicy, Timeouts};
use crate::scenario::model::Feature;
use crate::secrets::Redactor;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `anthropic-version` sent unless a target sets its own.
pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";

/// An API key. Its `Debug` and `Display` print `[REDACTED]`; [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value, for the one place that needs it: the auth header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::secrets::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::secrets::REDACTED)
    }
}

/// How the key is sent.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
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

/// `conform.toml` as written (`conform schema config` prints its JSON Schema).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub targets: BTreeMap<String, RawTarget>,
    /// Provider profiles: add one, or replace the built-in one of the same name.
    #[serde(default)]
    pub providers: BTreeMap<String, crate::providers::Profile>,
}

/// One `[targets.NAME]` table as written; every key optional (`extends` fills the gaps).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub extends: Option<String>,
    /// A provider profile (`conform providers`): fills `base_url`, `api_key_env`, `auth`,
    /// `model` and `expect_unsupported` when the table does not set them, and marks findings
    /// that match the provider's documented deviations.
    pub provider: Option<String>,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
    /// Only here to give a clear error: keys never live in the file.
    #[schemars(with = "Option<serde_json::Value>")]
    pub api_key: Option<toml::Value>,
    pub auth: Option<AuthStyle>,
    pub model: Option<String>,
    pub models: Option<Vec<String>>,
    pub headers: Option<BTreeMap<String, String>>,
    pub expect_unsupported: Option<Vec<String>>,
    pub rpm: Option<u32>,
    pub connect_timeout_ms: Option<u64>,
    pub first_byte_timeout_ms: Option<u64>,
    pub idle_timeout_ms: Option<u64>,
    pub total_timeout_ms: Option<u64>,
    pub retries: Option<u32>,
    /// Extra header names whose values are secrets (redacted like `x-api-key`).
    pub secret_headers: Option<Vec<String>>,
}

/// A resolved target. Cloning shares its rate limiter.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    /// Without a trailing slash; request paths are appended (`/v1/messages`).
    pub base_url: String,
    pub model: String,
    pub auth: AuthStyle,
    pub api_key: Option<Secret>,
    /// Extra headers, `anthropic-version` included (defaulted), in a stable order.
    pub headers: Vec<(String, String)>,
    /// Feature ids, scenario ids or globs (`*`) whose non-pass verdicts are expected.
    pub expect_unsupported: Vec<String>,
    pub rpm: Option<u32>,
    pub timeouts: Timeouts,
    pub retries: u32,
    /// Extra header names (`secret_headers`) redacted like `x-api-key` in every output.
    pub secret_headers: Vec<String>,
    /// The provider profile, when the target uses one.
    pub provider: Option<std::sync::Arc<crate::providers::Profile>>,
    limiter: Option<RateLimiter>,
}

/// A target from CLI flags (`--base-url URL --model M [--api-key-env VAR] [--auth bearer]
/// [--header K:V]... [--name NAME]`).
#[derive(Debug, Clone, Default)]
pub struct AdHoc {
    pub name: Option<String>,
    pub base_url: String,
    pub model: String,
    pub api_key_env: Option<String>,
    pub auth: Option<AuthStyle>,
    /// `K:V` strings as given on the command line.
    pub headers: Vec<String>,
}

/// A configuration error; each names the file (or `command line`) and the key.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{origin}: target {target:?}: {key}: {message}")]
    Invalid {
        origin: String,
        target: String,
        key: String,
        message: String,
    },
    #[error(
        "{origin}: target {target:?}: `api_key` is not allowed in the file; put the key in an environment variable and name it with `api_key_env`"
    )]
    KeyInFile { origin: String, target: String },
    #[error(
        "{origin}: target {target:?}: environment variable {var} (api_key_env) is not set or empty"
    )]
    MissingKey {
        origin: String,
        target: String,
        var: String,
    },
    #[error("{origin}: no target named {name:?} (known: {known})")]
    Unknown {
        origin: String,
        name: String,
        known: String,
    },
    #[error("{origin}: `extends` cycle: {cycle}")]
    Cycle { origin: String, cycle: String },
}

/// A loaded `conform.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub raw: RawConfig,
}

impl Config {
    /// Read and parse a file (keys are not read yet: see [`Config::resolve`]).
    pub fn load(path: &Path) -> Result<Config, TargetError> {
        let text = std::fs::read_to_string(path).map_err(|source| TargetError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parse TOML text; `path` is used in error messages. Errors carry line and column.
    pub fn parse(text: &str, path: &Path) -> Result<Config, TargetError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| TargetError::Parse {
            path: path.to_path_buf(),
            message: parse_message(text, &e),
        })?;
        let config = Config {
            path: path.to_path_buf(),
            raw,
        };
        for (name, t) in &config.raw.targets {
            if t.api_key.is_some() {
                return Err(TargetError::KeyInFile {
                    origin: config.origin(),
                    target: name.clone(),
                });
            }
        }
        Ok(config)
    }

    /// Table names as written (before `models` expansion), sorted.
    pub fn names(&self) -> Vec<String> {
        self.raw.targets.keys().cloned().collect()
    }

    /// Resolve one named table into its target(s), reading keys from the process environment.
    pub fn resolve(&self, name: &str) -> Result<Vec<Target>, TargetError> {
        self.resolve_with(name, &|var| std::env::var(var).ok())
    }

    /// Resolve with an explicit environment (for tests).
    pub fn resolve_with(
        &self,
        name: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<Target>, TargetError> {
        let mut merged = self.merged(name)?;
        let profile =
            match &merged.provider {
                None => None,
                Some(p) => Some(crate::providers::find(p, &self.raw.providers).map_err(
                    |message| TargetError::Invalid {
                        origin: self.origin(),
                        target: name.to_string(),
                        key: "provider".into(),
                        message,
                    },
                )?),
            };
        if let Some(p) = &profile {
            merged = with_profile(merged, p);
        }
        let mut targets = build_targets(&self.origin(), name, merged, env)?;
        let shared = profile.map(std::sync::Arc::new);
        for t in &mut targets {
            t.provider = shared.clone();
        }
        Ok(targets)
    }

    /// Resolve several names (`--target` repeated), or every table when `names` is empty.
    pub fn resolve_all(&self, names: &[String]) -> Result<Vec<Target>, TargetError> {
        let names = if names.is_empty() {
            self.names()
        } else {
            names.to_vec()
        };
        let mut out = Vec::new();
        for n in &names {
            out.extend(self.resolve(n)?);
        }
        Ok(out)
    }

    fn origin(&self) -> String {
        self.path.display().to_string()
    }

    /// The table with its `extends` chain applied.
    fn merged(&self, name: &str) -> Result<RawTarget, TargetError> {
        let mut chain: Vec<&str> = Vec::new();
        let mut current = name;
        loop {
            if chain.contains(&current) {
                chain.push(current);
                return Err(TargetError::Cycle {
                    origin: self.origin(),
                    cycle: chain.join(" -> "),
                });
            }
            let Some(t) = self.raw.targets.get(current) else {
                let known = self.names().join(", ");
                let origin = match chain.last() {
                    Some(child) => format!("{} (target {child:?}, key `extends`)", self.origin()),
                    None => self.origin(),
                };
                return Err(TargetError::Unknown {
                    origin,
                    name: current.to_string(),
                    known,
                });
            };
            chain.push(current);
            match &t.extends {
                Some(parent) => current = parent,
                None => break,
            }
        }
        let mut merged = RawTarget::default();
        for n in chain.iter().rev() {
            merged = overlay(merged, self.raw.targets[*n].clone());
        }
        Ok(merged)
    }
}

/// `child` on top of `base`.
fn overlay(base: RawTarget, child: RawTarget) -> RawTarget {
    let headers = match (base.headers, child.headers) {
        (Some(mut b), Some(c)) => {
            for (k, v) in c {
                b.retain(|bk, _| !bk.eq_ignore_ascii_case(&k));
                b.insert(k, v);
            }
            Some(b)
        }
        (b, c) => c.or(b),
    };
    let (child_has_model, child_has_models) = (child.model.is_some(), child.models.is_some());
    RawTarget {
        extends: None,
        provider: child.provider.or(base.provider),
        base_url: child.base_url.or(base.base_url),
        api_key_env: child.api_key_env.or(base.api_key_env),
        api_key: None,
        auth: child.auth.or(base.auth),
        // A child naming one `model` replaces a parent's `models` list, and vice versa.
        model: if child_has_models {
            child.model
        } else {
            child.model.or(base.model)
        },
        models: if child_has_model {
            child.models
        } else {
            child.models.or(base.models)
        },
        headers,
        expect_unsupported: child.expect_unsupported.or(base.expect_unsupported),
        rpm: child.rpm.or(base.rpm),
        connect_timeout_ms: child.connect_timeout_ms.or(base.connect_timeout_ms),
        first_byte_timeout_ms: child.first_byte_timeout_ms.or(base.first_byte_timeout_ms),
        idle_timeout_ms: child.idle_timeout_ms.or(base.idle_timeout_ms),
        total_timeout_ms: child.total_timeout_ms.or(base.total_timeout_ms),
        retries: child.retries.or(base.retries),
        secret_headers: child.secret_headers.or(base.secret_headers),
    }
}

/// A target table with the gaps filled from a provider profile.
pub fn with_profile(mut t: RawTarget, p: &crate::providers::Profile) -> RawTarget {
    t.base_url = t.base_url.or_else(|| Some(p.base_url.clone()));
    t.api_key_env = t.api_key_env.or_else(|| p.key_env.clone());
    t.auth = t.auth.or(Some(p.auth));
    if t.model.is_none() && t.models.is_none() {
        t.model = Some(p.model.clone());
    }
    t.expect_unsupported = t
        .expect_unsupported
        .or_else(|| Some(p.expect_unsupported.clone()));
    t
}

fn build_targets(
    origin: &str,
    name: &str,
    raw: RawTarget,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Target>, TargetError> {
    let invalid = |key: &str, message: String| TargetError::Invalid {
        origin: origin.to_string(),
        target: name.to_string(),
        key: key.to_string(),
        message,
    };
    if let Some(message) = bad_name(name) {
        return Err(invalid("name", message));
    }
    let base_url = raw
        .base_url
        .ok_or_else(|| invalid("base_url", "missing".into()))?;
    let base_url = check_base_url(&base_url).map_err(|m| invalid("base_url", m))?;
    let models: Vec<(String, String)> = match (raw.model, raw.models) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "models",
                "set either `model` or `models`, not both".into(),
            ));
        }
        (Some(m), None) => vec![(name.to_string(), m)],
        (None, Some(ms)) if !ms.is_empty() => ms
            .into_iter()
            .map(|m| (format!("{name}-{}", sanitize(&m)), m))
            .collect(),
        _ => {
            return Err(invalid(
                "model",
                "missing (set `model`, or `models` with at least one)".into(),
            ));
        }
    };
    if models.iter().any(|(_, m)| m.trim().is_empty()) {
        return Err(invalid("model", "empty".into()));
    }
    let api_key = match raw.api_key_env {
        None => None,
        Some(var) => match env(&var) {
            Some(v) if !v.is_empty() => Some(Secret(v)),
            _ => {
                return Err(TargetError::MissingKey {
                    origin: origin.into(),
                    target: name.into(),
                    var,
                });
            }
        },
    };
    let expect_unsupported = raw.expect_unsupported.unwrap_or_default();
    for p in &expect_unsupported {
        check_expectation(p).map_err(|m| invalid("expect_unsupported", m))?;
    }
    let secret_headers = raw.secret_headers.unwrap_or_default();
    for h in &secret_headers {
        reqwest::header::HeaderName::from_bytes(h.as_bytes()).map_err(|_| {
            invalid(
                "secret_headers",
                format!("{h:?} is not a valid header name"),
            )
        })?;
    }
    let mut headers = Vec::new();
    for (k, v) in raw.headers.unwrap_or_default() {
        check_header(&k, &v, &secret_headers).map_err(|m| invalid(&format!("headers.{k}"), m))?;
        headers.push((k, v));
    }
    with_default_version(&mut headers);
    let d = Timeouts::default();
    let ms = |v: Option<u64>, default: Duration| v.map(Duration::from_millis).unwrap_or(default);
    let timeouts = Timeouts {
        connect: ms(raw.connect_timeout_ms, d.connect),
        first_byte: ms(raw.first_byte_timeout_ms, d.first_byte),
        idle: ms(raw.idle_timeout_ms, d.idle),
        total: ms(raw.total_timeout_ms, d.total),
    };
    for (key, value) in [
        ("connect_timeout_ms", timeouts.connect),
        ("first_byte_timeout_ms", timeouts.first_byte),
        ("idle_timeout_ms", timeouts.idle),
        ("total_timeout_ms", timeouts.total),
    ] {
        if value.is_zero() {
            return Err(invalid(key, "must be greater than 0".into()));
        }
    }
    let rpm = raw.rpm.filter(|r| *r > 0);
    let limiter = rpm.and_then(RateLimiter::per_minute);
    Ok(models
        .into_iter()
        .map(|(target_name, model)| Target {
            name: target_name,
            base_url: base_url.clone(),
            model,
            auth: raw.auth.unwrap_or_default(),
            api_key: api_key.clone(),
            headers: headers.clone(),
            expect_unsupported: expect_unsupported.clone(),
            rpm,
            timeouts,
            retries: raw.retries.unwrap_or(RetryPolicy::default().max_retries),
            secret_headers: secret_headers.clone(),
            provider: None,
            // Expanded models share the provider's rate limit.
            limiter: limiter.clone(),
        })
        .collect())
}

impl Target {
    /// A target from command-line flags; the name defaults to `default`.
    pub fn ad_hoc(args: AdHoc) -> Result<Target, TargetError> {
        Target::ad_hoc_with(args, &|var| std::env::var(var).ok())
    }

    /// [`Target::ad_hoc`] with an explicit environment (for tests).
    pub fn ad_hoc_with(
        args: AdHoc,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Target, TargetError> {
        Target::ad_hoc_with_profile(args, None, env)
    }

    /// [`Target::ad_hoc_with`] for `--provider`: the profile's `expect_unsupported` apply and
    /// the target carries the profile (its documented deviations mark findings).
    pub fn ad_hoc_with_profile(
        args: AdHoc,
        profile: Option<crate::providers::Profile>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Target, TargetError> {
        let name = args.name.unwrap_or_else(|| "default".to_string());
        if let Some(message) = bad_name(&name) {
            return Err(TargetError::Invalid {
                origin: "command line".into(),
                target: name,
                key: "--name".into(),
                message,
            });
        }
        let mut headers = BTreeMap::new();
        for h in &args.headers {
            let Some((k, v)) = h.split_once(':') else {
                return Err(TargetError::Invalid {
                    origin: "command line".into(),
                    target: name,
                    key: "--header".into(),
                    message: format!("{h:?} is not of the form NAME:VALUE"),
                });
            };
            headers.insert(k.trim().to_string(), v.trim().to_string());
        }
        let raw = RawTarget {
            base_url: Some(args.base_url),
            model: Some(args.model),
            api_key_env: args.api_key_env,
            auth: args.auth,
            headers: Some(headers),
            expect_unsupported: profile.as_ref().map(|p| p.expect_unsupported.clone()),
            ..RawTarget::default()
        };
        let mut targets = build_targets("command line", &name, raw, env)?;
        let mut t = targets.remove(0);
        t.provider = profile.map(std::sync::Arc::new);
        Ok(t)
    }

    /// The URL of a request path (`/v1/messages`).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}/{path}", self.base_url)
        }
    }

    /// The credential header for this target's auth style, if it has a key.
    pub fn auth_header(&self) -> Option<(String, String)> {
        let key = self.api_key.as_ref()?.expose();
        Some(match self.auth {
            AuthStyle::XApiKey => ("x-api-key".to_string(), key.to_string()),
            AuthStyle::Bearer => ("authorization".to_string(), format!("Bearer {key}")),
        })
    }

    /// Every header a request to this target carries by default: `content-type`, the target's
    /// headers (with `anthropic-version`) and the credential. Steps may override or drop them.
    pub fn default_headers(&self) -> Vec<(String, String)> {
        let mut out = vec![("content-type".to_string(), "application/json".to_string())];
        out.retain(|(k, _)| !self.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)));
        out.extend(self.headers.iter().cloned());
        out.extend(self.auth_header());
        out
    }

    /// Whether the target declares this scenario (by id) or its feature unsupported.
    /// Patterns are matched whole; `*` matches any run of characters (including `/`).
    pub fn expects_unsupported(&self, scenario_id: &str, feature: &str) -> bool {
        self.expect_unsupported
            .iter()
            .any(|p| glob_match(p, scenario_id) || glob_match(p, feature))
    }

    /// The `expect_unsupported` patterns that match none of these scenarios (given as
    /// `(id, feature)`) and no feature id: most likely typos of a scenario id.
    pub fn unmatched_expectations<'a>(
        &self,
        scenarios: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Vec<&str> {
        self.expect_unsupported
            .iter()
            .filter(|p| {
                !Feature::ALL.iter().any(|f| glob_match(p, f.as_str()))
                    && !scenarios
                        .clone()
                        .into_iter()
                        .any(|(id, feature)| glob_match(p, id) || glob_match(p, feature))
            })
            .map(String::as_str)
            .collect()
    }

    /// The execution policy: timeouts, retries, and this target's shared rate limiter.
    pub fn exec_policy(&self) -> ExecPolicy {
        ExecPolicy {
            timeouts: self.timeouts,
            retry: RetryPolicy {
                max_retries: self.retries,
                ..RetryPolicy::default()
            },
            limiter: self.limiter.clone(),
            ..ExecPolicy::default()
        }
    }

    /// A redactor for this target's key.
    pub fn redactor(&self) -> Redactor {
        redactor(std::slice::from_ref(self))
    }
}

/// A redactor that knows the keys and the extra secret header names of all these targets.
pub fn redactor(targets: &[Target]) -> Redactor {
    Redactor::new(
        targets
            .iter()
            .filter_map(|t| t.api_key.as_ref())
            .map(|k| k.expose().to_string())
            .collect(),
    )
    .with_secret_headers(targets.iter().flat_map(|t| t.secret_headers.iter()))
}

fn with_default_version(headers: &mut Vec<(String, String)>) {
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("anthropic-version"))
    {
        headers.insert(
            0,
            (
                "anthropic-version".to_string(),
                DEFAULT_ANTHROPIC_VERSION.to_string(),
            ),
        );
    }
}

/// A base URL that parses, is http(s), has a host and carries no credentials. Error messages
/// never echo a URL that contains `@` (it may hold a password), and a URL with credentials is
/// only named by its host.
fn check_base_url(url: &str) -> Result<String, String> {
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

fn check_header(name: &str, value: &str, secret_headers: &[String]) -> Result<(), String> {
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
fn check_expectation(pattern: &str) -> Result<(), String> {
    if pattern.trim().is_empty() {
        return Err("an entry is empty".into());
    }
    if pattern.contains('/') || Feature::ALL.iter().any(|f| glob_match(pattern, f.as_str())) {
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
fn bad_name(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("the target name is empty".into());
    }
    if name.chars().any(char::is_control) {
        return Some("the target name contains control characters".into());
    }
    None
}

fn sanitize(model: &str) -> String {
    crate::fsutil::safe_name(model, "._-")
}

/// Whole-string glob with `*` only.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// The toml error with line and column of its span.
fn parse_message(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim_end().to_string();
    match e.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
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

#[cfg(test)]
mod tests;

/// The JSON Schema of conform.toml (`conform schema config`, `schemas/conform.schema.json`).
pub fn config_json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawConfig)).unwrap_or(serde_json::Value::Null)
}
