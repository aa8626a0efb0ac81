//! The scenario language: declarative YAML files, parsed with positions
//! ([`model`], [`load`]), templated and resolved per mode ([`template`], [`render`]) and
//! checked without sending anything ([`lint`](mod@lint)). No I/O beyond reading files; the
//! engine that sends requests lives elsewhere; the assertion engine is [`crate::check::assert`].
//!
//! Entry points for the command line: [`run_lint_cli`] (`conform lint`), [`run_list_cli`]
//! (`conform list`), [`scenario_json_schema`] (`conform schema scenario`).
//!
//! # The format in short
//!
//! ```yaml
//! id: tools/forced-choice            # unique across files
//! feature: tools                     # basic, system, multi-turn, streaming, stop-sequences,
//!                                    # max-tokens, sampling, thinking, image, video, document,
//!                                    # tools, caching, structured-output, errors, count-tokens,
//!                                    # models, headers
//! title: tool_choice {type: tool} forces a call
//! reference: "Tool use; tool_choice"
//! modes: [sync, stream]              # default [sync]; stream sets "stream": true
//! description: optional text
//! tags: [smoke]
//! redact: ["$.id"]                   # JSONPaths replaced in snapshots
//! steps:
//!   - id: call
//!     modes: [stream]                # optional: only in these modes
//!     stream: false                  # optional: force the body's stream flag
//!     request:
//!       method: POST                 # default
//!       path: /v1/messages           # default
//!       headers: {anthropic-beta: x, anthropic-version: null}   # null drops the target's
//!       auth: none                   # none | bearer | x-api-key | {key: "sk-wrong"}
//!       body: {model: "{{ target.model }}", max_tokens: 64, messages: [...]}
//!       # raw_body: '{"model": '     # instead of body: sent verbatim
//!     expect:
//!       status: 200                  # or [400, 422]; default 200
//!       headers:
//!         request-id: {exists: true, severity: should}
//!       assert:
//!         - {path: "$.stop_reason", equals: tool_use, effect: true}
//!         - {path: "$.content[*].type", all: true, one_of: [text, tool_use]}
//!     capture:
//!       content: "$.content"         # first node, keeps its JSON type
//! ```
//!
//! Operators (one per assertion): `equals`, `not: {<assertion without path>}`, `exists`,
//! `matches` (regex, unanchored), `gt`/`gte`/`lt`/`lte` (numbers; numeric strings such as
//! header values count), `contains` (substring, array element, or object key), `length`
//! (number or `{gte: 1}`-style), `count` (number of selected nodes), `type` (null, boolean,
//! number, integer, string, array, object), `one_of`, `schema` (inline object or a protocol
//! schema name). Modifiers: `all`/`any` (node lists), `effect`, `severity` (must, should,
//! info), `message`, `requires`, `when`, `check`. Without `all`/`any` the path must select a
//! node and the first is tested.
//!
//! Causes by meaning: `check: <id>` names the catalogue rule an assertion proves
//! (`stop.reason-end-turn-after-stop-sequence`, `effect.tool-choice` for an effect check); a
//! failure is reported under it, with its severity, instead of `assert.<operator>`.
//! `expect.status_check: <id>` names the rule a success status breaks for a request that
//! must be rejected (`auth.invalid-key-accepted`); another client-error status than the
//! expected one is `error.wrong-status`. On a step expecting success it names the rule a
//! client-error status breaks (`request.documented-field-rejected`: a documented parameter
//! must be accepted); such a rejection is then that rule's failure, not `unsupported`. `conform lint` checks the id is in the catalogue and
//! fits the assertion.
//!
//! Templates: `{{ target.model }}`, `{{ target.base_url }}`, `{{ target.name }}`,
//! `{{ target.headers.NAME }}`, `{{ steps.ID.NAME }}`, `{{ fixtures.FILE }}` /
//! `{{ fixture("FILE") }}` (base64 of `scenarios/fixtures/FILE`). A whole-string template
//! keeps the value's JSON type; inside text it interpolates. Unknown variables are errors.
//! A literal `{{` is written `{{ '{{' }}` (a quoted literal).

