//! File helpers: atomic writes (temp file in the same directory, then rename) and names that
//! are safe to use in paths.

use std::io::{self, Write};
use std::path::Path;

/// Write `bytes` to `path` atomically: readers see the old file or the new one, never half.
///
/// Not fsynced: every file conform writes (reports, snapshots, recordings) can be made again
/// by running again, and an fsync per file cost 10–60 ms each on a busy CI disk — most of a
/// run against a fast endpoint. Replace-by-rename still never exposes a half-written file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// `s` with every character other than ASCII letters, digits and those in `also` replaced by
/// `_` (target names, models and scenario ids turned into file names).
pub(crate) fn safe_name(s: &str, also: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || also.contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn safe_names_keep_only_what_is_allowed() {
        assert_eq!(
            super::safe_name("qwen3.7/plus:1 ü", "._-"),
            "qwen3.7_plus_1__"
        );
        assert_eq!(
            super::safe_name("basic/hello@sync", "._@-/"),
            "basic/hello@sync"
        );
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/r.md");
        super::write_atomic(&p, b"one").unwrap();
        super::write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }
}
