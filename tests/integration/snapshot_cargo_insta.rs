//! cargo-insta sees and accepts the pending snapshots conform writes (nested
//! `<target>/<scenario-id>@<mode>.snap.new`), and its accepted file is byte for byte the one
//! conform would write.
//!
//! Needs `cargo-insta` 1.49 on PATH (`cargo install cargo-insta --locked`, about a minute), so it
//! is ignored by default: run with `cargo test --test snapshot_cargo_insta -- --ignored`.

use conform::snapshots::SnapshotEnv;
use conform::snapshots::SnapshotFile;
use conform::snapshots::SnapshotStore;
use conform::snapshots::UpdateMode;
use serde_json::json;
use std::path::Path;
use std::process::Command;

fn cargo_insta(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("cargo")
        .arg("insta")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo insta {args:?} failed (is cargo-insta installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
#[ignore = "needs cargo-insta on PATH"]
fn cargo_insta_finds_and_accepts_conform_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    // cargo-insta 1.49 needs a Cargo.toml at the workspace root.
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();

    let store = SnapshotStore::new(
        dir.path().join("snapshots"),
        SnapshotEnv {
            update: UpdateMode::New,
            ci: false,
        },
    );
    let info = json!({"target": "reference", "model": "m", "feature": "basic"});
    let body = "{\n  \"status\": 200\n}";
    let out = store
        .check(
            "reference",
            "basic/hello",
            "sync",
            "scenarios/basic/hello.yaml",
            &info,
            body,
        )
        .unwrap();
    let pending = conform::snapshots::pending_path(&out.path);
    let ours = SnapshotFile::read(&pending).unwrap();

    let listed = cargo_insta(dir.path(), &["pending-snapshots", "--as-json"]);
    assert!(
        listed.contains("snapshots/reference/basic/hello@sync.snap"),
        "{listed}"
    );
    cargo_insta(dir.path(), &["accept"]);
    assert!(!pending.exists());
    let accepted = std::fs::read_to_string(&out.path).unwrap();
    assert_eq!(accepted, ours.serialize());
}
