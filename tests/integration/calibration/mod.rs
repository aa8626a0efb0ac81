//! Client-impact calibration (issue 11): every mock fault and every hand-made violation class
//! (tests/calibration/cases.json) is served to the official Python SDK, the official
//! TypeScript SDK and Claude Code, and what each does is recorded — ok, raises, data lost or
//! altered, hangs. The result is `docs/client-impact.md` (the table) and
//! `src/check/catalogue/impact.json` (what the catalogue embeds, shown by `conform explain`).
//!
//! * `calibration_matches_the_committed_impact` runs the clients (skipped with a SKIP line when
//!   one is missing, a failure under CI), verifies that every case triggers its target checks,
//!   and fails when the measured impact classes differ from the committed file.
//!   `CONFORM_CALIBRATE=write` rewrites both files instead.
//! * `severities_agree_with_the_measured_impact` holds the catalogue to its severity rule
//!   against the committed measurements, without running any client.

mod cases;
mod clients;
mod output;
mod serve;

use crate::mock_support;
use crate::support::claude::{self, run_claude};
use cases::{Captured, Judged, Truth, judge};
use clients::{Cell, ClaudeExpect, Line, PlanCase, classify, classify_claude};
use conform::check::Severity;
use conform::check::catalogue::{self, ClientImpact};
use conform::mock::{Fault, MockConfig, fault_catalogue};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLAUDE_LIMIT: Duration = Duration::from_secs(30);
const SDK_LIMIT: Duration = Duration::from_secs(180);
/// Claude Code runs at once.
const CLAUDE_CONCURRENCY: usize = 2;
/// The text of the clean mock's answer to Claude Code's "Say hello".
const HELLO: &str = "Here is a short answer about hello.";

/// One case, ready to run.
struct Case {
    decl: cases::CaseDecl,
    endpoint: String,
    api_key: String,
    body: Option<Value>,
    base_url: String,
    /// Where the pass-back goes: the live fault mock, or the fixture server.
    passback_url: String,
    /// What Claude Code runs against: the live fault mock, or the fixture server.
    claude_url: String,
    /// mode → its judged response (and the clean answer, for fault cases).
    judged: BTreeMap<String, (Judged, Option<Truth>)>,
    claude: ClaudeExpect,
    /// Mocks (fault cases) kept alive while the clients run.
    _mock: Option<conform::mock::MockHandle>,
}

impl Case {
    fn triggered(&self) -> BTreeSet<String> {
        self.judged
            .values()
            .flat_map(|(j, _)| j.checks.iter().cloned())
            .collect()
    }

    fn modes(&self) -> Vec<String> {
        let mut m: Vec<String> = self.judged.keys().cloned().collect();
        if self.endpoint == "messages" {
            m.push("passback".into());
        }
        m
    }
}

/// Send one request to a fresh mock with `faults` and capture the response.
async fn capture(
    faults: &[Fault],
    preset: &cases::Preset,
    stream: bool,
) -> (String, Option<Value>, Captured) {
    let m = mock_support::start_with(faults).await;
    let (path, body) = match preset.endpoint.as_str() {
        "count_tokens" => ("/v1/messages/count_tokens".to_string(), preset.body.clone()),
        "models" => ("/v1/models".to_string(), None),
        _ => {
            let mut b = preset.body.clone().expect("a messages preset has a body");
            if stream {
                b["stream"] = json!(true);
            }
            ("/v1/messages".to_string(), Some(b))
        }
    };
    let key = preset
        .api_key
        .clone()
        .unwrap_or_else(|| mock_support::KEY.to_string());
    let client = mock_support::client();
    let url = format!("{}{path}", m.base_url());
    let req = match &body {
        Some(b) => client.post(&url).json(b),
        None => client.get(&url),
    }
    .header("x-api-key", key)
    .header("anthropic-version", "2023-06-01");
    let resp = req.send().await.expect("the mock answers");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let headers = resp
        .headers()
        .iter()
        .filter(|(k, _)| *k != "content-type")
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let mut bytes = Vec::new();
    let mut cut = false;
    let mut resp = resp;
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => bytes.extend_from_slice(&c),
            Ok(None) => break,
            Err(_) => {
                cut = true;
                break;
            }
        }
    }
    (
        path,
        body,
        Captured {
            status,
            content_type,
            body: bytes,
            headers,
            cut,
        },
    )
}

