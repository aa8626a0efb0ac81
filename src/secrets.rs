//! Secrets: API keys are tainted values, redacted as `[REDACTED]` in every output.
//!
//! A [`Redactor`] knows the secret values of a run (the keys read from the environment) and
//! the header names that are always sensitive (`authorization`, `x-api-key`, any name that
//! contains `key`, `token` or `secret`, and the extra names a target declares in
//! `secret_headers`).
//!
//! It looks for every form in which a secret travels: the value itself, its standard and
//! URL-safe base64 encodings (padded, unpadded, and embedded at any of the three byte
//! alignments inside a longer base64 text, as in `Basic` credentials), its percent-encoded
//! form (upper- and lower-case hex) and its JSON-escaped form. [`Redactor::redact_bytes`] works
//! on raw bytes, so a body that is not UTF-8 is redacted too; [`Redactor::max_pattern_len`]
//! says how many bytes a caller redacting a chunked stream must carry across a chunk boundary
//! (that length minus one) so that no secret escapes by being split.
//!
//! Matching ignores ASCII case (a key echoed in an HTTP/2 header name arrives lower-cased),
//! and the text is also searched with its escapes decoded ([`decode`]: percent-encoding in
//! any case, partial or nested, `\u` and `\x` escapes, HTML character references), each match
//! mapped back to the raw bytes that spell it. [`Redactor::hold_back`] says how much of the end
//! of a chunk may be the beginning of a secret in any of those spellings.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use std::sync::Arc;

mod decode;
mod deltas;

pub(crate) use deltas::DeltaMask;

pub(crate) const REDACTED: &str = "[REDACTED]";

/// Secrets shorter than this are ignored: redacting them would mangle ordinary text.
const MIN_SECRET_LEN: usize = 4;

/// Derived patterns (base64 fragments at an offset) shorter than this are not searched for:
/// a handful of base64 characters occurs by chance in any large base64 payload.
const MIN_DERIVED_LEN: usize = 8;

/// Replaces secret values (in every encoded form) in text and sensitive header values.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// The secrets as given (filtered, longest first, deduplicated).
    secrets: Vec<String>,
    /// Every byte pattern searched for, longest first, deduplicated.
    patterns: Vec<Vec<u8>>,
    /// Extra header names (lower-case) whose values are always redacted.
    secret_headers: Vec<String>,
    /// One automaton over every pattern, built once (redaction runs on every chunk).
    searcher: Option<Arc<AhoCorasick>>,
    /// The same patterns, leftmost-first: only asked whether anything matches, which this
    /// kind answers with a vectorised prefilter, many times faster than the overlapping
    /// search that finds every match (almost every text redacted has no secret in it).
    detector: Option<Arc<AhoCorasick>>,
}

