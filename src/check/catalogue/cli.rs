//! `conform explain CHECK` and `conform explain --list`: the catalogue on the command line.

use super::{Entry, Kind, all, get, impact_of, measured};
use crate::exit;
use std::fmt::Write as _;

/// How `conform explain` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// Arguments of `conform explain`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ExplainArgs {
    /// The check id to explain, e.g. `stream.grammar.block-order` or `assert.equals`.
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    pub check: Option<String>,
    /// List every check: id, default severity, title.
    #[arg(long)]
    pub list: bool,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// Run `conform explain`; returns the exit code (2 for an unknown check id).
pub(crate) fn run_cli(args: &ExplainArgs) -> i32 {
    let out = if args.list {
        Ok(list(args.format))
    } else {
        explain(args.check.as_deref().unwrap_or_default(), args.format)
    };
    match out {
        Ok(text) => {
            print!("{text}");
            exit::OK
        }
        Err(message) => {
            eprintln!("{message}");
            exit::USAGE
        }
    }
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // The catalogue holds only strings and enums: serialising cannot fail.
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

/// The whole catalogue: one line per entry, or a JSON array of entries.
pub(super) fn list(format: OutputFormat) -> String {
    if format == OutputFormat::Json {
        return to_json(&all().collect::<Vec<_>>());
    }
    let width = all().map(|e| e.id.len()).max().unwrap_or(0);
    let mut s = String::new();
    for e in all() {
        let _ = writeln!(
            s,
            "{:<width$}  {:<6}  {}",
            e.id,
            e.severity.to_string(),
            e.title
        );
    }
    s
}

/// One entry, or an error naming the closest ids.
pub(super) fn explain(id: &str, format: OutputFormat) -> Result<String, String> {
    let Some(entry) = get(id) else {
        let near = closest(id, 5);
        let mut message = format!("error: unknown check id `{id}`");
        if !near.is_empty() {
            let _ = write!(message, "; closest: {}", near.join(", "));
        }
        message.push_str("\n(`conform explain --list` lists every check)");
        return Err(message);
    };
    Ok(match format {
        OutputFormat::Json => {
            // The entry, with the measured impact of the id asked (a family member's own).
            let mut v = serde_json::to_value(entry).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                let m = measured(id);
                obj.insert(
                    "impact".into(),
                    serde_json::to_value(impact_of(id)).unwrap_or_default(),
                );
                obj.insert(
                    "impact_cases".into(),
                    serde_json::to_value(m.map(|m| m.cases.clone()).unwrap_or_default())
                        .unwrap_or_default(),
                );
            }
            to_json(&v)
        }
        OutputFormat::Text => render(entry, id),
    })
}

fn render(e: &Entry, asked: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{asked} ({})", e.severity);
    let _ = writeln!(s, "  {}", e.title);
    s.push('\n');
    if let Kind::Family { members, .. } = e.kind {
        let _ = writeln!(s, "  family    {} — one of: {}", e.id, members.join(", "));
    }
    let _ = write!(s, "  severity  {}", e.severity);
    let exceptions = exceptions_text(e);
    if exceptions.is_empty() {
        s.push('\n');
    } else {
        let _ = writeln!(s, " by default; {exceptions}");
    }
    if let Some(note) = e.note {
        let _ = writeln!(s, "  note      {note}");
    }
    let _ = writeln!(s, "  doc       {}", e.doc);
    let _ = writeln!(s, "  fix       {}", e.fix);
    let impact: Vec<String> = impact_of(asked)
        .per_client()
        .iter()
        .map(|(client, i)| format!("{client} {}", i.as_str()))
        .collect();
    let _ = writeln!(s, "  impact    {}", impact.join(" · "));
    match measured(asked) {
        Some(m) => {
            let _ = writeln!(
                s,
                "            measured on: {} (docs/client-impact.md)",
                m.cases.join(", ")
            );
        }
        None => {
            let _ = writeln!(
                s,
                "            no calibration case targets this check (docs/client-impact.md)"
            );
        }
    }
    if let Some(contract) = e.contract {
        let _ = writeln!(s, "  contract  {contract}");
    }
    s
}