/// A captured response as the fixture server replays it.
fn answer(c: &Captured) -> serve::Answer {
    serve::Answer {
        status: c.status,
        content_type: c.content_type.clone(),
        body: c.body.clone(),
        cut: c.cut,
    }
}

/// A fault case: its preset request is captured from a fresh mock with the fault (streamed
/// and not) and judged; the SDKs get exactly those bytes replayed by the fixture server (the
/// mock's answer depends on details of the request that differ between clients), and pass
/// content back to a live mock with the fault. Claude Code talks to the live mock.
async fn fault_case(
    decl: cases::CaseDecl,
    presets: &BTreeMap<String, cases::Preset>,
    canned: &mut BTreeMap<String, serve::Canned>,
) -> Case {
    let fault: Fault = decl
        .fault
        .as_deref()
        .unwrap()
        .parse()
        .expect("a known fault");
    let preset = presets
        .get(decl.request.as_deref().unwrap_or(""))
        .unwrap_or_else(|| panic!("{}: unknown request", decl.name))
        .clone();
    let mut judged = BTreeMap::new();
    let mut entry = serve::Canned::default();
    let streams: &[(&[&str], bool)] = if preset.endpoint == "messages" {
        &[
            (&["stream_final", "stream_raw"], true),
            (&["create"], false),
        ]
    } else {
        &[(&["call"], false)]
    };
    for &(modes, stream) in streams {
        let (path, body, got) = capture(&[fault], &preset, stream).await;
        let (_, _, clean) = capture(&[], &preset, stream).await;
        let j = judge(&path, body.as_ref(), &got);
        let clean = judge(&path, body.as_ref(), &clean).truth;
        match (preset.endpoint.as_str(), stream) {
            ("messages", true) => entry.sse = Some(answer(&got)),
            ("messages", false) => entry.json = Some(answer(&got)),
            _ => entry.other = Some(answer(&got)),
        }
        for mode in modes {
            judged.insert(mode.to_string(), (j.clone(), Some(clean.clone())));
        }
    }
    canned.insert(decl.name.clone(), entry);
    // Claude Code's own request is a streamed "Say hello": its truth is that of the fault's
    // answer to a streamed hello.
    let hello = presets.get("hello").expect("a hello request").clone();
    let (path, body, got) = capture(&[fault], &hello, true).await;
    let claude_truth = judge(&path, body.as_ref(), &got).truth;
    let mock = mock_support::start(MockConfig {
        faults: vec![fault],
        ..MockConfig::default()
    })
    .await;
    Case {
        endpoint: preset.endpoint.clone(),
        api_key: preset
            .api_key
            .clone()
            .unwrap_or_else(|| mock_support::KEY.to_string()),
        body: preset.body.clone(),
        base_url: String::new(),
        passback_url: mock.base_url(),
        claude_url: mock.base_url(),
        judged,
        claude: ClaudeExpect {
            texts: vec![HELLO.to_string()],
            truth: claude_truth,
        },
        _mock: Some(mock),
        decl,
    }
}

