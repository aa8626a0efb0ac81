//! Checks a scenario file without sending anything: everything [`load`](mod@super::load) reports
//! (YAML, types, unknown keys, unknown features) plus the semantic rules below, and — across
//! files — duplicate ids. With a request validator, bodies are checked against the protocol's
//! request schema too.
//!
//! Semantic rules: at least one mode and one step; unique step ids; `body` xor `raw_body`;
//! valid JSONPaths (RFC 9535) and regexes; exactly one operator per assertion; templates
//! that parse and name known variables (`steps.X.Y` must be a capture of an earlier step,
//! or of the same step inside its own assertions; `target.X` one of `model`, `base_url`,
//! `name`, `headers.NAME`; fixtures must exist); inline JSON Schemas that compile.

use super::diagnostics::{Diagnostic, Pos};
use super::model::{Assertion, Located, Measure, Node, Scenario, Step};
use super::template::{self, Expr, Piece};
use crate::check::Finding;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Validates a request body for a request path; findings carry a JSON pointer as location.
pub(crate) type RequestValidator<'a> = &'a dyn Fn(&str, &Value) -> Vec<Finding>;

/// Target fields a template may name (besides `target.headers.NAME`).
pub(crate) const TARGET_FIELDS: &[&str] = &["model", "base_url", "name"];

