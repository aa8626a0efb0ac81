//! The escapes a secret may hide behind, decoded, with the way back to the raw bytes.
//!
//! An endpoint that echoes a key does not always echo it as given: byte by byte
//! percent-encoded (`%73%6B…`, hex in either case, or only some bytes encoded), percent-encoded
//! twice (`%2573`), as JSON `\u0073` escapes (also with the backslash itself escaped, as a
//! JSON string inside a JSON string writes it), as `\x73`, or as HTML character references
//! (`&#115;`, `&#x73;`). [`decode`] undoes each of those escapes in one linear pass and keeps,
//! for every escape, where it sat in the raw text, so that a secret found in the decoded text
//! is redacted in the raw one ([`Decoded::raw_range`]). The decoded text is searched in
//! addition to the raw one, never instead: nothing that matched before stops matching.

/// The longest escape [`decode`] understands (`\\\\u0073` and `&#x000073;` are 10 bytes).
pub(super) const MAX_ESCAPE_LEN: usize = 11;

/// How many times `%25` may prefix a percent escape (`%252573` is `s` encoded three times).
const MAX_PERCENT_NESTING: usize = 3;

/// How many backslashes may precede `u` or `x` (each level of JSON-in-JSON doubles them).
const MAX_BACKSLASHES: usize = 4;

/// Text with escapes decoded, and where each escape came from.
pub(super) struct Decoded {
    pub(super) bytes: Vec<u8>,
    /// Per decoded escape, in order: (decoded start, decoded end, raw start, raw end).
    marks: Vec<(usize, usize, usize, usize)>,
}

impl Decoded {
    /// Whether anything was decoded at all.
    pub(super) fn changed(&self) -> bool {
        !self.marks.is_empty()
    }

    /// The raw range that holds the decoded range `[start, end)`: an escape cut by either
    /// end is taken whole.
    pub(super) fn raw_range(&self, start: usize, end: usize) -> (usize, usize) {
        (self.raw_start(start), self.raw_end(end))
    }

    fn raw_start(&self, d: usize) -> usize {
        let i = self.marks.partition_point(|m| m.0 <= d);
        match i.checked_sub(1).map(|i| self.marks[i]) {
            None => d,
            Some((_, de, rs, _)) if d < de => rs,
            Some((_, de, _, re)) => re + (d - de),
        }
    }

    fn raw_end(&self, d: usize) -> usize {
        let i = self.marks.partition_point(|m| m.0 < d);
        match i.checked_sub(1).map(|i| self.marks[i]) {
            None => d,
            Some((_, de, _, re)) if d <= de => re,
            Some((_, de, _, re)) => re + (d - de),
        }
    }
}

/// Whether `raw` contains anything [`decode`] might decode.
pub(super) fn has_escapes(raw: &[u8]) -> bool {
    memchr::memchr3(b'%', b'\\', b'&', raw).is_some()
}

/// `raw` with every escape this module knows decoded (see the module doc).
pub(super) fn decode(raw: &[u8]) -> Decoded {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut marks = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let Some(k) = memchr::memchr3(b'%', b'\\', b'&', &raw[i..]) else {
            bytes.extend_from_slice(&raw[i..]);
            break;
        };
        bytes.extend_from_slice(&raw[i..i + k]);
        i += k;
        match escape_at(&raw[i..]) {
            Some((len, buf, n)) => {
                marks.push((bytes.len(), bytes.len() + n, i, i + len));
                bytes.extend_from_slice(&buf[..n]);
                i += len;
            }
            None => {
                bytes.push(raw[i]);
                i += 1;
            }
        }
    }
    Decoded { bytes, marks }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn hex_pair(s: &[u8]) -> Option<u8> {
    Some(hex(*s.first()?)? << 4 | hex(*s.get(1)?)?)
}