pub(crate) mod compiled;
pub(crate) mod diagnostics;
pub(crate) mod fixtures;
pub(crate) mod jsonpath;
pub(crate) mod library;
pub(crate) mod lint;
pub(crate) mod load;
pub(crate) mod model;
pub(crate) mod render;
mod structure;
pub(crate) mod template;

pub(crate) use diagnostics::{Diagnostic, Pos};
pub(crate) use lint::RequestValidator;
pub(crate) use load::load_dir;
pub(crate) use model::Scenario;
pub(crate) use model::{Feature, Mode, ScenarioFile};

use std::io::Write;
use std::path::{Path, PathBuf};

/// The default scenario directory.
pub(crate) const DEFAULT_DIR: &str = "scenarios";

/// [`run_lint_cli`] with a request-body validator.
pub(crate) fn run_lint_cli_with(paths: &[PathBuf], validator: Option<RequestValidator<'_>>) -> i32 {
    // `conform run`'s resolution: ./scenarios when it exists, else the built-in library.
    if paths.is_empty() && !Path::new(DEFAULT_DIR).exists() {
        return lint_builtin(validator);
    }
    let default = [PathBuf::from(DEFAULT_DIR)];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut files = 0;
    let mut errors = 0;
    let mut warnings = 0;
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    for path in paths {
        files += load::scenario_files(path).map(|f| f.len()).unwrap_or(0);
        for d in lint_with(path, validator) {
            if d.is_error() {
                errors += 1;
            } else {
                warnings += 1;
            }
            let _ = writeln!(err, "{d}\n");
        }
    }
    let _ = writeln!(
        err,
        "checked {files} scenario file(s): {errors} error(s), {warnings} warning(s)"
    );
    if errors > 0 {
        crate::exit::USAGE
    } else {
        crate::exit::OK
    }
}

/// `conform lint` with no path and no `./scenarios`: the built-in library, as `conform run`
/// would use it.
fn lint_builtin(validator: Option<RequestValidator<'_>>) -> i32 {
    let (scenarios, mut diagnostics) = library::load_builtin();
    if let Some(validate) = validator {
        diagnostics.extend(builtin_bodies(&scenarios, validate));
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let mut err = std::io::stderr().lock();
    for d in &diagnostics {
        let _ = writeln!(err, "{d}\n");
    }
    let _ = writeln!(
        err,
        "checked {} scenario file(s) of the built-in library (there is no ./scenarios here; `conform run` uses the same): {errors} error(s), {} warning(s)",
        library::files()
            .iter()
            .filter(|(p, _)| p.starts_with("scenarios/anthropic/")
                && (p.ends_with(".yaml") || p.ends_with(".yml")))
            .count(),
        diagnostics.len() - errors
    );
    if errors > 0 {
        crate::exit::USAGE
    } else {
        crate::exit::OK
    }
}

/// The request-schema errors of the bodies of built-in scenarios (their text is embedded).
fn builtin_bodies(scenarios: &[Scenario], validate: RequestValidator<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in scenarios {
        let text = library::files()
            .iter()
            .find(|(p, _)| Path::new(p) == s.file)
            .and_then(|(_, b)| std::str::from_utf8(b).ok());
        out.extend(lint::check_bodies(s, text, validate));
    }
    out
}

/// The request-schema errors of the bodies of the scenario files under `dir`, loaded (in
/// `loaded`) or not: `conform run --scenarios DIR` lints them before it sends anything, as
/// `conform lint DIR` does.
pub(crate) fn bodies_under(
    dir: &Path,
    loaded: &[Scenario],
    validate: RequestValidator<'_>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in loaded.iter().filter(|s| s.file.starts_with(dir)) {
        let text = load::read_text(&s.file).ok();
        out.extend(lint::check_bodies(s, text.as_deref(), validate));
    }
    out.extend(unloaded_bodies(
        load::scenario_files(dir).unwrap_or_default(),
        loaded,
        validate,
    ));
    out
}

