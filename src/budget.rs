//! The memory budget of a JSON body conform parses whole (a non-streamed answer).
//!
//! Bytes are bounded by `--max-body-mb`, but a parsed body costs far more than its bytes when
//! it is wide: each JSON value is a tree node (an order-preserving map per object, a `String`
//! per key and per string), so a 59 MB answer of 2.2 million tiny text blocks took ~2.2 GB to
//! judge — about 37 times its size. Before parsing, the values are counted in one pass over the
//! bytes (no allocation), and a body whose tree would cost more than
//! [`TREE_FACTOR`] × `--max-body-mb` is not parsed: the exchange ends as `error`, like a body
//! beyond the limit. Ordinary bodies (a long text, a large image echoed back) have few values
//! and are never near it.
//!
//! The judge carries the limit (`judge::Options::max_body`: the run's, the proxy's or the
//! default for `conform check`).

/// The parsed tree of one body may cost this many times `--max-body-mb` (256 MiB by default).
pub(crate) const TREE_FACTOR: usize = 4;

/// What one parsed JSON value costs at least, in bytes, counted the way [`estimate`] does: its
/// `Value` (32 bytes), its place in its parent's map or vector (a key `String` and a hash slot
/// for an object member) and a heap allocation for a string or container.
pub(crate) const BYTES_PER_VALUE: usize = 128;

/// The most a parsed tree may cost with a body limit of `max_body` bytes.
pub(crate) fn tree_budget(max_body: usize) -> usize {
    max_body.saturating_mul(TREE_FACTOR)
}

/// The number of JSON values in `bytes` (an upper bound for invalid JSON): every `{`, `[` and
/// `,` outside strings starts one, plus the first.
pub(crate) fn count_values(bytes: &[u8]) -> usize {
    let mut n = 1usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' | b',' => n += 1,
                _ => {}
            }
        }
    }
    n
}

/// Why `bytes` is not parsed, when its tree would exceed the budget of a `max_body` limit.
pub(crate) fn over_budget(bytes: &[u8], max_body: usize) -> Option<String> {
    let budget = tree_budget(max_body);
    // A body this small cannot exceed the budget, whatever its shape: skip the count.
    if bytes.len().saturating_mul(BYTES_PER_VALUE) <= budget {
        return None;
    }
    let values = count_values(bytes);
    let cost = values.saturating_mul(BYTES_PER_VALUE);
    (cost > budget).then(|| {
        format!(
            "the body holds {values} JSON values ({} bytes): judging it would take about {} MiB, beyond conform's memory budget of {} MiB ({TREE_FACTOR} × --max-body-mb); raise --max-body-mb to judge it",
            bytes.len(),
            cost >> 20,
            budget >> 20
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_counted_outside_strings_only() {
        assert_eq!(count_values(br#"{"a":1}"#), 2);
        assert_eq!(count_values(br#"[1,2,3]"#), 4);
        assert_eq!(count_values(br#"{"t":"a,b,{[\",\\"}"#), 2);
        assert_eq!(count_values(b"\"x\""), 1);
    }

    #[test]
    fn a_wide_body_is_over_budget_and_a_long_text_is_not() {
        let wide = format!(
            "[{}]",
            vec![r#"{"type":"text","text":"x"}"#; 50_000].join(",")
        );
        let text = format!(r#"{{"text":"{}"}}"#, "x".repeat(wide.len()));
        // Budget for a 1 MiB limit: 4 MiB of tree; the wide body needs ~18 MiB.
        let why = over_budget(wide.as_bytes(), 1 << 20).expect("over budget");
        assert!(why.contains("150001 JSON values"), "{why}");
        assert_eq!(over_budget(text.as_bytes(), 1 << 20), None);
        let default = crate::http::client::DEFAULT_MAX_BODY;
        assert_eq!(
            over_budget(wide.as_bytes(), default),
            None,
            "within 256 MiB"
        );
    }
}