struct Checker<'a> {
    scenario: &'a Scenario,
    text: &'a str,
    out: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>) -> &mut Diagnostic {
        self.out.push(Diagnostic::error(
            &self.scenario.file,
            Some(self.text),
            pos,
            message,
        ));
        self.out.last_mut().expect("just pushed")
    }

    fn warning(&mut self, pos: Pos, message: impl Into<String>) {
        self.out.push(Diagnostic::warning(
            &self.scenario.file,
            Some(self.text),
            pos,
            message,
        ));
    }

    fn jsonpath(&mut self, path: &Located<String>) {
        if let Err(e) = super::compiled::path(&path.value) {
            // A budget error points at where the budget ran out; a parse error at the path
            // (its message gives the position).
            let pos = if super::jsonpath::guard(&path.value).is_err() {
                self.refine(path.pos, &path.value, e.offset)
            } else {
                path.pos
            };
            // A refused path may be huge: show its start only.
            let shown = crate::text::truncate(&path.value, 80);
            self.error(pos, format!("invalid JSONPath `{shown}`: {e}"))
                .set_hint("JSONPath (RFC 9535) starts with `$`, e.g. `$.content[0].text`");
        }
    }

    /// The position of byte `offset` of the string `s` whose scalar starts at `pos`, when the
    /// source shows the text verbatim on that line (plain, or quoted without escapes before
    /// the offset); otherwise `pos` itself.
    fn refine(&self, pos: Pos, s: &str, offset: usize) -> Pos {
        let Some(line) = self.text.lines().nth((pos.line as usize).wrapping_sub(1)) else {
            return pos;
        };
        let Some(prefix) = s.get(..offset) else {
            return pos;
        };
        let at: String = line
            .chars()
            .skip(pos.column.saturating_sub(1) as usize)
            .collect();
        let quote = matches!(at.chars().next(), Some('"' | '\''));
        let body = if quote { &at[1..] } else { at.as_str() };
        if body.starts_with(prefix) && !(quote && prefix.contains(['\\', '\''])) {
            let shift = u32::try_from(prefix.chars().count()).unwrap_or(0) + u32::from(quote);
            Pos::new(pos.line, pos.column.saturating_add(shift))
        } else {
            pos
        }
    }

    /// Header names are case-insensitive: the same name twice is an error.
    fn header_names<'n>(&mut self, names: impl Iterator<Item = (&'n String, Pos)>) {
        let mut seen: BTreeMap<String, &String> = BTreeMap::new();
        for (name, pos) in names {
            if let Some(first) = seen.insert(name.to_ascii_lowercase(), name) {
                self.error(
                    pos,
                    format!("header `{name}` repeats `{first}` (names are case-insensitive)"),
                );
            }
        }
    }

    /// Check the templates of one string against the variables known at this point.
    fn templates(&mut self, s: &str, pos: Pos, captures: &BTreeMap<String, BTreeSet<String>>) {
        let pieces = match template::parse(s) {
            Ok(p) => p,
            Err(e) => {
                let offset = match &e {
                    template::TemplateError::Unclosed { offset }
                    | template::TemplateError::Invalid { offset, .. } => *offset,
                    _ => 0,
                };
                let pos = self.refine(pos, s, offset);
                self.error(pos, e.to_string())
                    .set_hint("templates look like `{{ target.model }}` or `{{ steps.ID.NAME }}`");
                return;
            }
        };
        for piece in pieces {
            let Piece::Expr(expr, offset) = piece else {
                continue;
            };
            let pos = self.refine(pos, s, offset);
            match &expr {
                Expr::Literal(_) => {}
                Expr::Fixture(name) => match &self.scenario.fixtures_dir {
                    None => {
                        self.error(
                            pos,
                            format!("fixture `{name}` used but no fixtures directory exists"),
                        )
                        .set_hint("put fixture files in scenarios/fixtures/");
                    }
                    Some(dir)
                        if name.split(['/', '\\']).any(|p| p == "..")
                            || !dir.join(name).exists() =>
                    {
                        let dir = dir.display().to_string();
                        self.error(pos, format!("fixture `{name}` not found"))
                            .set_hint(format!("looked in {dir}"));
                    }
                    // Opened the way a run opens it (a FIFO is refused before it is opened).
                    Some(dir) => {
                        if let Err(e) = crate::scenario::fixtures::fixture_check(dir, name) {
                            let file = dir.join(name).display().to_string();
                            self.error(pos, format!("fixture `{name}` ({file}): {e}"));
                        }
                    }
                },
                Expr::Var(parts) => {
                    let ok = match parts[0].as_str() {
                        "target" => {
                            (parts.len() == 2 && TARGET_FIELDS.contains(&parts[1].as_str()))
                                || (parts.len() == 3 && parts[1] == "headers")
                        }
                        "steps" => {
                            parts.len() == 3
                                && captures
                                    .get(&parts[1])
                                    .is_some_and(|c| c.contains(&parts[2]))
                        }
                        _ => false,
                    };
                    if !ok {
                        let hint = match parts[0].as_str() {
                            "target" => "target variables: model, base_url, name, headers.NAME".to_string(),
                            "steps" if captures.contains_key(&parts[1]) => {
                                let names: Vec<_> = captures[&parts[1]].iter().cloned().collect();
                                format!("step `{}` captures: {}", parts[1], names.join(", "))
                            }
                            "steps" if captures.is_empty() => {
                                "`steps.ID.NAME` names a capture of an earlier step; there is none yet".to_string()
                            }
                            "steps" => {
                                let ids: Vec<_> = captures.keys().cloned().collect();
                                format!("`steps.ID.NAME` names a capture of an earlier step (steps so far: {})", ids.join(", "))
                            }
                            _ => "variables start with `target.`, `steps.` or `fixtures.`".to_string(),
                        };
                        self.error(
                            pos,
                            format!("unknown template variable `{}`", expr.display()),
                        )
                        .set_hint(hint);
                    }
                }
            }
        }
    }

    fn node_templates(
        &mut self,
        node: &Located<Node>,
        captures: &BTreeMap<String, BTreeSet<String>>,
    ) {
        let mut strings = Vec::new();
        node.value.strings(node.pos, "", &mut strings);
        for (s, pos, _) in strings {
            if template::has_template(&s) {
                self.templates(&s, pos, captures);
            }
        }
    }

    /// `top`: an entry of `assert` (path required); `header`: an entry of `headers` (no path).
    fn assertion(
        &mut self,
        a: &Located<Assertion>,
        top: bool,
        nested: bool,
        captures: &BTreeMap<String, BTreeSet<String>>,
    ) {
        let ops = a.value.ops();
        match ops.len() {
            0 => {
                self.error(a.pos, "assertion without an operator").set_hint(
                    "use one of equals, not, exists, matches, gt, gte, lt, lte, contains, length, count, type, one_of, schema",
                );
            }
            1 => {}
            _ => {
                self.error(
                    a.pos,
                    format!("assertion with several operators: {}", ops.join(", ")),
                )
                .set_hint("write one assertion per operator");
            }
        }
        match (&a.value.path, top) {
            (Some(p), true) => {
                self.jsonpath(p);
                let list_op = matches!(a.value.op(), "exists" | "count" | "none");
                if !a.value.all && !a.value.any && !list_op && may_select_several(&p.value) {
                    self.warning(
                        p.pos,
                        format!(
                            "`{}` may select several nodes but only the first is tested",
                            p.value
                        ),
                    );
                    if let Some(last) = self.out.last_mut() {
                        last.set_hint(
                            "add `all: true` or `any: true`, or select one node (e.g. `[0]`)",
                        );
                    }
                }
            }
            (None, true) => {
                self.error(a.pos, "assertion without `path`")
                    .set_hint("e.g. `path: \"$.stop_reason\"`");
            }
            (Some(p), false) => {
                let what = if nested {
                    "a nested assertion"
                } else {
                    "a header assertion"
                };
                self.error(p.pos, format!("`path` is not allowed in {what}"));
            }
            (None, false) => {}
        }
        if a.value.all && a.value.any {
            self.error(a.pos, "`all` and `any` cannot both be true");
        }
        if nested
            && (a.value.all
                || a.value.any
                || a.value.effect
                || a.value.severity.is_some()
                || a.value.message.is_some()
                || a.value.check.is_some())
        {
            self.error(
                a.pos,
                "`all`, `any`, `effect`, `severity`, `message` and `check` belong on the outer assertion",
            );
        }
        if let Some(check) = &a.value.check {
            self.stated_check(check, a.value.effect, a.value.severity);
        }
        if let Some(m) = &a.value.matches
            && let Err(e) = super::compiled::regex(&m.value)
        {
            let text = e.to_string();
            let last = text.lines().last().unwrap_or("").trim();
            let first = last.strip_prefix("error: ").unwrap_or(last).to_string();
            self.error(m.pos, format!("invalid regex `{}`: {first}", m.value));
        }
        for operand in [&a.value.gt, &a.value.gte, &a.value.lt, &a.value.lte]
            .into_iter()
            .flatten()
        {
            match &operand.value {
                Node::Number(_) => {}
                Node::String(s) if template::has_template(s) => {}
                _ => {
                    self.error(operand.pos, "a comparison needs a number");
                }
            }
        }
        for operand in [&a.value.equals, &a.value.contains].into_iter().flatten() {
            self.node_templates(operand, captures);
        }
        if let Some(list) = &a.value.one_of {
            if list.value.is_empty() {
                self.error(list.pos, "`one_of` needs at least one value");
            }
            for item in &list.value {
                self.node_templates(item, captures);
            }
        }
        if let Some(schema) = &a.value.schema {
            match &schema.value {
                Node::String(_) => {}
                Node::Map(_) | Node::Bool(_) => {
                    if let Err(e) = jsonschema::validator_for(&schema.value.to_json()) {
                        self.error(schema.pos, format!("invalid JSON Schema: {e}"));
                    }
                }
                _ => {
                    self.error(schema.pos, "`schema` is an inline JSON Schema (object) or a protocol schema name (string)");
                }
            }
        }
        if let Some(inner) = &a.value.not {
            self.assertion(inner, false, true, captures);
        }
        if let Some(cond) = &a.value.when {
            self.assertion(cond, true, false, captures);
        }
        for measure in [&a.value.length, &a.value.count].into_iter().flatten() {
            if let Measure::Compare(inner) = &measure.value {
                let inner = Located::new((**inner).clone(), measure.pos);
                let op = inner.value.op();
                if !["equals", "not", "gt", "gte", "lt", "lte", "one_of"].contains(&op) {
                    self.error(measure.pos, format!("`{op}` cannot compare a length"))
                        .set_hint("use a number or one of equals, not, gt, gte, lt, lte, one_of");
                }
                self.assertion(&inner, false, true, captures);
            }
        }
    }

    /// A `check:` (or `status_check:`) names a catalogue check that a scenario may report:
    /// a fixed id (not a family pattern), an `effect.*` id exactly when the assertion is an
    /// effect check, and a severity the entry allows.
    fn stated_check(
        &mut self,
        check: &Located<String>,
        effect: bool,
        severity: Option<super::model::AssertSeverity>,
    ) {
        let Some(id) = crate::check::catalogue::CheckId::parse(&check.value) else {
            self.error(
                check.pos,
                format!("`{}` is not a check of the catalogue", check.value),
            )
            .set_hint("`conform explain --list` lists them");
            return;
        };
        if id.entry().is_family() && id.namespace() != "effect" {
            self.error(
                check.pos,
                format!("`{id}` is a generic check; name the rule the assertion proves instead"),
            );
        }
        if effect != (id.namespace() == "effect") {
            let why = if effect {
                "an effect check names an `effect.*` check (its failure means `ignored`)"
            } else {
                "an `effect.*` check needs `effect: true`"
            };
            self.error(check.pos, format!("`{id}`: {why}"));
        }
        let wanted = match severity {
            None => id.entry().severity,
            Some(super::model::AssertSeverity::Must) => crate::check::Severity::Must,
            Some(super::model::AssertSeverity::Should) => crate::check::Severity::Should,
            Some(super::model::AssertSeverity::Info) => crate::check::Severity::Info,
        };
        if !id.entry().allows(wanted) {
            self.error(
                check.pos,
                format!(
                    "`{id}` cannot be reported as {wanted}: its catalogue entry does not allow it"
                ),
            );
        }
    }

    fn step(&mut self, step: &Located<Step>, captures: &mut BTreeMap<String, BTreeSet<String>>) {
        let s = &step.value;
        let r = &s.request;
        if !r.method.value.chars().all(|c| c.is_ascii_uppercase()) || r.method.value.is_empty() {
            self.error(
                r.method.pos,
                format!("invalid HTTP method `{}`", r.method.value),
            )
            .set_hint("e.g. POST, GET");
        }
        if !r.path.value.starts_with('/') && !r.path.value.starts_with("{{") {
            self.error(
                r.path.pos,
                format!("the request path `{}` must start with `/`", r.path.value),
            );
        }
        self.templates(&r.path.value.clone(), r.path.pos, captures);
        self.header_names(r.headers.iter().map(|(n, v)| (n, v.pos)));
        for (name, value) in &r.headers {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b))
            {
                self.error(value.pos, format!("invalid header name `{name}`"));
            }
            if let Some(v) = &value.value {
                self.templates(v, value.pos, captures);
            }
        }
        if let Some(auth) = &r.auth
            && let super::model::Auth::Key(k) = &auth.value
        {
            self.templates(k, auth.pos, captures);
        }
        match (&r.body, &r.raw_body) {
            (Some(_), Some(raw)) => {
                self.error(raw.pos, "`body` and `raw_body` cannot both be set")
                    .set_hint("`raw_body` is for malformed JSON");
            }
            (Some(body), None) => self.node_templates(body, captures),
            (None, Some(raw)) => self.templates(&raw.value, raw.pos, captures),
            (None, None) => {}
        }
        if let Some(status) = &s.expect.status {
            let statuses = s.expect.statuses();
            if statuses.is_empty() || statuses.iter().any(|c| !(100..=599).contains(c)) {
                self.error(
                    status.pos,
                    "a status is a number from 100 to 599 or a non-empty list of them",
                );
            }
        }
        if let Some(check) = &s.expect.status_check {
            self.stated_check(check, false, None);
            let statuses = s.expect.statuses();
            let success = statuses.iter().filter(|c| (200..300).contains(*c)).count();
            if success != 0 && success != statuses.len() {
                self.error(
                    check.pos,
                    "`status_check` names the rule a success status breaks (a step expecting a rejection) or a rejection breaks (a step expecting success); this step expects both",
                );
            }
        }
        if let Some(modes) = &s.modes
            && modes.iter().all(|m| !self.scenario.modes().contains(m))
        {
            self.warning(
                step.pos,
                format!("step `{}` runs in none of the scenario's modes", s.id.value),
            );
        }
        // Captures of this step are visible in its own assertions and in later steps.
        for path in s.capture.values() {
            self.jsonpath(path);
        }
        captures.insert(s.id.value.clone(), s.capture.keys().cloned().collect());
        self.header_names(s.expect.headers.iter().map(|(n, a)| (n, a.pos)));
        for (name, a) in &s.expect.headers {
            if name.is_empty() {
                self.error(a.pos, "empty header name");
            }
            self.assertion(a, false, false, captures);
        }
        for a in &s.expect.asserts {
            self.assertion(a, true, false, captures);
        }
    }
}

