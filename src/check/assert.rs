//! The assertion engine: evaluates a scenario step's `expect` (status, headers, `assert`)
//! against a response — the body as JSON (the accumulated message in stream mode), the status
//! and the headers.
//!
//! Every assertion reduces to one outcome shape `{success, expected, actual}` ([`Outcome`]);
//! negation (`not`) is applied in exactly one place (`negate`). Node lists (design choice,
//! documented in the scenario format): without `all`/`any` the path must select at least one
//! node and the first one is tested; `all: true` needs at least one node and tests every one;
//! `any: true` passes when some node passes. `exists` and `count` look at the list itself.
//! `not` negates the whole inner outcome, "no node selected" included: `not: {equals: x}`
//! passes when the path selects nothing (add `exists: true` when the value must be present).
//! Operands may hold templates (`equals: "{{ target.model }}"`), rendered here.

use super::finding::{Finding, Severity};
use crate::check::catalogue::{CheckId, families, ids};
use crate::scenario::compiled::path as compile_path;
use crate::scenario::model::{
    AssertSeverity, Assertion, Expect, Feature, JsonType, Located, Measure, Node, Step,
};
use crate::scenario::template::Context;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Resolves a named protocol schema: `Some(findings)` (empty = valid) or `None` if unknown.
pub(crate) type SchemaResolver<'a> = &'a dyn Fn(&str, &Value) -> Option<Vec<Finding>>;

/// What the assertions are evaluated against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub status: u16,
    /// Header names and values in arrival order (names compared case-insensitively).
    pub headers: &'a [(String, String)],
    pub body: &'a Value,
}

/// Everything an evaluation needs besides the response.
pub(crate) struct Env<'a> {
    /// Variables for templates in operands.
    pub ctx: &'a Context,
    pub schemas: SchemaResolver<'a>,
    /// The scenario file, for locations.
    pub file: &'a Path,
}

/// The result of one assertion.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Outcome {
    pub success: bool,
    /// The operator: `equals`, `matches`, …, or `status`.
    pub op: String,
    pub expected: String,
    pub actual: String,
    /// What was tested (`$.stop_reason`, `header retry-after`, `status`) and where the
    /// assertion is written (`scenarios/x.yaml:12:9`).
    pub location: String,
    pub effect: bool,
    /// A precondition on the model's answer (`requires: true`): failing it makes the case
    /// inconclusive.
    pub requires: bool,
    pub severity: Severity,
    /// The author's message, if any.
    pub message: Option<String>,
    /// The catalogue check the scenario says this assertion proves (`check:`, or the step's
    /// `status_check` for a success status): the finding's check instead of `assert.<op>`.
    #[serde(skip)]
    pub check: Option<CheckId>,
}

impl Outcome {
    /// The finding of a failed assertion: check `assert.<op>`, or `effect.<feature>` for an
    /// effect check, with the assertion's own severity (the families declare every severity
    /// a scenario may give); reference = the scenario's reference.
    pub(crate) fn to_finding(&self, feature: Feature, reference: &str) -> Finding {
        let assert = || {
            families::ASSERT
                .member(&self.op)
                .unwrap_or(families::ASSERT_NONE)
        };
        let check = if self.requires {
            ids::PROBE_INCONCLUSIVE
        } else if let Some(stated) = self.check {
            stated
        } else if self.effect {
            families::EFFECT
                .member(feature.as_str())
                .unwrap_or_else(assert)
        } else {
            assert()
        };
        let message = match &self.message {
            Some(m) => m.clone(),
            None if self.requires => format!(
                "the model did not produce what this probe needs (expected {}): no verdict on the feature",
                self.expected
            ),
            None if self.effect => format!("the feature had no effect: expected {}", self.expected),
            None => format!("expected {}", self.expected),
        };
        Finding::new(check, self.location.clone(), message)
            .with_exception(self.severity)
            .expected(self.expected.clone())
            .actual(self.actual.clone())
            .reference(reference)
    }
}

/// The bare outcome of a predicate, before location and severity are attached.
#[derive(Debug, Clone, PartialEq)]
struct Raw {
    success: bool,
    expected: String,
    actual: String,
}

