//! Templates in scenario strings: `{{ target.model }}`, `{{ target.base_url }}`,
//! `{{ target.name }}`, `{{ target.headers.NAME }}`, `{{ steps.ID.NAME }}` (a capture of an
//! earlier step), `{{ fixtures.FILE }}` and `{{ fixture("FILE") }}` (base64 of a file under
//! `scenarios/fixtures/`), and `{{ '{{' }}`, a quoted literal (how a text that holds `{{`
//! itself is written: captured prompts do).
//!
//! A string that is exactly one template inserts the value with its JSON type (a captured
//! array stays an array); templates inside longer strings interpolate as text (strings as is,
//! other values as compact JSON). A missing variable is an error naming it, never "".
//!
//! Why hand-written and not minijinja: the language needs only variable lookup and one helper,
//! but it needs two things minijinja does not give directly — typed insertion of a whole-value
//! template (minijinja renders to text) and a static list of referenced variables for lint
//! (checked against earlier steps' captures before anything is sent). Sixty lines of parser
//! do both, without another engine's syntax (filters, loops) that scenario authors would then
//! expect to work.

use base64::Engine;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a template refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// A dotted variable, e.g. `["steps", "call", "content"]`.
    Var(Vec<String>),
    /// A fixture file (relative to the fixtures directory), inserted as base64.
    Fixture(String),
    /// A quoted literal (`{{ '{{' }}`), inserted as it is.
    Literal(String),
}

impl Expr {
    /// The expression as a user wrote it, for messages.
    pub(crate) fn display(&self) -> String {
        match self {
            Expr::Var(parts) => parts.join("."),
            Expr::Fixture(name) => format!("fixtures.{name}"),
            Expr::Literal(text) => format!("{text:?}"),
        }
    }
}

/// A piece of a parsed string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// An expression and its byte offset in the string.
    Expr(Expr, usize),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TemplateError {
    #[error("unclosed template: `{{{{` without `}}}}`")]
    Unclosed { offset: usize },
    #[error("invalid template expression `{text}`")]
    Invalid { text: String, offset: usize },
    #[error("unknown template variable `{name}`")]
    Missing { name: String },
    #[error("cannot read fixture `{name}`: {reason}")]
    Fixture { name: String, reason: String },
}

/// Split a string into text and template expressions.
pub(crate) fn parse(s: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = s;
    let mut base = 0;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            pieces.push(Piece::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed {
            offset: base + start,
        })?;
        let inner = after[..end].trim();
        pieces.push(Piece::Expr(parse_expr(inner, base + start)?, base + start));
        let consumed = start + 2 + end + 2;
        rest = &rest[consumed..];
        base += consumed;
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}

fn parse_expr(inner: &str, offset: usize) -> Result<Expr, TemplateError> {
    let invalid = || TemplateError::Invalid {
        text: inner.to_string(),
        offset,
    };
    if let Some(arg) = inner
        .strip_prefix("fixture(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let arg = arg.trim();
        let name = arg
            .strip_prefix('"')
            .and_then(|a| a.strip_suffix('"'))
            .or_else(|| arg.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')))
            .ok_or_else(invalid)?;
        return if name.is_empty() {
            Err(invalid())
        } else {
            Ok(Expr::Fixture(name.to_string()))
        };
    }
    let quoted = |q: char| inner.len() >= 2 && inner.starts_with(q) && inner.ends_with(q);
    if quoted('"') || quoted('\'') {
        return Ok(Expr::Literal(inner[1..inner.len() - 1].to_string()));
    }
    if let Some(name) = inner.strip_prefix("fixtures.") {
        return if name.is_empty() {
            Err(invalid())
        } else {
            Ok(Expr::Fixture(name.to_string()))
        };
    }
    let parts: Vec<String> = inner.split('.').map(str::to_string).collect();
    let ok_part =
        |p: &String| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || "_-/".contains(c));
    if parts.len() < 2 || !parts.iter().all(ok_part) {
        return Err(invalid());
    }
    Ok(Expr::Var(parts))
}

/// True when the string contains at least one `{{`.
pub(crate) fn has_template(s: &str) -> bool {
    s.contains("{{")
}

/// The values templates are resolved against.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    /// `model`, `base_url`, `name`.
    pub target: BTreeMap<String, String>,
    /// The target's headers (`target.headers.NAME`; names are matched case-insensitively).
    pub target_headers: BTreeMap<String, String>,
    /// Step id → capture name → captured value.
    pub steps: BTreeMap<String, BTreeMap<String, Value>>,
    /// Where `fixtures.NAME` files live (`scenarios/fixtures/`).
    pub fixtures_dir: Option<PathBuf>,
}

