//! JSONPaths from scenario files, compiled behind an input budget.
//!
//! `serde_json_path` parses recursively and, for nested filters, in exponential time (depth
//! 20: seconds, depth 25: minutes), and 5,000 nested parentheses overflow the stack. Every
//! JSONPath written in a scenario (assertions, captures, snapshot redactions) is therefore
//! compiled through [`compile`], which first runs [`guard`]: one linear pass that refuses
//! paths longer than [`MAX_LEN`] bytes, nested deeper than [`MAX_DEPTH`] brackets and
//! parentheses, or with more than [`MAX_FILTER_DEPTH`] nested filters. String literals are
//! skipped, so brackets inside `'...'` or `"..."` do not count.

use serde_json_path::JsonPath;

/// The longest JSONPath accepted, in bytes.
pub(crate) const MAX_LEN: usize = 4096;
/// The deepest nesting of `[...]` and `(...)` accepted.
pub(crate) const MAX_DEPTH: usize = 16;
/// The deepest nesting of filter selectors (`[?...]` inside a filter) accepted. Parsing time
/// grows about twofold per level; 8 levels parse in about a millisecond.
pub(crate) const MAX_FILTER_DEPTH: usize = 8;

/// Why a JSONPath was refused or did not parse; `offset` is the byte offset in the path where
/// the problem was found (0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The budget check alone, in one pass over the bytes.
pub(crate) fn guard(path: &str) -> Result<(), PathError> {
    // One frame per open bracket or parenthesis: whether it is a bracket holding a filter.
    let mut frames: Vec<(u8, bool)> = Vec::new();
    let mut filters = 0usize;
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                // Skip the literal; an unterminated one ends the scan (the parser reports it).
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            open @ (b'[' | b'(') => {
                if frames.len() == MAX_DEPTH {
                    return Err(PathError {
                        offset: i,
                        message: format!(
                            "the JSONPath nests brackets and parentheses more than {MAX_DEPTH} deep"
                        ),
                    });
                }
                frames.push((open, false));
            }
            b']' | b')' => {
                if let Some((_, true)) = frames.pop() {
                    filters -= 1;
                }
            }
            b'?' => {
                if let Some((b'[', has_filter)) = frames.last_mut()
                    && !*has_filter
                {
                    *has_filter = true;
                    filters += 1;
                    if filters > MAX_FILTER_DEPTH {
                        return Err(PathError {
                            offset: i,
                            message: format!(
                                "the JSONPath nests filters more than {MAX_FILTER_DEPTH} deep"
                            ),
                        });
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if path.len() > MAX_LEN {
        return Err(PathError {
            offset: MAX_LEN,
            message: format!(
                "the JSONPath is {} bytes long; at most {MAX_LEN} are accepted",
                path.len()
            ),
        });
    }
    Ok(())
}

/// [`guard`], then the RFC 9535 parser.
pub(crate) fn compile(path: &str) -> Result<JsonPath, PathError> {
    guard(path)?;
    JsonPath::parse(path).map_err(|e| PathError {
        offset: e.position(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn ordinary_paths_compile() {
        for p in [
            "$",
            "$.content[0].text",
            "$.content[?@.type=='tool_use'].id",
            "$.content[?(@.type == 'text' && length(@.text) > 0)]",
            "$['a[(b']",
            "$[\"x\\\"[\"]",
            "$..type",
        ] {
            assert!(compile(p).is_ok(), "{p}");
        }
        let at_limit = format!("$.a{}{}", "[?@.b".repeat(8), "]".repeat(8));
        assert!(compile(&at_limit).is_ok());
        let parens = format!("$[?{}@.x{}]", "(".repeat(15), ")".repeat(15));
        assert!(compile(&parens).is_ok());
    }

    #[test]
    fn five_thousand_parentheses_are_refused_without_a_stack_overflow() {
        let p = format!("$[?{}@.x{}]", "(".repeat(5000), ")".repeat(5000));
        let e = compile(&p).unwrap_err();
        assert!(e.message.contains("more than 16 deep"), "{e}");
        // `$[?` then 16 parentheses: the 17th opening (bracket included) is refused.
        assert_eq!(e.offset, 3 + 15);
        let p = format!("$[?{}@.x", "(".repeat(4000));
        assert!(compile(&p).unwrap_err().message.contains("deep"));
    }

    #[test]
    fn deeply_nested_filters_are_refused_fast() {
        let started = Instant::now();
        for d in [9, 20, 25, 100] {
            let p = format!("$.a{}{}", "[?@.b".repeat(d), "]".repeat(d));
            let e = compile(&p).unwrap_err();
            assert!(
                e.message.contains("filters more than 8 deep") || e.message.contains("16 deep"),
                "{d}: {e}"
            );
        }
        let p = format!("$.a{}@.x{}", "[?(".repeat(25), ")]".repeat(25));
        assert!(compile(&p).is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn long_paths_are_refused_and_strings_do_not_count() {
        let p = format!("$.{}", "a".repeat(MAX_LEN));
        assert!(compile(&p).unwrap_err().message.contains("bytes long"));
        let inside = format!("$['{}']", "[(".repeat(100));
        assert!(compile(&inside).is_ok());
        // Unterminated strings and stray closers are left to the parser.
        assert!(compile("$['abc").is_err());
        assert!(compile("$)]").is_err());
    }
}

#[cfg(test)]
mod scenario_tests {
    use std::path::Path;

    fn scenario(path: &str) -> String {
        format!(
            "id: basic/deep\nfeature: basic\ntitle: t\nreference: r\nsteps:\n  - id: a\n    request:\n      body: {{model: m, max_tokens: 1, messages: []}}\n    expect:\n      assert:\n        - path: '{path}'\n          exists: true\n    capture:\n      x: '{path}'\nredact: ['{path}']\n"
        )
    }

    #[test]
    fn the_loader_refuses_hostile_paths_with_file_line_and_column() {
        let p = format!("$[?{}@.x{}]", "(".repeat(5000), ")".repeat(5000));
        let (s, d) = crate::scenario::load::load_text(Path::new("deep.yaml"), &scenario(&p));
        assert!(s.is_none());
        let shown: Vec<String> = d
            .iter()
            .map(|d| format!("{} {}", d.location(), d.message))
            .collect();
        assert_eq!(d.len(), 3, "{shown:#?}");
        let lines: Vec<u32> = d.iter().map(|d| d.pos.line).collect();
        assert!([11, 14, 15].iter().all(|l| lines.contains(l)), "{shown:#?}");
        assert!(
            shown.iter().all(|m| m.contains("more than 16 deep")),
            "{shown:#?}"
        );
        // The column points into the path, at the opening that goes over the limit.
        assert_eq!(
            d.iter().find(|d| d.pos.line == 11).unwrap().pos.column,
            18 + 18
        );
        assert!(
            shown.iter().all(|m| m.len() < 400),
            "the path is not echoed whole"
        );

        let p = format!("$.a{}{}", "[?@.b".repeat(25), "]".repeat(25));
        let started = std::time::Instant::now();
        let (s, d) = crate::scenario::load::load_text(Path::new("filters.yaml"), &scenario(&p));
        assert!(s.is_none());
        assert!(
            d.iter()
                .all(|d| d.message.contains("filters more than 8 deep")),
            "{d:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
