//! Unit tests of `target`.

use super::*;

const FILE: &str = r#"
[targets.dashscope]
base_url = "https://dashscope.aliyuncs.com/apps/anthropic/"
api_key_env = "DASHSCOPE_API_KEY"
model = "qwen3.7-plus"
headers = { "x-trace" = "parent", "Anthropic-Version" = "2023-01-01" }
expect_unsupported = ["video", "tools/*-parallel"]
rpm = 30
idle_timeout_ms = 5000

[targets.dashscope-deepseek]
extends = "dashscope"
model = "deepseek-v4-pro"
auth = "bearer"
headers = { "X-Trace" = "child", "x-extra" = "1" }

[targets.compare]
extends = "dashscope"
models = ["a/b:1", "c"]

[targets.local]
base_url = "http://127.0.0.1:8080"
model = "mock"
"#;

fn env(var: &str) -> Option<String> {
    (var == "DASHSCOPE_API_KEY").then(|| "sk-canary-0123456789".to_string())
}

fn config(text: &str) -> Result<Config, TargetError> {
    Config::parse(text, Path::new("conform.toml"))
}

fn one(c: &Config, name: &str) -> Target {
    let mut ts = c.resolve_with(name, &env).unwrap();
    assert_eq!(ts.len(), 1);
    ts.remove(0)
}

#[test]
fn resolves_a_target_with_defaults_and_env_key() {
    let c = config(FILE).unwrap();
    let t = one(&c, "dashscope");
    assert_eq!(t.base_url, "https://dashscope.aliyuncs.com/apps/anthropic");
    assert_eq!(
        t.url("/v1/messages"),
        "https://dashscope.aliyuncs.com/apps/anthropic/v1/messages"
    );
    assert_eq!(t.api_key.as_ref().unwrap().expose(), "sk-canary-0123456789");
    // Without `auth`, the key travels as today's SDKs send it.
    assert_eq!(
        t.auth_header().unwrap(),
        ("authorization".into(), "Bearer sk-canary-0123456789".into())
    );
    assert_eq!(t.timeouts.idle, Duration::from_millis(5000));
    assert_eq!(t.timeouts.connect, Timeouts::default().connect);
    assert_eq!(t.retries, 2);
    assert_eq!(t.rpm, Some(30));
    assert!(t.exec_policy().limiter.is_some());
    // The file's own anthropic-version wins over the default.
    let versions: Vec<_> = t
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("anthropic-version"))
        .collect();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].1, "2023-01-01");
    assert!(t.expects_unsupported("video/basic", "video"));
    assert!(t.expects_unsupported("tools/many-parallel", "tools"));
    assert!(!t.expects_unsupported("tools/forced-choice", "tools"));
}

#[test]
fn extends_overrides_scalars_and_merges_headers() {
    let c = config(FILE).unwrap();
    let t = one(&c, "dashscope-deepseek");
    assert_eq!(t.model, "deepseek-v4-pro");
    assert_eq!(t.base_url, "https://dashscope.aliyuncs.com/apps/anthropic");
    assert_eq!(t.auth, AuthStyle::Bearer);
    assert_eq!(
        t.auth_header().unwrap(),
        ("authorization".into(), "Bearer sk-canary-0123456789".into())
    );
    let get = |name: &str| crate::exchange::header(&t.headers, name).map(str::to_string);
    assert_eq!(
        get("x-trace").as_deref(),
        Some("child"),
        "child header wins, case-insensitively"
    );
    assert_eq!(
        t.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("x-trace"))
            .count(),
        1
    );
    assert_eq!(get("x-extra").as_deref(), Some("1"));
    assert_eq!(
        get("anthropic-version").as_deref(),
        Some("2023-01-01"),
        "inherited"
    );
    assert_eq!(t.expect_unsupported, vec!["video", "tools/*-parallel"]);
}

#[test]
fn models_expand_into_one_target_each() {
    let c = config(FILE).unwrap();
    let ts = c.resolve_with("compare", &env).unwrap();
    let names: Vec<_> = ts
        .iter()
        .map(|t| (t.name.as_str(), t.model.as_str()))
        .collect();
    assert_eq!(names, vec![("compare-a_b_1", "a/b:1"), ("compare-c", "c")]);
}

