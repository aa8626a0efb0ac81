//! `junit.xml` for CI systems (written with quick-junit, cargo-nextest's writer).
//!
//! One `<testsuite>` per target, one `<testcase name="scenario@mode" classname="feature">` per
//! result. Mapping, consistent with the exit code:
//! * `pass`, `warn` → success (warn findings go to `<system-out>`);
//! * `fail`, `ignored`, `flaky`, unexpected `unsupported` → `<failure type="VERDICT">`, the
//!   findings in the text;
//! * `error` → `<error>` with the transport error;
//! * `skip`, and any verdict the target declared expected → `<skipped>`.
//!
//! A failure's message is the sentence of the result's first-ranked deviation
//! ([`crate::report::causes`]); its text holds the findings and a `curl` repro.

use super::causes;
use super::model::{ResultRecord, RunReport, sorted_findings};
use crate::verdict::Verdict;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::io;
use std::time::Duration;

pub(crate) const FILE_NAME: &str = "junit.xml";

/// The XML text of a report.
pub(crate) fn render(report: &RunReport) -> io::Result<String> {
    let report = &*causes::ensured(report);
    let mut junit = Report::new("conform");
    junit.set_time(Duration::from_secs_f64(
        report.duration_ms.max(0.0) / 1000.0,
    ));
    let mut names: Vec<&str> = report.targets.iter().map(|t| t.name.as_str()).collect();
    for r in &report.results {
        if !names.contains(&r.target.as_str()) {
            names.push(&r.target);
        }
    }
    for name in names {
        let mut suite = TestSuite::new(name);
        for r in report.results.iter().filter(|r| r.target == name) {
            suite.add_test_case(test_case(report, r));
        }
        junit.add_test_suite(suite);
    }
    if report.interrupted {
        // CI must not read a cut run as green: the cut is an error test case of its own.
        let mut suite = TestSuite::new("conform");
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_type("interrupted");
        status.set_message(format!(
            "the run was interrupted: {} of {} planned results are in",
            report.results.len(),
            report.planned.max(report.results.len())
        ));
        suite.add_test_case(TestCase::new("run interrupted", status));
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .map_err(|e| io::Error::other(format!("cannot write junit xml: {e}")))
}

fn test_case(report: &RunReport, r: &ResultRecord) -> TestCase {
    let first = causes::of_result(report, r)
        .into_iter()
        .find(|d| d.severity == crate::check::Severity::Must)
        .or_else(|| causes::of_result(report, r).into_iter().next());
    let findings_text = |r: &ResultRecord| {
        let mut t = findings_text(r);
        if let Some(ev) = report.repros.get(&causes::result_key(r)) {
            t.push_str(&format!(
                "\nrepro (exchange {} line {}; set API_KEY to the target's key):\n{}",
                ev.file, ev.line, ev.curl
            ));
        }
        t
    };
    let status = if r.expected && r.verdict != Verdict::Pass {
        let mut s = TestCaseStatus::skipped();
        s.set_message(format!("{} (expected by the target)", r.verdict));
        s.set_description(findings_text(r));
        s
    } else {
        match r.verdict {
            Verdict::Pass | Verdict::Warn => TestCaseStatus::success(),
            Verdict::Skip => {
                let mut s = TestCaseStatus::skipped();
                s.set_message("not run");
                s
            }
            Verdict::Inconclusive => {
                let mut s = TestCaseStatus::skipped();
                s.set_message("inconclusive: the model did not produce what the probe needs");
                s.set_description(findings_text(r));
                s
            }
            Verdict::Error => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_type("error");
                s.set_message(
                    r.error
                        .clone()
                        .unwrap_or_else(|| "infrastructure error".to_string()),
                );
                s.set_description(findings_text(r));
                s
            }
            Verdict::Fail | Verdict::Ignored | Verdict::Flaky | Verdict::Unsupported => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type(r.verdict.as_str());
                s.set_message(match first {
                    Some(d) => format!("{} ({} {})", d.sentence, d.id, d.check),
                    None => format!("{}: {}", r.verdict, r.verdict.meaning()),
                });
                s.set_description(findings_text(r));
                s
            }
        }
    };
    let mut case = TestCase::new(r.case_name(), status);
    case.set_classname(r.feature.as_str());
    if let Some(ms) = r.timing.total_ms.filter(|m| m.is_finite() && *m >= 0.0) {
        case.set_time(Duration::from_secs_f64(ms / 1000.0));
    }
    if r.verdict == Verdict::Warn && !r.findings.is_empty() {
        case.set_system_out(findings_text(r));
    }
    case
}

/// One finding per line, most severe first; the error first when there is one.
fn findings_text(r: &ResultRecord) -> String {
    let mut lines = Vec::new();
    if !r.title.is_empty() {
        lines.push(r.title.clone());
    }
    if let Some(e) = &r.error {
        lines.push(format!("error: {e}"));
    }
    lines.extend(
        sorted_findings(&r.findings)
            .into_iter()
            .map(|f| f.to_string()),
    );
    lines.join("\n")
}
