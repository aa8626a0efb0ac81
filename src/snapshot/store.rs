//! A directory of snapshots: compare a result with its accepted snapshot, write pending
//! `.snap.new` files, accept, reject, list and prune.
//!
//! Layout: `<root>/<target>/<scenario-id>@<mode>.snap`. A scenario id's `/` separators become
//! nested directories (`basic/hello` → `<root>/reference/basic/hello@sync.snap`), so the tree
//! mirrors `scenarios/` and cargo-insta's recursive search for `*.snap.new` finds pending
//! files. Path components are restricted to `[A-Za-z0-9._-]` (other characters become `_`,
//! and `.`/`..` components are refused), so no name can escape the snapshot directory.
//!
//! Update behaviour follows insta's `INSTA_UPDATE` modes and its `CI` detection; the
//! environment is read once into a [`SnapshotEnv`], which tests build by hand.

use super::SnapshotError;
use super::file::{MetaData, SnapshotFile};
use crate::check::Finding;
use crate::check::catalogue::ids;
use crate::secrets::Redactor;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What to do with a snapshot that differs or does not exist yet (insta's `INSTA_UPDATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateMode {
    /// `new` outside CI, `no` in CI.
    #[default]
    Auto,
    /// Write `.snap.new` for review.
    New,
    /// Write `.snap` directly (accept).
    Always,
    /// `always` for snapshots that do not exist yet, `new` for changed ones.
    Unseen,
    /// Write nothing; just report.
    No,
    /// Rewrite `.snap` even when it matches.
    Force,
}

impl UpdateMode {
    pub(crate) fn parse(s: &str) -> Option<UpdateMode> {
        Some(match s {
            "" | "auto" => UpdateMode::Auto,
            "new" => UpdateMode::New,
            "always" | "1" => UpdateMode::Always,
            "unseen" => UpdateMode::Unseen,
            "no" => UpdateMode::No,
            "force" => UpdateMode::Force,
            _ => return None,
        })
    }
}

/// The environment that steers snapshot writes, read explicitly so tests can inject it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SnapshotEnv {
    pub update: UpdateMode,
    /// Running in CI: `auto` writes nothing.
    pub ci: bool,
}

impl SnapshotEnv {
    /// Read `INSTA_UPDATE`, `CI` and `TF_BUILD` the way insta does.
    pub fn from_process() -> Result<SnapshotEnv, SnapshotError> {
        let var = |k: &str| std::env::var(k).ok();
        SnapshotEnv::from_vars(var("INSTA_UPDATE"), var("CI"), var("TF_BUILD").is_some())
    }

    /// The same rules from given values (`None` = unset).
    pub fn from_vars(
        insta_update: Option<String>,
        ci: Option<String>,
        tf_build: bool,
    ) -> Result<SnapshotEnv, SnapshotError> {
        let update = match insta_update.as_deref() {
            None => UpdateMode::Auto,
            Some(s) => UpdateMode::parse(s).ok_or_else(|| {
                SnapshotError::Env(format!(
                    "INSTA_UPDATE={s:?} is not one of auto, new, always, unseen, no, force"
                ))
            })?,
        };
        let ci = match ci.as_deref() {
            Some("false") | Some("0") | Some("") => false,
            None => tf_build,
            Some(_) => true,
        };
        Ok(SnapshotEnv { update, ci })
    }
}

/// How a result compares with its accepted snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotStatus {
    Same,
    /// The unified diff, accepted (`-`) → new (`+`).
    Changed {
        diff: String,
    },
    /// No accepted snapshot existed.
    New,
}

/// What the store wrote for a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Nothing,
    /// A pending `.snap.new` for review.
    Pending(PathBuf),
    /// The `.snap` itself (update / `INSTA_UPDATE=always`).
    Accepted,
}

/// The result of [`SnapshotStore::check`].
#[derive(Debug, Clone)]
pub struct SnapshotOutcome {
    pub status: SnapshotStatus,
    /// The `.snap` path of this result.
    pub path: PathBuf,
    pub written: Written,
}

