//! From `jsonschema` errors to what conform reports: findings of the shape's check, the strict variant's
//! softer findings (unknown fields and types, fields clients cope without), and the
//! [`Violation`]s the reference server words its 400s with.

use super::{Violation, ViolationKind};
use crate::check::catalogue::ids;
use crate::check::{CheckId, Finding};
use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;
use std::collections::HashSet;

/// For an `anyOf`/`oneOf` error: the errors of the one branch that failed on more than the
/// value's type (a nullable reference whose other branch is `null`), when there is exactly one.
pub(super) fn only_specific_branch<'e>(
    e: &'e ValidationError<'_>,
) -> Option<&'e [ValidationError<'static>]> {
    let (ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context }) =
        e.kind()
    else {
        return None;
    };
    let here = e.instance_path().as_str();
    let mut specific = context.iter().filter(|branch| {
        !branch.iter().all(|s| {
            s.instance_path().as_str() == here
                && matches!(s.kind(), ValidationErrorKind::Type { .. })
        })
    });
    match (specific.next(), specific.next()) {
        (Some(only), None) => Some(only.as_slice()),
        _ => None,
    }
}

pub(super) fn push_violation(out: &mut Vec<Violation>, e: &ValidationError<'_>) {
    if let Some(branch) = only_specific_branch(e) {
        for sub in branch {
            push_violation(out, sub);
        }
        return;
    }
    let kind = match e.kind() {
        ValidationErrorKind::Required { property } => {
            ViolationKind::Missing(property.as_str().unwrap_or_default().to_string())
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            ViolationKind::Unexpected(unexpected.clone())
        }
        ValidationErrorKind::Type { kind } => ViolationKind::Type(match kind {
            TypeKind::Single(t) => vec![t.to_string()],
            TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
        }),
        ValidationErrorKind::Enum { options } => {
            ViolationKind::NotOneOf(options.as_array().cloned().unwrap_or_default())
        }
        ValidationErrorKind::Constant { expected_value } => {
            ViolationKind::NotOneOf(vec![Value::clone(expected_value)])
        }
        ValidationErrorKind::Minimum { limit } => ViolationKind::Below(limit.clone()),
        ValidationErrorKind::Maximum { limit } => ViolationKind::Above(limit.clone()),
        ValidationErrorKind::MinLength { limit } => ViolationKind::TooShort(*limit),
        ValidationErrorKind::MaxLength { limit } => ViolationKind::TooLong(*limit),
        ValidationErrorKind::MinItems { limit } => ViolationKind::TooFewItems(*limit),
        ValidationErrorKind::MaxItems { limit } => ViolationKind::TooManyItems(*limit),
        ValidationErrorKind::Pattern { pattern } => ViolationKind::Pattern(pattern.clone()),
        _ => ViolationKind::Other(describe(e)),
    };
    let path = e
        .instance_path()
        .as_str()
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    out.push(Violation { path, kind });
}

pub(super) fn remember(seen: &mut HashSet<(String, String)>, e: &ValidationError<'_>) {
    seen.insert(error_key(e));
    if let ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } =
        e.kind()
    {
        for branch in context {
            for sub in branch {
                remember(seen, sub);
            }
        }
    }
}

/// What identifies an error across the two variants: where, which keyword, and for `required`
/// which property (a missing baseline field must not hide a missing later one).
pub(super) fn error_key(e: &ValidationError<'_>) -> (String, String) {
    let what = match e.kind() {
        ValidationErrorKind::Required { property } => format!("required:{property}"),
        kind => kind.keyword().to_string(),
    };
    (e.instance_path().as_str().to_string(), what)
}

/// Turn one main-variant error into findings of `check`. An `anyOf` whose only other branch is
/// `null` (a nullable reference) reports the errors of the real branch instead of "not valid
/// under any of the schemas".
pub(super) fn push_main(
    out: &mut Vec<Finding>,
    e: &ValidationError<'_>,
    check: CheckId,
    reference: &str,
) {
    if let Some(branch) = only_specific_branch(e) {
        for sub in branch {
            push_main(out, sub, check, reference);
        }
        return;
    }
    let location = pointer(e.instance_path().as_str());
    // User schemas keep their reference; protocol shapes get the section of the failing part.
    let reference = if check == ids::SCHEMA_USER {
        reference.to_string()
    } else {
        section_for(e.instance_path().as_str(), reference)
    };
    let mut f = Finding::new(check, location, describe(e)).reference(reference);
    if let Some(expected) = expected_of(e) {
        f = f.expected(expected);
    }
    f = f.actual(short_json(e.instance()));
    out.push(f);
}

