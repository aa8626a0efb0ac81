//! Text rules used across the crate: cutting text for display (one rule for every report,
//! finding and message: a cut is counted in characters, never bytes, so it cannot split a
//! UTF-8 sequence, and marked with `…`), and the `*` glob of ids.

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