#[test]
fn default_anthropic_version_and_no_key() {
    let c = config(FILE).unwrap();
    let t = one(&c, "local");
    assert_eq!(
        crate::exchange::header(&t.headers, "anthropic-version"),
        Some(DEFAULT_ANTHROPIC_VERSION)
    );
    assert!(t.api_key.is_none());
    assert!(t.auth_header().is_none());
    assert!(t.exec_policy().limiter.is_none());
    let h = t.default_headers();
    assert_eq!(
        crate::exchange::header(&h, "content-type"),
        Some("application/json")
    );
}

#[test]
fn extends_cycle_is_an_error() {
    let text = "[targets.a]\nextends = \"b\"\n[targets.b]\nextends = \"c\"\n[targets.c]\nextends = \"a\"\n";
    let c = config(text).unwrap();
    let e = c.resolve_with("a", &env).unwrap_err().to_string();
    assert_eq!(e, "conform.toml: `extends` cycle: a -> b -> c -> a");
    let self_cycle = config("[targets.a]\nextends = \"a\"\n").unwrap();
    assert!(matches!(
        self_cycle.resolve_with("a", &env),
        Err(TargetError::Cycle { .. })
    ));
}

#[test]
fn unknown_parent_and_unknown_target_are_named() {
    let c = config("[targets.a]\nextends = \"nope\"\nbase_url = \"http://x\"\nmodel = \"m\"\n")
        .unwrap();
    let e = c.resolve_with("a", &env).unwrap_err().to_string();
    assert!(e.contains("key `extends`") && e.contains("\"nope\""), "{e}");
    let e = c.resolve_with("zzz", &env).unwrap_err().to_string();
    assert!(e.contains("no target named \"zzz\" (known: a)"), "{e}");
}

