//! The score of a target and the cells of the matrix, shared by every sink.
//!
//! Each feature of a target gets one state from the worst verdict among its results (errors,
//! skips and `inconclusive` results left out: they say nothing about conformance — an
//! inconclusive probe met a model that did not produce what it needs): all `pass` →
//! **conformant**, `warn` at worst → **degraded** (clients cope), `ignored` → **ignored**,
//! `unsupported` → **unsupported**, `fail` or `flaky` → **failing**; a feature with only
//! errors, skips or inconclusive results is **not judged**. The compatibility percentage is
//! (conformant + degraded) / judged features, rounded down — [`HOW`] says it in a sentence for
//! the reports. The score also counts the target's inconclusive results, so a reader sees how
//! much the model left unproven.

use super::model::{ResultRecord, RunReport};
use crate::scenario::Mode;
use crate::verdict::Verdict;

/// How the score is computed, for the reports.
pub(crate) const HOW: &str = "Each feature takes the state of its worst result (errors, skips and inconclusive results left out; a feature with nothing else is not judged): all pass = conformant, warn = degraded (clients cope), then ignored, unsupported, failing (fail or flaky). Compat % = (conformant + degraded) / features judged, rounded down.";

/// The state of one feature on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FeatureState {
    Failing,
    Ignored,
    Unsupported,
    Degraded,
    Conformant,
    NotJudged,
}

impl FeatureState {
    /// The state of a set of results; errors, skips and inconclusive results are left out.
    pub(crate) fn of(results: &[&ResultRecord]) -> FeatureState {
        let judged = results.iter().filter(|r| {
            !matches!(
                r.verdict,
                Verdict::Error | Verdict::Skip | Verdict::Inconclusive
            )
        });
        let worst = judged.map(|r| r.verdict).min();
        match worst {
            None => FeatureState::NotJudged,
            Some(Verdict::Pass) => FeatureState::Conformant,
            Some(Verdict::Warn) => FeatureState::Degraded,
            Some(Verdict::Ignored) => FeatureState::Ignored,
            Some(Verdict::Unsupported) => FeatureState::Unsupported,
            Some(_) => FeatureState::Failing,
        }
    }
}

/// The score of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetScore {
    pub target: String,
    pub conformant: usize,
    pub degraded: usize,
    pub ignored: usize,
    pub unsupported: usize,
    pub failing: usize,
    pub not_judged: usize,
    /// Results of the target that were `inconclusive` (left out of the feature states).
    pub inconclusive: usize,
    /// Features per state, in matrix order.
    pub features: Vec<(String, FeatureState)>,
}

impl TargetScore {
    pub(crate) fn judged(&self) -> usize {
        self.conformant + self.degraded + self.ignored + self.unsupported + self.failing
    }

    /// The compatibility percentage; `None` when nothing was judged.
    pub(crate) fn percent(&self) -> Option<u32> {
        let j = self.judged();
        (j > 0).then(|| ((self.conformant + self.degraded) * 100 / j) as u32)
    }

    /// `83%` or `n/a`.
    pub fn percent_text(&self) -> String {
        self.percent()
            .map(|p| format!("{p}%"))
            .unwrap_or_else(|| "n/a".to_string())
    }

    /// `0 conformant · 15 degraded · 1 ignored · 0 unsupported · 2 failing`, then
    /// `· 1 not judged` and `; 3 inconclusive results left out` when there are any.
    pub(crate) fn line(&self) -> String {
        let mut s = format!(
            "{} conformant · {} degraded · {} ignored · {} unsupported · {} failing",
            self.conformant, self.degraded, self.ignored, self.unsupported, self.failing
        );
        if self.not_judged > 0 {
            s.push_str(&format!(" · {} not judged", self.not_judged));
        }
        if self.inconclusive > 0 {
            s.push_str(&format!("; {}", self.inconclusive_text()));
        }
        s
    }

    /// `3 inconclusive results left out` (`1 inconclusive result …`).
    pub(crate) fn inconclusive_text(&self) -> String {
        let n = self.inconclusive;
        format!(
            "{n} inconclusive result{} left out",
            if n == 1 { "" } else { "s" }
        )
    }
}

/// The score of every target of the report, in target order.
pub fn scores(report: &RunReport) -> Vec<TargetScore> {
    let features = report.features();
    report
        .targets
        .iter()
        .map(|t| {
            let mut s = TargetScore {
                target: t.name.clone(),
                conformant: 0,
                degraded: 0,
                ignored: 0,
                unsupported: 0,
                failing: 0,
                not_judged: 0,
                inconclusive: report
                    .results
                    .iter()
                    .filter(|r| r.target == t.name && r.verdict == Verdict::Inconclusive)
                    .count(),
                features: Vec::new(),
            };
            for f in &features {
                let rs: Vec<&ResultRecord> = report
                    .results
                    .iter()
                    .filter(|r| r.target == t.name && &r.feature == f)
                    .collect();
                if rs.is_empty() {
                    continue;
                }
                let state = FeatureState::of(&rs);
                *match state {
                    FeatureState::Conformant => &mut s.conformant,
                    FeatureState::Degraded => &mut s.degraded,
                    FeatureState::Ignored => &mut s.ignored,
                    FeatureState::Unsupported => &mut s.unsupported,
                    FeatureState::Failing => &mut s.failing,
                    FeatureState::NotJudged => &mut s.not_judged,
                } += 1;
                s.features.push((f.clone(), state));
            }
            s
        })
        .collect()
}

