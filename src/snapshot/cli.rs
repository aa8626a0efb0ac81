//! `conform snapshots accept|reject|list|prune`: manage pending and stale snapshots without
//! cargo-insta (which works on the same files too).

use super::store::{Entry, SnapshotEnv, SnapshotStore};
use super::{SnapshotError, SnapshotFile, unified_diff};
use crate::exit;
use clap::{Args, Subcommand};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct SnapshotsArgs {
    /// The snapshot directory.
    #[arg(long, global = true, default_value = "snapshots", value_name = "DIR")]
    pub snapshots: PathBuf,
    #[command(subcommand)]
    pub action: SnapshotsAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotsAction {
    /// Accept pending snapshots (`X.snap.new` replaces `X.snap`).
    Accept {
        /// Only those whose `target/scenario@mode` contains this text.
        filter: Option<String>,
    },
    /// Reject pending snapshots (delete `X.snap.new`).
    Reject {
        /// Only those whose `target/scenario@mode` contains this text.
        filter: Option<String>,
    },
    /// List pending snapshots (with --all, accepted ones too).
    List {
        /// Also list accepted snapshots with nothing pending.
        #[arg(long)]
        all: bool,
        /// Print the diff of each pending snapshot against the accepted one.
        #[arg(long)]
        diff: bool,
    },
    /// Remove snapshots of scenarios (or modes) that no longer exist.
    Prune {
        /// A file listing the existing `scenario-id@mode` pairs, one per line.
        #[arg(long, value_name = "FILE")]
        keep: Option<PathBuf>,
        /// Only print what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Like [`run_cli`], with a source of the existing `(scenario-id, mode)` pairs for `prune`
/// when `--keep` is not given.
pub(crate) fn run_cli_with(
    args: &SnapshotsArgs,
    existing: &dyn Fn() -> Result<BTreeSet<(String, String)>, String>,
) -> i32 {
    // The environment does not matter for accept/reject/list/prune: they never compare.
    let store = SnapshotStore::new(&args.snapshots, SnapshotEnv::default());
    let result = match &args.action {
        SnapshotsAction::Accept { filter } => store
            .accept(filter.as_deref())
            .map(|e| report(&e, "accepted", filter.as_deref())),
        SnapshotsAction::Reject { filter } => store
            .reject(filter.as_deref())
            .map(|e| report(&e, "rejected", filter.as_deref())),
        SnapshotsAction::List { all, diff } => list(&store, *all, *diff),
        SnapshotsAction::Prune { keep, dry_run } => {
            let set = match keep {
                Some(path) => read_keep(path),
                None => existing(),
            };
            match set {
                Ok(set) => store.prune(&set, *dry_run).map(|e| {
                    let verb = if *dry_run { "would remove" } else { "removed" };
                    for x in &e {
                        println!("{verb} {}", x.key);
                    }
                    println!("{verb} {} snapshot(s)", e.len());
                }),
                Err(msg) => {
                    eprintln!("error: conform snapshots prune: {msg}");
                    return exit::USAGE;
                }
            }
        }
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
    }
}

fn report(entries: &[Entry], verb: &str, filter: Option<&str>) {
    if entries.is_empty() {
        match filter {
            Some(f) => println!("no pending snapshots match `{f}`"),
            None => println!("no pending snapshots"),
        }
        return;
    }
    for e in entries {
        println!("{verb} {}", e.key);
    }
    println!("{verb} {} snapshot(s)", entries.len());
}

fn list(store: &SnapshotStore, all: bool, diff: bool) -> Result<(), SnapshotError> {
    let entries = store.list()?;
    let mut pending = 0;
    for e in &entries {
        if e.pending {
            pending += 1;
            let what = if e.accepted { "changed" } else { "new" };
            println!(
                "pending  {}  ({what}: {})",
                e.key,
                e.pending_path().display()
            );
            if diff {
                let new = SnapshotFile::read(&e.pending_path())?;
                let old = if e.accepted {
                    SnapshotFile::read(&e.path)?.contents
                } else {
                    String::new()
                };
                print!(
                    "{}",
                    crate::text::visible(&unified_diff(&old, &new.contents, "accepted", "pending"))
                );
            }
        } else if all {
            println!("accepted {}", e.key);
        }
    }
    println!(
        "{pending} pending snapshot(s) in {}",
        store.root().display()
    );
    Ok(())
}

fn read_keep(path: &Path) -> Result<BTreeSet<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut set = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((scenario, mode)) = line.rsplit_once('@') else {
            return Err(format!(
                "{}:{}: expected `scenario-id@mode`, got `{line}`",
                path.display(),
                n + 1
            ));
        };
        set.insert((scenario.to_string(), mode.to_string()));
    }
    Ok(set)
}
