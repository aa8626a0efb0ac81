//! Patterns from scenario files compiled once per process: JSONPaths ([`path`]) and regular
//! expressions ([`regex`]).
//!
//! The linter compiles every pattern of a file when it is loaded; the assertions, captures and
//! snapshot redactions evaluate the same patterns against every response. Both go through
//! this cache, so a pattern is compiled once however many responses it is evaluated on (a
//! regex build was ~2% of a library run's CPU, a JSONPath parse ~1%). Failures are cached too,
//! with their message. The cache holds at most [`MAX_ENTRIES`] patterns; past that a pattern is
//! compiled each time it is asked for, so hostile files cannot grow it without bound.

use super::jsonpath::PathError;
use crate::memo::Memo;
use serde_json_path::JsonPath;
use std::sync::{Arc, OnceLock};

/// The most patterns of each kind kept compiled.
pub(crate) const MAX_ENTRIES: usize = 4096;

/// The JSONPath `text`, compiled through [`super::jsonpath::compile`] (with its input budget).
pub(crate) fn path(text: &str) -> Result<Arc<JsonPath>, PathError> {
    static PATHS: OnceLock<Memo<JsonPath, PathError>> = OnceLock::new();
    PATHS
        .get_or_init(|| Memo::new(MAX_ENTRIES))
        .get_or_compile(text, super::jsonpath::compile)
}

/// The regular expression `text`; the error is the regex crate's message.
pub(crate) fn regex(text: &str) -> Result<Arc<regex::Regex>, String> {
    static REGEXES: OnceLock<Memo<regex::Regex, String>> = OnceLock::new();
    REGEXES
        .get_or_init(|| Memo::new(MAX_ENTRIES))
        .get_or_compile(text, |t| regex::Regex::new(t).map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_is_compiled_once_and_shared() {
        let a = regex("^msg_[a-z]+$").unwrap();
        let b = regex("^msg_[a-z]+$").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(a.is_match("msg_abc"));
        let p = path("$.content[0].text").unwrap();
        assert!(Arc::ptr_eq(&p, &path("$.content[0].text").unwrap()));
    }

    #[test]
    fn errors_are_returned_every_time_with_their_message() {
        for _ in 0..2 {
            let e = regex("a(").unwrap_err();
            assert!(e.contains("unclosed group"), "{e}");
            let e = path("$[").unwrap_err();
            assert!(!e.message.is_empty());
        }
        // The input budget still applies through the cache.
        let deep = format!("$[0]{}", "(".repeat(40));
        assert!(path(&deep).is_err());
    }
}