fn fixture_case(
    decl: cases::CaseDecl,
    presets: &BTreeMap<String, cases::Preset>,
    canned: &mut BTreeMap<String, serve::Canned>,
) -> Case {
    let request = decl.request.as_deref().unwrap_or("hello");
    let hello = presets[request].body.clone().expect("a messages request");
    let mut judged = BTreeMap::new();
    let mut entry = serve::Canned::default();
    let mut texts = vec![serve::FOLLOW_UP.to_string()];
    let mut claude_truth = None;
    if let Some(rel) = &decl.stream {
        let bytes = cases::fixture(rel);
        let mut body = hello.clone();
        body["stream"] = json!(true);
        let got = Captured {
            status: 200,
            content_type: "text/event-stream".into(),
            body: bytes.clone(),
            headers: fixture_headers(),
            cut: false,
        };
        let j = judge("/v1/messages", Some(&body), &got);
        if let Truth::Message(s) | Truth::Incomplete(s) = &j.truth {
            texts.push(s.text.clone());
        }
        claude_truth = Some(j.truth.clone());
        // A stream-only case answers a non-streaming request with its accumulation.
        if decl.message.is_none() {
            let acc = conform::protocol::anthropic::judge::judge_exchange(
                &exchange_of(&body, &got),
                Default::default(),
            )
            .validation
            .message;
            if let Some(m) = acc {
                entry.json = Some(serve::Answer {
                    status: 200,
                    content_type: "application/json".into(),
                    body: m.to_string().into_bytes(),
                    cut: false,
                });
            }
        }
        entry.sse = Some(answer(&got));
        judged.insert("stream_final".into(), (j.clone(), None));
        judged.insert("stream_raw".into(), (j, None));
    }
    if let Some(rel) = &decl.message {
        let bytes = cases::fixture(rel);
        let status = decl.status.unwrap_or(200);
        let got = Captured {
            status,
            content_type: "application/json".into(),
            body: bytes.clone(),
            headers: fixture_headers(),
            cut: false,
        };
        let j = judge("/v1/messages", Some(&hello), &got);
        if let Truth::Message(s) = &j.truth {
            texts.push(s.text.clone());
        }
        claude_truth.get_or_insert(j.truth.clone());
        entry.json = Some(answer(&got));
        judged.insert("create".into(), (j, None));
    }
    canned.insert(decl.name.clone(), entry);
    texts.retain(|t| !t.is_empty());
    Case {
        endpoint: "messages".into(),
        api_key: mock_support::KEY.into(),
        body: Some(hello),
        base_url: String::new(),
        passback_url: String::new(),
        claude_url: String::new(),
        judged,
        claude: ClaudeExpect {
            texts,
            truth: claude_truth.expect("a fixture case has a stream or a message"),
        },
        _mock: None,
        decl,
    }
}

/// What the fixture server sends besides the content type.
fn fixture_headers() -> Vec<(String, String)> {
    vec![("request-id".into(), serve::ID.into())]
}

fn exchange_of(body: &Value, got: &Captured) -> conform::exchange::Exchange {
    let mut x = conform::exchange::Exchange::new(
        "fixture",
        conform::exchange::RecordedRequest {
            method: "POST".into(),
            url: "http://127.0.0.1/v1/messages".into(),
            headers: vec![],
            body: Some(body.to_string()),
        },
    );
    x.response = Some(conform::exchange::RecordedResponse {
        status: got.status,
        headers: vec![("content-type".into(), got.content_type.clone())],
        head_ms: 0.0,
        chunks: vec![conform::exchange::Chunk::new(0.0, &got.body)],
        total_ms: 0.0,
    });
    x
}

/// Every fault has a case, names are unique, and every case's targets are declared checks.
fn check_manifest(m: &cases::Manifest) {
    let names: BTreeSet<&str> = m.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), m.cases.len(), "case names are unique");
    for info in fault_catalogue() {
        assert!(
            m.cases
                .iter()
                .any(|c| c.fault.as_deref() == Some(info.name)),
            "fault {} has no calibration case",
            info.name
        );
    }
    for c in &m.cases {
        for t in &c.targets {
            assert!(
                catalogue::get(t).is_some(),
                "{}: target {t} is not a check",
                c.name
            );
        }
        assert!(
            c.fault.is_some() != (c.stream.is_some() || c.message.is_some()),
            "{}: a case is a fault or fixtures",
            c.name
        );
    }
}

/// The calibration's honesty: each case triggers its targets; a control case (no targets, no
/// scenario) triggers no must or should finding.
fn check_targets(cases: &[Case]) -> Vec<String> {
    let mut bad = Vec::new();
    for c in cases {
        let fired = c.triggered();
        for t in &c.decl.targets {
            if !fired.contains(t) {
                bad.push(format!(
                    "{}: target {t} did not fire (fired: {fired:?})",
                    c.decl.name
                ));
            }
        }
        if c.decl.targets.is_empty() && c.decl.scenario.is_none() {
            for (_, (j, _)) in &c.judged {
                for id in &j.checks {
                    let sev = catalogue::get(id).map(|e| e.severity);
                    if sev != Some(Severity::Info) {
                        bad.push(format!("{}: control case fired {id}", c.decl.name));
                    }
                }
            }
        }
    }
    bad
}

