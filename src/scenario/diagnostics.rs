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

    pub fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }

    pub fn is_known(&self) -> bool {
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
    /// The source line the position points into, for the caret display.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// An error at `pos` in `file`; `source` (the file's text) supplies the quoted line.
    pub fn error(file: &Path, source: Option<&str>, pos: Pos, message: impl Into<String>) -> Self {
        let source_line = match source {
            Some(text) if pos.is_known() => {
                text.lines().nth(pos.line as usize - 1).map(str::to_string)
            }
            _ => None,
        };
        Diagnostic {
            level: Level::Error,
            file: file.to_path_buf(),
            pos,
            message: message.into(),
            hint: None,
            source_line,
        }
    }

    /// The same, as a warning.
    pub fn warning(
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

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Set the hint in place.
    pub fn set_hint(&mut self, hint: impl Into<String>) {
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
                .take(self.pos.column.saturating_sub(1) as usize)
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
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
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
    fn unknown_position_prints_only_the_file() {
        let d = Diagnostic::error(Path::new("x.yaml"), Some("a"), Pos::UNKNOWN, "cannot read");
        assert_eq!(d.to_string(), "error: cannot read\n --> x.yaml");
    }
}
