//! The built-in scenario library: `scenarios/anthropic/**` and `scenarios/fixtures/**`,
//! embedded in the binary by `build.rs`, so `conform run` works from any directory.
//!
//! Embedded files keep their repository paths as virtual paths (`scenarios/anthropic/...`), so
//! diagnostics still read `file:line:col`. Fixtures are read by the template engine from a
//! directory; the embedded ones are written once to a content-addressed directory under the
//! system temp directory (checked byte for byte before each use, so a stale or tampered copy
//! is never used).
//!
//! [`load_library`] decides what a run uses: the built-in library, a directory that replaces
//! it, or the built-in library with a directory's scenarios added (same id: the directory's
//! file wins).

use super::diagnostics::{Diagnostic, Pos};
use super::load;
use super::model::Scenario;
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

/// Every embedded library file: `(virtual path, bytes)`, sorted by path.
pub(crate) fn files() -> &'static [(&'static str, &'static [u8])] {
    embedded::LIBRARY
}

/// Every embedded provider profile: `(virtual path, bytes)`, sorted by path.
pub(crate) fn provider_files() -> &'static [(&'static str, &'static [u8])] {
    embedded::PROVIDERS
}

const SCENARIO_PREFIX: &str = "scenarios/anthropic/";
const FIXTURE_PREFIX: &str = "scenarios/fixtures/";

fn is_scenario(path: &str) -> bool {
    path.starts_with(SCENARIO_PREFIX) && (path.ends_with(".yaml") || path.ends_with(".yml"))
}

/// A cheap, stable content hash (FNV-1a, 64 bits) naming the fixtures directory.
fn fnv(parts: impl Iterator<Item = (&'static str, &'static [u8])>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, bytes) in parts {
        for b in name.bytes().chain([0]).chain(bytes.iter().copied()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn fixtures() -> impl Iterator<Item = (&'static str, &'static [u8])> + Clone {
    files()
        .iter()
        .filter_map(|(p, b)| p.strip_prefix(FIXTURE_PREFIX).map(|n| (n, *b)))
}

fn matches_on_disk(dir: &Path) -> bool {
    fixtures().all(|(name, bytes)| std::fs::read(dir.join(name)).is_ok_and(|b| b == bytes))
}

/// The directory holding the embedded fixtures, written on first use.
pub(crate) fn fixtures_dir() -> std::io::Result<PathBuf> {
    static DIR: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| materialise_fixtures().map_err(|e| e.to_string()))
        .clone()
        .map_err(std::io::Error::other)
}

fn materialise_fixtures() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    let dir = base.join(format!(
        "conform-{}-fixtures-{:016x}",
        env!("CARGO_PKG_VERSION"),
        fnv(fixtures())
    ));
    if matches_on_disk(&dir) {
        return Ok(dir);
    }
    // Write a complete copy beside it, then move it into place (another process may race).
    let staging = tempfile::Builder::new()
        .prefix("conform-fixtures-")
        .tempdir_in(&base)?;
    write_files(staging.path(), fixtures())?;
    let staged = staging.keep();
    if std::fs::rename(&staged, &dir).is_err() {
        // The name is taken: by a good copy (another process won), or by something else, in
        // which case this process uses its own private copy.
        if matches_on_disk(&dir) {
            let _ = std::fs::remove_dir_all(&staged);
            return Ok(dir);
        }
        return Ok(staged);
    }
    Ok(dir)
}

fn write_files<'a>(
    dir: &Path,
    files: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> std::io::Result<usize> {
    let mut n = 0;
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        n += 1;
    }
    Ok(n)
}

