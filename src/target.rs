//! Targets: the endpoints a run talks to, from `conform.toml` (README, "Pointing conform at a
//! provider") or from CLI flags.
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

use crate::http::client::{Backpressure, ExecPolicy, Pauses, RateLimiter, RetryPolicy, Timeouts};
pub(crate) use crate::protocol::anthropic::wire::AuthStyle;
use crate::secrets::Redactor;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod build;
mod checks;
mod versions;

pub(crate) use crate::text::glob_match;
pub(crate) use build::with_profile;
use build::{build_targets, overlay};
pub(crate) use checks::check_base_url;
use checks::{bad_name, check_expectation, check_header, parse_message, sanitize};
pub use versions::ApiVersions;
pub(crate) use versions::expand as expand_versions;

/// The `anthropic-version` sent unless a target sets its own: today's SDKs' (Python ≥ 2.0,
/// TypeScript ≥ 1.0).
pub(crate) const DEFAULT_ANTHROPIC_VERSION: &str = "2026-10-21";

/// An API key. Its `Debug` and `Display` print `[REDACTED]`; [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that needs it: the auth header.
    pub(crate) fn expose(&self) -> &str {
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
    /// The API versions to run under: `"2023-06-01"`, `"2026-10-21"` or `"both"` (each case
    /// under each version, as targets `NAME@VERSION`). Default: the `anthropic-version` of
    /// `headers`, else `2026-10-21`. `conform run --api-version` wins.
    pub api_version: Option<String>,
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

/// A resolved target. Cloning shares its rate limiter and its backpressure.
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
    /// The API versions asked for (`api_version`); None: as `headers` say.
    pub api_versions: Option<ApiVersions>,
    /// The provider profile, when the target uses one.
    pub(crate) provider: Option<std::sync::Arc<crate::providers::Profile>>,
    limiter: Option<RateLimiter>,
    /// Pauses and throttles the target on 429/529 (shared by its clones).
    backpressure: Backpressure,
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

/// The largest `conform.toml` read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A loaded `conform.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub raw: RawConfig,
}

impl Config {
    /// Read and parse a file (keys are not read yet: see [`Config::resolve`]).
    pub fn load(path: &Path) -> Result<Config, TargetError> {
        // A regular file of reasonable size: a FIFO or device named conform.toml is refused.
        let text =
            crate::fsutil::read_regular_string(path, MAX_CONFIG_BYTES).map_err(|source| {
                TargetError::Read {
                    path: path.to_path_buf(),
                    source,
                }
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
    pub(crate) fn resolve_all(&self, names: &[String]) -> Result<Vec<Target>, TargetError> {
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

impl Target {
    /// A target from command-line flags, its key read through `env`; the name defaults to
    /// `default`.
    pub fn ad_hoc_with(
        args: AdHoc,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Target, TargetError> {
        Target::ad_hoc_with_profile(args, None, env)
    }

    /// [`Target::ad_hoc_with`] for `--provider`: the profile's `expect_unsupported` apply and
    /// the target carries the profile (its documented deviations mark findings).
    pub(crate) fn ad_hoc_with_profile(
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
    pub(crate) fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}/{path}", self.base_url)
        }
    }

    /// The credential header for this target's auth style, if it has a key.
    pub(crate) fn auth_header(&self) -> Option<(String, String)> {
        Some(self.auth.header(self.api_key.as_ref()?.expose()))
    }

    /// Every header a request to this target carries by default: `content-type`, the target's
    /// headers (with `anthropic-version`) and the credential. Steps may override or drop them.
    pub(crate) fn default_headers(&self) -> Vec<(String, String)> {
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

    /// Apply `conform run --timeout` (the whole exchange; the first-byte and idle limits are
    /// capped by it) and `--retries`, when given.
    pub(crate) fn override_limits(&mut self, timeout: Option<Duration>, retries: Option<u32>) {
        if let Some(t) = timeout {
            self.timeouts.total = t;
            self.timeouts.first_byte = self.timeouts.first_byte.min(t);
            self.timeouts.idle = self.timeouts.idle.min(t);
            self.timeouts.connect = self.timeouts.connect.min(t);
        }
        if let Some(n) = retries {
            self.retries = n;
        }
    }

    /// The execution policy: timeouts, retries, and this target's shared rate limiter.
    pub(crate) fn exec_policy(&self) -> ExecPolicy {
        ExecPolicy {
            timeouts: self.timeouts,
            retry: RetryPolicy {
                max_retries: self.retries,
                ..RetryPolicy::default()
            },
            limiter: self.limiter.clone(),
            backpressure: Some(self.backpressure.clone()),
            ..ExecPolicy::default()
        }
    }

    /// How the target was paused so far (429/529 answers).
    pub(crate) fn pauses(&self) -> Pauses {
        self.backpressure.pauses()
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

#[cfg(test)]
mod tests;

/// The JSON Schema of conform.toml (`conform schema config`, `schemas/conform.schema.json`).
pub(crate) fn config_json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawConfig)).unwrap_or(serde_json::Value::Null)
}