impl SnapshotOutcome {
    /// The finding to record: `should snapshot.changed` with the unified diff as `actual`
    /// (`info snapshot.updated` when the change was accepted by the update policy), or
    /// `info snapshot.new` for a first snapshot. None when it matches.
    pub fn finding(&self) -> Option<Finding> {
        let loc = self.path.display().to_string();
        let what_next = match &self.written {
            Written::Pending(p) => format!(
                "; review {} with `conform snapshots accept` or `cargo insta review`",
                p.display()
            ),
            Written::Accepted => "; the snapshot was updated".to_string(),
            Written::Nothing => "; no file written".to_string(),
        };
        match &self.status {
            SnapshotStatus::Same => None,
            // Accepting on purpose (`--update-snapshots`, `INSTA_UPDATE=always`) is not a
            // deviation: the change is recorded for the report, not held against the result.
            SnapshotStatus::Changed { diff } if self.written == Written::Accepted => Some(
                Finding::new(
                    ids::SNAPSHOT_UPDATED,
                    loc,
                    "the normalised response shape changed; the snapshot was updated",
                )
                .actual(diff.clone()),
            ),
            SnapshotStatus::Changed { diff } => Some(
                Finding::new(
                    ids::SNAPSHOT_CHANGED,
                    loc,
                    format!("the normalised response shape changed since the accepted snapshot{what_next}"),
                )
                .actual(diff.clone()),
            ),
            SnapshotStatus::New => Some(Finding::new(
                ids::SNAPSHOT_NEW,
                loc,
                format!("no accepted snapshot yet{what_next}"),
            )),
        }
    }
}

/// What a snapshot belongs to: `<target>/<scenario-id>@<mode>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotKey {
    pub target: String,
    pub scenario: String,
    pub mode: String,
}

impl std::fmt::Display for SnapshotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}@{}", self.target, self.scenario, self.mode)
    }
}

/// One snapshot file found in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: SnapshotKey,
    /// The `.snap` path (it may not exist when only a pending file does).
    pub path: PathBuf,
    pub accepted: bool,
    pub pending: bool,
}

impl Entry {
    pub fn pending_path(&self) -> PathBuf {
        pending_path(&self.path)
    }
}

/// A snapshot directory with its update policy.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    root: PathBuf,
    env: SnapshotEnv,
    /// `--update-snapshots`: accept every result.
    update: bool,
    /// The run's secrets: redacted from every snapshot written and every diff shown.
    redactor: Redactor,
}

impl SnapshotStore {
    pub fn new(root: impl Into<PathBuf>, env: SnapshotEnv) -> Self {
        SnapshotStore {
            root: root.into(),
            env,
            update: false,
            redactor: Redactor::default(),
        }
    }

