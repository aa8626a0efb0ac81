//! Profiles parse, name real check ids, and mark results as documented only when every
//! notable finding is explained.

use super::*;
use crate::check::{CheckId, Finding};
use crate::report::model::ResultRecord;
use crate::verdict::Verdict;

fn record(scenario: &str, verdict: Verdict, checks: &[&str]) -> ResultRecord {
    ResultRecord {
        findings: checks
            .iter()
            .map(|c| Finding::new(CheckId::parse(c).unwrap(), "l", "m"))
            .collect(),
        ..ResultRecord::new(
            "t",
            scenario,
            scenario.split('/').next().unwrap(),
            crate::scenario::Mode::Sync,
            verdict,
        )
    }
}

#[test]
fn every_builtin_profile_parses_and_cites_its_docs() {
    let all = builtin();
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    for want in [
        "dashscope",
        "deepseek",
        "moonshot",
        "zai",
        "minimax",
        "openrouter",
        "ollama",
        "vllm",
        "llama.cpp",
        "litellm",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for p in &all {
        // A profile may list no deviation (none could be traced to its docs), but it always
        // cites the page its URL and auth come from.
        assert!(p.docs.starts_with("https://"), "{}: {}", p.name, p.docs);
        for d in &p.deviations {
            assert!(
                d.doc.starts_with("https://"),
                "{}/{}: {}",
                p.name,
                d.id,
                d.doc
            );
        }
        // Each claim says when its page was read (issue 25: "each claim with its URL and date").
        let dated = p
            .deviations
            .iter()
            .map(|d| (&d.id, &d.checked, &d.doc))
            .chain(p.supports.iter().map(|c| (&c.id, &c.checked, &c.doc)));
        for (id, checked, doc) in dated {
            assert!(doc.starts_with("https://"), "{}/{id}: {doc}", p.name);
            assert!(checked.is_some(), "{}/{id} has no `checked` date", p.name);
        }
    }
    let ds = all.iter().find(|p| p.name == "dashscope").unwrap();
    assert_eq!(
        ds.endpoints["mainland"],
        "https://dashscope.aliyuncs.com/apps/anthropic"
    );
    assert!(ds.models.contains(&"qwen3.7-plus".to_string()));
}

#[test]
fn a_result_is_documented_only_when_every_finding_is_explained() {
    let ds = builtin()
        .into_iter()
        .find(|p| p.name == "dashscope")
        .unwrap();
    let mut r = record(
        "stop-sequences/stop",
        Verdict::Ignored,
        &["effect.stop-sequences"],
    );
    assert_eq!(mark(&ds, &mut r), vec!["stop-reason-end-turn".to_string()]);
    assert!(r.documented);
    let mut r = record(
        "stop-sequences/stop",
        Verdict::Fail,
        &["effect.stop-sequences", "schema.message"],
    );
    assert!(mark(&ds, &mut r).is_empty());
    assert!(!r.documented);
    // The same check in a scenario the deviation does not name is not documented.
    let mut r = record("basic/hello", Verdict::Ignored, &["effect.stop-sequences"]);
    mark(&ds, &mut r);
    assert!(!r.documented);
}

#[test]
fn a_broken_claim_is_a_finding_and_the_table_says_so() {
    let ds = builtin()
        .into_iter()
        .find(|p| p.name == "dashscope")
        .unwrap();
    let mut bad = record("sampling/accepted", Verdict::Unsupported, &[]);
    mark(&ds, &mut bad);
    assert!(!bad.documented);
    assert!(
        bad.findings
            .iter()
            .any(|f| f.check == crate::check::catalogue::ids::PROVIDER_DOCUMENTED_CLAIM)
    );
    let mut stop = record(
        "stop-sequences/stop",
        Verdict::Ignored,
        &["effect.stop-sequences"],
    );
    mark(&ds, &mut stop);
    let t = table("t", &ds, &[bad, stop]);
    let row = |id: &str| t.rows.iter().find(|r| r.id == id).unwrap().status.clone();
    assert_eq!(row("top-k"), "contradicted");
    assert_eq!(row("stop-reason-end-turn"), "observed");
    assert_eq!(row("empty-thinking-signature"), "not-run");
}

#[test]
fn a_profile_naming_an_unknown_check_is_refused() {
    let text = r#"
name = "x"
title = "x"
docs = "https://x"
base_url = "http://127.0.0.1:1"
model = "m"
[[deviations]]
id = "d"
checks = ["effect.no-such-thing-at-all"]
note = "n"
doc = "https://x"
"#;
    let e = parse("x.toml", text).unwrap_err().to_string();
    assert!(e.contains("not a check id"), "{e}");
}

#[test]
fn accepted_auth_styles_and_versions_document_what_they_leave_out() {
    let text = r#"
name = "old"
title = "x"
docs = "https://x"
base_url = "http://127.0.0.1:1"
model = "m"
auth = "x-api-key"
auth_styles = ["x-api-key"]
versions = ["2023-06-01"]
"#;
    let p = super::parse("old.toml", text).unwrap();
    let mut r = record(
        "headers/preflight",
        Verdict::Fail,
        &["auth.style-rejected", "version.current-rejected"],
    );
    let used = mark(&p, &mut r);
    assert!(r.documented);
    assert_eq!(used, ["bearer-rejected", "version-2026-10-21-rejected"]);
    // A profile that accepts both says nothing about them.
    let both = super::parse(
        "both.toml",
        &text
            .replace(r#"["x-api-key"]"#, r#"["x-api-key", "bearer"]"#)
            .replace(r#"["2023-06-01"]"#, r#"["2023-06-01", "2026-10-21"]"#),
    )
    .unwrap();
    let mut r = record("headers/preflight", Verdict::Fail, &["auth.style-rejected"]);
    assert!(mark(&both, &mut r).is_empty());
    assert!(!r.documented);
    assert!(
        "2024-01-01"
            .parse::<crate::protocol::anthropic::wire::ApiVersion>()
            .is_err()
    );
    assert!(
        super::parse(
            "bad.toml",
            &text.replace(r#"["2023-06-01"]"#, r#"["2024-01-01"]"#)
        )
        .is_err()
    );
}

#[test]
fn a_checked_date_must_be_a_date() {
    let base = "name = \"p\"\ntitle = \"t\"\ndocs = \"https://x\"\nbase_url = \"https://x\"\nmodel = \"m\"\n";
    let with = |date: &str| {
        format!(
            "{base}[[deviations]]\nid = \"d\"\nnote = \"n\"\ndoc = \"https://x\"\nchecked = \"{date}\"\n"
        )
    };
    for good in ["2026-12-06", "2026-12"] {
        let p = parse("p.toml", &with(good)).expect(good);
        assert_eq!(p.deviations[0].checked.as_deref(), Some(good));
    }
    for bad in [
        "yesterday",
        "2026-13-01",
        "2026-12-32",
        "26-12-06",
        "2026-1-6",
    ] {
        let e = parse("p.toml", &with(bad)).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("p.toml: \"d\": checked = \"{bad}\" is not a date (YYYY-MM-DD or YYYY-MM)")
        );
    }
    // Left out: accepted (a profile of your own), and the report row carries none.
    assert_eq!(parse("p.toml", base).unwrap().deviations.len(), 0);
}