impl Redactor {
    /// Secrets shorter than 4 bytes are ignored: redacting them would mangle ordinary text.
    pub fn new(secrets: Vec<String>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        let mut patterns: Vec<Vec<u8>> = secrets.iter().flat_map(|s| encoded_forms(s)).collect();
        patterns.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        patterns.dedup();
        // Standard match semantics, so overlapping matches are all reported (and merged).
        let searcher = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&patterns)
                    .ok()
                    .map(Arc::new)
            })
            .flatten();
        let detector = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .ascii_case_insensitive(true)
                    .build(&patterns)
                    .ok()
                    .map(Arc::new)
            })
            .flatten();
        Redactor {
            secrets,
            patterns,
            secret_headers: Vec::new(),
            searcher,
            detector,
        }
    }

    /// This redactor, also treating these header names (case-insensitive) as secret headers.
    pub(crate) fn with_secret_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for n in names {
            let n = n.as_ref().trim().to_ascii_lowercase();
            if !n.is_empty() && !self.secret_headers.contains(&n) {
                self.secret_headers.push(n);
            }
        }
        self
    }

    pub(crate) fn add(&mut self, secret: impl Into<String>) {
        let mut all = std::mem::take(&mut self.secrets);
        all.push(secret.into());
        let headers = std::mem::take(&mut self.secret_headers);
        *self = Redactor::new(all).with_secret_headers(headers);
    }

    /// Every byte string redaction looks for: each secret in each of its encoded forms, longest
    /// first. A caller holding back a possible partial match at a chunk boundary checks these.
    #[cfg(test)]
    pub(crate) fn needles(&self) -> Vec<Vec<u8>> {
        self.patterns.clone()
    }

    /// Whether there is any secret value to look for.
    pub(crate) fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The byte length of the longest pattern searched for (0 when there is none). A caller
    /// redacting a stream chunk by chunk must hold back this many bytes minus one at the end
    /// of each chunk (and prepend them to the next) for a split secret to be found.
    pub(crate) fn max_pattern_len(&self) -> usize {
        self.patterns.first().map_or(0, Vec::len)
    }

    /// Every occurrence of a secret (in any encoded form) replaced by `[REDACTED]`.
    pub fn redact(&self, text: &str) -> String {
        let ranges = self.matches(text.as_bytes());
        if ranges.is_empty() {
            return text.to_string();
        }
        let out = replace_ranges(text.as_bytes(), &ranges);
        // Every pattern is valid UTF-8 and UTF-8 is self-synchronising, so matches start and
        // end on character boundaries and the output is valid UTF-8; the lossy conversion is
        // only a guard that never changes anything.
        match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    /// [`Redactor::redact`] on raw bytes (the input need not be UTF-8). Overlapping matches
    /// are merged into one `[REDACTED]`, so no fragment of a secret survives.
    pub fn redact_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        replace_ranges(bytes, &self.matches(bytes))
    }

    /// A redactor for a byte stream that arrives in chunks (see [`StreamRedactor`]).
    pub fn stream(&self) -> StreamRedactor {
        StreamRedactor {
            redactor: self.clone(),
            pending: Vec::new(),
        }
    }

    /// Whether the bytes contain any secret in any form.
    pub fn contains_secret(&self, bytes: &[u8]) -> bool {
        if self.is_empty() {
            return false;
        }
        self.detects(bytes) || {
            decode::has_escapes(bytes) && {
                let d = decode::decode(bytes);
                d.changed() && self.detects(&d.bytes)
            }
        }
    }

    /// Whether any pattern occurs in `bytes` as they are (ASCII case ignored).
    fn detects(&self, bytes: &[u8]) -> bool {
        match &self.detector {
            Some(ac) => ac.is_match(bytes),
            None => self
                .patterns
                .iter()
                .any(|p| bytes.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p))),
        }
    }

    /// Sorted, merged `[start, end)` ranges of every match of every pattern, in the bytes as
    /// they are and in the bytes with their escapes decoded.
    fn matches(&self, bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        if self.is_empty() {
            return found;
        }
        if self.detects(bytes) {
            self.search(bytes, &mut found, |s, e| (s, e));
        }
        if decode::has_escapes(bytes) {
            let d = decode::decode(bytes);
            if d.changed() && self.detects(&d.bytes) {
                self.search(&d.bytes, &mut found, |s, e| d.raw_range(s, e));
            }
        }
        if found.is_empty() {
            return found;
        }
        found.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(found.len());
        for (s, e) in found {
            match merged.last_mut() {
                Some(last) if s < last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }

    /// Every match of every pattern in `bytes`, each range passed through `map`.
    fn search(
        &self,
        bytes: &[u8],
        found: &mut Vec<(usize, usize)>,
        map: impl Fn(usize, usize) -> (usize, usize),
    ) {
        match &self.searcher {
            // Every match of every pattern, but like a search per pattern: a pattern's next
            // match starts after its previous one ends (matches of different patterns overlap
            // freely and are merged).
            Some(ac) => {
                let mut next_start = vec![0usize; self.patterns.len()];
                for m in ac.find_overlapping_iter(bytes) {
                    let at = &mut next_start[m.pattern().as_usize()];
                    if m.start() >= *at {
                        *at = m.end();
                        found.push(map(m.start(), m.end()));
                    }
                }
            }
            // The automaton could not be built (it always can for these sizes): search each.
            None => {
                for p in &self.patterns {
                    let mut i = 0;
                    while i + p.len() <= bytes.len() {
                        if bytes[i..i + p.len()].eq_ignore_ascii_case(p) {
                            found.push(map(i, i + p.len()));
                            i += p.len();
                        } else {
                            i += 1;
                        }
                    }
                }
            }
        }
    }

    /// How many bytes at the end of `buf` may be the beginning of a secret, in any form this
    /// redactor matches (an escape cut in the middle included): a caller redacting a stream
    /// chunk by chunk keeps them for the next chunk. Never more than [`Redactor::window`]
    /// minus one.
    pub(crate) fn hold_back(&self, buf: &[u8]) -> usize {
        if self.is_empty() || buf.is_empty() {
            return 0;
        }
        let window = &buf[buf.len().saturating_sub(self.window() - 1)..];
        let partial = decode::partial_escape_len(window);
        let complete = &window[..window.len() - partial];
        let d = decode::decode(complete);
        // The longest end of the decoded text that begins some pattern.
        let mut k = 0;
        for p in &self.patterns {
            let max = p.len().saturating_sub(1).min(d.bytes.len());
            for n in (k + 1..=max).rev() {
                if d.bytes[d.bytes.len() - n..].eq_ignore_ascii_case(&p[..n]) {
                    k = n;
                    break;
                }
            }
        }
        if k == 0 {
            return partial;
        }
        let (start, _) = d.raw_range(d.bytes.len() - k, d.bytes.len());
        window.len() - start
    }

    /// The longest raw text a match can span: the longest pattern, or the longest secret
    /// with every byte spelled as the longest escape. Stream redactors keep this many bytes
    /// minus one.
    pub(crate) fn window(&self) -> usize {
        let longest_secret = self.secrets.first().map_or(0, String::len);
        self.max_pattern_len()
            .max(longest_secret * decode::MAX_ESCAPE_LEN)
            .max(1)
    }

    /// Header names and values redacted: the value of a sensitive header (built-in rules or
    /// this redactor's extra names) becomes `[REDACTED]`; secrets in other values and in the
    /// names themselves are redacted.
    pub(crate) fn redact_headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| {
                let v = if self.is_secret_header(k) {
                    REDACTED.to_string()
                } else {
                    self.redact(v)
                };
                (self.redact(k), v)
            })
            .collect()
    }

    /// [`is_sensitive_header`], or one of this redactor's extra secret header names.
    pub(crate) fn is_secret_header(&self, name: &str) -> bool {
        is_sensitive_header(name)
            || self
                .secret_headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name.trim()))
    }
}