fn missing_clients() -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !clients::python_available() {
        missing.push("python SDK (`pip install anthropic`)");
    }
    if !clients::typescript_available() {
        missing.push("TypeScript SDK (`npm install --prefix tests/sdk`)");
    }
    if claude::claude().is_none() {
        missing.push("Claude Code (`npm install --prefix tests/clients`)");
    }
    missing
}

/// Per case: the SDK's cell over its modes.
fn sdk_cells(cases: &[Case], lines: &[Line]) -> BTreeMap<String, Cell> {
    let mut out = BTreeMap::new();
    for c in cases {
        let mut cells = Vec::new();
        for l in lines.iter().filter(|l| l.case == c.decl.name) {
            let (truth, clean) = match c.judged.get(&l.mode) {
                Some((j, clean)) => (Some(&j.truth), clean.as_ref()),
                None => (None, None),
            };
            cells.push((l.mode.clone(), classify(l, truth, clean)));
        }
        let cell = if cells.is_empty() {
            Cell::new(ClientImpact::Unknown, "no result")
        } else {
            Cell::worst(&cells)
        };
        out.insert(c.decl.name.clone(), cell);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calibration_matches_the_committed_impact() {
    let missing = missing_clients();
    assert!(
        missing.is_empty() || std::env::var_os("CI").is_none(),
        "calibration clients missing under CI: {missing:?}"
    );
    if !missing.is_empty() {
        println!("SKIP calibration_matches_the_committed_impact: missing {missing:?}");
        return;
    }
    let started = Instant::now();
    let manifest = cases::manifest();
    check_manifest(&manifest);
    let mut canned = BTreeMap::new();
    let mut cases_list = Vec::new();
    for decl in manifest.cases.clone() {
        cases_list.push(if decl.fault.is_some() {
            fault_case(decl, &manifest.requests, &mut canned).await
        } else {
            fixture_case(decl, &manifest.requests, &mut canned)
        });
    }
    // The fixture server serves every case under /case/NAME.
    let server = serve::start(canned).await;
    for c in &mut cases_list {
        c.base_url = server.case_url(&c.decl.name);
        if c.passback_url.is_empty() {
            c.passback_url = c.base_url.clone();
            c.claude_url = c.base_url.clone();
        }
    }
    let bad = check_targets(&cases_list);
    assert!(
        bad.is_empty(),
        "calibration cases that do not show their target:\n{}",
        bad.join("\n")
    );

    // The plan both SDK scripts run.
    let plan: Vec<PlanCase> = cases_list
        .iter()
        .map(|c| PlanCase {
            name: c.decl.name.clone(),
            base_url: c.base_url.clone(),
            passback_url: c.passback_url.clone(),
            api_key: c.api_key.clone(),
            endpoint: c.endpoint.clone(),
            body: c.body.clone(),
            modes: c.modes(),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, json!({ "cases": plan }).to_string()).unwrap();

    let py = {
        let plan_path = plan_path.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = Command::new(clients::python());
            c.arg(clients::sdk_dir().join("calibrate_python.py"));
            clients::run_sdk(c, &plan_path, SDK_LIMIT)
        })
    };
    let ts = {
        let plan_path = plan_path.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = Command::new("node");
            c.arg("calibrate_ts.mjs").current_dir(clients::sdk_dir());
            clients::run_sdk(c, &plan_path, SDK_LIMIT)
        })
    };
    // Claude Code, two at a time.
    let bin = claude::claude().expect("checked above");
    let gate = Arc::new(tokio::sync::Semaphore::new(CLAUDE_CONCURRENCY));
    let mut runs = Vec::new();
    for c in &cases_list {
        let (bin, base, key, gate) = (
            bin.clone(),
            c.claude_url.clone(),
            mock_support::KEY.to_string(),
            gate.clone(),
        );
        runs.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            tokio::task::spawn_blocking(move || run_claude(&bin, &base, &key, CLAUDE_LIMIT))
                .await
                .unwrap()
        }));
    }
    let mut claude_cells = BTreeMap::new();
    for (c, run) in cases_list.iter().zip(runs) {
        let o = run.await.unwrap();
        claude_cells.insert(
            c.decl.name.clone(),
            classify_claude(&o, &c.claude, CLAUDE_LIMIT),
        );
    }
    let (py_lines, py_version) = py.await.unwrap().expect("the Python SDK script runs");
    let (ts_lines, ts_version) = ts.await.unwrap().expect("the TypeScript SDK script runs");
    let claude_version = Command::new(&bin)
        .arg("--version")
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();

    let measured = output::Measurement {
        cases: cases_list
            .iter()
            .map(|c| output::CaseRow {
                name: c.decl.name.clone(),
                source: match &c.decl.fault {
                    Some(f) => format!("fault `{f}`"),
                    None => "fixture".into(),
                },
                about: c.decl.about.clone().unwrap_or_else(|| {
                    let f: Fault = c.decl.fault.as_deref().unwrap().parse().unwrap();
                    f.info().description.to_string()
                }),
                targets: c.decl.targets.clone(),
                scenario: c.decl.scenario.clone(),
            })
            .collect(),
        python: sdk_cells(&cases_list, &py_lines),
        typescript: sdk_cells(&cases_list, &ts_lines),
        claude: claude_cells,
        versions: [
            py_version,
            ts_version,
            format!("claude-code {claude_version}"),
        ],
    };
    drop(server);
    let elapsed = started.elapsed();
    println!("calibration ran in {:.1} s", elapsed.as_secs_f64());
    println!("{}", output::counts(&measured));
    let machine = output::machine(&measured);
    let doc = output::document(&measured);
    let machine_path = output::machine_path();
    let doc_path = output::doc_path();
    if std::env::var("CONFORM_CALIBRATE").is_ok_and(|v| v == "write") {
        std::fs::write(&machine_path, &machine).unwrap();
        std::fs::write(&doc_path, &doc).unwrap();
        println!(
            "wrote {} and {}",
            machine_path.display(),
            doc_path.display()
        );
        return;
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(&machine_path).unwrap()).unwrap();
    let now: Value = serde_json::from_str(&machine).unwrap();
    assert!(
        committed == now,
        "the measured client impact differs from src/check/catalogue/impact.json; review and rewrite with CONFORM_CALIBRATE=write:\n{}",
        output::differences(&committed, &now).join("\n")
    );
}

