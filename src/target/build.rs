//! Resolving one target table: an `extends` chain overlaid child on parent, a provider
//! profile's gaps filled, then every value checked and decided into [`Target`]s (one per model
//! of a `models` list).

use super::*;

/// `child` on top of `base`.
pub(super) fn overlay(base: RawTarget, child: RawTarget) -> RawTarget {
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
        api_version: child.api_version.or(base.api_version),
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
pub(crate) fn with_profile(mut t: RawTarget, p: &crate::providers::Profile) -> RawTarget {
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

pub(super) fn build_targets(
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
    let api_versions = match &raw.api_version {
        None => None,
        Some(v) => Some(
            v.parse::<ApiVersions>()
                .map_err(|m| invalid("api_version", m))?,
        ),
    };
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
            api_versions,
            provider: None,
            // Expanded models share the provider's rate limit.
            limiter: limiter.clone(),
            backpressure: Default::default(),
        })
        .collect())
}
