//! Secrets: API keys are tainted values, redacted as `[REDACTED]` in every output.
//!
//! A [`Redactor`] knows the secret values of a run (the keys read from the environment) and
//! the header names that are always sensitive (`authorization`, `x-api-key`, and any name that
//! contains `key`, `token` or `secret`).

pub const REDACTED: &str = "[REDACTED]";

/// Replaces secret values in text and sensitive header values.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Secrets shorter than 4 characters are ignored: redacting them would mangle ordinary text.
    pub fn new(secrets: Vec<String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    pub fn add(&mut self, secret: impl Into<String>) {
        let mut all = std::mem::take(&mut self.secrets);
        all.push(secret.into());
        *self = Redactor::new(all);
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        out
    }

    /// Every byte string redaction looks for (each secret as it is).
    pub fn needles(&self) -> Vec<Vec<u8>> {
        self.secrets.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    /// Redact raw bytes (which need not be UTF-8).
    pub fn redact_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for n in self.needles() {
            if memchr::memmem::find(&out, &n).is_none() {
                continue;
            }
            let mut next = Vec::with_capacity(out.len());
            let mut rest = &out[..];
            while let Some(i) = memchr::memmem::find(rest, &n) {
                next.extend_from_slice(&rest[..i]);
                next.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[i + n.len()..];
            }
            next.extend_from_slice(rest);
            out = next;
        }
        out
    }

    pub fn redact_headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| {
                let v = if is_sensitive_header(k) {
                    REDACTED.to_string()
                } else {
                    self.redact(v)
                };
                (k.clone(), v)
            })
            .collect()
    }
}

/// `authorization`, `x-api-key`, and any header whose name contains `key`, `token` or `secret`.
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    // Rate-limit counters (`anthropic-ratelimit-tokens-limit`) hold no secret.
    if n.starts_with("anthropic-ratelimit-") {
        return false;
    }
    n == "authorization"
        || n == "proxy-authorization"
        || n.contains("key")
        || n.contains("token")
        || n.contains("secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_values_and_sensitive_headers() {
        let r = Redactor::new(vec!["sk-abc-123".into(), "x".into()]);
        assert_eq!(r.redact("key=sk-abc-123;"), "key=[REDACTED];");
        assert_eq!(r.redact("x marks"), "x marks", "short secrets are ignored");
        let h = r.redact_headers(&[
            ("Authorization".into(), "Bearer whatever".into()),
            ("x-goog-api-key".into(), "v".into()),
            ("x-note".into(), "has sk-abc-123 inside".into()),
            ("content-type".into(), "application/json".into()),
        ]);
        assert_eq!(h[0].1, REDACTED);
        assert_eq!(h[1].1, REDACTED);
        assert_eq!(h[2].1, "has [REDACTED] inside");
        assert_eq!(h[3].1, "application/json");
    }
}
