//! Root causes: the findings of a run grouped into **deviations**, one per (target, cause),
//! ranked by what they cost a client (issue 13).
//!
//! A cause is a check id plus its normalised reason (the message with quoted values, JSON
//! pointers and numbers blanked; a few checks whose messages differ only in detail are one
//! reason, `ONE_REASON`), counted across scenarios and modes. Before grouping, the
//! findings of each step are reduced to their *primaries* ([`fold`]): findings that follow from
//! an earlier one in the same step — assertions on a 404 body, the same missing header seen by
//! `headers.request-id` and `assert.exists`, a missing signature reported by the grammar and by
//! the request-implied check — are folded under it and listed with it, not as causes of their
//! own. A few causes also hold across results (`ACROSS`): a conversation whose earlier turns
//! never reach the model leaves context edits and a conversation's cache nothing to act on, so
//! those deviations of the same target fold under it. A deviation that touches every judged
//! result of its target is marked target-wide and reported once.
//!
//! A deviation's severity is that of its own check's findings — the catalogue's, or an
//! exception the entry declares — never that of the findings folded under it, so the report
//! and `conform explain` agree on every check. What the follow-ons cost counts in the rank.
//!
//! Ranking: the worst severity of the cause and its follow-ons (`must` > `should` > `info`;
//! assertions on a 404 body that fail a result rank their cause with them), then the
//! catalogue's measured client impact
//! (hangs > raises > data lost > not measured > ok), then the number of features touched,
//! then the number of results. Evidence (an excerpt of the exchange record) and the `curl`
//! repro are attached by [`evidence`] when the exchange files are at hand.

pub(crate) mod evidence;
mod fold;

pub(crate) use crate::report::deviation::{Deviation, Example};
pub(crate) use evidence::{Evidence, EvidenceIndex, attach_evidence};

use super::model::{ResultRecord, RunReport};
use crate::check::catalogue::{self, ClientImpact};
use crate::check::{Finding, Severity};
use crate::run::CaseId;
use crate::verdict::Verdict;
use std::collections::{BTreeMap, BTreeSet};

/// The order of a feature in the matrix (`conform list` order); unknown features last.
pub(crate) fn feature_rank(feature: &str) -> usize {
    crate::scenario::Feature::rank_of(feature)
}

/// A number for the worst client impact of a check (higher is worse).
pub(crate) fn impact_score(check: &str) -> u8 {
    if catalogue::get(check).is_none() {
        return 1;
    }
    catalogue::impact_of(check)
        .per_client()
        .iter()
        .map(|(_, i)| match i {
            ClientImpact::Hangs => 4,
            ClientImpact::Raises => 3,
            ClientImpact::DataLost => 2,
            ClientImpact::Unknown => 1,
            ClientImpact::Ok => 0,
        })
        .max()
        .unwrap_or(1)
}