/// One matrix cell: the results of a feature × target × mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell {
    /// The worst verdict, `None` when there is no result.
    pub worst: Option<Verdict>,
    /// Results that pass or warn.
    pub ok: usize,
    pub total: usize,
    /// Some non-pass verdict was declared expected by the target.
    pub expected: bool,
}

impl Cell {
    pub(crate) fn of(results: &[&ResultRecord]) -> Cell {
        Cell {
            worst: results.iter().map(|r| r.verdict).min(),
            ok: results
                .iter()
                .filter(|r| matches!(r.verdict, Verdict::Pass | Verdict::Warn))
                .count(),
            total: results.len(),
            expected: results
                .iter()
                .any(|r| r.expected && r.verdict != Verdict::Pass),
        }
    }

    /// `✅ 4/4`, `⚠ 3/4`, `❌ 1/2`; `—` when empty.
    pub(crate) fn text(&self) -> String {
        match self.worst {
            None => "—".to_string(),
            Some(v) => format!(
                "{} {}/{}{}",
                icon(v),
                self.ok,
                self.total,
                if self.expected { " (expected)" } else { "" }
            ),
        }
    }
}

/// The icon of a verdict in cells and lists.
pub(crate) fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Warn => "⚠",
        Verdict::Fail => "❌",
        Verdict::Ignored => "🚫",
        Verdict::Unsupported => "⛔",
        Verdict::Flaky => "〰",
        Verdict::Error => "💥",
        Verdict::Skip => "⏭",
        Verdict::Inconclusive => "❔",
    }
}

/// The results of one cell.
pub(crate) fn cell_results<'a>(
    report: &'a RunReport,
    target: &str,
    feature: &str,
    mode: Mode,
) -> Vec<&'a ResultRecord> {
    report
        .results
        .iter()
        .filter(|r| r.target == target && r.feature == feature && r.mode == mode)
        .collect()
}

/// The modes of the run, `sync` before `stream`.
pub(crate) fn modes(report: &RunReport) -> Vec<Mode> {
    let m: std::collections::BTreeSet<Mode> = report.results.iter().map(|r| r.mode).collect();
    m.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::TargetInfo;

    fn r(feature: &str, mode: &str, verdict: Verdict) -> ResultRecord {
        ResultRecord::new(
            "t",
            format!("{feature}/x"),
            feature,
            mode.parse().unwrap(),
            verdict,
        )
    }

    fn report(results: Vec<ResultRecord>) -> RunReport {
        let t = TargetInfo {
            name: "t".into(),
            base_url: "u".into(),
            model: "m".into(),
        };
        let mut rep = RunReport::started_at("x".into(), vec![t]);
        for x in results {
            rep.push(x);
        }
        rep
    }

    #[test]
    fn inconclusive_results_are_left_out_of_the_states_and_counted() {
        let rep = report(vec![
            r("basic", "sync", Verdict::Pass),
            r("stop-sequences", "sync", Verdict::Pass),
            r("stop-sequences", "stream", Verdict::Inconclusive),
            r("tools", "sync", Verdict::Inconclusive),
            r("tools", "stream", Verdict::Error),
        ]);
        let s = &scores(&rep)[0];
        assert_eq!(
            s.features,
            vec![
                ("basic".to_string(), FeatureState::Conformant),
                ("stop-sequences".to_string(), FeatureState::Conformant),
                ("tools".to_string(), FeatureState::NotJudged),
            ]
        );
        assert_eq!((s.conformant, s.failing, s.not_judged), (2, 0, 1));
        assert_eq!(s.inconclusive, 2);
        assert_eq!(s.percent_text(), "100%");
        assert_eq!(
            s.line(),
            "2 conformant · 0 degraded · 0 ignored · 0 unsupported · 0 failing · 1 not judged; 2 inconclusive results left out"
        );
        // A failure still counts beside an inconclusive result of the same feature.
        let rep = report(vec![
            r("tools", "sync", Verdict::Inconclusive),
            r("tools", "stream", Verdict::Fail),
        ]);
        let s = &scores(&rep)[0];
        assert_eq!((s.failing, s.inconclusive), (1, 1));
        assert_eq!(s.percent(), Some(0));
        assert!(s.line().ends_with("; 1 inconclusive result left out"));
    }

    #[test]
    fn features_take_their_worst_judged_state() {
        let mut rep = report(Vec::new());
        for x in [
            r("basic", "sync", Verdict::Pass),
            r("basic", "stream", Verdict::Warn),
            r("tools", "sync", Verdict::Pass),
            r("thinking", "sync", Verdict::Ignored),
            r("errors", "sync", Verdict::Error),
            r("models", "sync", Verdict::Fail),
            r("models", "sync", Verdict::Pass),
        ] {
            rep.push(x);
        }
        let s = &scores(&rep)[0];
        assert_eq!(
            (s.conformant, s.degraded, s.ignored, s.failing, s.not_judged),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(s.percent(), Some(50));
        let models = cell_results(&rep, "t", "models", Mode::Sync);
        assert_eq!(Cell::of(&models).text(), "❌ 1/2");
        assert_eq!(Cell::of(&[]).text(), "—");
        assert_eq!(modes(&rep), vec![Mode::Sync, Mode::Stream]);
    }
}