impl Context {
    /// Resolve one expression to its value.
    pub(crate) fn lookup(&self, expr: &Expr) -> Result<Value, TemplateError> {
        let missing = || TemplateError::Missing {
            name: expr.display(),
        };
        match expr {
            Expr::Fixture(name) => self.fixture(name).map(Value::String),
            Expr::Literal(text) => Ok(Value::String(text.clone())),
            Expr::Var(parts) => match parts[0].as_str() {
                "target" if parts.len() == 2 => self
                    .target
                    .get(&parts[1])
                    .cloned()
                    .map(Value::String)
                    .ok_or_else(missing),
                "target" if parts.len() == 3 && parts[1] == "headers" => self
                    .target_headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&parts[2]))
                    .map(|(_, v)| Value::String(v.clone()))
                    .ok_or_else(missing),
                "steps" if parts.len() == 3 => self
                    .steps
                    .get(&parts[1])
                    .and_then(|c| c.get(&parts[2]))
                    .cloned()
                    .ok_or_else(missing),
                _ => Err(missing()),
            },
        }
    }

    fn fixture(&self, name: &str) -> Result<String, TemplateError> {
        let err = |reason: String| TemplateError::Fixture {
            name: name.to_string(),
            reason,
        };
        let dir = self
            .fixtures_dir
            .as_ref()
            .ok_or_else(|| err("no scenarios/fixtures directory".into()))?;
        // Only plain relative names: `..`, an absolute path or a drive prefix would leave the
        // directory (`dir.join("/etc/passwd")` is `/etc/passwd`).
        let escapes = name.split(['/', '\\']).any(|p| p == "..")
            || !std::path::Path::new(name).components().all(|c| {
                matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            });
        if escapes {
            return Err(err(
                "a fixture name cannot leave the fixtures directory".into()
            ));
        }
        let bytes = super::fixtures::fixture_bytes(dir, name).map_err(|e| err(e.to_string()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Render a string: one whole template keeps the value's type, otherwise text.
    pub(crate) fn render_str(&self, s: &str) -> Result<Value, TemplateError> {
        let pieces = parse(s)?;
        if let [Piece::Expr(expr, _)] = pieces.as_slice() {
            return self.lookup(expr);
        }
        let mut out = String::new();
        for piece in &pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Expr(expr, _) => match self.lookup(expr)? {
                    Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(Value::String(out))
    }

    /// Render a string that must stay text (a header, a path, a raw body).
    pub(crate) fn render_text(&self, s: &str) -> Result<String, TemplateError> {
        Ok(match self.render_str(s)? {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }

    /// Render a YAML value tree into JSON, resolving templates in every string.
    pub(crate) fn render_node(&self, node: &super::model::Node) -> Result<Value, TemplateError> {
        use super::model::Node;
        Ok(match node {
            Node::String(s) => self.render_str(s)?,
            Node::Seq(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.render_node(&i.value))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_node(&v.value)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => other.to_json(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        let mut c = Context::default();
        c.target.insert("model".into(), "m-1".into());
        c.target_headers.insert("anthropic-beta".into(), "x".into());
        c.steps
            .entry("call".into())
            .or_default()
            .insert("content".into(), json!([{"type": "text", "text": "hi"}]));
        c.steps
            .entry("call".into())
            .or_default()
            .insert("n".into(), json!(3));
        c
    }

    #[test]
    fn whole_value_template_keeps_the_json_type() {
        assert_eq!(
            ctx().render_str("{{ steps.call.content }}").unwrap(),
            json!([{"type": "text", "text": "hi"}])
        );
        assert_eq!(ctx().render_str("{{steps.call.n}}").unwrap(), json!(3));
    }

    #[test]
    fn templates_inside_text_interpolate() {
        assert_eq!(
            ctx()
                .render_str("model={{ target.model }} n={{ steps.call.n }}")
                .unwrap(),
            json!("model=m-1 n=3")
        );
        assert_eq!(
            ctx()
                .render_str("{{ target.headers.Anthropic-Beta }}")
                .unwrap(),
            json!("x")
        );
        assert_eq!(
            ctx().render_str("no templates").unwrap(),
            json!("no templates")
        );
    }

    #[test]
    fn missing_variables_are_errors_naming_them() {
        let e = ctx().render_str("a {{ steps.call.nope }}").unwrap_err();
        assert_eq!(e.to_string(), "unknown template variable `steps.call.nope`");
        assert!(matches!(
            ctx().render_str("{{ target.colour }}"),
            Err(TemplateError::Missing { .. })
        ));
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            parse("x {{ target.model"),
            Err(TemplateError::Unclosed { offset: 2 })
        );
        assert!(matches!(
            parse("{{ model }}"),
            Err(TemplateError::Invalid { .. })
        ));
        assert!(matches!(
            parse("{{ a b.c }}"),
            Err(TemplateError::Invalid { .. })
        ));
        assert_eq!(
            parse("{{ fixture('a/b.png') }}").unwrap(),
            vec![Piece::Expr(Expr::Fixture("a/b.png".into()), 0)]
        );
    }

    #[test]
    fn a_quoted_literal_writes_braces_that_are_not_a_template() {
        assert_eq!(
            ctx()
                .render_str("use {{ '{{' }}slug}} and {{ \"{{\" }}x")
                .unwrap(),
            json!("use {{slug}} and {{x")
        );
        assert_eq!(ctx().render_str("{{ '{{' }}").unwrap(), json!("{{"));
    }

    #[test]
    fn fixtures_are_base64_and_confined() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.bin"), b"hello").unwrap();
        let c = Context {
            fixtures_dir: Some(dir.path().to_path_buf()),
            ..Context::default()
        };
        assert_eq!(
            c.render_str("{{ fixtures.f.bin }}").unwrap(),
            json!("aGVsbG8=")
        );
        assert_eq!(
            c.render_str("{{ fixture(\"f.bin\") }}").unwrap(),
            json!("aGVsbG8=")
        );
        assert!(matches!(
            c.render_str("{{ fixtures.../x }}"),
            Err(TemplateError::Fixture { .. })
        ));
        assert!(matches!(
            c.render_str("{{ fixtures.nope.png }}"),
            Err(TemplateError::Fixture { .. })
        ));
    }

    #[test]
    fn a_fixture_name_cannot_be_an_absolute_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok.txt"), "x").unwrap();
        let ctx = Context {
            fixtures_dir: Some(dir.path().to_path_buf()),
            ..Context::default()
        };
        assert!(ctx.render_str("{{ fixture(\"ok.txt\") }}").is_ok());
        for name in ["/etc/hostname", "../x", "a/../../x", "/"] {
            let e = ctx
                .render_str(&format!("{{{{ fixture(\"{name}\") }}}}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("cannot leave"), "{name}: {e}");
        }
    }
}
