//! insta-format snapshot files: reading, writing, and the YAML header writer.
//!
//! A snapshot file is what insta 1.49 writes (`Snapshot::serialize_snapshot`): a YAML header
//! document (`---`, then `source`, `assertion_line`, `description`, `expression`, `info`,
//! `input_file` in that order, each only when present), a `---` line, the body with trailing
//! whitespace trimmed, and one newline. The header writer below produces the same bytes as
//! insta's vendored YAML emitter for the values we use (strings, numbers, booleans, null, maps
//! and lists), so `cargo insta review|accept|pending-snapshots` treat our files as their own.
//! Pending snapshots are the same format under `X.snap.new`.

use super::SnapshotError;
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::path::Path;

/// The header of a snapshot file (insta's `MetaData`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaData {
    /// The file the snapshot comes from (for conform: the scenario file).
    pub source: Option<String>,
    /// Only in pending files written by insta's macros; never persisted in `.snap`.
    pub assertion_line: Option<u32>,
    pub description: Option<String>,
    /// What produced the body (for conform: `<scenario-id>@<mode>`).
    pub expression: Option<String>,
    /// Free-form structured information (for conform: target, model, feature).
    pub info: Option<Value>,
    pub input_file: Option<String>,
}

/// One snapshot file: header and body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotFile {
    pub metadata: MetaData,
    /// The body as stored: trailing whitespace trimmed, `\r\n` turned into `\n`.
    pub contents: String,
}

impl SnapshotFile {
    pub fn new(metadata: MetaData, contents: &str) -> Self {
        SnapshotFile {
            metadata,
            contents: normalise_contents(contents),
        }
    }

    /// The exact bytes insta writes for this snapshot.
    pub fn serialize(&self) -> String {
        let mut out = header_yaml(&self.metadata);
        out.push_str("---\n");
        out.push_str(&self.contents);
        out.push('\n');
        out
    }

    /// Parse a snapshot file's text.
    pub(crate) fn parse(text: &str) -> Result<SnapshotFile, String> {
        let (header, body) = split(text)?;
        let metadata = parse_header(&header)?;
        Ok(SnapshotFile::new(metadata, &body))
    }

    pub fn read(path: &Path) -> Result<SnapshotFile, SnapshotError> {
        let text = std::fs::read_to_string(path).map_err(|e| SnapshotError::io(path, e))?;
        SnapshotFile::parse(&text).map_err(|message| SnapshotError::Format {
            path: path.to_path_buf(),
            message,
        })
    }

    /// The comparison form of the body of the file at `path`, its framing checked but its
    /// header not parsed (comparing against an accepted snapshot needs only its body; the YAML
    /// header parse was most of a comparison's cost).
    pub(crate) fn read_contents(path: &Path) -> Result<String, SnapshotError> {
        let text = std::fs::read_to_string(path).map_err(|e| SnapshotError::io(path, e))?;
        split(&text)
            .map(|(_, body)| normalise_contents(&body))
            .map_err(|message| SnapshotError::Format {
                path: path.to_path_buf(),
                message,
            })
    }

    /// Write atomically; the header loses `assertion_line` unless `pending`, as insta does.
    pub(crate) fn write(&self, path: &Path, pending: bool) -> Result<(), SnapshotError> {
        let mut file = self.clone();
        if !pending {
            file.metadata.assertion_line = None;
        }
        crate::fsutil::write_atomic(path, file.serialize().as_bytes())
            .map_err(|e| SnapshotError::io(path, e))
    }
}

/// A snapshot file's header document (between the `---` lines) and its body (LF-joined).
fn split(text: &str) -> Result<(String, String), String> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err("the file does not start with a `---` header".to_string());
    }
    let mut header = String::new();
    let mut closed = false;
    for line in lines.by_ref() {
        if line.trim_end() == "---" {
            closed = true;
            break;
        }
        header.push_str(line);
    }
    if !closed {
        return Err("the header is not closed by a `---` line".to_string());
    }
    let body: Vec<&str> = lines
        .map(|l| l.strip_suffix('\n').unwrap_or(l))
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    Ok((header, body.join("\n")))
}

