//! The reports of a run against the reference server with six injected faults: each fault is
//! one deviation under its check, ranked by impact (golden report.md and report.html, insta);
//! a clean run has no deviation a client would notice; the terminal names the causes.
//! report.html in a real headless browser is report_browser.rs (the `clients` harness).

use conform::RunReport;
use conform::Severity;
use conform::reports;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The faults and the check each must show up under, exactly once.
const FAULTS: [(&str, &str); 6] = [
    ("no-signature", "implied.thinking-signature"),
    ("stop-sequence-ignored", "effect.stop-sequences"),
    ("models-missing", "schema.error"),
    ("no-request-id", "headers.request-id"),
    ("extra-fields", "schema.unknown-field"),
    ("no-ping", "stream.ping-missing"),
];

struct Run {
    dir: tempfile::TempDir,
    stdout: String,
}

fn conform(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run conform")
}

/// `conform run` with the faults (`--no-snapshots`: the repo's snapshot store stays out).
fn run_with(faults: &[&str], quiet: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let mut args = vec!["run", "--no-snapshots", "--report-dir", &d];
    for f in faults {
        args.extend(["--mock-fault", f]);
    }
    if quiet {
        args.push("--quiet");
    }
    let out = conform(&args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        dir,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

fn faulty() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let faults: Vec<&str> = FAULTS.iter().map(|(f, _)| *f).collect();
        run_with(&faults, false)
    })
}

fn read_report(dir: &Path) -> RunReport {
    reports::read_report(&dir.join("report.json")).unwrap()
}

/// The run's report with what varies between runs fixed: start, duration, port, timings.
fn stable(mut r: RunReport) -> RunReport {
    r.started_at = "2026-01-01T00:00:00Z".into();
    r.duration_ms = 1500.0;
    for t in &mut r.targets {
        t.base_url = "http://127.0.0.1:PORT".into();
    }
    r.results
        .sort_by(|a, b| (&a.scenario, a.mode.as_str()).cmp(&(&b.scenario, b.mode.as_str())));
    for (i, x) in r.results.iter_mut().enumerate() {
        let i = i as f64;
        x.timing.ttfb_ms = Some(2.0 + i % 5.0);
        x.timing.ttft_ms = (x.mode == conform::Mode::Stream).then_some(3.0 + (i * 7.0) % 40.0);
        x.timing.total_ms = Some(5.0 + (i * 13.0) % 90.0);
    }
    r
}

/// Blank the numbers and ids of recorded traffic that differ between runs.
fn scrub(text: &str) -> String {
    let rules = [
        (r"(?m)^ *\d+\.\d ms  ", "T ms  "),
        (r"(?m)^date: .*$", "date: DATE"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "TIME"),
        (r"\b(msg|toolu|req|srvtoolu)_[A-Za-z0-9]+", "${1}_ID"),
        (r"(anthropic-ratelimit-[a-z-]+): [^\n<]*", "$1: N"),
        (r"\b\d+(\.\d+)? ms\b", "N ms"),
        (
            r"<td class=\x22num\x22>\d+\.\d</td>",
            "<td class=\x22num\x22>N</td>",
        ),
        (r"line \d+", "line N"),
    ];
    let mut s = text.to_string();
    for (re, to) in rules {
        s = regex::Regex::new(re)
            .unwrap()
            .replace_all(&s, to)
            .into_owned();
    }
    s
}