#[test]
fn a_key_in_the_file_is_an_error() {
    let text = "[targets.x]\nbase_url = \"http://h\"\nmodel = \"m\"\napi_key = \"sk-abc\"\n";
    let e = config(text).unwrap_err();
    assert!(matches!(e, TargetError::KeyInFile { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("conform.toml") && msg.contains("api_key_env"),
        "{msg}"
    );
    assert!(!msg.contains("sk-abc"), "the key itself is not echoed");
    let header = "[targets.x]\nbase_url = \"http://h\"\nmodel = \"m\"\nheaders = { \"x-api-key\" = \"sk-abc\" }\n";
    let e = config(header)
        .unwrap()
        .resolve_with("x", &env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("headers.x-api-key") && !e.contains("sk-abc"),
        "{e}"
    );
}

#[test]
fn a_missing_env_key_is_an_error() {
    let c =
        config("[targets.x]\nbase_url = \"http://h\"\nmodel = \"m\"\napi_key_env = \"NOPE_KEY\"\n")
            .unwrap();
    let e = c.resolve_with("x", &env).unwrap_err().to_string();
    assert_eq!(
        e,
        "conform.toml: target \"x\": environment variable NOPE_KEY (api_key_env) is not set or empty"
    );
}

#[test]
fn parse_errors_have_line_and_column() {
    let e = config("[targets.x]\nbase_url = \"http://h\"\nmodle = \"m\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("conform.toml: line 3, column 1:"), "{e}");
    assert!(e.contains("modle"), "{e}");
    let e = config("[targets.x]\nrpm = \"fast\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("conform.toml: line 2, column 7:"), "{e}");
    let e = config("[targets.x]\nauth = \"basic\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn invalid_values_name_the_key() {
    let e = config("[targets.x]\nmodel = \"m\"\n")
        .unwrap()
        .resolve_with("x", &env)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "conform.toml: target \"x\": base_url: missing"
    );
    let e = config("[targets.x]\nbase_url = \"ftp://h\"\nmodel = \"m\"\n").unwrap();
    assert!(
        e.resolve_with("x", &env)
            .unwrap_err()
            .to_string()
            .contains("base_url: ")
    );
    let e = config("[targets.x]\nbase_url = \"http://h\"\n").unwrap();
    assert!(
        e.resolve_with("x", &env)
            .unwrap_err()
            .to_string()
            .contains("model: missing")
    );
    let e = config("[targets.x]\nbase_url = \"http://h\"\nmodel = \"m\"\ntotal_timeout_ms = 0\n")
        .unwrap();
    assert!(
        e.resolve_with("x", &env)
            .unwrap_err()
            .to_string()
            .contains("total_timeout_ms: must be greater than 0")
    );
}

#[test]
fn ad_hoc_targets() {
    let t = Target::ad_hoc_with(
        AdHoc {
            base_url: "http://127.0.0.1:9/".into(),
            model: "m".into(),
            api_key_env: Some("DASHSCOPE_API_KEY".into()),
            auth: Some(AuthStyle::Bearer),
            headers: vec!["anthropic-version: 2024-01-01".into(), "x-a:b".into()],
            ..AdHoc::default()
        },
        &env,
    )
    .unwrap();
    assert_eq!(t.name, "default");
    assert_eq!(t.base_url, "http://127.0.0.1:9");
    assert_eq!(
        crate::exchange::header(&t.headers, "anthropic-version"),
        Some("2024-01-01")
    );
    assert_eq!(crate::exchange::header(&t.headers, "x-a"), Some("b"));
    assert_eq!(t.auth_header().unwrap().0, "authorization");
    let bad = AdHoc {
        base_url: "http://h".into(),
        model: "m".into(),
        headers: vec!["nocolon".into()],
        ..AdHoc::default()
    };
    let e = Target::ad_hoc_with(bad, &env).unwrap_err().to_string();
    assert!(
        e.starts_with("command line: target \"default\": --header:"),
        "{e}"
    );
}

#[test]
fn secrets_never_print() {
    let c = config(FILE).unwrap();
    let t = one(&c, "dashscope");
    let shown = format!("{t:?} {} {:?}", t.api_key.as_ref().unwrap(), t.api_key);
    assert!(!shown.contains("sk-canary"), "{shown}");
    assert!(shown.contains("[REDACTED]"));
    let r = redactor(&[t]);
    assert_eq!(r.redact("key sk-canary-0123456789"), "key [REDACTED]");
}

#[test]
fn globs() {
    assert!(glob_match("video", "video"));
    assert!(!glob_match("video", "video/x"));
    assert!(glob_match("video/*", "video/x"));
    assert!(glob_match("*", "anything"));
    assert!(glob_match("a*b*c", "a-x-b-y-c"));
    assert!(!glob_match("a*b*c", "a-x-c"));
    assert!(!glob_match("ab*ba", "aba"));
}

#[test]
fn userinfo_in_base_url_is_rejected_without_printing_it() {
    let file = r#"
[targets.t]
base_url = "http://alice:PASS-s3cr3t@example.com/anthropic"
model = "m"
"#;
    let e = config(file)
        .unwrap()
        .resolve_with("t", &env)
        .unwrap_err()
        .to_string();
    assert!(e.contains("base_url") && e.contains("credentials"), "{e}");
    assert!(e.contains("example.com"), "{e}");
    assert!(!e.contains("PASS-s3cr3t") && !e.contains("alice"), "{e}");
    // A user name alone is credentials too.
    let e = Target::ad_hoc_with(
        AdHoc {
            base_url: "https://bob@example.com".into(),
            model: "m".into(),
            ..AdHoc::default()
        },
        &env,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("credentials") && !e.contains("bob"), "{e}");
    // From the command line, and malformed: the URL is not echoed at all.
    for url in [
        "http://alice:PASS-s3cr3t@exa mple.com",
        "http://alice:PASS-s3cr3t@example.com:99999999",
        "alice:PASS-s3cr3t@example.com",
    ] {
        let e = Target::ad_hoc_with(
            AdHoc {
                base_url: url.into(),
                model: "m".into(),
                ..AdHoc::default()
            },
            &env,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("command line: target \"default\": base_url:"),
            "{e}"
        );
        assert!(!e.contains("PASS-s3cr3t"), "{url}: {e}");
    }
    // A URL without `@` is still quoted in the error, to help.
    let e = Target::ad_hoc_with(
        AdHoc {
            base_url: "http://exa mple.com".into(),
            model: "m".into(),
            ..AdHoc::default()
        },
        &env,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("exa mple.com"), "{e}");
}

#[test]
fn an_empty_target_name_is_an_error() {
    for name in ["", "  ", "a\nb"] {
        let e = Target::ad_hoc_with(
            AdHoc {
                name: Some(name.into()),
                base_url: "http://h".into(),
                model: "m".into(),
                ..AdHoc::default()
            },
            &env,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("--name"), "{e}");
    }
    let file = "[targets.\"\"]\nbase_url = \"http://h\"\nmodel = \"m\"\n";
    let e = config(file)
        .unwrap()
        .resolve_with("", &env)
        .unwrap_err()
        .to_string();
    assert!(e.contains("name: the target name is empty"), "{e}");
}

#[test]
fn a_typo_in_expect_unsupported_names_the_feature_ids() {
    let file = r#"
[targets.t]
base_url = "http://h"
model = "m"
expect_unsupported = ["video", "vidoe"]
"#;
    let e = config(file)
        .unwrap()
        .resolve_with("t", &env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("expect_unsupported") && e.contains("\"vidoe\""),
        "{e}"
    );
    assert!(e.contains("video") && e.contains("count-tokens"), "{e}");
    // Globs matching a feature, and scenario ids, are fine.
    let file = r#"
[targets.t]
base_url = "http://h"
model = "m"
expect_unsupported = ["vid*", "*-tokens", "tools/*-parallel", "custom/anything"]
"#;
    let t = one(&config(file).unwrap(), "t");
    assert_eq!(t.expect_unsupported.len(), 4);
}

#[test]
fn secret_headers_are_redacted_and_cannot_hold_a_value_in_the_file() {
    let file = r#"
[targets.base]
base_url = "http://h"
model = "m"
secret_headers = ["X-Auth"]

[targets.child]
extends = "base"
"#;
    let t = one(&config(file).unwrap(), "child");
    assert_eq!(t.secret_headers, vec!["X-Auth".to_string()]);
    let r = t.redactor();
    let h = r.redact_headers(&[
        ("x-auth".into(), "opaque".into()),
        ("x-other".into(), "plain".into()),
    ]);
    assert_eq!(h[0].1, crate::secrets::REDACTED);
    assert_eq!(h[1].1, "plain");
    let file = r#"
[targets.t]
base_url = "http://h"
model = "m"
secret_headers = ["x-auth"]
headers = { "X-Auth" = "opaque" }
"#;
    let e = config(file)
        .unwrap()
        .resolve_with("t", &env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("headers.X-Auth") && e.contains("api_key_env"),
        "{e}"
    );
    assert!(!e.contains("opaque"), "{e}");
    let file =
        "[targets.t]\nbase_url = \"http://h\"\nmodel = \"m\"\nsecret_headers = [\"bad name\"]\n";
    let e = config(file)
        .unwrap()
        .resolve_with("t", &env)
        .unwrap_err()
        .to_string();
    assert!(e.contains("secret_headers"), "{e}");
}

#[test]
fn api_version_in_the_file_is_read_inherited_and_checked() {
    let text = r#"
[targets.base]
base_url = "http://127.0.0.1:8080"
model = "m"
api_version = "both"

[targets.child]
extends = "base"

[targets.old]
extends = "base"
api_version = "2023-06-01"
"#;
    let c = config(text).unwrap();
    let child = one(&c, "child");
    assert_eq!(child.api_versions, Some(ApiVersions::Both));
    let names: Vec<String> = expand_versions(vec![child], None)
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["child@2023-06-01", "child@2026-10-21"]);
    let old = expand_versions(vec![one(&c, "old")], None);
    assert_eq!(old.len(), 1);
    assert_eq!(
        crate::exchange::header(&old[0].headers, "anthropic-version"),
        Some("2023-06-01")
    );
    // The command line's choice wins over the file's.
    let flag = expand_versions(vec![one(&c, "base")], Some("2026-10-21".parse().unwrap()));
    assert_eq!(flag.len(), 1);
    assert_eq!(flag[0].name, "base");
    let bad = config(
        r#"
[targets.x]
base_url = "http://127.0.0.1:8080"
model = "m"
api_version = "2024-01-01"
"#,
    )
    .unwrap();
    let e = bad.resolve_with("x", &env).unwrap_err().to_string();
    assert!(e.contains("api_version") && e.contains("2024-01-01"), "{e}");
}
