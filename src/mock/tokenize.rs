//! The mock's deterministic tokenizer: word pieces and punctuation, about 3–4 characters a
//! token, like real BPE tokenizers on English text. One tokenizer serves `count_tokens`,
//! `usage.input_tokens` (so the two agree) and output accounting / `max_tokens` truncation.
//!
//! Rules: a run of ASCII letters (with one leading space folded in) is one token for up to 5
//! letters, then one more per 4 letters; digits come in groups of 3; a run of spaces or of
//! newlines is one token; every other ASCII character is a token; every non-ASCII character is
//! a token (CJK text is about one token a character).

/// Byte ranges `[start, end)` of the tokens of `s`, in order.
pub(crate) fn spans(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c == b' ' && i + 1 < b.len() && b[i + 1].is_ascii_alphabetic() {
            i += 1;
            word(b, start, &mut i, &mut out);
        } else if c.is_ascii_alphabetic() {
            word(b, start, &mut i, &mut out);
        } else if c.is_ascii_digit() {
            let mut n = 0;
            while i < b.len() && b[i].is_ascii_digit() && n < 3 {
                i += 1;
                n += 1;
            }
            out.push((start, i));
        } else if c == b' ' || c == b'\t' {
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            out.push((start, i));
        } else if c == b'\n' || c == b'\r' {
            while i < b.len() && (b[i] == b'\n' || b[i] == b'\r') {
                i += 1;
            }
            out.push((start, i));
        } else if c.is_ascii() {
            i += 1;
            out.push((start, i));
        } else {
            // One non-ASCII character: skip its continuation bytes.
            i += 1;
            while i < b.len() && (b[i] & 0xC0) == 0x80 {
                i += 1;
            }
            out.push((start, i));
        }
    }
    out
}

fn word(b: &[u8], start: usize, i: &mut usize, out: &mut Vec<(usize, usize)>) {
    let mut piece_start = start;
    let mut limit = 5;
    let mut n = 0;
    while *i < b.len() && b[*i].is_ascii_alphabetic() {
        *i += 1;
        n += 1;
        if n == limit {
            out.push((piece_start, *i));
            piece_start = *i;
            n = 0;
            limit = 4;
        }
    }
    if *i > piece_start {
        out.push((piece_start, *i));
    }
}

/// Number of tokens in `s`.
pub(crate) fn count(s: &str) -> u64 {
    spans(s).len() as u64
}

/// The longest prefix of `s` with at most `n` tokens.
pub(crate) fn truncate(s: &str, n: u64) -> &str {
    let sp = spans(s);
    if (sp.len() as u64) <= n {
        return s;
    }
    if n == 0 {
        return "";
    }
    &s[..sp[n as usize - 1].1]
}

/// The pieces of `s` as strings (for streaming text in token-sized deltas).
pub(crate) fn pieces(s: &str) -> Vec<&str> {
    spans(s).into_iter().map(|(a, b)| &s[a..b]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_cache_example_is_above_the_minimum() {
        let text = "<Your Code Here>".repeat(400);
        let n = count(&text);
        assert!(n > 1024, "{n}");
        // About 3–4 characters a token.
        let ratio = text.len() as f64 / n as f64;
        assert!((2.5..=4.5).contains(&ratio), "{ratio}");
    }

    #[test]
    fn english_prose_is_about_four_chars_a_token() {
        let text = "The quick brown fox jumps over the lazy dog, and then it keeps running \
                    through the forest until the evening light fades over the distant hills.";
        let ratio = text.len() as f64 / count(text) as f64;
        assert!((3.0..=5.0).contains(&ratio), "{ratio}");
    }

    #[test]
    fn pieces_cover_the_text_and_truncate_is_a_prefix() {
        let text = "Héllo, wörld! 12345 \n\n  internationalisation 東京";
        assert_eq!(pieces(text).concat(), text);
        for n in 0..=count(text) {
            let t = truncate(text, n);
            assert!(text.starts_with(t));
            assert_eq!(count(t), n);
        }
        assert_eq!(count(""), 0);
    }
}