/// Insta's comparison form of a body: trailing whitespace trimmed, CRLF → LF.
pub(crate) fn normalise_contents(s: &str) -> String {
    s.trim_end().replace("\r\n", "\n")
}

fn parse_header(yaml: &str) -> Result<MetaData, String> {
    if yaml.trim().is_empty() {
        return Ok(MetaData::default());
    }
    let v: Value =
        serde_saphyr::from_str(yaml).map_err(|e| format!("the header is not valid YAML: {e}"))?;
    let Value::Object(map) = v else {
        return Err("the header is not a YAML mapping".to_string());
    };
    let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(MetaData {
        source: text("source"),
        assertion_line: map
            .get("assertion_line")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        description: text("description"),
        expression: text("expression"),
        info: map.get("info").filter(|v| !v.is_null()).cloned(),
        input_file: text("input_file"),
    })
}

/// The header document as insta's emitter writes it, ending in a newline.
fn header_yaml(md: &MetaData) -> String {
    let mut fields: Map<String, Value> = Map::new();
    if let Some(s) = &md.source {
        fields.insert("source".into(), Value::from(s.as_str()));
    }
    if let Some(n) = md.assertion_line {
        fields.insert("assertion_line".into(), Value::from(n));
    }
    if let Some(s) = &md.description {
        fields.insert("description".into(), Value::from(s.as_str()));
    }
    if let Some(s) = &md.expression {
        fields.insert("expression".into(), Value::from(s.as_str()));
    }
    if let Some(v) = &md.info {
        fields.insert("info".into(), v.clone());
    }
    if let Some(s) = &md.input_file {
        fields.insert("input_file".into(), Value::from(s.as_str()));
    }
    let mut out = String::from("---\n");
    Emitter { out: &mut out }.node(&Value::Object(fields), -1);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// A block-style YAML writer with insta's layout: two-space indent, compact `- key: v`
/// sequences of maps, `{}` / `[]` for empty collections, `~` for null.
struct Emitter<'a> {
    out: &'a mut String,
}

impl Emitter<'_> {
    fn indent(&mut self, level: isize) {
        for _ in 0..level.max(0) {
            self.out.push_str("  ");
        }
    }

    /// Write a node whose first line starts at the current position; `level` is the nesting of
    /// the enclosing collection (-1 at the top).
    fn node(&mut self, v: &Value, level: isize) {
        match v {
            Value::Object(map) if map.is_empty() => self.out.push_str("{}"),
            Value::Array(items) if items.is_empty() => self.out.push_str("[]"),
            Value::Object(map) => {
                let level = level + 1;
                for (i, (k, val)) in map.iter().enumerate() {
                    if i > 0 {
                        self.out.push('\n');
                        self.indent(level);
                    }
                    self.scalar_str(k);
                    self.out.push(':');
                    self.value_after(val, level, false);
                }
            }
            Value::Array(items) => {
                let level = level + 1;
                for (i, val) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push('\n');
                        self.indent(level);
                    }
                    self.out.push('-');
                    self.value_after(val, level, true);
                }
            }
            Value::String(s) => self.scalar_str(s),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Null => self.out.push('~'),
            Value::Number(n) => self.number(n),
        }
    }

    /// A value after `key:` or `-`: collections after a key start on a new, deeper line;
    /// after `-` they stay on the same line (compact form).
    fn value_after(&mut self, v: &Value, level: isize, after_dash: bool) {
        let nonempty_collection = match v {
            Value::Object(m) => !m.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => false,
        };
        if nonempty_collection && !after_dash {
            self.out.push('\n');
            self.indent(level + 1);
        } else {
            self.out.push(' ');
        }
        self.node(v, level);
    }

    fn number(&mut self, n: &serde_json::Number) {
        if let Some(i) = n.as_i64() {
            let _ = write!(self.out, "{i}");
        } else if let Some(u) = n.as_u64() {
            let _ = write!(self.out, "{u}");
        } else if let Some(f) = n.as_f64() {
            let _ = write!(self.out, "{f}");
        }
    }

    fn scalar_str(&mut self, s: &str) {
        if needs_quotes(s) {
            quote(self.out, s);
        } else {
            self.out.push_str(s);
        }
    }
}