/// A redactor that learns secrets while a run goes (the proxy learns each client's
/// credentials from its requests): every clone sees what any clone learned.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedRedactor(Arc<std::sync::RwLock<Redactor>>);

/// The most secrets a [`SharedRedactor`] holds, learned ones included (each new one rebuilds
/// the automaton; a client sending ever new credentials cannot make that unbounded).
const MAX_LEARNED: usize = 64;

/// Learned values shorter than this are not taken for credentials (redacting them would
/// mangle ordinary text).
const MIN_LEARNED_LEN: usize = 8;

impl SharedRedactor {
    pub(crate) fn new(redactor: Redactor) -> Self {
        SharedRedactor(Arc::new(std::sync::RwLock::new(redactor)))
    }

    /// The redactor as it stands (cheap: the automata are shared).
    pub(crate) fn get(&self) -> Redactor {
        match self.0.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Learn the credentials a request carries: the values of `x-api-key`, `authorization`
    /// and `proxy-authorization` (the token after the scheme, and for `Basic` the decoded
    /// user and password too), and of the redactor's extra secret header names.
    pub(crate) fn learn_from_headers<'a>(
        &self,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) {
        let current = self.get();
        let mut new = Vec::new();
        for (name, value) in headers {
            for v in credentials_in(&current, name, value) {
                if v.len() >= MIN_LEARNED_LEN && !current.secrets.contains(&v) && !new.contains(&v)
                {
                    new.push(v);
                }
            }
        }
        if new.is_empty() {
            return;
        }
        let mut w = match self.0.write() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut all = w.secrets.clone();
        for v in new {
            if all.len() < MAX_LEARNED && !all.contains(&v) {
                all.push(v);
            }
        }
        let headers = w.secret_headers.clone();
        *w = Redactor::new(all).with_secret_headers(headers);
    }
}

/// The credential values one request header carries (none for other headers).
fn credentials_in(r: &Redactor, name: &str, value: &str) -> Vec<String> {
    let n = name.trim().to_ascii_lowercase();
    let value = value.trim();
    let mut out = Vec::new();
    if n == "authorization" || n == "proxy-authorization" {
        out.push(value.to_string());
        if let Some((scheme, token)) = value.split_once(' ') {
            let token = token.trim();
            out.push(token.to_string());
            if scheme.eq_ignore_ascii_case("basic")
                && let Ok(decoded) = STANDARD.decode(token)
                && let Ok(text) = String::from_utf8(decoded)
            {
                out.push(text.clone());
                if let Some((user, pass)) = text.split_once(':') {
                    out.extend([user.to_string(), pass.to_string()]);
                }
            }
        }
    } else if n == "x-api-key" || r.secret_headers.contains(&n) {
        out.push(value.to_string());
    }
    out.retain(|v| !v.is_empty());
    out
}

