//! The snapshot store: new → `.snap.new`; accept; changed → `.snap.new` and a finding; CI →
//! nothing written; `--update-snapshots` and `INSTA_UPDATE` modes; reject, list, prune; and the
//! `conform snapshots` command line.

use conform::Severity;
use conform::snapshots::SnapshotEnv;
use conform::snapshots::SnapshotStatus;
use conform::snapshots::SnapshotStore;
use conform::snapshots::UpdateMode;
use conform::snapshots::Written;
use conform::snapshots::pending_path;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn info() -> Value {
    json!({"target": "ref", "model": "m", "feature": "basic"})
}

fn env(update: UpdateMode, ci: bool) -> SnapshotEnv {
    SnapshotEnv { update, ci }
}

fn check(store: &SnapshotStore, scenario: &str, body: &str) -> conform::snapshots::SnapshotOutcome {
    store
        .check("ref", scenario, "sync", "scenarios/x.yaml", &info(), body)
        .unwrap()
}

#[test]
fn new_accept_same_changed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path(), env(UpdateMode::Auto, false));
    let snap = dir.path().join("ref/basic/hello@sync.snap");
    let pending = pending_path(&snap);

    let out = check(&store, "basic/hello", "{\n  \"a\": 1\n}");
    assert_eq!(out.status, SnapshotStatus::New);
    assert_eq!(out.path, snap);
    assert_eq!(out.written, Written::Pending(pending.clone()));
    assert!(pending.exists() && !snap.exists());
    let f = out.finding().unwrap();
    assert_eq!(
        (f.severity(), f.check.as_str()),
        (Severity::Info, "snapshot.new")
    );

    let accepted = store.accept(None).unwrap();
    assert_eq!(accepted.len(), 1);
    assert!(snap.exists() && !pending.exists());

    let out = check(&store, "basic/hello", "{\n  \"a\": 1\n}\n");
    assert_eq!(out.status, SnapshotStatus::Same);
    assert_eq!(out.written, Written::Nothing);
    assert!(out.finding().is_none());
    assert!(!pending.exists());

    let out = check(&store, "basic/hello", "{\n  \"a\": 2\n}");
    let SnapshotStatus::Changed { diff } = &out.status else {
        panic!("expected a change, got {:?}", out.status);
    };
    assert!(diff.contains("-  \"a\": 1\n+  \"a\": 2\n"), "{diff}");
    assert!(pending.exists());
    let f = out.finding().unwrap();
    assert_eq!(
        (f.severity(), f.check.as_str()),
        (Severity::Should, "snapshot.changed")
    );
    assert_eq!(f.actual.as_deref(), Some(diff.as_str()));
    // The accepted snapshot is untouched until accepted.
    assert!(std::fs::read_to_string(&snap).unwrap().contains("\"a\": 1"));

    // Back to the accepted shape: the stale pending file goes away.
    let out = check(&store, "basic/hello", "{\n  \"a\": 1\n}");
    assert_eq!(out.status, SnapshotStatus::Same);
    assert!(!pending.exists());
}

#[test]
fn ci_writes_nothing_and_update_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let ci = SnapshotStore::new(dir.path(), env(UpdateMode::Auto, true));
    let out = check(&ci, "a", "one");
    assert_eq!(out.status, SnapshotStatus::New);
    assert_eq!(out.written, Written::Nothing);
    assert!(out.finding().is_some());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // --update-snapshots accepts even in CI, and clears a pending file.
    let plain = SnapshotStore::new(dir.path(), env(UpdateMode::Auto, false));
    check(&plain, "a", "zero");
    let snap = dir.path().join("ref/a@sync.snap");
    assert!(pending_path(&snap).exists());
    let update = ci.clone().with_update(true);
    let out = check(&update, "a", "one");
    assert_eq!(out.written, Written::Accepted);
    assert!(snap.exists() && !pending_path(&snap).exists());

    // A change in CI: reported with its diff, no file written.
    let out = check(&ci, "a", "two");
    assert!(matches!(out.status, SnapshotStatus::Changed { .. }));
    assert_eq!(out.written, Written::Nothing);
    assert!(!pending_path(&snap).exists());
    assert!(
        std::fs::read_to_string(&snap)
            .unwrap()
            .ends_with("---\none\n")
    );
}

