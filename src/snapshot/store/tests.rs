//! Unit tests of `store`.

use super::*;

#[test]
fn env_rules() {
    let e = SnapshotEnv::from_vars(None, None, false).unwrap();
    assert_eq!(e, SnapshotEnv::default());
    assert!(
        SnapshotEnv::from_vars(None, Some("true".into()), false)
            .unwrap()
            .ci
    );
    assert!(
        !SnapshotEnv::from_vars(None, Some("0".into()), true)
            .unwrap()
            .ci
    );
    assert!(SnapshotEnv::from_vars(None, None, true).unwrap().ci);
    assert_eq!(
        SnapshotEnv::from_vars(Some("always".into()), None, false)
            .unwrap()
            .update,
        UpdateMode::Always
    );
    assert!(SnapshotEnv::from_vars(Some("yes".into()), None, false).is_err());
}

#[test]
fn paths_nest_and_round_trip() {
    let s = SnapshotStore::new("/tmp/snaps", SnapshotEnv::default());
    let k = SnapshotKey {
        target: "reference".into(),
        scenario: "tools/forced choice".into(),
        mode: "stream".into(),
    };
    let p = s.path_for(&k).unwrap();
    assert_eq!(
        p,
        Path::new("/tmp/snaps/reference/tools/forced_choice@stream.snap")
    );
    let back = s.key_of(&p).unwrap();
    assert_eq!(back.scenario, "tools/forced_choice");
    assert_eq!(
        pending_path(&p),
        Path::new("/tmp/snaps/reference/tools/forced_choice@stream.snap.new")
    );
    let bad = SnapshotKey {
        target: "..".into(),
        ..k
    };
    assert!(s.path_for(&bad).is_err());
}

#[test]
fn the_key_echoed_in_kept_strings_and_keys_never_reaches_a_snap_file() {
    use crate::exchange::{Chunk, Exchange, RecordedRequest, RecordedResponse};
    use crate::protocol::anthropic::judge::{Options, judge_exchange};
    use base64::Engine as _;
    const CANARY: &str = "sk-canary-snap-0123456789";
    let b64 = base64::engine::general_purpose::STANDARD.encode(CANARY);
    let body = serde_json::json!({
        "id": "msg_1", "type": "message", "role": "assistant",
        "model": format!("echo {CANARY}"),
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "stop_sequence", "stop_sequence": CANARY,
        "usage": {"input_tokens": 1, "output_tokens": 1},
        "extra": {CANARY: 1, format!("b64 {b64}"): {"name": CANARY}}
    })
    .to_string();
    let x = Exchange {
        label: "t".into(),
        request: RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:1/v1/messages".into(),
            headers: vec![],
            body: None,
        },
        response: Some(RecordedResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            head_ms: 1.0,
            chunks: vec![Chunk::new(1.0, body.as_bytes())],
            total_ms: 2.0,
        }),
        retries: vec![],
        transport: None,
    };
    // A pinned stop_sequence is kept verbatim (an unpinned one is a placeholder anyway).
    let shape = crate::snapshot::normalise_pinned(
        &x,
        &judge_exchange(&x, Options::default()).validation,
        &[],
        &["stop_sequence".to_string()],
    );
    let text = crate::snapshot::render(&shape);
    // Without a redactor the kept strings and keys carry the key: the test is meaningful.
    assert!(text.contains(CANARY) && text.contains(&b64), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let redactor = Redactor::new(vec![CANARY.to_string()]);
    let info = serde_json::json!({"target": "t", "model": CANARY, "feature": "basic"});
    for update in [UpdateMode::New, UpdateMode::Always] {
        let store = SnapshotStore::new(dir.path(), SnapshotEnv { update, ci: false })
            .with_redactor(redactor.clone());
        let out = store
            .check("t", "basic/echo", "sync", "scenarios/x.yaml", &info, &text)
            .unwrap();
        let written = match &out.written {
            Written::Pending(p) => p.clone(),
            Written::Accepted => out.path.clone(),
            Written::Nothing => panic!("nothing written"),
        };
        let file = std::fs::read_to_string(&written).unwrap();
        assert!(!file.contains(CANARY) && !file.contains(&b64), "{file}");
        assert!(file.contains("[REDACTED]"), "{file}");
        assert!(file.contains("\"stop_sequence\": \"[REDACTED]\""), "{file}");
    }
    // A snapshot accepted before the key was known does not leak it into a diff.
    let snap = dir.path().join("t/basic/echo@sync.snap");
    std::fs::write(
        &snap,
        format!("---\nsource: x\n---\n{{\"old\": \"{CANARY}\"}}\n"),
    )
    .unwrap();
    let store = SnapshotStore::new(
        dir.path(),
        SnapshotEnv {
            update: UpdateMode::New,
            ci: false,
        },
    )
    .with_redactor(redactor.clone());
    let out = store
        .check("t", "basic/echo", "sync", "scenarios/x.yaml", &info, &text)
        .unwrap();
    let SnapshotStatus::Changed { diff } = &out.status else {
        panic!("{:?}", out.status)
    };
    assert!(!diff.contains(CANARY), "{diff}");
    // redact_shape reaches keys and values at any depth, keeping colliding keys apart.
    let mut deep = serde_json::json!({CANARY: [{CANARY: "x"}], format!("{CANARY} "): 1});
    for _ in 0..10_000 {
        deep = serde_json::Value::Array(vec![deep]);
    }
    crate::snapshot::normalise::redact_shape(&mut deep, &redactor);
    let mut v = &deep;
    while let serde_json::Value::Array(a) = v {
        v = &a[0];
    }
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| !k.contains(CANARY)), "{keys:?}");
    assert_eq!(v[REDACTED_KEY][0][REDACTED_KEY], "x");
    // Drop the deep value without recursion.
    let mut stack = vec![deep];
    while let Some(v) = stack.pop() {
        if let serde_json::Value::Array(a) = v {
            stack.extend(a);
        }
    }
}