/// Load the built-in scenarios (diagnostics carry their virtual paths).
pub(crate) fn load_builtin() -> (Vec<Scenario>, Vec<Diagnostic>) {
    let fixtures = match fixtures_dir() {
        Ok(d) => Some(d),
        Err(e) => {
            let d = Diagnostic::error(
                Path::new(FIXTURE_PREFIX),
                None,
                Pos::UNKNOWN,
                format!(
                    "cannot write the built-in fixtures to {}: {e}",
                    std::env::temp_dir().display()
                ),
            )
            .hint("set TMPDIR to a writable directory");
            return (Vec::new(), vec![d]);
        }
    };
    let files: Vec<_> = files().iter().filter(|(p, _)| is_scenario(p)).collect();
    // Parsed on parse-stack threads (one per core), not a thread per file.
    let loaded = load::map_on_parse_stacks(&files, |(path, bytes)| {
        let file = Path::new(path);
        match std::str::from_utf8(bytes) {
            Ok(text) => load::load_text_with_fixtures(file, text, fixtures.clone()),
            Err(_) => (
                None,
                vec![Diagnostic::error(
                    file,
                    None,
                    Pos::UNKNOWN,
                    "the file is not UTF-8",
                )],
            ),
        }
    });
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut diagnostics = Vec::new();
    for (scenario, diags) in loaded {
        diagnostics.extend(diags);
        scenarios.extend(scenario);
    }
    (scenarios, diagnostics)
}

/// Where a run's scenarios come from, for the run's first lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The library embedded in the binary.
    Builtin,
    /// A directory that replaces the built-in library (`./scenarios` of a checkout or of an
    /// exported library, or `--scenarios DIR --no-builtin`).
    Dir(PathBuf),
    /// The built-in library with a directory's scenarios added or overriding by id.
    BuiltinPlus {
        dir: PathBuf,
        added: usize,
        overridden: usize,
    },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Builtin => f.write_str("the built-in library"),
            Source::Dir(d) => write!(f, "{}", d.display()),
            Source::BuiltinPlus {
                dir,
                added,
                overridden,
            } => write!(
                f,
                "the built-in library + {} ({added} added, {overridden} overridden)",
                dir.display()
            ),
        }
    }
}

/// The scenarios of a run: `extra` (`--scenarios DIR`) added to the built-in library or
/// overriding it by id; with `only_extra`, `extra` alone. Without `extra`, `./scenarios` when it
/// exists (a checkout, or a library exported for editing), else the built-in library.
pub(crate) fn load_library(
    extra: Option<&Path>,
    only_extra: bool,
) -> Result<(Vec<Scenario>, Vec<Diagnostic>, Source), String> {
    let local = Path::new(super::DEFAULT_DIR);
    let dir = match extra {
        Some(d) => d,
        None if local.is_dir() => local,
        None => {
            let (s, d) = load_builtin();
            return Ok((s, d, Source::Builtin));
        }
    };
    if !dir.exists() {
        return Err(format!(
            "scenario directory {} not found (without --scenarios the built-in library is used; `conform scenarios export DIR` writes it out)",
            dir.display()
        ));
    }
    let (own, mut diagnostics) = load::load_dir(dir);
    if extra.is_none() || only_extra {
        return Ok((own, diagnostics, Source::Dir(dir.to_path_buf())));
    }
    let (mut scenarios, builtin_diags) = load_builtin();
    diagnostics.extend(builtin_diags);
    let (mut added, mut overridden) = (0, 0);
    for s in own {
        match scenarios.iter_mut().find(|b| b.id() == s.id()) {
            Some(b) => {
                *b = s;
                overridden += 1;
            }
            None => {
                scenarios.push(s);
                added += 1;
            }
        }
    }
    let source = Source::BuiltinPlus {
        dir: dir.to_path_buf(),
        added,
        overridden,
    };
    Ok((scenarios, diagnostics, source))
}

/// Write the built-in library into `dir` (`DIR/anthropic/...`, `DIR/fixtures/...`), ready for
/// `conform run --scenarios DIR`. Existing files are left alone unless `force`; the error
/// names the first one.
pub(crate) fn export(dir: &Path, force: bool) -> Result<usize, String> {
    let entries = || {
        files()
            .iter()
            .filter_map(|(p, b)| p.strip_prefix("scenarios/").map(|n| (n, *b)))
    };
    if !force && let Some((name, _)) = entries().find(|(n, _)| dir.join(n).exists()) {
        return Err(format!(
            "{} already exists; remove it or pass --force to overwrite",
            dir.join(name).display()
        ));
    }
    write_files(dir, entries()).map_err(|e| format!("cannot write to {}: {e}", dir.display()))
}
