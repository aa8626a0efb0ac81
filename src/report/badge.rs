//! `badge.svg`: a shields-style badge ("anthropic compat | 87%") for a provider's README, from
//! the score of the report's first target ([`super::score`]); with several targets, one
//! `badge-TARGET.svg` each as well.

use super::model::RunReport;
use super::score;
use crate::secrets::Redactor;
use std::io;
use std::path::{Path, PathBuf};

pub(crate) const FILE_NAME: &str = "badge.svg";
const LABEL: &str = "anthropic compat";

/// Approximate width in pixels of `text` in 11px Verdana (shields' font).
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ' ' | '|' | '!' => 3.5,
            'm' | 'w' | 'M' | 'W' | '%' => 10.5,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 7.5,
            _ => 6.6,
        })
        .sum()
}

/// The colour of a percentage, shields' scale.
fn colour(p: Option<u32>) -> &'static str {
    match p {
        Some(p) if p >= 95 => "#4c1",
        Some(p) if p >= 80 => "#97ca00",
        Some(p) if p >= 60 => "#dfb317",
        Some(p) if p >= 40 => "#fe7d37",
        Some(_) => "#e05d44",
        None => "#9f9f9f",
    }
}

/// The SVG of a badge for a percentage (`None`: nothing judged).
pub(crate) fn svg(percent: Option<u32>) -> String {
    let value = percent
        .map(|p| format!("{p}%"))
        .unwrap_or_else(|| "n/a".into());
    let lw = (text_width(LABEL) + 10.0).round();
    let vw = (text_width(&value) + 10.0).round();
    let w = lw + vw;
    let c = colour(percent);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{LABEL}: {value}"><title>{LABEL}: {value}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{vw}" height="20" fill="{c}"/><rect width="{w}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="15" fill="#010101" fill-opacity=".3">{LABEL}</text><text x="{lx}" y="14">{LABEL}</text><text x="{vx}" y="15" fill="#010101" fill-opacity=".3">{value}</text><text x="{vx}" y="14">{value}</text></g></svg>
"##,
        lx = lw / 2.0,
        vx = lw + vw / 2.0,
    )
}

/// Write `DIR/badge.svg` (and `badge-TARGET.svg` per target when there are several).
pub(crate) fn write_badge(
    report: &RunReport,
    dir: &Path,
    redactor: &Redactor,
) -> io::Result<PathBuf> {
    let scores = score::scores(report);
    let path = dir.join(FILE_NAME);
    let first = scores.first().and_then(|s| s.percent());
    crate::fsutil::write_atomic(&path, redactor.redact(&svg(first)).as_bytes())?;
    if scores.len() > 1 {
        for s in &scores {
            let safe = crate::fsutil::safe_name(&s.target, "._-");
            let p = dir.join(format!("badge-{safe}.svg"));
            crate::fsutil::write_atomic(&p, redactor.redact(&svg(s.percent())).as_bytes())?;
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_names_the_percentage_in_a_colour_for_it() {
        let s = svg(Some(87));
        assert!(s.contains("aria-label=\"anthropic compat: 87%\""), "{s}");
        assert!(s.contains("fill=\"#97ca00\""), "{s}");
        assert!(svg(None).contains(">n/a</text>"));
        assert!(svg(Some(12)).contains("#e05d44"));
    }
}