const REDACTED_KEY: &str = crate::secrets::REDACTED;

#[test]
fn steps_a_case_did_not_reach_never_make_a_snapshot_pending() {
    use crate::snapshot::unreached::NOT_REACHED;
    let dir = tempfile::tempdir().unwrap();
    let body = |answer: serde_json::Value| {
        crate::snapshot::render(
            &serde_json::json!({"steps": {"call": {"status": 200}, "answer": answer}}),
        )
    };
    let partial = body(serde_json::Value::from(NOT_REACHED));
    let full = body(serde_json::json!({"status": 200}));
    let changed = crate::snapshot::render(
        &serde_json::json!({"steps": {"call": {"status": 500}, "answer": {"status": 200}}}),
    );
    let info = serde_json::json!({});
    let store = |update| {
        SnapshotStore::new(
            dir.path(),
            SnapshotEnv::from_vars(None, Some("0".into()), false).unwrap(),
        )
        .with_update(update)
    };
    let check = |update, b: &str| {
        store(update)
            .check("t", "s/x", "sync", "x.yaml", &info, b)
            .unwrap()
    };
    let accepted = || SnapshotFile::read_contents(&dir.path().join("t/s/x@sync.snap")).unwrap();
    // The baseline's model left the case inconclusive: the partial shape is accepted.
    assert_eq!(check(true, &partial).status, SnapshotStatus::New);
    // A later run reaches the step: same, nothing pending, the accepted file untouched.
    let out = check(false, &full);
    assert_eq!(
        (out.status.clone(), out.written.clone()),
        (SnapshotStatus::Same, Written::Nothing)
    );
    assert_eq!(accepted(), partial);
    // A step both reached is still compared; the pending file carries every step.
    let out = check(false, &changed);
    assert!(
        matches!(out.status, SnapshotStatus::Changed { .. }),
        "{out:?}"
    );
    let pending = SnapshotFile::read_contents(&pending_path(&out.path)).unwrap();
    assert_eq!(pending, changed);
    // Accepting fills the step in (and clears the pending file) …
    let out = check(true, &full);
    assert_eq!(
        (out.status.clone(), out.written.clone()),
        (SnapshotStatus::Same, Written::Accepted)
    );
    assert!(out.finding().is_none());
    assert_eq!(accepted(), full);
    assert!(!pending_path(&out.path).exists());
    // … and a run that stops earlier keeps it.
    let out = check(true, &partial);
    assert_eq!(
        (out.status.clone(), out.written.clone()),
        (SnapshotStatus::Same, Written::Nothing)
    );
    assert_eq!(accepted(), full);
}