#[test]
fn insta_update_modes() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("ref/a@sync.snap");
    // always = accept
    let always = SnapshotStore::new(
        dir.path(),
        SnapshotEnv::from_vars(Some("always".into()), None, false).unwrap(),
    );
    assert_eq!(check(&always, "a", "one").written, Written::Accepted);
    assert!(
        std::fs::read_to_string(&snap)
            .unwrap()
            .ends_with("---\none\n")
    );
    // an accepted change is recorded, but not as a deviation
    let out = check(&always, "a", "one!");
    assert_eq!(out.written, Written::Accepted);
    let f = out.finding().unwrap();
    assert_eq!(
        (f.severity(), f.check.as_str()),
        (Severity::Info, "snapshot.updated")
    );
    assert!(f.actual.unwrap().contains("-one\n+one!\n"));
    check(&always, "a", "one");
    // no = report only
    let no = SnapshotStore::new(dir.path(), env(UpdateMode::No, false));
    assert_eq!(check(&no, "a", "two").written, Written::Nothing);
    // unseen: changed → pending, new → accepted
    let unseen = SnapshotStore::new(dir.path(), env(UpdateMode::Unseen, false));
    assert!(matches!(
        check(&unseen, "a", "two").written,
        Written::Pending(_)
    ));
    assert_eq!(check(&unseen, "b", "x").written, Written::Accepted);
    // new in CI still writes pending files (as insta does)
    let new_ci = SnapshotStore::new(dir.path(), env(UpdateMode::New, true));
    assert!(matches!(
        check(&new_ci, "c", "x").written,
        Written::Pending(_)
    ));
    // force rewrites even when the same
    let force = SnapshotStore::new(dir.path(), env(UpdateMode::Force, false));
    assert_eq!(check(&force, "b", "x").written, Written::Accepted);
}

#[test]
fn reject_list_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path(), env(UpdateMode::New, false));
    check(&store, "basic/hello", "1");
    check(&store, "tools/call", "1");
    store.accept(Some("basic/")).unwrap();
    let list = store.list().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list[0].accepted && !list[0].pending && list[0].key.scenario == "basic/hello");
    assert!(!list[1].accepted && list[1].pending && list[1].key.scenario == "tools/call");

    let rejected = store.reject(Some("nothing-matches")).unwrap();
    assert!(rejected.is_empty());
    let rejected = store.reject(None).unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(store.list().unwrap().len(), 1);

    check(&store, "tools/call", "1");
    check(&store, "odd/with space", "1");
    let keep: BTreeSet<(String, String)> = [
        ("basic/hello".to_string(), "sync".to_string()),
        ("odd/with space".to_string(), "sync".to_string()),
    ]
    .into();
    let would = store.prune(&keep, true).unwrap();
    assert_eq!(would.len(), 1);
    assert_eq!(store.list().unwrap().len(), 3);
    let removed = store.prune(&keep, false).unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].key.scenario, "tools/call");
    assert_eq!(store.list().unwrap().len(), 2);
    assert!(
        !dir.path().join("ref/tools").exists(),
        "empty directories are removed"
    );
}

fn conform(args: &[&str], dir: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn snapshots_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("snaps");
    let store = SnapshotStore::new(&root, env(UpdateMode::New, false));
    check(&store, "basic/hello", "1");
    check(&store, "stop/seq", "1");

    let (code, out) = conform(&["snapshots", "list", "--snapshots", "snaps"], dir.path());
    assert_eq!(code, 0);
    assert!(out.contains("pending  ref/basic/hello@sync  (new"), "{out}");
    assert!(out.contains("2 pending snapshot(s)"), "{out}");

    let (code, out) = conform(
        &["snapshots", "--snapshots", "snaps", "accept", "hello"],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("accepted ref/basic/hello@sync"), "{out}");
    assert!(root.join("ref/basic/hello@sync.snap").exists());

    let (code, out) = conform(&["snapshots", "reject", "--snapshots", "snaps"], dir.path());
    assert_eq!(code, 0);
    assert!(out.contains("rejected ref/stop/seq@sync"), "{out}");

    std::fs::write(dir.path().join("keep.txt"), "# existing\nstop/seq@sync\n").unwrap();
    let (code, out) = conform(
        &[
            "snapshots",
            "prune",
            "--snapshots",
            "snaps",
            "--keep",
            "keep.txt",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("removed ref/basic/hello@sync"), "{out}");
    assert!(!root.join("ref/basic/hello@sync.snap").exists());

    // prune without a scenario list prunes against the built-in library (nothing is left)
    check(&store, "stop/seq", "1");
    let (code, out) = conform(&["snapshots", "prune", "--snapshots", "snaps"], dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("removed ref/stop/seq@sync"), "{out}");
}