/// One row of `conform list`.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ListEntry {
    pub id: String,
    pub feature: Feature,
    pub title: String,
    pub modes: Vec<Mode>,
    pub file: PathBuf,
}

/// The rows of `conform list`, sorted by feature then id.
pub(crate) fn list_entries(scenarios: &[Scenario]) -> Vec<ListEntry> {
    let mut rows: Vec<ListEntry> = scenarios
        .iter()
        .map(|s| ListEntry {
            id: s.id().to_string(),
            feature: s.feature(),
            title: s.title().to_string(),
            modes: s.modes().to_vec(),
            file: s.file.clone(),
        })
        .collect();
    rows.sort_by(|a, b| (a.feature, &a.id).cmp(&(b.feature, &b.id)));
    rows
}

/// Render the rows as an aligned text table.
pub(crate) fn list_table(rows: &[ListEntry]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            let modes: Vec<&str> = r.modes.iter().map(Mode::as_str).collect();
            [
                r.id.clone(),
                r.feature.to_string(),
                modes.join(","),
                r.title.clone(),
            ]
        })
        .collect();
    let header = [
        "ID".to_string(),
        "FEATURE".to_string(),
        "MODES".to_string(),
        "TITLE".to_string(),
    ];
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(cells.iter()) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(cells.iter()) {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `conform list [--json]`: the valid scenarios on stdout (table or JSON array), diagnostics
/// of the invalid ones on stderr; exit 2 when any file has errors.
pub(crate) fn run_list_cli(dir: &Path, json: bool) -> i32 {
    let (scenarios, diagnostics) = load_dir(dir);
    let rows = list_entries(&scenarios);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if json {
        let text = serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into());
        writeln!(out, "{text}")
    } else {
        write!(out, "{}", list_table(&rows))
    };
    match written {
        // The reader went away (`conform list | head`): a quiet success, as ripgrep does.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return crate::exit::OK,
        Err(_) => return crate::exit::USAGE,
        Ok(()) => {}
    }
    let mut err = std::io::stderr().lock();
    for d in &diagnostics {
        let _ = writeln!(err, "{d}\n");
    }
    if diagnostics::has_errors(&diagnostics) {
        crate::exit::USAGE
    } else {
        crate::exit::OK
    }
}

/// The JSON Schema of the scenario format, for editors (`conform schema scenario`).
pub(crate) fn scenario_json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(ScenarioFile);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}

/// The request-schema errors of the bodies of `files` that are not among `loaded`.
fn unloaded_bodies(
    files: Vec<PathBuf>,
    loaded: &[Scenario],
    validate: RequestValidator<'_>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for f in files
        .iter()
        .filter(|f| !loaded.iter().any(|s| &s.file == *f))
    {
        let Ok(text) = load::read_text(f) else {
            continue;
        };
        if let Some(tree) = load::parse_tree(&text) {
            out.extend(structure::body_errors(f, &text, &tree, validate));
        }
    }
    out
}

/// Lint a file or every scenario under a directory.
#[cfg(test)]
pub(crate) fn lint(path: &Path) -> Vec<Diagnostic> {
    lint_with(path, None)
}

/// [`lint`] with a request-body validator (the protocol's request schema).
pub(crate) fn lint_with(path: &Path, validator: Option<RequestValidator<'_>>) -> Vec<Diagnostic> {
    let (scenarios, mut diagnostics) = load::load_dir(path);
    if let Some(validate) = validator {
        for s in &scenarios {
            let text = load::read_text(&s.file).ok();
            diagnostics.extend(lint::check_bodies(s, text.as_deref(), validate));
        }
        // The bodies of the files that did not load, so one pass finds every error.
        diagnostics.extend(unloaded_bodies(
            load::scenario_files(path).unwrap_or_default(),
            &scenarios,
            validate,
        ));
    }
    diagnostics.sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
    diagnostics
}

#[cfg(test)]
mod tests;