/// The escape at the start of `s`: its raw length and the bytes it stands for.
fn escape_at(s: &[u8]) -> Option<(usize, [u8; 4], usize)> {
    let one = |b: u8| {
        let mut buf = [0u8; 4];
        buf[0] = b;
        (buf, 1)
    };
    let char_bytes = |c: u32| {
        let c = char::from_u32(c)?;
        let mut buf = [0u8; 4];
        let n = c.encode_utf8(&mut buf).len();
        Some((buf, n))
    };
    match s[0] {
        b'%' => {
            let mut j = 1;
            for _ in 0..MAX_PERCENT_NESTING {
                if s.get(j..j + 2) == Some(b"25") && hex_pair(s.get(j + 2..)?).is_some() {
                    j += 2;
                } else {
                    break;
                }
            }
            let b = hex_pair(s.get(j..)?)?;
            let (buf, n) = one(b);
            Some((j + 2, buf, n))
        }
        b'\\' => {
            let slashes = s.iter().take_while(|&&b| b == b'\\').count();
            if slashes > MAX_BACKSLASHES {
                return None;
            }
            let rest = &s[slashes..];
            match rest.first()? {
                b'u' => {
                    let digits = rest.get(1..5)?;
                    let mut c = 0u32;
                    for &d in digits {
                        c = c << 4 | u32::from(hex(d)?);
                    }
                    let (buf, n) = char_bytes(c)?;
                    Some((slashes + 5, buf, n))
                }
                b'x' => {
                    let (buf, n) = one(hex_pair(rest.get(1..)?)?);
                    Some((slashes + 3, buf, n))
                }
                _ => None,
            }
        }
        b'&' => {
            let rest = s.strip_prefix(b"&#")?;
            let (radix, digits) = match rest.first()? {
                b'x' | b'X' => (16, &rest[1..]),
                _ => (10, rest),
            };
            let n = digits.iter().take_while(|b| b.is_ascii_hexdigit()).count();
            if n == 0 || n > 7 || digits.get(n) != Some(&b';') {
                return None;
            }
            let text = std::str::from_utf8(&digits[..n]).ok()?;
            let c = u32::from_str_radix(text, radix).ok()?;
            let (buf, len) = char_bytes(c)?;
            Some((s.len() - digits.len() + n + 1, buf, len))
        }
        _ => None,
    }
}

/// The length of what, at the end of `raw`, may be the beginning of an escape not complete
/// yet (`%7`, `\u00`, `&#x7`): a stream redactor keeps it for the next chunk.
pub(super) fn partial_escape_len(raw: &[u8]) -> usize {
    let from = raw.len().saturating_sub(MAX_ESCAPE_LEN - 1);
    for start in from..raw.len() {
        let tail = &raw[start..];
        if could_begin_escape(tail) {
            return tail.len();
        }
    }
    0
}

/// Whether the hex digits after a `%` may still grow into `(25)*HH`.
fn percent_unfinished(rest: &[u8], nesting: usize) -> bool {
    if rest.len() < 2 {
        return true;
    }
    nesting < MAX_PERCENT_NESTING
        && rest.starts_with(b"25")
        && percent_unfinished(&rest[2..], nesting + 1)
}

/// Whether `s` is a proper beginning of an escape [`decode`] knows.
fn could_begin_escape(s: &[u8]) -> bool {
    let rest = &s[1..];
    match s[0] {
        b'%' => rest.iter().all(u8::is_ascii_hexdigit) && percent_unfinished(rest, 0),
        b'\\' => {
            let slashes = s.iter().take_while(|&&b| b == b'\\').count();
            let rest = &s[slashes..];
            slashes <= MAX_BACKSLASHES
                && match rest.split_first() {
                    None => true,
                    Some((b'u', d)) => d.len() < 4 && d.iter().all(u8::is_ascii_hexdigit),
                    Some((b'x', d)) => d.len() < 2 && d.iter().all(u8::is_ascii_hexdigit),
                    _ => false,
                }
        }
        b'&' => match rest.split_first() {
            None => true,
            Some((b'#', d)) => {
                let d = d
                    .strip_prefix(b"x")
                    .or_else(|| d.strip_prefix(b"X"))
                    .unwrap_or(d);
                d.len() <= 7 && d.iter().all(u8::is_ascii_hexdigit)
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_escape_decodes_and_maps_back() {
        for (raw, want) in [
            ("a%73%6Bb", "askb"),
            ("a%73%6bb", "askb"),
            ("%2573", "s"),
            ("%252573", "s"),
            ("\\u0073k", "sk"),
            ("\\\\u0073k", "sk"),
            ("\\x73", "s"),
            ("&#115;&#x6B;&#X2d;", "sk-"),
            ("100% sure \\n &amp;", "100% sure \\n &amp;"),
        ] {
            let d = decode(raw.as_bytes());
            assert_eq!(String::from_utf8_lossy(&d.bytes), want, "{raw}");
        }
        let d = decode(b"xx%73%6Byy");
        assert_eq!(d.bytes, b"xxskyy");
        assert_eq!(d.raw_range(2, 4), (2, 8));
        assert_eq!(d.raw_range(3, 5), (5, 9));
        assert_eq!(d.raw_range(0, 1), (0, 1));
        assert_eq!(d.raw_range(4, 6), (8, 10));
    }

    #[test]
    fn partial_escapes_at_the_end_are_recognised() {
        for s in [
            "ab%", "ab%7", "ab%25", "ab\\", "ab\\u00", "ab\\\\u0", "ab&", "ab&#x7", "ab&#11",
        ] {
            assert!(partial_escape_len(s.as_bytes()) > 0, "{s}");
        }
        for s in ["ab", "ab%73", "ab\\n", "ab&amp", "ab\n\n"] {
            assert_eq!(partial_escape_len(s.as_bytes()), 0, "{s}");
        }
    }
}