/// The severity rule of the catalogue (its module doc), against the committed measurements:
/// `must` ⇔ some official client is not ok, or the entry carries a documented-contract marker;
/// `should` and `info` ⇒ every measured client is ok.
#[test]
fn severities_agree_with_the_measured_impact() {
    let text = std::fs::read_to_string(output::machine_path()).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let checks = v["checks"].as_object().expect("checks");
    assert!(!checks.is_empty(), "impact.json measures nothing");
    let mut bad = Vec::new();
    for id in checks.keys() {
        let e = catalogue::get(id).unwrap_or_else(|| panic!("{id} is not in the catalogue"));
        let impact = catalogue::impact_of(id);
        let harmful = impact.per_client().iter().any(|(_, i)| i.is_harmful());
        let ok = match e.severity {
            Severity::Must => harmful || e.contract.is_some(),
            Severity::Should | Severity::Info => !harmful,
        };
        if !ok {
            bad.push(format!(
                "{id} is {} but measured {:?}{}",
                e.severity,
                impact.per_client(),
                if e.contract.is_some() {
                    " (contract)"
                } else {
                    ""
                }
            ));
        }
    }
    for e in catalogue::all() {
        assert!(
            e.contract.is_none() || e.severity == Severity::Must,
            "{}: only must entries carry a contract marker",
            e.id
        );
    }
    assert!(
        bad.is_empty(),
        "severities that contradict the measured impact:\n{}",
        bad.join("\n")
    );
}
