//! Which targets file a run reads when no `--target` names a table: `--config FILE` (every
//! target it defines), or `conform.toml` in the current directory when no other target is
//! given. Either is loaded and checked (unknown keys, a key in the file, `extends`) before
//! anything is sent, and the run's first line says where the targets come from.

use crate::target::{Config, Target};
use std::path::{Path, PathBuf};

/// The file read when `--config` is not given.
pub(crate) const DEFAULT_CONFIG: &str = "conform.toml";

/// The targets file: `--config`, else `conform.toml` in the current directory.
pub(crate) fn path(config: Option<&Path>) -> PathBuf {
    config.map_or_else(|| PathBuf::from(DEFAULT_CONFIG), Path::to_path_buf)
}

/// What the command line and the environment gave, besides `--target` and `--provider`.
pub(crate) struct Given<'a> {
    /// `--config FILE`.
    pub(crate) config: Option<&'a Path>,
    /// `--base-url` was given.
    pub(crate) base_url: bool,
    /// `--mock-fault` was given (the built-in server is asked for).
    pub(crate) mock_faults: bool,
    /// `ANTHROPIC_BASE_URL` is set.
    pub(crate) env_base_url: bool,
}

/// Every target of the file that applies, with the run's first line; `None` when no file
/// applies (then the SDK variables or the built-in server decide).
pub(crate) fn every_target(
    given: &Given<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Result<(Vec<Target>, String), String>> {
    if let Some(file) = given.config {
        if given.base_url {
            return Some(Err(format!(
                "--config {} and --base-url name different targets: give one or the other",
                file.display()
            )));
        }
        return Some(load_all(file, env).and_then(|(targets, names)| {
            if targets.is_empty() {
                return Err(format!(
                    "--config {}: the file defines no target (add a [targets.NAME] table; `conform init` writes one)",
                    file.display()
                ));
            }
            Ok((
                targets,
                format!(
                    "target: {names} from {} (every target of --config; --target NAME picks one)",
                    file.display()
                ),
            ))
        }));
    }
    let file = Path::new(DEFAULT_CONFIG);
    if given.base_url || given.mock_faults || !file.is_file() {
        return None;
    }
    match load_all(file, env) {
        Err(e) => Some(Err(format!(
            "{e} (conform.toml in the current directory is read when no target is given; pass --base-url, --provider or --mock-fault to use another target)"
        ))),
        // A file with only [providers] tables names no target.
        Ok((targets, _)) if targets.is_empty() => None,
        Ok((targets, names)) => {
            let mut line = format!(
                "target: {names} from conform.toml in the current directory (every target; --target NAME picks one, --config FILE reads another file)"
            );
            if given.env_base_url {
                line.push_str("; ANTHROPIC_BASE_URL is set but the file comes first");
            }
            Some(Ok((targets, line)))
        }
    }
}

/// Load, check and resolve every target of `file`; the targets and their names joined.
fn load_all(
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<Target>, String), String> {
    let config = Config::load(file).map_err(|e| e.to_string())?;
    let mut targets = Vec::new();
    for name in config.names() {
        targets.extend(config.resolve_with(&name, env).map_err(|e| e.to_string())?);
    }
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    let names = names.join(", ");
    Ok((targets, names))
}