/// The catalogue's impact line for a check.
fn impact_text(check: &str) -> String {
    if catalogue::get(check).is_none() {
        return "not measured".to_string();
    }
    let per = catalogue::impact_of(check).per_client();
    if per.iter().all(|(_, i)| *i == ClientImpact::Unknown) {
        return "not measured yet".to_string();
    }
    if per.iter().all(|(_, i)| *i == ClientImpact::Ok) {
        return if catalogue::get(check).is_some_and(|e| e.contract.is_some()) {
            format!(
                "the official clients cope, but the feature's documented contract is broken (see conform explain {check})"
            )
        } else {
            "the official clients cope".to_string()
        };
    }
    per.iter()
        .map(|(c, i)| format!("{c} {}", i.as_str()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The reason of a finding, the grouping key next to its check: for an `effect.*` check the
/// feature had no effect whatever the assertion that showed it; otherwise the message with
/// what varies between occurrences blanked ([`normalise_message`]).
pub(crate) fn normalise_reason(check: &str, message: &str) -> String {
    if check.starts_with("effect.") {
        return "the feature had no effect".to_string();
    }
    // A stated rule is one cause whatever the wording of the scenarios that prove it.
    if catalogue::is_stated_rule(check) {
        return "the rule is broken".to_string();
    }
    // Checks whose messages vary only in detail (which blocks were open when the stream
    // ended, the JSON parser's complaint, which delta in which block): one cause each.
    if ONE_REASON.contains(&check) {
        return "one reason".to_string();
    }
    normalise_message(message)
}

/// Blank what varies between occurrences of one cause: quoted values, paths and JSON pointers
/// (any word with a `/`), numbers.
pub(crate) fn normalise_message(message: &str) -> String {
    let mut unquoted = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\'' {
            let mut closed = false;
            for d in chars.by_ref() {
                if d == c {
                    closed = true;
                    break;
                }
            }
            unquoted.push(c);
            unquoted.push('…');
            if closed {
                unquoted.push(c);
            }
        } else {
            unquoted.push(c);
        }
    }
    let words: Vec<String> = unquoted
        .split(' ')
        .map(|w| {
            if w.contains('/') {
                let lead: String = w.chars().take_while(|c| "(`[".contains(*c)).collect();
                let trail: String = {
                    let t: Vec<char> = w
                        .chars()
                        .rev()
                        .take_while(|c| ")`],:;".contains(*c))
                        .collect();
                    t.into_iter().rev().collect()
                };
                let slash = if w[lead.len()..].starts_with('/') {
                    "/"
                } else {
                    ""
                };
                return format!("{lead}{slash}…{trail}");
            }
            let mut out = String::new();
            let mut prev_alnum = false;
            let mut it = w.chars().peekable();
            while let Some(c) = it.next() {
                if c.is_ascii_digit() && !prev_alnum {
                    while it.peek().is_some_and(|d| d.is_ascii_digit() || *d == '.') {
                        it.next();
                    }
                    out.push('N');
                    prev_alnum = true;
                } else {
                    prev_alnum = c.is_alphanumeric() || c == '_';
                    out.push(c);
                }
            }
            out
        })
        .collect();
    words.join(" ")
}

/// A result's key in maps: `target scenario@mode`.
pub(crate) fn result_key(r: &ResultRecord) -> String {
    r.case_id().to_string()
}

/// Checks that are one cause whatever their message says (see [`normalise_reason`]).
const ONE_REASON: &[&str] = &[
    "stream.grammar.truncated",
    "stream.event.json",
    "stream.grammar.delta-type",
];

/// (target, check, reason): one cause of one target.
type Key = (String, String, String);

/// One cause's findings across a run.
#[derive(Default)]
struct Acc {
    /// The worst severity of the cause's own findings: the label, one the catalogue
    /// declares for the check.
    severity: Option<Severity>,
    /// The worst severity of the cause and the findings folded under it: the rank.
    cost: Option<Severity>,
    occurrences: usize,
    results: BTreeSet<String>,
    features: BTreeSet<String>,
    folded: BTreeMap<String, usize>,
    first: Option<(CaseId, Finding)>,
}

/// Causes that hold across results: when a target shows the cause, the listed checks'
/// deviations on that target follow from it and fold under it. With the earlier turns of a
/// conversation lost, context edits have no tool results to clear and a conversation's cached
/// prefix is not sent again: those scenarios cannot be judged until the history arrives (an
/// independent fault of theirs shows once it does).
const ACROSS: &[(&str, &[&str])] = &[(
    "effect.history",
    &["effect.context-editing", "effect.caching"],
)];

/// Fold the deviations [`ACROSS`] declares as consequences into their cause's, per target,
/// and point their results at the cause.
fn fold_across(groups: &mut BTreeMap<Key, Acc>, per_result: &mut BTreeMap<String, BTreeSet<Key>>) {
    for (cause, followers) in ACROSS {
        let causes: Vec<Key> = groups.keys().filter(|k| k.1 == *cause).cloned().collect();
        for cause_key in causes {
            let moved: Vec<Key> = groups
                .keys()
                .filter(|k| k.0 == cause_key.0 && followers.contains(&k.1.as_str()))
                .cloned()
                .collect();
            for key in moved {
                let (Some(f), true) = (groups.remove(&key), groups.contains_key(&cause_key)) else {
                    continue;
                };
                let c = groups.entry(cause_key.clone()).or_default();
                c.cost = c.cost.max(f.cost);
                *c.folded.entry(key.1.clone()).or_default() += f.occurrences;
                for (check, n) in f.folded {
                    *c.folded.entry(check).or_default() += n;
                }
                c.results.extend(f.results);
                c.features.extend(f.features);
                for keys in per_result.values_mut() {
                    if keys.remove(&key) {
                        keys.insert(cause_key.clone());
                    }
                }
            }
        }
    }
}

/// Group the findings of `report` into ranked deviations (without evidence), and map each
/// result to the ids of the deviations it shows, best ranked first.
pub fn analyse(report: &RunReport) -> (Vec<Deviation>, BTreeMap<String, Vec<String>>) {
    // (target, check, reason) → accumulated; insertion order kept by the first index.
    let mut groups: BTreeMap<Key, Acc> = BTreeMap::new();
    let mut per_result: BTreeMap<String, BTreeSet<Key>> = BTreeMap::new();
    // A stable order (results arrive in completion order): the first occurrence is the same
    // in every run.
    let mut ordered: Vec<&ResultRecord> = report.results.iter().collect();
    ordered.sort_by(|a, b| a.listing_order().cmp(&b.listing_order()));
    for r in ordered {
        for p in fold::primaries(&r.findings) {
            let f = &r.findings[p.index];
            let key = (
                r.target.clone(),
                f.check.to_string(),
                normalise_reason(f.check.as_str(), &f.message),
            );
            let acc = groups.entry(key.clone()).or_default();
            acc.severity = acc.severity.max(Some(f.severity()));
            acc.cost = acc.cost.max(Some(f.severity()));
            for i in &p.folded {
                acc.cost = acc.cost.max(Some(r.findings[*i].severity()));
            }
            acc.occurrences += 1;
            acc.results.insert(r.case_name());
            acc.features.insert(r.feature.clone());
            // The same check folded under itself (a scenario assertion that states the rule
            // a protocol check already reported) is one more occurrence, not a follow-on.
            for i in &p.folded {
                if r.findings[*i].check == f.check {
                    continue;
                }
                *acc.folded
                    .entry(r.findings[*i].check.to_string())
                    .or_default() += 1;
            }
            if acc.first.is_none() {
                acc.first = Some((r.case_id(), f.clone()));
            }
            per_result.entry(result_key(r)).or_default().insert(key);
        }
    }
    fold_across(&mut groups, &mut per_result);
    let judged: BTreeMap<&str, usize> = report
        .targets
        .iter()
        .map(|t| {
            let n = report
                .results
                .iter()
                .filter(|r| {
                    r.target == t.name && !matches!(r.verdict, Verdict::Error | Verdict::Skip)
                })
                .count();
            (t.name.as_str(), n)
        })
        .collect();
    let mut ranked: Vec<(Severity, Deviation)> = groups
        .into_iter()
        .filter_map(|((target, check, reason), acc)| {
            let (case, f) = acc.first?;
            let entry = catalogue::get(&check);
            let mut features: Vec<String> = acc.features.into_iter().collect();
            features.sort_by_key(|f| (feature_rank(f), f.clone()));
            let n = acc.results.len();
            let all = judged.get(target.as_str()).copied().unwrap_or(0);
            let cost = acc.cost.unwrap_or(f.severity());
            Some((
                cost,
                Deviation {
                    id: String::new(),
                    target_wide: all >= 3 && n >= all,
                    sentence: entry
                        .map(|e| e.title.to_string())
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| sentence_from(&f.message)),
                    impact: impact_text(&check),
                    fix: entry.map(|e| e.fix.to_string()).unwrap_or_default(),
                    doc: entry.map(|e| e.doc.to_string()).unwrap_or_default(),
                    severity: acc.severity.unwrap_or(f.severity()),
                    results: n,
                    occurrences: acc.occurrences,
                    features,
                    cases: acc.results.into_iter().collect(),
                    folded: acc.folded.into_iter().collect(),
                    example: Example {
                        case: case.name(),
                        step: f.step.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                        location: f.location.clone(),
                        message: f.message.clone(),
                        expected: f.expected.clone(),
                        actual: f.actual.clone(),
                    },
                    evidence: None,
                    example_of: Some((case, f.step.clone())),
                    target,
                    check,
                    reason,
                },
            ))
        })
        .collect();
    let target_order = |t: &str| report.targets.iter().position(|x| x.name == t);
    ranked.sort_by(|(a_cost, a), (b_cost, b)| {
        let key = |d: &Deviation, cost: Severity| {
            (
                target_order(&d.target),
                std::cmp::Reverse(cost),
                std::cmp::Reverse(impact_score(&d.check)),
                std::cmp::Reverse(d.features.len()),
                std::cmp::Reverse(d.results),
            )
        };
        key(a, *a_cost)
            .cmp(&key(b, *b_cost))
            .then_with(|| (&a.check, &a.reason).cmp(&(&b.check, &b.reason)))
    });
    let mut out: Vec<Deviation> = ranked.into_iter().map(|(_, d)| d).collect();
    let mut ids: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for (i, d) in out.iter_mut().enumerate() {
        d.id = format!("D{}", i + 1);
        ids.insert(
            (d.target.clone(), d.check.clone(), d.reason.clone()),
            d.id.clone(),
        );
    }
    let rank = |id: &String| id[1..].parse::<usize>().unwrap_or(usize::MAX);
    let per_result = per_result
        .into_iter()
        .map(|(k, keys)| {
            let mut v: Vec<String> = keys.iter().filter_map(|k| ids.get(k).cloned()).collect();
            v.sort_by_key(rank);
            (k, v)
        })
        .collect();
    (out, per_result)
}

/// Whether a deviation belongs under "What to fix first": its own check, or a finding folded
/// under it, is more than informational. Informational findings and legal behaviour (a
/// `max_tokens` truncation, a snapshot not accepted yet) are listed apart, as notes.
pub(crate) fn to_fix(d: &Deviation) -> bool {
    if d.check == catalogue::ids::SNAPSHOT_NEW.as_str() {
        return false;
    }
    d.severity != Severity::Info
        || d.folded
            .iter()
            .any(|(c, _)| catalogue::get(c).is_some_and(|e| e.severity != Severity::Info))
}

/// A sentence from a finding message when the catalogue has no title: capitalised, one period.
fn sentence_from(message: &str) -> String {
    let mut s: String = message.trim().to_string();
    if let Some(c) = s.get(0..1) {
        s.replace_range(0..1, &c.to_uppercase());
    }
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// The deviations `key` (a [`result_key`]) shows, looked up in the report.
pub(crate) fn of_result<'a>(report: &'a RunReport, r: &ResultRecord) -> Vec<&'a Deviation> {
    let ids = report.deviation_ids.get(&result_key(r));
    ids.into_iter()
        .flatten()
        .filter_map(|id| report.deviations.iter().find(|d| &d.id == id))
        .collect()
}

/// Fill `report.deviations` and `report.deviation_ids` from its results.
pub(crate) fn attach(report: &mut RunReport) {
    let (devs, ids) = analyse(report);
    report.deviations = devs;
    report.deviation_ids = ids;
}

/// `report` itself when its deviations are filled (or it has no findings), else a copy with
/// them: renderers called on a bare report still lead with causes.
pub(crate) fn ensured(report: &RunReport) -> std::borrow::Cow<'_, RunReport> {
    let has_findings = report.results.iter().any(|r| !r.findings.is_empty());
    if !report.deviations.is_empty() || !has_findings {
        return std::borrow::Cow::Borrowed(report);
    }
    let mut r = report.clone();
    attach(&mut r);
    std::borrow::Cow::Owned(r)
}

#[cfg(test)]
mod tests;