/// Whether a JSONPath may select more than one node: wildcards, descendants, filters, slices
/// and unions (a syntactic guess; quoted names containing these characters give a false alarm).
fn may_select_several(path: &str) -> bool {
    path.contains('*') || path.contains("..") || path.contains("[?") || path.contains(':') || {
        // A comma inside brackets is a union.
        let mut depth = 0usize;
        path.chars().any(|c| {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                _ => {}
            }
            c == ',' && depth > 0
        })
    }
}

/// The semantic checks of one parsed scenario (`text` is the file's source, for snippets).
pub(crate) fn check_scenario(scenario: &Scenario, text: &str) -> Vec<Diagnostic> {
    let mut c = Checker {
        scenario,
        text,
        out: Vec::new(),
    };
    let doc = &scenario.doc;
    if doc.id.value.trim().is_empty() {
        c.error(doc.id.pos, "the scenario id is empty");
    }
    if doc.modes.is_empty() {
        c.error(doc.id.pos, "`modes` is empty")
            .set_hint("use [sync], [stream] or [sync, stream]");
    }
    let mut modes = doc.modes.clone();
    modes.sort();
    modes.dedup();
    if modes.len() != doc.modes.len() {
        c.error(doc.id.pos, "`modes` lists a mode twice");
    }
    if doc.steps.is_empty() {
        c.error(doc.id.pos, "a scenario needs at least one step");
    }
    for path in &doc.redact {
        c.jsonpath(path);
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut captures = BTreeMap::new();
    for step in &doc.steps {
        if !seen.insert(&step.value.id.value) {
            c.error(
                step.value.id.pos,
                format!("duplicate step id `{}`", step.value.id.value),
            );
        }
        c.step(step, &mut captures);
    }
    c.out
}

/// Check request bodies against the protocol's request schema. Bodies of steps that expect
/// only error statuses (≥ 400) are skipped: they are invalid on purpose. Findings at or under
/// a whole-value template are skipped: the value is only known at run time.
pub(crate) fn check_bodies(
    scenario: &Scenario,
    text: Option<&str>,
    validate: RequestValidator<'_>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for step in &scenario.doc.steps {
        let s = &step.value;
        let Some(body) = &s.request.body else {
            continue;
        };
        if s.expect.statuses().iter().all(|c| *c >= 400) {
            continue;
        }
        out.extend(check_body(
            &scenario.file,
            text,
            &s.id.value,
            &s.request.path.value,
            body,
            validate,
        ));
    }
    out
}

