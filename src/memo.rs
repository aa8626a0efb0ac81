//! A bounded, thread-safe memo of compiled forms keyed by their source text: patterns from
//! scenario files (`scenario::compiled`) and user JSON Schemas from requests
//! (`protocol::anthropic::schema::validate_against`).
//!
//! Compiling is what costs (a regex build, a JSONPath parse, a JSON Schema compile); the same
//! few sources are evaluated against every response of a run. Failures are remembered too,
//! with their message. A memo holds at most its bound; past that a source is compiled each
//! time it is asked for, so hostile input cannot grow it without limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// What a memo holds for one source: the compiled form, shared, or why it did not compile.
pub(crate) type Entry<T, E> = Result<Arc<T>, E>;

pub(crate) struct Memo<T, E> {
    bound: usize,
    map: Mutex<HashMap<String, Entry<T, E>>>,
}

impl<T, E: Clone> Memo<T, E> {
    /// A memo of at most `bound` sources.
    pub(crate) fn new(bound: usize) -> Self {
        Memo {
            bound,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The compiled form of `source`, compiled by `compile` the first time.
    pub(crate) fn get_or_compile(
        &self,
        source: &str,
        compile: impl FnOnce(&str) -> Result<T, E>,
    ) -> Entry<T, E> {
        if let Some(hit) = self.lock().get(source) {
            return hit.clone();
        }
        // Compiled outside the lock: two threads may both compile a new source, once each.
        let entry = compile(source).map(Arc::new);
        let mut map = self.lock();
        if map.len() < self.bound {
            map.insert(source.to_string(), entry.clone());
        }
        entry
    }

    /// The map, also after a panic elsewhere poisoned the lock (an insert is one call, so no
    /// entry is ever half written).
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry<T, E>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_compiled_once_and_shared() {
        let memo: Memo<String, String> = Memo::new(8);
        let mut calls = 0;
        let a = memo
            .get_or_compile("x", |s| {
                calls += 1;
                Ok(s.to_uppercase())
            })
            .unwrap();
        let b = memo.get_or_compile("x", |_| unreachable!()).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!((calls, a.as_str()), (1, "X"));
        let e = memo.get_or_compile("bad", |_| Err("no".to_string()));
        assert_eq!(e.unwrap_err(), "no");
        assert_eq!(
            memo.get_or_compile("bad", |_| unreachable!()).unwrap_err(),
            "no"
        );
    }

    #[test]
    fn past_the_bound_sources_still_compile_but_are_not_kept() {
        let memo: Memo<String, String> = Memo::new(4);
        for i in 0..10 {
            let key = format!("k{i}");
            let got = memo.get_or_compile(&key, |t| Ok(t.to_uppercase())).unwrap();
            assert_eq!(*got, key.to_uppercase());
        }
        assert_eq!(memo.len(), 4);
    }
}
