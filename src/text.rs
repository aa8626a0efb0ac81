//! Text rules used across the crate: cutting text for display (one rule for every report,
//! finding and message: a cut is counted in characters, never bytes, so it cannot split a
//! UTF-8 sequence, and marked with `…`), the `*` glob of ids, and control characters made
//! visible ([`visible`]: what an endpoint wrote never reaches a terminal or a file as ESC,
//! BEL or an OSC sequence).

/// The first `max` characters of `s` (all of `s` when it is no longer).
pub(crate) fn head(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// `s` cut to its first `max` characters, with `…` appended when something was cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    let kept = head(s, max);
    if kept.len() == s.len() {
        s.to_string()
    } else {
        format!("{kept}…")
    }
}

/// Whether `c` is a control character an output must not carry raw: C0 other than `\n` and
/// `\t`, DEL, and C1.
fn is_hidden_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// `s` with every control character other than `\n` and `\t` (C0, DEL, C1) written as its
/// `\u00XX` escape: visible text in a terminal, Markdown, HTML and XML, and in JSON text the
/// very escape JSON itself reads back as that character.
pub(crate) fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_hidden_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_hidden_control(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whole-string glob with `*` only (scenario ids and features in `expect_unsupported` and
/// provider profiles).
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// `64 MiB`, `512 KiB`, `100 bytes`.
pub(crate) fn human_size(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// The edit distance (Levenshtein, on characters) between two strings.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The candidate closest to `word` for a "did you mean": at most a third of its length (and at
/// least one edit) away; the first of equally close ones.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(visible("plain\nline\tok"), "plain\nline\tok");
        assert_eq!(
            visible("a\u{1b}]0;title\u{7}b\u{1b}[31mc\u{9b}d\u{7f}\r"),
            "a\\u001b]0;title\\u0007b\\u001b[31mc\\u009bd\\u007f\\u000d"
        );
        let json = serde_json::to_string(&"x\u{85}y").unwrap();
        let back: String = serde_json::from_str(&visible(&json)).unwrap();
        assert_eq!(back, "x\u{85}y");
    }

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("", 0), "");
        assert_eq!(head("abc", 10), "abc");
    }

    #[test]
    fn long_text_is_cut_at_a_character_count_and_marked() {
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate("abc", 0), "…");
        assert_eq!(head("abcdef", 3), "abc");
    }

    #[test]
    fn a_cut_counts_characters_not_bytes() {
        // Each of these characters is more than one byte: a byte count would split one.
        assert_eq!(truncate("ééééé", 2), "éé…");
        assert_eq!(truncate("日本語テキスト", 3), "日本語…");
        assert_eq!(head("🦀🦀🦀", 1), "🦀");
        assert_eq!(truncate("ééé", 3), "ééé");
    }

    #[test]
    fn the_closest_word_is_suggested_within_a_third_of_its_length() {
        assert_eq!(edit_distance("strem", "stream"), 1);
        assert_eq!(closest("strem", ["sync", "stream"]), Some("stream"));
        assert_eq!(closest("equal", ["equals", "exists"]), Some("equals"));
        assert_eq!(closest("xyz", ["stream"]), None);
        assert_eq!(closest("stream", ["stream"]), None, "not itself");
    }
}