impl Raw {
    fn new(success: bool, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Raw {
            success,
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

/// The one place where negation happens.
fn negate(raw: Raw) -> Raw {
    Raw {
        success: !raw.success,
        expected: format!("not ({})", raw.expected),
        actual: raw.actual,
    }
}

const MAX_ACTUAL: usize = 200;

/// Compact JSON, cut to a readable length.
fn show(v: &Value) -> String {
    crate::text::truncate(&v.to_string(), MAX_ACTUAL)
}

/// Evaluate a step's whole `expect`: status, then headers, then `assert`, in file order.
pub(crate) fn check_expect(expect: &Expect, subject: &Subject<'_>, env: &Env<'_>) -> Vec<Outcome> {
    let mut status = check_status(expect, subject.status, env);
    // An error body under a success status was a rejection after all (`error.status` says
    // what is wrong): not the rule a success answer breaks.
    if status.check.is_some()
        && (200..300).contains(&subject.status)
        && subject.body.get("error").is_some()
    {
        status.check = None;
        status.severity = Severity::Must;
    }
    let mut out = vec![status];
    for (name, a) in &expect.headers {
        out.push(check_header(name, a, subject.headers, env));
    }
    for a in &expect.asserts {
        out.push(check_body(a, subject.body, env));
    }
    out
}

/// The rule a rejection breaks, read from its meaning when the step names none: a 4xx to a
/// step that expects success, whose error message names a documented optional parameter the
/// request carries (`metadata: Extra inputs are not permitted`), is that parameter's
/// rejection — `request.documented-field-rejected`, a failure — rather than a generic
/// `assert.status` on whatever scenario happened to send it (Claude Code sends `metadata` on
/// every request). Returns `expect` with that `status_check`, or `None` to keep it as it is.
pub(crate) fn by_meaning(
    expect: &Expect,
    status: u16,
    request: Option<&Value>,
    response: &Value,
) -> Option<Expect> {
    let expects_success = expect.statuses().iter().all(|s| (200..300).contains(s));
    if !expects_success
        || !(400..500).contains(&status)
        || expect.status_check.is_some()
        || expect.rejected_check.is_some()
    {
        return None;
    }
    let message = response
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let named = crate::protocol::anthropic::DOCUMENTED_OPTIONAL
        .iter()
        .any(|f| request.is_some_and(|r| r.get(f).is_some()) && message.contains(f));
    named.then(|| {
        let mut e = expect.clone();
        let pos = expect.status.as_ref().map(|s| s.pos).unwrap_or_default();
        e.status_check = Some(Located::new(
            ids::REQUEST_DOCUMENTED_FIELD_REJECTED.as_str().to_string(),
            pos,
        ));
        e
    })
}

/// The status check (default 200).
pub(crate) fn check_status(expect: &Expect, status: u16, env: &Env<'_>) -> Outcome {
    let accepted = expect.statuses();
    let expected = match accepted.as_slice() {
        [one] => one.to_string(),
        many => format!("one of {many:?}"),
    };
    let pos = expect.status.as_ref().map(|s| s.pos).unwrap_or_default();
    // A request the step expects to be rejected was accepted (or, for a step expecting
    // success, one it expects to be accepted was rejected): the rule the step states.
    // Rejected with another client-error status than the documented one: the rejection's
    // status is wrong, whatever the cause.
    let rejection_expected =
        !accepted.is_empty() && accepted.iter().all(|c| (400..500).contains(c));
    let check = if accepted.contains(&status) {
        None
    } else if (200..300).contains(&status) {
        expect
            .status_check
            .as_ref()
            .and_then(|c| CheckId::parse(&c.value))
    } else if rejection_expected && (400..500).contains(&status) {
        Some(ids::ERROR_WRONG_STATUS)
    } else if !rejection_expected && (400..500).contains(&status) {
        // A request the step expects to be accepted was rejected: the rule the step states,
        // when it states one (a documented parameter that must be accepted, `status_check`;
        // a feature some endpoints reject, `rejected_check`: the verdict stays `unsupported`).
        expect
            .status_check
            .as_ref()
            .or(expect.rejected_check.as_ref())
            .and_then(|c| CheckId::parse(&c.value))
    } else {
        None
    };
    Outcome {
        success: accepted.contains(&status),
        op: "status".into(),
        expected,
        actual: status.to_string(),
        location: locate("status", env.file, pos),
        effect: false,
        requires: false,
        severity: check.map_or(Severity::Must, |c| c.entry().severity),
        message: None,
        check,
    }
}

/// One header assertion: the nodes are the header's values (none when it is absent).
pub(crate) fn check_header(
    name: &str,
    a: &Located<Assertion>,
    headers: &[(String, String)],
    env: &Env<'_>,
) -> Outcome {
    let values: Vec<Value> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| Value::String(v.clone()))
        .collect();
    let nodes: Vec<&Value> = values.iter().collect();
    let raw = evaluate_nodes(&a.value, &nodes, env);
    finish(
        raw,
        &a.value,
        locate(&format!("header {name}"), env.file, a.pos),
    )
}

/// One body assertion with a JSONPath.
pub(crate) fn check_body(a: &Located<Assertion>, body: &Value, env: &Env<'_>) -> Outcome {
    if let Some(cond) = &a.value.when {
        let c = check_body(cond, body, env);
        if !c.success {
            let raw = Raw::new(
                true,
                format!("only when {}", c.expected),
                "condition not met",
            );
            return finish(raw, &a.value, locate("when", env.file, cond.pos));
        }
    }
    let Some(path) = &a.value.path else {
        let raw = Raw::new(false, "an assertion with a `path`", "no path");
        return finish(raw, &a.value, locate("$", env.file, a.pos));
    };
    let location = locate(&path.value, env.file, a.pos);
    let raw = match compile_path(&path.value) {
        Ok(jp) => {
            let nodes = jp.query(body).all();
            evaluate_nodes(&a.value, &nodes, env)
        }
        Err(e) => Raw::new(
            false,
            format!("a valid JSONPath `{}`", path.value),
            format!("error: {e}"),
        ),
    };
    finish(raw, &a.value, location)
}

fn locate(what: &str, file: &Path, pos: crate::scenario::Pos) -> String {
    if pos.is_known() {
        format!("{what} ({}:{pos})", file.display())
    } else {
        format!("{what} ({})", file.display())
    }
}

fn finish(raw: Raw, a: &Assertion, location: String) -> Outcome {
    let check = a.check.as_ref().and_then(|c| CheckId::parse(&c.value));
    Outcome {
        success: raw.success,
        op: a.op().to_string(),
        expected: raw.expected,
        actual: raw.actual,
        location,
        effect: a.effect,
        requires: a.requires,
        severity: match a.severity {
            _ if a.requires => Severity::Info,
            None => check.map_or(Severity::Must, |c| c.entry().severity),
            Some(AssertSeverity::Must) => Severity::Must,
            Some(AssertSeverity::Should) => Severity::Should,
            Some(AssertSeverity::Info) => Severity::Info,
        },
        message: a.message.clone(),
        check,
    }
}

/// Apply an assertion to a node list, following the node-list rules of the module doc.
fn evaluate_nodes(a: &Assertion, nodes: &[&Value], env: &Env<'_>) -> Raw {
    if let Some(inner) = &a.not {
        return negate(evaluate_nodes(&inner.value, nodes, env));
    }
    if let Some(want) = a.exists {
        let n = nodes.len();
        let expected = if want { "at least one node" } else { "no node" };
        let actual = match nodes.first() {
            None => "no node".to_string(),
            Some(v) => format!("{n} node(s), first {}", show(v)),
        };
        return Raw::new((n > 0) == want, expected, actual);
    }
    if let Some(measure) = &a.count {
        let count = Value::from(nodes.len());
        let raw = measure_value(&measure.value, &count, env);
        return Raw {
            expected: format!("count {}", raw.expected),
            ..raw
        };
    }
    if nodes.is_empty() {
        let probe = test_value(a, &Value::Null, env);
        return Raw::new(false, probe.expected, "no node selected");
    }
    if a.all {
        let results: Vec<Raw> = nodes.iter().map(|v| test_value(a, v, env)).collect();
        let expected = format!("every node: {}", results[0].expected);
        return match results.iter().position(|r| !r.success) {
            None => Raw::new(true, expected, format!("{} node(s) passed", results.len())),
            Some(i) => Raw::new(false, expected, format!("node #{i}: {}", results[i].actual)),
        };
    }
    if a.any {
        let results: Vec<Raw> = nodes.iter().map(|v| test_value(a, v, env)).collect();
        let expected = format!("some node: {}", results[0].expected);
        return match results.iter().position(|r| r.success) {
            Some(i) => Raw::new(true, expected, format!("node #{i}: {}", results[i].actual)),
            None => {
                let shown: Vec<String> = results.iter().take(5).map(|r| r.actual.clone()).collect();
                Raw::new(
                    false,
                    expected,
                    format!("none of {} node(s): {}", results.len(), shown.join(", ")),
                )
            }
        };
    }
    test_value(a, nodes[0], env)
}

/// Render an operand's templates.
fn operand(node: &Located<Node>, env: &Env<'_>) -> Result<Value, String> {
    env.ctx.render_node(&node.value).map_err(|e| e.to_string())
}

/// Test one value against the assertion's operator (never `not`/`exists`/`count`, handled above).
fn test_value(a: &Assertion, v: &Value, env: &Env<'_>) -> Raw {
    let actual = show(v);
    let fail_operand = |op: &str, e: String| {
        Raw::new(
            false,
            format!("{op} (operand error)"),
            format!("error: {e}"),
        )
    };
    if let Some(node) = &a.equals {
        return match operand(node, env) {
            Ok(want) => Raw::new(
                json_equal(v, &want),
                format!("equals {}", show(&want)),
                actual,
            ),
            Err(e) => fail_operand("equals", e),
        };
    }
    if let Some(re) = &a.matches {
        let expected = format!("matches /{}/", re.value);
        return match (crate::scenario::compiled::regex(&re.value), v) {
            (Err(e), _) => Raw::new(false, expected, format!("error: invalid regex: {e}")),
            (Ok(r), Value::String(s)) => Raw::new(r.is_match(s), expected, actual),
            (Ok(_), _) => Raw::new(false, expected, format!("{actual} (not a string)")),
        };
    }
    let comparisons: [(&Option<Located<Node>>, &str); 4] =
        [(&a.gt, ">"), (&a.gte, ">="), (&a.lt, "<"), (&a.lte, "<=")];
    for (bound, symbol) in comparisons {
        if let Some(node) = bound {
            let want = match operand(node, env) {
                Ok(w) => w,
                Err(e) => return fail_operand(symbol, e),
            };
            let expected = format!("{symbol} {}", show(&want));
            let (Some(x), Some(y)) = (as_number(v), as_number(&want)) else {
                return Raw::new(false, expected, format!("{actual} (not a number)"));
            };
            let ok = match symbol {
                ">" => x > y,
                ">=" => x >= y,
                "<" => x < y,
                _ => x <= y,
            };
            return Raw::new(ok, expected, actual);
        }
    }
    if let Some(node) = &a.contains {
        let want = match operand(node, env) {
            Ok(w) => w,
            Err(e) => return fail_operand("contains", e),
        };
        let expected = format!("contains {}", show(&want));
        let ok = match (v, &want) {
            (Value::String(s), Value::String(w)) => s.contains(w.as_str()),
            (Value::Array(items), w) => items.iter().any(|i| json_equal(i, w)),
            (Value::Object(map), Value::String(k)) => map.contains_key(k),
            _ => false,
        };
        return Raw::new(ok, expected, actual);
    }
    if let Some(measure) = &a.length {
        let len = match v {
            Value::String(s) => s.chars().count(),
            Value::Array(items) => items.len(),
            Value::Object(map) => map.len(),
            _ => {
                let raw = measure_value(&measure.value, &Value::Null, env);
                return Raw::new(
                    false,
                    format!("length {}", raw.expected),
                    format!("{actual} (has no length)"),
                );
            }
        };
        let raw = measure_value(&measure.value, &Value::from(len), env);
        return Raw::new(
            raw.success,
            format!("length {}", raw.expected),
            format!("length {len}: {actual}"),
        );
    }
    if let Some(t) = &a.type_ {
        let ok = is_type(v, t.value);
        return Raw::new(
            ok,
            format!("type {}", t.value.as_str()),
            format!("{} {actual}", type_name(v)),
        );
    }
    if let Some(list) = &a.one_of {
        let mut wanted = Vec::new();
        for item in &list.value {
            match operand(item, env) {
                Ok(w) => wanted.push(w),
                Err(e) => return fail_operand("one_of", e),
            }
        }
        let ok = wanted.iter().any(|w| json_equal(v, w));
        return Raw::new(
            ok,
            format!("one of {}", show(&Value::Array(wanted))),
            actual,
        );
    }
    if let Some(schema) = &a.schema {
        return test_schema(&schema.value, v, env);
    }
    Raw::new(false, "an operator", "assertion without an operator")
}

fn measure_value(measure: &Measure, v: &Value, env: &Env<'_>) -> Raw {
    match measure {
        Measure::Exact(n) => Raw::new(as_number(v) == Some(*n as f64), format!("== {n}"), show(v)),
        Measure::Compare(inner) => evaluate_nodes(inner, &[v], env),
    }
}

fn test_schema(schema: &Node, v: &Value, env: &Env<'_>) -> Raw {
    match schema {
        Node::String(name) => match (env.schemas)(name, v) {
            None => Raw::new(
                false,
                format!("valid against schema `{name}`"),
                format!("unknown schema `{name}`"),
            ),
            Some(findings) if findings.is_empty() => {
                Raw::new(true, format!("valid against schema `{name}`"), "valid")
            }
            Some(findings) => {
                let shown: Vec<String> = findings
                    .iter()
                    .take(3)
                    .map(|f| format!("{}: {}", f.location, f.message))
                    .collect();
                Raw::new(
                    false,
                    format!("valid against schema `{name}`"),
                    shown.join("; "),
                )
            }
        },
        inline => match jsonschema::validator_for(&inline.to_json()) {
            Err(e) => Raw::new(
                false,
                "valid against the inline schema",
                format!("error: invalid schema: {e}"),
            ),
            Ok(validator) => {
                let errors: Vec<String> = validator
                    .iter_errors(v)
                    .take(3)
                    .map(|e| format!("{}: {e}", e.instance_path()))
                    .collect();
                let actual = if errors.is_empty() {
                    "valid".to_string()
                } else {
                    errors.join("; ")
                };
                Raw::new(errors.is_empty(), "valid against the inline schema", actual)
            }
        },
    }
}

/// Numbers compare by value (1 == 1.0); everything else structurally.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64() == y.as_f64() && (x.as_i64() == y.as_i64() || x.is_f64() || y.is_f64())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| json_equal(i, j))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, i)| y.get(k).is_some_and(|j| json_equal(i, j)))
        }
        _ => a == b,
    }
}

/// A number, or a string holding one (header values such as `retry-after`).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn is_type(v: &Value, t: JsonType) -> bool {
    match t {
        JsonType::Null => v.is_null(),
        JsonType::Boolean => v.is_boolean(),
        JsonType::Number => v.is_number(),
        JsonType::Integer => {
            v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        JsonType::String => v.is_string(),
        JsonType::Array => v.is_array(),
        JsonType::Object => v.is_object(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Run a step's captures on a response body: each JSONPath's first node, with its type.
/// A path that selects nothing is an error naming the capture.
pub(crate) fn capture(step: &Step, body: &Value) -> Result<BTreeMap<String, Value>, String> {
    let mut out = BTreeMap::new();
    for (name, path) in &step.capture {
        let jp = compile_path(&path.value)
            .map_err(|e| format!("capture `{name}`: invalid JSONPath: {e}"))?;
        let value = jp
            .query(body)
            .first()
            .cloned()
            .ok_or_else(|| format!("capture `{name}`: `{}` selected nothing", path.value))?;
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// A resolver that knows no schema names.
#[cfg(test)]
pub(crate) fn no_schemas(_: &str, _: &Value) -> Option<Vec<Finding>> {
    None
}