/// The request-schema errors of one step's body (`step` its id, `path` its request path);
/// strings that are a whole template are not checked (their value comes at run time).
pub(crate) fn check_body(
    file: &std::path::Path,
    text: Option<&str>,
    step: &str,
    path: &str,
    body: &Located<Node>,
    validate: RequestValidator<'_>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut strings = Vec::new();
    body.value.strings(body.pos, "", &mut strings);
    let templated: Vec<String> = strings
        .iter()
        .filter(|(s, _, _)| matches!(template::parse(s).as_deref(), Ok([Piece::Expr(..)])))
        .map(|(_, _, p)| p.clone())
        .collect();
    for finding in validate(path, &body.value.to_json()) {
        let pointer = finding.location.as_str();
        if templated
            .iter()
            .any(|t| pointer == t || pointer.starts_with(&format!("{t}/")))
        {
            continue;
        }
        let pos = body
            .value
            .pointer_located(pointer, body.pos)
            .map(|(_, p)| p)
            .unwrap_or(body.pos);
        let mut message = format!("request body of step `{step}` violates the request schema");
        if !pointer.is_empty() {
            message.push_str(&format!(" at `{pointer}`"));
        }
        message.push_str(&format!(": {}", finding.message));
        out.push(
            Diagnostic::error(file, text, pos, message)
                .hint("expect a 4xx status if the body is invalid on purpose"),
        );
    }
    out
}