/// Strict-only errors: unknown fields (info), later fields missing (should), unknown types (info).
pub(super) fn push_soft(
    out: &mut Vec<Finding>,
    seen: &HashSet<(String, String)>,
    e: &ValidationError<'_>,
    reference: &str,
) {
    let path = e.instance_path().as_str();
    let kind = e.kind();
    if seen.contains(&error_key(e)) {
        return;
    }
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for name in unexpected {
                let at = format!("{path}/{}", escape_pointer(name));
                out.push(
                    Finding::new(
                        ids::SCHEMA_UNKNOWN_FIELD,
                        at.clone(),
                        format!("field {at} is not in the protocol"),
                    )
                    .reference("https://platform.claude.com/docs/en/api/versioning (fields are added within a version)"),
                );
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let at = format!("{path}/{}", escape_pointer(name));
            out.push(
                Finding::new(
                    ids::SCHEMA_MISSING_FIELD,
                    at,
                    format!("\"{name}\" is missing; Anthropic always sends it, though the official clients cope without it"),
                )
                .expected(format!("\"{name}\" present"))
                .reference(section_for(path, reference)),
            );
        }
        ValidationErrorKind::Enum { options } => {
            out.push(
                Finding::new(
                    ids::SCHEMA_UNKNOWN_TYPE,
                    pointer(path),
                    format!("unknown type {}", short_json(e.instance())),
                )
                .expected(format!("one of {options}"))
                .reference("https://platform.claude.com/docs/en/api/versioning (new types may be added within a version)"),
            );
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            for branch in context {
                for sub in branch {
                    push_soft(out, seen, sub, reference);
                }
            }
        }
        _ => {}
    }
}

/// A readable message that never repeats a (possibly huge) instance.
pub(super) fn describe(e: &ValidationError<'_>) -> String {
    match e.kind() {
        ValidationErrorKind::Required { property } => {
            format!("required field {} is missing", short_json(property))
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            format!(
                "unknown field(s) {} (the object is closed)",
                unexpected.join(", ")
            )
        }
        ValidationErrorKind::Type { .. } => format!("wrong type: {}", json_type(e.instance())),
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            "matches none of the allowed forms".to_string()
        }
        _ => truncate_sized(&e.masked().to_string(), 300),
    }
}

pub(super) fn expected_of(e: &ValidationError<'_>) -> Option<String> {
    Some(match e.kind() {
        ValidationErrorKind::Type { kind } => match kind {
            TypeKind::Single(t) => t.to_string(),
            TypeKind::Multiple(set) => set
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" or "),
        },
        ValidationErrorKind::Required { property } => format!("{} present", short_json(property)),
        ValidationErrorKind::Enum { options } => {
            format!("one of {}", truncate_sized(&options.to_string(), 300))
        }
        ValidationErrorKind::Constant { expected_value } => short_json(expected_value),
        ValidationErrorKind::Minimum { limit } => format!(">= {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("<= {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("> {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("< {limit}"),
        ValidationErrorKind::MinLength { limit } => format!("at least {limit} characters"),
        ValidationErrorKind::MaxLength { limit } => format!("at most {limit} characters"),
        ValidationErrorKind::MinItems { limit } => format!("at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("at most {limit} items"),
        ValidationErrorKind::Pattern { pattern } => format!("matching /{pattern}/"),
        ValidationErrorKind::Format { format } => format!("a {format} string"),
        ValidationErrorKind::AdditionalProperties { .. } => "no other fields".to_string(),
        _ => return None,
    })
}

/// Refine the reference by where the problem is.
pub(super) fn section_for(path: &str, fallback: &str) -> String {
    if path.contains("/usage") {
        "https://platform.claude.com/docs/en/api/messages (usage)".into()
    } else if path.starts_with("/content/")
        || path.starts_with("/content_block")
        || path.starts_with("/message/content/")
    {
        "https://platform.claude.com/docs/en/api/messages (content blocks)".into()
    } else if path.starts_with("/delta") {
        "https://platform.claude.com/docs/en/build-with-claude/streaming (event types)".into()
    } else {
        fallback.to_string()
    }
}

pub(super) fn pointer(path: &str) -> String {
    if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    }
}

pub(super) fn escape_pointer(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

pub(super) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compact JSON of a value, cut to a readable length.
pub(super) fn short_json(v: &Value) -> String {
    match v {
        Value::Object(m) if m.len() > 8 => format!("{{object with {} fields}}", m.len()),
        Value::Array(a) if a.len() > 8 => format!("[array of {} items]", a.len()),
        _ => truncate_sized(&v.to_string(), 120),
    }
}

/// `s` cut to `max` characters like [`crate::text::truncate`], with its full length in bytes.
pub(super) fn truncate_sized(s: &str, max: usize) -> String {
    let kept = crate::text::head(s, max);
    if kept.len() == s.len() {
        s.to_string()
    } else {
        format!("{kept}… ({} bytes)", s.len())
    }
}