#[test]
fn each_fault_is_one_deviation_under_its_check_ranked_by_impact() {
    let r = read_report(faulty().dir.path());
    for (fault, check) in FAULTS {
        // Notes aside (unless the check is only a note): a stream that opens with a server
        // tool's call may lack its ping on Anthropic too (`stream.ping-missing` is then info,
        // a deviation of its own).
        let all: Vec<_> = r.deviations.iter().filter(|d| d.check == check).collect();
        let judged = all.iter().filter(|d| d.severity != Severity::Info).count();
        let n = if judged == 0 { all.len() } else { judged };
        assert_eq!(n, 1, "{fault}: {n} deviations under {check}");
    }
    // A deviation ranks by what it costs: its own severity or that of a finding folded under
    // it (a `should` follow-on lifts an `info` cause to the `should` rank).
    let ranks: Vec<Severity> = r
        .deviations
        .iter()
        .map(|d| {
            d.folded
                .iter()
                .filter_map(|(c, _)| conform::catalogue::get(c).map(|e| e.severity))
                .fold(d.severity, Severity::max)
        })
        .collect();
    let mut sorted = ranks.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ranks, sorted, "ranked by severity first");
    let extra: Vec<&str> = r
        .deviations
        .iter()
        .filter(|d| !FAULTS.iter().any(|(_, c)| *c == d.check))
        .filter(|d| d.severity != Severity::Info)
        .map(|d| d.check.as_str())
        .collect();
    assert!(extra.is_empty(), "deviations no fault explains: {extra:?}");
    let rid = r
        .deviations
        .iter()
        .find(|d| d.check == "headers.request-id")
        .unwrap();
    assert!(
        rid.target_wide,
        "a header missing everywhere is target-wide"
    );
    // The scenarios' request-id assertions (header and error body) state the same rule, so
    // they are this deviation, not rows of their own.
    assert!(
        r.deviations
            .iter()
            .all(|d| d.check == "headers.request-id" || !d.sentence.contains("request_id")),
        "one row for the missing request id"
    );
    let models = r
        .deviations
        .iter()
        .find(|d| d.check == "schema.error")
        .unwrap();
    assert!(
        models.folded.iter().any(|(c, _)| c == "assert.status"),
        "{:?}",
        models.folded
    );
    let ev = models
        .evidence
        .as_ref()
        .expect("evidence from the exchange record");
    assert!(ev.response[0].starts_with("HTTP 404"), "{:?}", ev.response);
    assert!(ev.curl.contains("/v1/models"), "{}", ev.curl);
    for d in &r.deviations {
        assert!(d.doc.starts_with("https://"), "{}: {}", d.check, d.doc);
        assert!(!d.doc.contains('§'));
    }
}

#[test]
fn a_clean_run_shows_nothing_a_client_would_notice() {
    let run = run_with(&[], true);
    let r = read_report(run.dir.path());
    let notable: Vec<&str> = r
        .deviations
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .map(|d| d.check.as_str())
        .collect();
    assert!(notable.is_empty(), "{notable:?}");
    let expect = format!("report: {}", run.dir.path().join("report.md").display());
    assert!(
        run.stdout.starts_with(&expect),
        "--quiet prints the path: {:?}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
}

#[test]
fn terminal_junit_and_badge_name_the_causes() {
    let run = faulty();
    let out = &run.stdout;
    assert!(out.contains("compat "), "{out}");
    assert!(
        out.contains("D1   must   implied.thinking-signature"),
        "{out}"
    );
    assert!(out.contains("report: "), "{out}");
    let junit = std::fs::read_to_string(run.dir.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains("message=\"A thinking block has no signature"),
        "the failure message is the first deviation's sentence"
    );
    assert!(
        junit.contains("curl -sS -N -X POST"),
        "junit holds the repro"
    );
    assert!(junit.contains("authorization: Bearer $API_KEY"));
    let badge = std::fs::read_to_string(run.dir.path().join("badge.svg")).unwrap();
    let pct = reports::scores(&read_report(run.dir.path()))[0].percent_text();
    assert!(
        badge.contains(&format!("anthropic compat: {pct}")),
        "{badge}"
    );
}

#[test]
fn golden_report_md() {
    let r = stable(read_report(faulty().dir.path()));
    let md = reports::render_markdown(&r);
    let before_appendix = md.split("## Appendix A").next().unwrap();
    assert!(
        before_appendix.lines().count() <= 150,
        "{}",
        before_appendix.lines().count()
    );
    // Appendix B lists every result, passing ones too.
    assert_eq!(
        md.matches("\n- ⚠ warn · `").count()
            + md.matches("\n- ❌ fail · `").count()
            + md.matches("\n- 🚫 ignored · `").count(),
        r.results.len()
    );
    let upto_b = md.split("## Appendix B").next().unwrap();
    insta::assert_snapshot!("report_md_before_results", scrub(upto_b));
}

#[test]
fn golden_report_html() {
    let r = stable(read_report(faulty().dir.path()));
    let html = reports::render_html(&r);
    for bad in [
        "<link",
        "<img",
        "@import",
        "url(http",
        "src=\"http",
        "<iframe",
    ] {
        assert!(!html.contains(bad), "external resource: {bad}");
    }
    let start = html.find("<body>").unwrap();
    let end = html.find("<section id=\"results\">").unwrap();
    insta::assert_snapshot!("report_html_body_before_results", scrub(&html[start..end]));
}
