//! The terminal: a progress bar naming the running case while a run is going, and a summary at
//! the end: per target its score, verdict counts and top 5 deviations with their counts, the
//! snapshots pending review with the command to review them, and the report paths. `--quiet`
//! prints only the report path; the progress bar is hidden when stderr is not a terminal;
//! colour only on a terminal and never with `NO_COLOR` set.

use super::model::{RunReport, SnapshotStatus};
use crate::secrets::Redactor;
use crate::verdict::Verdict;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TerminalOptions {
    pub quiet: bool,
    pub color: bool,
}

impl TerminalOptions {
    /// From `--quiet` and the environment: colour when stdout is a terminal and `NO_COLOR` is
    /// unset or empty.
    pub(crate) fn detect(quiet: bool) -> TerminalOptions {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        TerminalOptions {
            quiet,
            color: !no_color && std::io::stdout().is_terminal(),
        }
    }
}

/// Deviations listed per target at the end of a run.
const TOP: usize = 5;

/// The summary text: per target its score, verdict counts (worst first) and top deviations; an
/// `interrupted` note if so; pending snapshots; where the reports were written.
pub(crate) fn summary_text(
    report: &RunReport,
    report_dir: Option<&Path>,
    opts: TerminalOptions,
) -> String {
    let report = &*super::causes::ensured(report);
    let mut out = String::new();
    let width = report
        .summary
        .keys()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0);
    let scores = super::score::scores(report);
    for (target, counts) in &report.summary {
        let mut parts = Vec::new();
        for v in Verdict::ALL {
            if let Some(n) = counts.get(&v).filter(|n| **n > 0) {
                parts.push(paint(&format!("{v} {n}"), v, opts.color));
            }
        }
        let parts = if parts.is_empty() {
            "no results".to_string()
        } else {
            parts.join(" · ")
        };
        let score = scores
            .iter()
            .find(|s| &s.target == target)
            .filter(|s| s.judged() > 0)
            .map(|s| format!("compat {} ({})  ", s.percent_text(), s.line()))
            .unwrap_or_default();
        out.push_str(&format!("{target:<width$}  {score}{parts}\n"));
        let devs: Vec<_> = report
            .deviations
            .iter()
            .filter(|d| &d.target == target && super::causes::to_fix(d))
            .collect();
        for d in devs.iter().take(TOP) {
            out.push_str(&format!(
                "  {:<4} {:<6} {} — {} [{}]\n",
                d.id,
                d.severity.to_string(),
                crate::text::visible(&d.check),
                crate::text::visible(&d.sentence),
                d.spread()
            ));
        }
        if devs.len() > TOP {
            out.push_str(&format!(
                "  … {} more deviations in the report\n",
                devs.len() - TOP
            ));
        }
    }
    if report.interrupted {
        out.push_str("interrupted: the report holds the results so far\n");
    }
    let pending = report
        .results
        .iter()
        .filter(|r| {
            r.snapshot
                .as_ref()
                .is_some_and(|s| s.status != SnapshotStatus::Same)
        })
        .count();
    if pending > 0 {
        out.push_str(&format!(
            "{pending} snapshot{} pending: review with `conform snapshots list` then `conform snapshots accept` (or `cargo insta review`)\n",
            if pending == 1 { "" } else { "s" }
        ));
    }
    if let Some(dir) = report_dir {
        out.push_str(&report_paths(dir));
    }
    out
}

/// `report: DIR/report.md` and the other files, one line.
fn report_paths(dir: &Path) -> String {
    format!(
        "report: {} (also {}, {}, {}, {})\n",
        dir.join(super::markdown::FILE_NAME).display(),
        super::html::FILE_NAME,
        super::json::FILE_NAME,
        super::junit::FILE_NAME,
        super::badge::FILE_NAME
    )
}

/// Print the summary to stdout, redacted; with `--quiet` only the report path.
pub(crate) fn print_summary(
    report: &RunReport,
    report_dir: Option<&Path>,
    opts: TerminalOptions,
    redactor: &Redactor,
) {
    if opts.quiet {
        if let Some(dir) = report_dir {
            print!("{}", redactor.redact(&report_paths(dir)));
        }
        return;
    }
    print!(
        "{}",
        redactor.redact(&summary_text(report, report_dir, opts))
    );
}

fn paint(text: &str, v: Verdict, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match v {
        Verdict::Pass => "32",
        Verdict::Warn | Verdict::Flaky => "33",
        Verdict::Fail | Verdict::Ignored | Verdict::Error => "31",
        Verdict::Unsupported => "35",
        Verdict::Skip | Verdict::Inconclusive => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// A progress bar over `total` results on stderr; hidden with `--quiet` or when stderr is not
/// a terminal. Use `ProgressBar::suspend` or `println` to print while it is drawn.
pub(crate) fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    let visible = !quiet && std::io::stderr().is_terminal();
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}") {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::TargetInfo;

    fn report() -> RunReport {
        let t = |n: &str| TargetInfo {
            name: n.into(),
            base_url: "http://h".into(),
            model: "m".into(),
        };
        let mut r = RunReport::started_at("2026-11-25T04:00:00Z".into(), vec![t("alpha"), t("b")]);
        let mut counts = std::collections::BTreeMap::new();
        counts.insert(Verdict::Pass, 5);
        counts.insert(Verdict::Fail, 1);
        r.summary.insert("alpha".into(), counts);
        r
    }

    #[test]
    fn summary_lists_counts_worst_first_without_colour() {
        let opts = TerminalOptions {
            quiet: false,
            color: false,
        };
        let text = summary_text(&report(), Some(Path::new("reports")), opts);
        assert_eq!(
            text,
            "alpha  fail 1 · pass 5\nb      no results\nreport: reports/report.md (also report.html, report.json, junit.xml, badge.svg)\n"
        );
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn colour_only_when_asked() {
        let text = summary_text(
            &report(),
            None,
            TerminalOptions {
                quiet: false,
                color: true,
            },
        );
        assert!(text.contains("\x1b[31mfail 1\x1b[0m"), "{text:?}");
    }

    #[test]
    fn hidden_progress_bar_when_quiet() {
        let bar = progress_bar(3, true);
        assert!(bar.is_hidden());
        bar.inc(1);
        assert_eq!(bar.position(), 1);
    }
}
