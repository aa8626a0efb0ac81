//! insta compatibility: files conform writes are byte for byte what insta's own writer
//! produces, and insta reads them back (`Snapshot::from_file`) with the same metadata and body.
//!
//! This binary holds a single test because it sets `INSTA_UPDATE` for the process before insta
//! reads its configuration.

use conform::snapshots::MetaData;
use conform::snapshots::SnapshotEnv;
use conform::snapshots::SnapshotFile;
use conform::snapshots::SnapshotStore;
use conform::snapshots::UpdateMode;
use serde_json::json;

#[derive(serde::Serialize)]
struct Info {
    target: String,
    model: String,
    feature: String,
}

const SOURCE: &str = "tests/snapshot_insta.rs";

fn ours(expression: &str, info: &Info, body: &str) -> String {
    SnapshotFile::new(
        MetaData {
            source: Some(SOURCE.to_string()),
            expression: Some(expression.to_string()),
            info: Some(serde_json::to_value(info).unwrap()),
            ..MetaData::default()
        },
        body,
    )
    .serialize()
}

#[test]
fn insta_and_conform_agree() {
    // SAFETY: set before any thread or insta call in this single-test binary.
    unsafe {
        std::env::set_var("INSTA_UPDATE", "always");
        std::env::set_var("INSTA_OUTPUT", "none");
    }
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "plain",
            "basic/hello@sync",
            Info {
                target: "reference".into(),
                model: "claude-sonnet-4-5".into(),
                feature: "basic".into(),
            },
            "{\n  \"id\": \"[id msg_…]\",\n  \"status\": 200\n}",
        ),
        (
            "quoted",
            "tools/forced-choice@stream",
            Info {
                target: "on".into(),
                model: "12".into(),
                feature: "a: b # c".into(),
            },
            "line with \"quotes\" and: colons\n  indented\n\n--- not a header\ntrailing   \n\n",
        ),
    ];
    for (name, expression, info, body) in &cases {
        let mut s = insta::Settings::clone_current();
        s.set_snapshot_path(dir.path());
        s.set_prepend_module_to_snapshot(false);
        s.set_info(info);
        s.bind(|| insta::assert_snapshot!(*name, *body, *expression));
        let theirs = std::fs::read_to_string(dir.path().join(format!("{name}.snap"))).unwrap();
        assert_eq!(ours(expression, info, body), theirs, "case {name}");
    }

    // Files written by the store read back with insta, pending and accepted alike.
    let root = dir.path().join("snapshots");
    let env = SnapshotEnv {
        update: UpdateMode::New,
        ci: false,
    };
    let store = SnapshotStore::new(&root, env);
    let info = json!({"target": "reference", "model": "m", "feature": "basic"});
    let body = "{\n  \"kind\": \"message\"\n}";
    let out = store
        .check(
            "reference",
            "basic/hello",
            "sync",
            "scenarios/anthropic/basic/hello.yaml",
            &info,
            body,
        )
        .unwrap();
    let pending = root.join("reference/basic/hello@sync.snap.new");
    assert_eq!(
        out.written,
        conform::snapshots::Written::Pending(pending.clone())
    );
    let snap = insta::Snapshot::from_file(&pending).unwrap();
    assert_eq!(
        snap.metadata().source(),
        Some("scenarios/anthropic/basic/hello.yaml")
    );
    assert_eq!(snap.metadata().expression(), Some("basic/hello@sync"));
    assert_eq!(snap.as_text().unwrap().to_string(), body);
    let info_back = format!("{:?}", snap.metadata().private_info().unwrap());
    assert!(
        info_back.contains("reference") && info_back.contains("basic"),
        "{info_back}"
    );

    // Accepted, it is a plain insta snapshot named after the scenario and mode.
    store.accept(None).unwrap();
    let accepted =
        insta::Snapshot::from_file(&root.join("reference/basic/hello@sync.snap")).unwrap();
    assert_eq!(accepted.snapshot_name(), Some("hello@sync"));
    assert_eq!(accepted.as_text().unwrap().to_string(), body);
    assert!(!pending.exists());

    // And our reader reads what insta wrote.
    let theirs = SnapshotFile::read(&dir.path().join("plain.snap")).unwrap();
    assert_eq!(
        theirs.metadata.expression.as_deref(),
        Some("basic/hello@sync")
    );
    assert_eq!(theirs.metadata.source.as_deref(), Some(SOURCE));
    assert_eq!(
        theirs.metadata.info,
        Some(json!({"target": "reference", "model": "claude-sonnet-4-5", "feature": "basic"}))
    );
    assert_eq!(theirs.contents, cases[0].3);
}
