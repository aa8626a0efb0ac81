//! File helpers: atomic writes (temp file in the same directory, then rename), names that
//! are safe to use in paths, and inputs read as what they claim to be.
//!
//! Every file conform reads as input (scenarios, fixtures, `conform.toml`, exchange files,
//! captured bodies) is opened with [`open_regular`] or read with [`read_regular`]: it must be a
//! regular file once symlinks are followed — a FIFO is refused before it is opened (opening one
//! would block until a writer comes), a device before a byte is read (`/dev/zero` never ends
//! and reports a length of 0) — and a whole-file read stops at its limit, counting the bytes
//! read rather than trusting the length the file system reports. [`check_inside`] tells whether
//! a path, symlinks followed, stays inside a directory.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// `path` opened for reading, when it is a regular file (symlinks followed). The type is
/// checked before opening (a FIFO would block the open) and again on the open file (the path
/// may have changed in between).
pub(crate) fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    let kind = |m: &std::fs::Metadata| -> io::Result<()> {
        if m.is_file() {
            return Ok(());
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", describe(m)),
        ))
    };
    kind(&std::fs::metadata(path)?)?;
    let f = std::fs::File::open(path)?;
    kind(&f.metadata()?)?;
    Ok(f)
}

/// What a file that is not a regular one is, for messages.
fn describe(m: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = m.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if m.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// The whole of `path`, a regular file of at most `limit` bytes (at most `limit + 1` bytes are
/// ever read).
pub(crate) fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let f = open_regular(path)?;
    let mut bytes = Vec::new();
    f.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// [`read_regular`] as UTF-8 text.
pub(crate) fn read_regular_string(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_regular(path, limit)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is not UTF-8: {e}"),
        )
    })
}

/// `path` with symlinks followed, when it stays inside `dir` (symlinks followed too); an error
/// that says where it leads otherwise.
pub(crate) fn check_inside(dir: &Path, path: &Path) -> io::Result<PathBuf> {
    let root = dir.canonicalize()?;
    let real = path.canonicalize()?;
    if real.starts_with(&root) {
        Ok(real)
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "it leads outside {} (to {}): refused",
                dir.display(),
                real.display()
            ),
        ))
    }
}

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
    fn inputs_must_be_regular_files_within_their_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(super::read_regular(&p, 5).unwrap(), b"12345");
        let e = super::read_regular(&p, 4).unwrap_err().to_string();
        assert!(e.contains("larger than 4 bytes"), "{e}");
        let e = super::read_regular(dir.path(), 10).unwrap_err().to_string();
        assert!(e.contains("not a regular file (a directory)"), "{e}");
        #[cfg(unix)]
        {
            let z = dir.path().join("z.yaml");
            std::os::unix::fs::symlink("/dev/zero", &z).unwrap();
            let e = super::read_regular(&z, 10).unwrap_err().to_string();
            assert!(e.contains("a device"), "{e}");
        }
    }

    #[test]
    fn a_path_leading_outside_its_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("in");
        std::fs::create_dir(&inner).unwrap();
        std::fs::write(dir.path().join("secret"), b"x").unwrap();
        std::fs::write(inner.join("ok"), b"x").unwrap();
        assert!(super::check_inside(&inner, &inner.join("ok")).is_ok());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), inner.join("link")).unwrap();
            let e = super::check_inside(&inner, &inner.join("link"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("leads outside"), "{e}");
        }
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