    /// Redact the run's secrets (every encoded form, in keys and values) from every snapshot
    /// this store writes and every diff it reports.
    pub(crate) fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Accept every result as the new snapshot (`conform run --update-snapshots`).
    pub fn with_update(mut self, update: bool) -> Self {
        self.update = update;
        self
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The `.snap` path of a result.
    pub(crate) fn path_for(&self, key: &SnapshotKey) -> Result<PathBuf, SnapshotError> {
        let mut p = self.root.join(component(&key.target)?);
        let parts: Vec<&str> = key.scenario.split('/').collect();
        let (last, dirs) = parts.split_last().unwrap_or((&"", &[]));
        for d in dirs {
            p.push(component(d)?);
        }
        let file = component(&format!("{last}@{}", key.mode))?;
        p.push(format!("{file}.snap"));
        Ok(p)
    }

    /// The effective mode for this store.
    fn mode(&self) -> UpdateMode {
        if self.update {
            return UpdateMode::Always;
        }
        match self.env.update {
            UpdateMode::Auto if self.env.ci => UpdateMode::No,
            UpdateMode::Auto => UpdateMode::New,
            m => m,
        }
    }

    /// Compare `body` with the accepted snapshot of `(target, scenario_id, mode)` and write what
    /// the update policy asks for. `source` is the scenario file; `info` goes into the header
    /// (see [`super::SnapshotInfo`]).
    pub fn check(
        &self,
        target: &str,
        scenario_id: &str,
        mode: &str,
        source: &str,
        info: &Value,
        body: &str,
    ) -> Result<SnapshotOutcome, SnapshotError> {
        let key = SnapshotKey {
            target: target.to_string(),
            scenario: scenario_id.to_string(),
            mode: mode.to_string(),
        };
        let path = self.path_for(&key)?;
        let pending = pending_path(&path);
        let mut info = info.clone();
        super::normalise::redact_shape(&mut info, &self.redactor);
        let mut file = SnapshotFile::new(
            MetaData {
                source: Some(self.redactor.redact(source)),
                expression: Some(
                    self.redactor
                        .redact(&format!("{}@{}", key.scenario, key.mode)),
                ),
                info: Some(info),
                ..MetaData::default()
            },
            &self.redactor.redact(body),
        );
        // An accepted file from before the secret was known must not leak it into a diff.
        let old = match SnapshotFile::read_contents(&path) {
            Ok(contents) => Some(self.redactor.redact(&contents)),
            Err(SnapshotError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        // Steps only one side reached (an inconclusive case) say nothing either way: compare
        // the others, and keep every step either side reached.
        let reconciled = old
            .as_deref()
            .and_then(|o| super::unreached::reconcile(o, &file.contents));
        let compared = match reconciled {
            Some(r) => {
                let compare = r.compare;
                file.contents = r.keep;
                compare
            }
            None => file.contents.clone(),
        };
        let status = match &old {
            None => SnapshotStatus::New,
            Some(o) if *o == compared => SnapshotStatus::Same,
            Some(o) => SnapshotStatus::Changed {
                diff: super::unified_diff(
                    o,
                    &compared,
                    &format!("{} (accepted)", path.display()),
                    &format!("{} (new)", path.display()),
                ),
            },
        };
        let mode = self.mode();
        let written = match (&status, mode) {
            (SnapshotStatus::Same, UpdateMode::Force) => {
                file.write(&path, false)?;
                remove_if_exists(&pending)?;
                Written::Accepted
            }
            (SnapshotStatus::Same, UpdateMode::No) => Written::Nothing,
            // A step the accepted snapshot did not reach is filled in when unseen snapshots
            // are accepted.
            (SnapshotStatus::Same, UpdateMode::Always | UpdateMode::Unseen)
                if old.as_deref() != Some(file.contents.as_str()) =>
            {
                file.write(&path, false)?;
                remove_if_exists(&pending)?;
                Written::Accepted
            }
            (SnapshotStatus::Same, _) => {
                // A stale pending file from an earlier mismatch no longer applies.
                remove_if_exists(&pending)?;
                Written::Nothing
            }
            (_, UpdateMode::No) => Written::Nothing,
            (_, UpdateMode::Always | UpdateMode::Force)
            | (SnapshotStatus::New, UpdateMode::Unseen) => {
                file.write(&path, false)?;
                remove_if_exists(&pending)?;
                Written::Accepted
            }
            _ => {
                file.write(&pending, true)?;
                Written::Pending(pending)
            }
        };
        Ok(SnapshotOutcome {
            status,
            path,
            written,
        })
    }

    /// Every snapshot in the store (accepted and pending), sorted by key.
    pub fn list(&self) -> Result<Vec<Entry>, SnapshotError> {
        let mut found: std::collections::BTreeMap<SnapshotKey, Entry> = Default::default();
        if !self.root.exists() {
            return Ok(Vec::new());
        }
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let rd = std::fs::read_dir(&dir).map_err(|e| SnapshotError::io(&dir, e))?;
            for item in rd {
                let item = item.map_err(|e| SnapshotError::io(&dir, e))?;
                let p = item.path();
                let ft = item.file_type().map_err(|e| SnapshotError::io(&p, e))?;
                if ft.is_dir() {
                    stack.push(p);
                    continue;
                }
                let name = item.file_name().to_string_lossy().to_string();
                let (snap, is_pending) = if let Some(stem) = name.strip_suffix(".snap.new") {
                    (p.with_file_name(format!("{stem}.snap")), true)
                } else if name.ends_with(".snap") {
                    (p.clone(), false)
                } else {
                    continue;
                };
                let Some(key) = self.key_of(&snap) else {
                    continue;
                };
                let e = found.entry(key.clone()).or_insert(Entry {
                    key,
                    path: snap,
                    accepted: false,
                    pending: false,
                });
                if is_pending {
                    e.pending = true;
                } else {
                    e.accepted = true;
                }
            }
        }
        Ok(found.into_values().collect())
    }

    /// The pending snapshots whose key contains `filter` (all when None).
    pub(crate) fn pending(&self, filter: Option<&str>) -> Result<Vec<Entry>, SnapshotError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|e| e.pending && matches(&e.key, filter))
            .collect())
    }

    /// Accept pending snapshots: `X.snap.new` replaces `X.snap`. Returns what was accepted.
    pub fn accept(&self, filter: Option<&str>) -> Result<Vec<Entry>, SnapshotError> {
        let entries = self.pending(filter)?;
        for e in &entries {
            let pending = e.pending_path();
            let file = SnapshotFile::read(&pending)?;
            file.write(&e.path, false)?;
            remove_if_exists(&pending)?;
        }
        Ok(entries)
    }

    /// Reject pending snapshots: delete `X.snap.new`. Returns what was rejected.
    pub fn reject(&self, filter: Option<&str>) -> Result<Vec<Entry>, SnapshotError> {
        let entries = self.pending(filter)?;
        for e in &entries {
            remove_if_exists(&e.pending_path())?;
        }
        Ok(entries)
    }

    /// Remove the snapshots (accepted and pending) of every `(scenario, mode)` not in
    /// `existing`, for all targets. With `dry_run`, only report. Returns what was (or would
    /// be) removed. Empty directories left behind are removed too.
    pub fn prune(
        &self,
        existing: &BTreeSet<(String, String)>,
        dry_run: bool,
    ) -> Result<Vec<Entry>, SnapshotError> {
        // Compare in the on-disk spelling: names are sanitised when they become paths.
        let existing: BTreeSet<(String, String)> = existing
            .iter()
            .map(|(s, m)| (disk_name(s), disk_name(m)))
            .collect();
        let stale: Vec<Entry> = self
            .list()?
            .into_iter()
            .filter(|e| !existing.contains(&(e.key.scenario.clone(), e.key.mode.clone())))
            .collect();
        if !dry_run {
            for e in &stale {
                remove_if_exists(&e.path)?;
                remove_if_exists(&e.pending_path())?;
                let mut dir = e.path.parent();
                while let Some(d) = dir {
                    if d == self.root || std::fs::remove_dir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
            }
        }
        Ok(stale)
    }

    /// Recover the key from a `.snap` path under the root.
    fn key_of(&self, snap: &Path) -> Option<SnapshotKey> {
        let rel = snap.strip_prefix(&self.root).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        let (file, dirs) = parts.split_last()?;
        let (target, scenario_dirs) = dirs.split_first()?;
        let stem = file.strip_suffix(".snap")?;
        let (name, mode) = stem.rsplit_once('@')?;
        let mut scenario = scenario_dirs.join("/");
        if !scenario.is_empty() {
            scenario.push('/');
        }
        scenario.push_str(name);
        Some(SnapshotKey {
            target: target.clone(),
            scenario,
            mode: mode.to_string(),
        })
    }
}

fn matches(key: &SnapshotKey, filter: Option<&str>) -> bool {
    filter.is_none_or(|f| key.to_string().contains(f))
}

/// `X.snap` → `X.snap.new`.
pub fn pending_path(snap: &Path) -> PathBuf {
    let mut s = snap.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

fn remove_if_exists(p: &Path) -> Result<(), SnapshotError> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SnapshotError::io(p, e)),
    }
}

/// A name as it is spelled on disk: every character outside `[A-Za-z0-9._@-/]` becomes `_`.
fn disk_name(s: &str) -> String {
    crate::fsutil::safe_name(s, "._@-/")
}

/// A safe path component: `[A-Za-z0-9._@-]`, other characters become `_`.
fn component(s: &str) -> Result<String, SnapshotError> {
    let c = disk_name(s).replace('/', "_");
    if c.is_empty() || c == "." || c == ".." {
        return Err(SnapshotError::InvalidName(s.to_string()));
    }
    Ok(c)
}

#[cfg(test)]
mod tests;
