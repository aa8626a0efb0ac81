//! The schemas against real recorded traffic (`tests/corpus/`, see its README):
//! every genuine Anthropic body validates without a `must` finding, and the non-Anthropic rows
//! (Bedrock, Zhipu GLM) show their documented differences.
//!
//! Rules loosened because genuine traffic contradicted the 2025-09 spec (each is also noted in
//! the schema file where it lives):
//! * `container` on `Message` and `citations` on text blocks are "required-nullable" in the
//!   2025-09 spec, but Anthropic omits them when unused (53 of 54 messages, 66 of 75 text
//!   blocks): no finding at all when absent.
//! * `usage.server_tool_use`, `inference_geo`, `output_tokens_details` are sent only when they
//!   apply: no `should` when absent. Only the cache counters, `cache_creation` and
//!   `service_tier` give `schema.missing-field` (older 2024 traffic lacks them: should, not must).
//! * `server_tool_use.name` is any non-empty string (the spec's enum has grown: web_fetch,
//!   tool_search_tool_regex, advisor…); server-tool result contents are checked loosely.
//! * Request `tools[]` entries with a versioned `type` (web_search_20250305, advisor_20260301…)
//!   are open objects: each version has its own fields and new ones appear monthly.
//! * Request `context_management` (beta) is accepted: genuine requests to
//!   `/v1/messages?beta=true` carry it (pyd__test_anthropic_compaction_*). `betas` is not
//!   (the SDK turns it into a header; it never reaches the wire).
//! * Request `max_tokens` minimum is 0, not 1 (newer docs allow 0 to pre-warm the cache).
//! * Requests are judged where the recorded response was 200, 401 or 404 (auth and model are
//!   checked independently of the body's shape): a request answered with 400 may well be
//!   invalid, and the one Anthropic rejected for its shape must be rejected by the schema too.

use super::corpus::corpus_dir;
use conform::Finding;
use conform::Severity;
use conform::judge;
use conform::judge::Shape;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

struct Row {
    file: String,
    kind: String,
    status: String,
    provider: String,
}

fn manifest(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Row {
                file: c[0].to_string(),
                kind: c[1].to_string(),
                status: c[3].to_string(),
                provider: c[5].to_string(),
            }
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The findings for one response file, each located in the file (and event number).
fn response_findings(dir: &Path, row: &Row) -> Vec<Finding> {
    let path = dir.join(&row.file);
    if row.file.ends_with(".sse") {
        let bytes = std::fs::read(&path).unwrap();
        let (frames, _) = conform::judge::decode_all(&bytes);
        let mut out = Vec::new();
        for frame in frames
            .iter()
            .filter(|f| f.has_data && !f.data.trim().is_empty())
        {
            let value: Value = serde_json::from_str(&frame.data)
                .unwrap_or_else(|e| panic!("{} event #{}: {e}", row.file, frame.index));
            let at = format!("{} event #{}", row.file, frame.index);
            out.extend(
                judge::validate(Shape::Event, &value)
                    .into_iter()
                    .map(|f| f.located_in(&at)),
            );
        }
        return out;
    }
    let shape = if row.file.ends_with(".error.json") {
        Shape::Error
    } else if row.kind == "count_tokens" {
        Shape::CountTokens
    } else {
        Shape::Message
    };
    let value = read_json(&path);
    let findings = judge::validate(shape, &value);
    assert_eq!(
        judge::is_valid(shape, &value),
        // The main variant's findings: `must`, or `schema.error`, which the catalogue makes
        // `should` (the clients raise on an error status whatever the body).
        !findings
            .iter()
            .any(|f| f.severity() == Severity::Must
                || f.check == conform::catalogue::ids::SCHEMA_ERROR),
        "{}: is_valid disagrees with validate",
        row.file
    );
    findings
        .into_iter()
        .map(|f| f.located_in(&row.file))
        .collect()
}

fn request_path(dir: &Path, row: &Row) -> PathBuf {
    let stem = row
        .file
        .strip_suffix(".error.json")
        .or_else(|| row.file.strip_suffix(".json"))
        .or_else(|| row.file.strip_suffix(".sse"))
        .unwrap();
    dir.join(format!("{stem}.request.json"))
}

fn count(findings: &[Finding]) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry((f.severity().to_string(), f.check.to_string()))
            .or_insert(0) += 1;
    }
    m
}

fn has(findings: &[Finding], severity: Severity, check: &str, location: &str) -> bool {
    findings.iter().any(|f| {
        f.severity() == severity && f.check.as_str() == check && f.location.ends_with(location)
    })
}

