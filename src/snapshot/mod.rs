//! Snapshots: the normalised shape of each result, stored as insta-compatible `.snap` files
//! and diffed against the accepted one (the pipeline's snapshot stage, issue 6).
//!
//! * [`normalise`] turns an exchange and its validation into a shape with typed placeholders,
//!   [`render`] into the canonical text that is a snapshot's body;
//! * [`unreached`] marks the steps an `inconclusive` case did not reach, which compare equal
//!   either way;
//! * [`file`] reads and writes insta's on-disk format byte for byte;
//! * [`store`] compares with `<dir>/<target>/<scenario-id>@<mode>.snap`, writes pending
//!   `.snap.new` files per the `INSTA_UPDATE` / `CI` policy, and accepts, rejects, lists and
//!   prunes;
//! * [`cli`] is `conform snapshots accept|reject|list|prune`.
//!
//! A typical run step:
//! ```no_run
//! # use conform::snapshots::*;
//! # fn f(x: &conform::Exchange, v: &conform::judge::Validation) -> Result<(), Box<dyn std::error::Error>> {
//! let store = SnapshotStore::new("snapshots", SnapshotEnv::from_process()?);
//! let body = render(&normalise(x, v, &[]));
//! let info = serde_json::json!({"target": "reference", "model": "m", "feature": "basic"});
//! let out = store.check("reference", "basic/hello", "sync", "scenarios/basic/hello.yaml", &info, &body)?;
//! if let Some(finding) = out.finding() { /* add to the result's findings */ }
//! # Ok(()) }
//! ```

pub(crate) mod cli;
pub(crate) mod file;
pub(crate) mod normalise;
pub(crate) mod store;
pub(crate) mod unreached;
mod varies;

pub(crate) use cli::SnapshotsArgs;
pub(crate) use file::SnapshotFile;
pub(crate) use normalise::{normalise_pinned, render};
pub(crate) use store::{SnapshotEnv, SnapshotStatus, SnapshotStore};
pub(crate) use unreached::NOT_REACHED;

use std::path::{Path, PathBuf};

/// Errors of snapshot files and directories.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a snapshot file: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{0}")]
    Env(String),
    #[error("`{0}` cannot be used as a snapshot path component")]
    InvalidName(String),
}

impl SnapshotError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SnapshotError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A unified diff of two snapshot bodies (three lines of context), `old` → `new`.
pub(crate) fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let old = format!("{old}\n");
    let new = format!("{new}\n");
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn diff_marks_changed_lines() {
        let d = super::unified_diff("a\nb\nc", "a\nB\nc", "old", "new");
        assert!(d.starts_with("--- old\n+++ new\n"), "{d}");
        assert!(d.contains("-b\n+B\n"), "{d}");
        assert_eq!(super::unified_diff("a", "a", "o", "n"), "");
    }
}
