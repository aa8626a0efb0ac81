//! Snapshots and regressions end to end: shapes are stable across seeds, a fault changes them
//! and `conform diff` names the regression.

use crate::support::*;
use std::path::Path;
use std::process::Command;

fn run_against(dir: &Path, mock: &Mock, report: &str, extra: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir)
        .env("CONFORM_TEST_KEY", CANARY)
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .args([
            "run",
            "--quiet",
            "--base-url",
            &mock.base_url,
            "--model",
            "conform-mock",
            "--api-key-env",
            "CONFORM_TEST_KEY",
            "--name",
            "mock",
        ])
        .args(["--report-dir", report, "--snapshots", "snaps"])
        .args(extra)
        .output()
        .unwrap()
}

fn pending(dir: &Path) -> Vec<String> {
    all_files(&dir.join("snaps"))
        .into_iter()
        .map(|(p, _)| p.display().to_string())
        .filter(|p| p.ends_with(".snap.new"))
        .collect()
}

fn diff(dir: &Path, base: &str, new: &str) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(["diff", base, new, "--format", "md"])
        .output()
        .unwrap()
}

#[test]
fn shapes_are_stable_across_seeds_and_faults_show_as_changes_and_regressions() {
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    let d = dir.path();

    let seed1 = Mock::start(&["--seed", "1"]);
    let out = run_against(d, &seed1, "r1", &["--update-snapshots"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(pending(d).is_empty());
    assert_eq!(
        all_files(&d.join("snaps")).len(),
        4,
        "one snapshot per scenario and mode"
    );

    let seed2 = Mock::start(&["--seed", "2"]);
    let out = run_against(d, &seed2, "r2", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        pending(d).is_empty(),
        "another seed must give the same shapes: {:?}",
        pending(d)
    );
    assert_eq!(
        diff(d, "r1/report.json", "r2/report.json").status.code(),
        Some(0)
    );

    let faulty = Mock::start(&[
        "--fault",
        "extra-fields",
        "--fault",
        "stop-sequence-ignored",
    ]);
    let out = run_against(d, &faulty, "r3", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !pending(d).is_empty(),
        "changed shapes are written as .snap.new"
    );
    let md = read(&d.join("r3/report.md"));
    assert!(md.contains("Appendix C — changed since snapshot"), "{md}");
    assert!(md.contains("```diff"), "{md}");

    let out = diff(d, "r1/report.json", "r3/report.json");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("t/stop-sequence"), "{text}");
}

#[test]
fn a_baseline_comparison_lands_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    scenario_dir(dir.path());
    let d = dir.path();
    let clean = Mock::start(&[]);
    assert_eq!(
        run_against(d, &clean, "base", &["--no-snapshots"])
            .status
            .code(),
        Some(0)
    );
    let faulty = Mock::start(&["--fault", "stop-sequence-ignored"]);
    let out = run_against(
        d,
        &faulty,
        "new",
        &["--no-snapshots", "--baseline", "base/report.json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let md = read(&d.join("new/report.md"));
    assert!(md.contains("## Compared with base/report.json"), "{md}");
    assert!(md.contains("t/stop-sequence"), "{md}");
}
