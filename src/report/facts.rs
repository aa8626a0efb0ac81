//! What the people-facing formats say about a deviation (report.md's Appendix A, report.html's
//! deviation entries), as labelled facts made of format-neutral pieces. Each format marks the
//! pieces up its own way (Markdown code spans, HTML escaping), so the two say the same thing.

use super::causes::Deviation;

/// A piece of a fact's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// Prose that carries what the endpoint wrote (a finding's message): escaped for
    /// Markdown and HTML wherever it is rendered.
    Message(String),
    /// An identifier or a value from the traffic: a code span.
    Code(String),
    /// A public document's URL.
    Link(String),
}

/// One labelled line about a deviation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fact {
    pub label: &'static str,
    pub pieces: Vec<Piece>,
}

/// The longest `expected`/`actual` value shown inline; longer values are cut with `…`.
pub(crate) const MAX_VALUE: usize = 300;

/// `s`, cut at [`MAX_VALUE`] characters with `…`.
pub(crate) fn shorten(s: &str) -> String {
    crate::text::truncate(s, MAX_VALUE)
}

fn text(s: impl Into<String>) -> Piece {
    Piece::Text(s.into())
}

/// Where it was seen (the cases named up to `max_cases`, unless it is target-wide), where it
/// was first seen, what it costs the clients, the fix, the document, and the follow-on findings
/// folded into it.
pub(crate) fn of(d: &Deviation, max_cases: usize) -> Vec<Fact> {
    let mut facts = Vec::new();
    let mut seen = vec![text(d.spread())];
    if !d.target_wide {
        seen.push(text(format!(" ({}): ", d.features.join(", "))));
        for (i, c) in d.cases.iter().take(max_cases).enumerate() {
            if i > 0 {
                seen.push(text(", "));
            }
            seen.push(Piece::Code(c.clone()));
        }
        if d.cases.len() > max_cases {
            seen.push(text(format!(", +{} more", d.cases.len() - max_cases)));
        }
    }
    facts.push(Fact {
        label: "Seen in",
        pieces: seen,
    });
    let ex = &d.example;
    let mut first = vec![
        Piece::Code(ex.case.clone()),
        text(" at "),
        Piece::Code(ex.location.clone()),
        text(": "),
        Piece::Message(ex.message.clone()),
    ];
    for (what, value) in [("expected", &ex.expected), ("actual", &ex.actual)] {
        if let Some(v) = value {
            first.push(text(format!("; {what} ")));
            first.push(Piece::Code(shorten(v)));
        }
    }
    facts.push(Fact {
        label: "First seen",
        pieces: first,
    });
    facts.push(Fact {
        label: "Client impact",
        pieces: vec![text(d.impact.clone())],
    });
    if !d.fix.is_empty() {
        facts.push(Fact {
            label: "Fix",
            pieces: vec![text(d.fix.clone())],
        });
    }
    if !d.doc.is_empty() {
        facts.push(Fact {
            label: "Docs",
            pieces: vec![Piece::Link(d.doc.clone())],
        });
    }
    if !d.folded.is_empty() {
        let mut folded = Vec::new();
        for (i, (check, n)) in d.folded.iter().enumerate() {
            if i > 0 {
                folded.push(text(", "));
            }
            folded.push(Piece::Code(check.clone()));
            folded.push(text(format!(" ×{n}")));
        }
        facts.push(Fact {
            label: "Also reported as (follow-on findings folded here)",
            pieces: folded,
        });
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_at_the_limit() {
        assert_eq!(shorten("abc"), "abc");
        let long = "x".repeat(MAX_VALUE + 5);
        assert_eq!(shorten(&long).chars().count(), MAX_VALUE + 1);
        assert!(shorten(&long).ends_with('…'));
    }
}