#[test]
fn genuine_anthropic_traffic_has_no_must_finding() {
    let dir = corpus_dir();
    let rows = manifest(&dir);
    let mut responses = Vec::new();
    let mut requests = Vec::new();
    let (mut n_resp, mut n_req) = (0, 0);
    for row in rows.iter().filter(|r| r.provider == "anthropic") {
        n_resp += 1;
        responses.extend(response_findings(&dir, row));
        let req = request_path(&dir, row);
        // 401/404 are decided before (or independently of) the body's shape; 400s are not judged.
        if matches!(row.status.as_str(), "200" | "401" | "404") && req.exists() {
            n_req += 1;
            // An error row has kind "error"; its endpoint shows in the recording's name.
            let count_tokens = row.kind == "count_tokens" || row.file.contains("count_tokens");
            let shape = if count_tokens {
                Shape::CountTokensRequest
            } else {
                Shape::Request
            };
            let value = read_json(&req);
            let name = req.file_name().unwrap().to_string_lossy().to_string();
            requests.extend(
                judge::validate(shape, &value)
                    .into_iter()
                    .map(|f| f.located_in(&name)),
            );
        }
    }
    println!("{n_resp} genuine response files, {n_req} requests (answered 200/401/404)");
    for ((sev, check), n) in count(&responses) {
        println!("responses: {n:4} {sev} {check}");
    }
    for ((sev, check), n) in count(&requests) {
        println!("requests:  {n:4} {sev} {check}");
    }
    for f in responses
        .iter()
        .chain(&requests)
        .filter(|f| f.severity() != Severity::Info)
    {
        println!("  {f}");
    }
    let musts: Vec<String> = responses
        .iter()
        .chain(&requests)
        .filter(|f| f.severity() == Severity::Must)
        .map(|f| f.to_string())
        .collect();
    assert!(
        musts.is_empty(),
        "must findings on genuine traffic:\n{}",
        musts.join("\n")
    );
    assert!(
        n_resp >= 100 && n_req >= 100,
        "the corpus shrank: {n_resp} responses, {n_req} requests"
    );
}

#[test]
fn a_request_anthropic_rejected_for_its_shape_is_rejected_by_the_schema() {
    // dd__anthropic_completion_error: Anthropic answered 400 "messages.0: Input does not match
    // the expected shape." — the message is a bare string.
    let path = corpus_dir().join("dd__anthropic_completion_error__0.request.json");
    let findings = judge::validate(Shape::Request, &read_json(&path));
    assert!(
        findings
            .iter()
            .any(|f| f.severity() == Severity::Must && f.location.starts_with("/messages/0")),
        "{findings:?}"
    );
}

#[test]
fn non_anthropic_rows_show_their_documented_differences() {
    let dir = corpus_dir();
    let rows = manifest(&dir);
    let mut by_file = BTreeMap::new();
    for row in rows.iter().filter(|r| r.provider != "anthropic") {
        let f = response_findings(&dir, row);
        println!("{} ({}):", row.file, row.provider);
        for x in &f {
            println!("  {x}");
        }
        by_file.insert(row.file.clone(), f);
    }
    let get = |name: &str| {
        by_file
            .get(name)
            .unwrap_or_else(|| panic!("{name} not in the manifest"))
    };

    // Zhipu GLM: usage lacks cache_creation_input_tokens (and the other later fields); the
    // message is otherwise valid (an id without msg_ prefix is allowed: the format is not
    // guaranteed).
    let glm = get("other__zai_glm46_plain_text.json");
    assert!(
        has(
            glm,
            Severity::Should,
            "schema.missing-field",
            "/usage/cache_creation_input_tokens"
        ),
        "{glm:?}"
    );
    assert!(
        has(
            glm,
            Severity::Should,
            "schema.missing-field",
            "/usage/service_tier"
        ),
        "{glm:?}"
    );
    assert!(
        !glm.iter().any(|f| f.severity() == Severity::Must),
        "{glm:?}"
    );

    // Bedrock InvokeModel (2024): usage has only input/output tokens.
    let bedrock = get("dd__anthropic_message_invoke__0.json");
    assert!(
        has(
            bedrock,
            Severity::Should,
            "schema.missing-field",
            "/usage/cache_read_input_tokens"
        ),
        "{bedrock:?}"
    );
    assert!(
        !bedrock.iter().any(|f| f.severity() == Severity::Must),
        "{bedrock:?}"
    );

    // Bedrock (2025): no usage.service_tier.
    let cache = get("pyd__test_anthropic_cache_bedrock_real_api__0.json");
    assert!(
        has(
            cache,
            Severity::Should,
            "schema.missing-field",
            "/usage/service_tier"
        ),
        "{cache:?}"
    );

    // Bedrock CountTokens answers {"inputTokens": N}: not the Anthropic shape.
    let ct = get("pyd__test_anthropic_bedrock_count_tokens_real_api__0.json");
    assert!(
        has(ct, Severity::Must, "schema.count_tokens", "/"),
        "{ct:?}"
    );
    assert!(
        has(ct, Severity::Info, "schema.unknown-field", "/inputTokens"),
        "{ct:?}"
    );

    // Bedrock errors are {"message": "..."} without the {type, error} envelope: `schema.error`,
    // `should` as the catalogue says (the clients raise on the error status anyway).
    let err = get("pyd__test_anthropic_bedrock_count_tokens_rejects_server_tools__0.error.json");
    assert!(has(err, Severity::Should, "schema.error", "/"), "{err:?}");
    assert!(
        err.iter()
            .filter(|f| f.check == conform::catalogue::ids::SCHEMA_ERROR)
            .count()
            >= 2,
        "{err:?}"
    );
}