/// Whether insta's emitter double-quotes this string.
fn needs_quotes(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE", "false",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ];
    let special_start = |c: char| "&*?|-<>=!%@".contains(c);
    let special_char = |c: char| {
        ":{}[],#`\"'\\\t\n\r".contains(c)
            || ('\0'..='\x06').contains(&c)
            || ('\x0e'..='\x1a').contains(&c)
            || ('\x1c'..='\x1f').contains(&c)
    };
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(special_start)
        || s.contains(special_char)
        || RESERVED.contains(&s)
        || s.starts_with('.')
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok()
}

/// A double-quoted scalar with JSON-style escapes, as insta writes it.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> SnapshotFile {
        SnapshotFile::new(
            MetaData {
                source: Some("scenarios/anthropic/basic/hello.yaml".into()),
                expression: Some("basic/hello@sync".into()),
                info: Some(json!({"target": "reference", "model": "claude-x", "feature": "basic"})),
                ..MetaData::default()
            },
            "{\n  \"status\": 200\n}\n\n",
        )
    }

    #[test]
    fn layout_matches_insta() {
        assert_eq!(
            sample().serialize(),
            "---\nsource: scenarios/anthropic/basic/hello.yaml\nexpression: basic/hello@sync\n\
             info:\n  target: reference\n  model: claude-x\n  feature: basic\n---\n{\n  \"status\": 200\n}\n"
        );
    }

    #[test]
    fn nested_values_and_quoting() {
        let md = MetaData {
            expression: Some("a: b".into()),
            info: Some(
                json!({"list": [{"k": 1, "j": [true, null]}, "x"], "e": {}, "n": "42", "f": 1.5, "s": "-x"}),
            ),
            ..MetaData::default()
        };
        assert_eq!(
            header_yaml(&md),
            "---\nexpression: \"a: b\"\ninfo:\n  list:\n    - k: 1\n      j:\n        - true\n        - ~\n    - x\n  e: {}\n  n: \"42\"\n  f: 1.5\n  s: \"-x\"\n"
        );
    }

    #[test]
    fn round_trip() {
        let f = sample();
        let back = SnapshotFile::parse(&f.serialize()).unwrap();
        assert_eq!(back, f);
        assert!(SnapshotFile::parse("no header").is_err());
        assert!(SnapshotFile::parse("---\nsource: x\n").is_err());
    }

    #[test]
    fn accepted_files_drop_assertion_line() {
        let text =
            "---\nsource: tests/a.rs\nassertion_line: 12\nexpression: x\n---\nbody\r\nline\n";
        let f = SnapshotFile::parse(text).unwrap();
        assert_eq!(f.metadata.assertion_line, Some(12));
        assert_eq!(f.contents, "body\nline");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.snap");
        f.write(&p, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "---\nsource: tests/a.rs\nexpression: x\n---\nbody\nline\n"
        );
        f.write(&p, true).unwrap();
        assert!(
            std::fs::read_to_string(&p)
                .unwrap()
                .contains("assertion_line: 12\n")
        );
    }

    #[test]
    fn quoting_rules() {
        for s in [
            "", " a", "true", "~", "12", "1e5", ".x", "0x1", "a#b", "it's", "@x", "inf",
        ] {
            assert!(needs_quotes(s), "{s:?} should be quoted");
        }
        for s in ["basic/hello@sync", "claude-x", "a b", "y", "2026-01-01"] {
            assert!(!needs_quotes(s), "{s:?} should not be quoted");
        }
        let mut out = String::new();
        quote(&mut out, "a\"b\\c\n\u{1}");
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