/// The declared exceptions as `info when …; should when …`; exceptions with the same
/// condition share it (`should or info when …`).
fn exceptions_text(e: &Entry) -> String {
    let mut groups: Vec<(Vec<String>, &str)> = Vec::new();
    for x in e.exceptions {
        match groups.iter_mut().find(|(_, when)| *when == x.when) {
            Some((severities, _)) => severities.push(x.severity.to_string()),
            None => groups.push((vec![x.severity.to_string()], x.when)),
        }
    }
    groups
        .iter()
        .map(|(severities, when)| format!("{} when {when}", severities.join(" or ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The declared ids (families by pattern) nearest to `id`: ids containing it or contained
/// in it first, then by edit distance, at most `n`.
pub(super) fn closest(id: &str, n: usize) -> Vec<&'static str> {
    let mut scored: Vec<(usize, &'static str)> = all()
        .map(|e| {
            let cand = e.id;
            let stem = match e.kind {
                Kind::Family { prefix, .. } => prefix,
                Kind::Check => cand,
            };
            let score = if !id.is_empty() && (stem.contains(id) || id.starts_with(stem)) {
                0
            } else {
                1 + edit_distance(id, cand)
            };
            (score, cand)
        })
        .collect();
    scored.sort();
    let limit = id.chars().count().max(4) / 2 + 1;
    scored
        .into_iter()
        .filter(|(score, _)| *score <= limit)
        .take(n)
        .map(|(_, cand)| cand)
        .collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let replace = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = replace.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_replacements() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "abd"), 1);
        assert_eq!(edit_distance("abc", "ab"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_finds_a_misspelt_id_and_ids_sharing_a_stem() {
        assert_eq!(
            closest("stream.grammar.block-ordr", 1),
            vec!["stream.grammar.block-order"]
        );
        let near = closest("stream.grammar.block", 5);
        assert!(
            near.iter().all(|c| c.starts_with("stream.grammar.block")),
            "{near:?}"
        );
        assert_eq!(near.len(), 5);
        assert!(closest("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 5).is_empty());
    }

    #[test]
    fn explain_renders_exceptions_family_members_and_impact() {
        let text = explain("stream.grammar.unclosed-block", OutputFormat::Text).unwrap();
        assert!(
            text.starts_with("stream.grammar.unclosed-block (must)\n"),
            "{text}"
        );
        assert!(
            text.contains("  severity  must by default; info when the stop reason is `max_tokens`"),
            "{text}"
        );
        // The measured impact (impact.json) and the cases it comes from.
        let m = measured("stream.grammar.unclosed-block").expect("a case targets it");
        let i = m.impact;
        assert!(
            text.contains(&format!(
                "python-sdk {} · typescript-sdk {} · claude-code {}",
                i.python_sdk.as_str(),
                i.typescript_sdk.as_str(),
                i.claude_code.as_str()
            )),
            "{text}"
        );
        assert!(text.contains("measured on: unclosed-block"), "{text}");
        let fam = explain("assert.equals", OutputFormat::Text).unwrap();
        assert!(
            fam.contains("family    assert.<operator> — one of: status, equals"),
            "{fam}"
        );
        assert!(
            fam.contains("  severity  must by default; should or info when the scenario's own severity says so"),
            "{fam}"
        );
        let effect = explain("effect.tools", OutputFormat::Text).unwrap();
        assert!(
            effect.contains("  note      a failed effect check makes the verdict `ignored`"),
            "{effect}"
        );
        let plain = explain("headers.request-id", OutputFormat::Text).unwrap();
        assert!(plain.contains("  severity  should\n"), "{plain}");
        let json: serde_json::Value =
            serde_json::from_str(&explain("effect.tools", OutputFormat::Json).unwrap()).unwrap();
        assert_eq!(json["id"], "effect.<feature>");
        assert_eq!(json["kind"], "family");
        assert_eq!(json["prefix"], "effect.");
        assert_eq!(json["impact"]["claude_code"], "unknown");
        assert_eq!(json["exceptions"][0]["severity"], "should");
        assert!(json["exceptions"][1]["when"].is_string());
        assert!(json.get("ids").is_none(), "{json}");
        let status: serde_json::Value =
            serde_json::from_str(&explain("error.status-type", OutputFormat::Json).unwrap())
                .unwrap();
        assert_eq!(
            status["exceptions"],
            serde_json::json!([{"severity": "should", "when": status["exceptions"][0]["when"]}])
        );
        let plain: serde_json::Value =
            serde_json::from_str(&explain("headers.request-id", OutputFormat::Json).unwrap())
                .unwrap();
        assert!(plain.get("exceptions").is_none(), "{plain}");
        let err = explain("stream.grammar.nonsense", OutputFormat::Text).unwrap_err();
        assert!(
            err.contains("unknown check id `stream.grammar.nonsense`"),
            "{err}"
        );
    }
}