/// `bytes` with each of the sorted, disjoint `ranges` replaced by `[REDACTED]`.
fn replace_ranges(bytes: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for &(start, end) in ranges {
        out.extend_from_slice(&bytes[at..start]);
        out.extend_from_slice(REDACTED.as_bytes());
        at = end;
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

/// Redacts a stream chunk by chunk with the same result as [`Redactor::redact_bytes`] on the
/// whole: it holds back the bytes that may begin a secret not yet complete
/// ([`Redactor::max_pattern_len`] minus one, at most a little more) until the next chunk or
/// [`StreamRedactor::finish`].
#[derive(Debug, Clone)]
pub struct StreamRedactor {
    redactor: Redactor,
    pending: Vec<u8>,
}

impl StreamRedactor {
    /// The redacted bytes that are final once `chunk` is appended (possibly none).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(chunk);
        let keep = if self.redactor.is_empty() {
            0
        } else {
            self.redactor.window() - 1
        };
        let safe = self.pending.len().saturating_sub(keep);
        let ranges = self.redactor.matches(&self.pending);
        // A match still growing can only start at `safe` or later; a complete match that
        // straddles `safe` stays pending whole, so that it can merge with what follows.
        let mut cut = safe;
        if let Some(&(start, _)) = ranges.iter().find(|(s, e)| *s < safe && *e > safe) {
            cut = start;
        }
        let mut out = Vec::with_capacity(cut);
        let mut at = 0;
        for &(start, end) in ranges.iter().take_while(|(_, e)| *e <= cut) {
            out.extend_from_slice(&self.pending[at..start]);
            out.extend_from_slice(REDACTED.as_bytes());
            at = end;
        }
        out.extend_from_slice(&self.pending[at..cut]);
        self.pending.drain(..cut);
        out
    }

    /// The rest, at the end of the stream.
    pub fn finish(&mut self) -> Vec<u8> {
        let out = self.redactor.redact_bytes(&self.pending);
        self.pending.clear();
        out
    }
}

/// `authorization`, `x-api-key`, and any header whose name contains `key`, `token` or `secret`
/// — except Anthropic's rate-limit counters (`anthropic-ratelimit-tokens-*`,
/// `anthropic-ratelimit-input-tokens-*`, `anthropic-ratelimit-output-tokens-*`), which hold
/// numbers and dates, never a credential.
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    if n == "authorization" || n == "proxy-authorization" {
        return true;
    }
    let rest = ratelimit_counter_suffix(&n).unwrap_or(&n);
    rest.contains("key") || rest.contains("token") || rest.contains("secret")
}

/// For `anthropic-ratelimit-{tokens,input-tokens,output-tokens}-SUFFIX`, the `SUFFIX`.
fn ratelimit_counter_suffix(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("anthropic-ratelimit-")?;
    ["tokens-", "input-tokens-", "output-tokens-"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))
}

/// Every byte pattern under which `secret` may appear in an output.
fn encoded_forms(secret: &str) -> Vec<Vec<u8>> {
    let raw = secret.as_bytes();
    let mut forms = vec![raw.to_vec()];
    for engine in [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        forms.push(engine.encode(raw).into_bytes());
    }
    for url_safe in [false, true] {
        for offset in 0..3 {
            let core = base64_core(raw, offset, url_safe);
            if core.len() >= MIN_DERIVED_LEN {
                forms.push(core);
            }
        }
    }
    forms.push(percent_encode(raw, b"0123456789ABCDEF"));
    forms.push(percent_encode(raw, b"0123456789abcdef"));
    if let Ok(json) = serde_json::to_string(secret) {
        // Without the surrounding quotes.
        forms.push(json.as_bytes()[1..json.len() - 1].to_vec());
    }
    forms
}

/// The base64 characters that depend on `raw` alone when `raw` starts `offset` bytes (0..3)
/// into a longer encoded byte string: what a secret looks like inside a bigger base64 text.
fn base64_core(raw: &[u8], offset: usize, url_safe: bool) -> Vec<u8> {
    let mut buf = vec![0u8; offset];
    buf.extend_from_slice(raw);
    let engine = if url_safe {
        &URL_SAFE_NO_PAD
    } else {
        &STANDARD_NO_PAD
    };
    let encoded = engine.encode(&buf).into_bytes();
    // Character j covers bits [6j, 6j + 6); the secret covers bits [8 offset, 8 (offset + n)).
    let first = (8 * offset).div_ceil(6);
    let end = (8 * (offset + raw.len())) / 6;
    if first >= end {
        return Vec::new();
    }
    encoded[first..end.min(encoded.len())].to_vec()
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(raw: &[u8], hex: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() * 3);
    for &b in raw {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', hex[usize::from(b >> 4)], hex[usize::from(b & 15)]]);
        }
    }
    out
}

#[cfg(test)]
mod tests;
