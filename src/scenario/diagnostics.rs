//! Diagnostics about scenario files, drawn like rustc and hurl: a headline, the file with line
//! and column, the source line and a caret, and an optional hint.
//!
//! ```text
//! error: unknown field `stepz`, expected one of `id`, `feature`, ...
//!  --> scenarios/x.yaml:3:1
//!   |
//! 3 | stepz:
//!   | ^
//!   = hint: check the spelling of the key
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is: errors make a scenario unusable, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Error,
}

/// A 1-based line and column in a scenario file; `0:0` when unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const UNKNOWN: Pos = Pos { line: 0, column: 0 };

    pub(crate) fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }

    pub(crate) fn is_known(&self) -> bool {
        self.line > 0
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One problem found in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub level: Level,
    pub file: PathBuf,
    pub pos: Pos,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The source line the position points into, for the caret display (for a long line,
    /// only a window around the position, with `…` where it was cut).
    #[serde(skip)]
    pub source_line: Option<String>,
    /// The 1-based character column of the caret within `source_line`.
    #[serde(skip)]
    caret_column: u32,
}

/// Characters of a long source line shown on each side of the position.
const LINE_WINDOW: usize = 60;

/// A window of `line` around the 1-based character `column`: the line itself when it is short,
/// else at most [`LINE_WINDOW`] characters on each side, marked `…` where cut. Returns the
/// text and the caret's column in it.
fn window(line: &str, column: u32) -> (String, u32) {
    let col = column.max(1) as usize - 1;
    let total = line.chars().count();
    if total <= 2 * LINE_WINDOW + 40 {
        return (line.to_string(), column);
    }
    let start = col.saturating_sub(LINE_WINDOW);
    let end = (col + LINE_WINDOW).min(total);
    let mut out = String::new();
    let mut caret = col - start + 1;
    if start > 0 {
        out.push('…');
        caret += 1;
    }
    out.extend(line.chars().skip(start).take(end - start));
    if end < total {
        out.push('…');
    }
    (out, u32::try_from(caret).unwrap_or(column))
}

impl Diagnostic {
    /// An error at `pos` in `file`; `source` (the file's text) supplies the quoted line.
    pub(crate) fn error(
        file: &Path,
        source: Option<&str>,
        pos: Pos,
        message: impl Into<String>,
    ) -> Self {
        let shown = match source {
            Some(text) if pos.is_known() => text
                .lines()
                .nth(pos.line as usize - 1)
                .map(|l| window(l, pos.column)),
            _ => None,
        };
        let caret_column = shown.as_ref().map_or(pos.column, |(_, c)| *c);
        Diagnostic {
            level: Level::Error,
            file: file.to_path_buf(),
            pos,
            message: message.into(),
            hint: None,
            source_line: shown.map(|(l, _)| l),
            caret_column,
        }
    }

    /// The same, as a warning.
    pub(crate) fn warning(
        file: &Path,
        source: Option<&str>,
        pos: Pos,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            level: Level::Warning,
            ..Self::error(file, source, pos, message)
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Set the hint in place.
    pub(crate) fn set_hint(&mut self, hint: impl Into<String>) {
        self.hint = Some(hint.into());
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// `file:line:col`, or just the file when the position is unknown.
    pub fn location(&self) -> String {
        if self.pos.is_known() {
            format!("{}:{}", self.file.display(), self.pos)
        } else {
            self.file.display().to_string()
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        writeln!(f, "{level}: {}", self.message)?;
        let gutter = " ".repeat(self.pos.line.to_string().len());
        write!(f, "{gutter}--> {}", self.location())?;
        if let Some(line) = &self.source_line {
            // Columns count characters; a tab in the prefix keeps the caret aligned.
            let prefix: String = line
                .chars()
                .take(self.caret_column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{gutter} |\n{} | {line}\n{gutter} | {prefix}^",
                self.pos.line
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n{gutter} = hint: {hint}")?;
        }
        Ok(())
    }
}

/// True when any diagnostic is an error.
pub(crate) fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_headline_location_source_and_caret() {
        let src = "id: a\n  stepz: 1\n";
        let d = Diagnostic::error(
            Path::new("s/x.yaml"),
            Some(src),
            Pos::new(2, 3),
            "unknown field `stepz`",
        )
        .hint("check the spelling");
        assert_eq!(
            d.to_string(),
            "error: unknown field `stepz`\n --> s/x.yaml:2:3\n  |\n2 |   stepz: 1\n  |   ^\n  = hint: check the spelling"
        );
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let d = Diagnostic::error(Path::new("x.yaml"), Some(&line), Pos::new(1, 5001), "here");
        let shown = d.to_string();
        assert!(shown.len() < 400, "{shown}");
        let lines: Vec<&str> = shown.lines().collect();
        let src = lines[3].strip_prefix("1 | ").unwrap();
        let caret = lines[4].strip_prefix("  | ").unwrap();
        assert!(src.starts_with('…') && src.ends_with('…'), "{src}");
        assert_eq!(
            src.chars().nth(caret.chars().count() - 1),
            Some('X'),
            "{shown}"
        );
        // A caret near the start: no leading cut.
        let d = Diagnostic::error(Path::new("x.yaml"), Some(&line), Pos::new(1, 3), "here");
        let shown = d.to_string();
        assert!(
            shown.contains("1 | aaa") && shown.contains("  |   ^"),
            "{shown}"
        );
    }

    #[test]
    fn unknown_position_prints_only_the_file() {
        let d = Diagnostic::error(Path::new("x.yaml"), Some("a"), Pos::UNKNOWN, "cannot read");
        assert_eq!(d.to_string(), "error: cannot read\n --> x.yaml");
    }
}
