//! Reading scenario files: YAML → [`ScenarioFile`] with serde-saphyr, every error turned into a
//! [`Diagnostic`] with file, line, column and a hint; then the semantic checks of
//! [`super::lint::check_scenario`]. A bad file never stops the others.
//!
//! Parsing options: YAML 1.2 booleans and numbers (`NO` and `0755` stay strings in request
//! bodies), duplicate keys are errors, and a budget against alias bombs.

use super::diagnostics::{Diagnostic, Pos};
use super::lint;
use super::model::{Located, Node, Scenario, ScenarioFile};
use std::path::{Path, PathBuf};

/// Files larger than this are refused before parsing.
pub(crate) const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        budget: serde_saphyr::budget! {
            max_documents: 1,
            max_depth: MAX_DEPTH,
        },
    }
}

/// The stack of the thread that parses a scenario file. The YAML budget bounds nesting at
/// [`MAX_DEPTH`] levels, but serde's recursive descent through serde-saphyr costs tens of KiB
/// of stack per level in a debug build, more than a 2 MiB thread (a test's, a tokio worker's)
/// has for 64 levels. A dedicated thread makes the bound safe wherever the loader is called.
const PARSE_STACK_BYTES: usize = 64 * 1024 * 1024;

/// The deepest YAML nesting accepted (sequences and mappings).
pub(crate) const MAX_DEPTH: usize = 64;

thread_local! {
    /// Whether this thread is one [`on_parse_stack`] started.
    static ON_PARSE_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` on a thread with [`PARSE_STACK_BYTES`] of stack (or here, when this already is
/// one). Loading many files goes through it once, not once per file: a thread start per file
/// cost a scheduling round trip each, ~3 ms apiece on a busy machine.
pub(crate) fn on_parse_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if ON_PARSE_STACK.get() {
        return f();
    }
    let mut f = Some(f);
    let slot = &mut f;
    let done = std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("scenario-yaml".into())
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(scope, move || {
                ON_PARSE_STACK.set(true);
                slot.take().map(|f| f())
            });
        match spawned {
            Ok(handle) => Some(
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            ),
            Err(_) => None,
        }
    });
    match done {
        Some(Some(r)) => r,
        // No thread to be had: run here (the YAML budget still bounds the depth).
        _ => (f.take().expect("not run when no thread started"))(),
    }
}

/// The most threads [`map_on_parse_stacks`] starts.
const MAX_PARSE_THREADS: usize = 4;

/// `f` over `items` on parse-stack threads, one per core up to [`MAX_PARSE_THREADS`], each
/// taking a contiguous share; the results in the order of `items`. (The built-in library's 77
/// files load in about half the wall time on two cores.) When no thread can be started, a
/// share runs through [`on_parse_stack`].
pub(crate) fn map_on_parse_stacks<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_PARSE_THREADS);
    if threads <= 1 || items.len() < 2 || ON_PARSE_STACK.get() {
        return on_parse_stack(|| items.iter().map(&f).collect());
    }
    let f = &f;
    let share = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let started: Vec<_> = items
            .chunks(share)
            .map(|chunk| {
                let spawned = std::thread::Builder::new()
                    .name("scenario-yaml".into())
                    .stack_size(PARSE_STACK_BYTES)
                    .spawn_scoped(scope, move || {
                        ON_PARSE_STACK.set(true);
                        chunk.iter().map(f).collect::<Vec<R>>()
                    });
                (chunk, spawned)
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for (chunk, spawned) in started {
            out.extend(match spawned {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => on_parse_stack(|| chunk.iter().map(f).collect()),
            });
        }
        out
    })
}

/// Parse a file's text into the typed model (no semantic checks).
pub(crate) fn parse_str(file: &Path, text: &str) -> Result<ScenarioFile, Diagnostic> {
    let parse = || {
        serde_saphyr::from_str_with_options::<ScenarioFile>(text, options())
            .map_err(|e| yaml_diagnostic(file, text, &e))
    };
    on_parse_stack(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).unwrap_or_else(|_| {
            Err(Diagnostic::error(
                file,
                None,
                Pos::UNKNOWN,
                "the YAML parser failed on this file",
            ))
        })
    })
}

/// The file as a positioned YAML tree, whatever its keys (`None` when it is not valid YAML).
pub(crate) fn parse_tree(text: &str) -> Option<Located<Node>> {
    let parse = || serde_saphyr::from_str_with_options::<Located<Node>>(text, options()).ok();
    on_parse_stack(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse))
            .ok()
            .flatten()
    })
}

fn yaml_diagnostic(file: &Path, text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let pos = err
        .location()
        .map(|l| {
            Pos::new(
                l.line().min(u32::MAX as u64) as u32,
                l.column().min(u32::MAX as u64) as u32,
            )
        })
        .unwrap_or(Pos::UNKNOWN);
    let message = plain_message(err);
    let hint = hint_for(&message);
    let mut d = Diagnostic::error(file, Some(text), pos, message);
    if let Some(h) = hint {
        d = d.hint(h);
    }
    d
}

/// The error's message without serde-saphyr's own snippet and position suffix.
fn plain_message(err: &serde_saphyr::Error) -> String {
    let text = err.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    // serde-saphyr appends " at line L column C"; our display adds the position itself.
    let cut = first
        .find(" at line ")
        .map(|i| &first[..i])
        .unwrap_or(first);
    let cut = cut.strip_prefix("error: ").unwrap_or(cut);
    cut.to_string()
}

fn hint_for(message: &str) -> Option<String> {
    if message.contains("unknown field") {
        Some("check the spelling of the key; `conform schema scenario` prints the format".into())
    } else if message.contains("unknown variant") {
        Some("use one of the listed values".into())
    } else if message.contains("missing field") {
        Some("add the field; `conform schema scenario` prints the format".into())
    } else if message.contains("duplicate") {
        Some("each key may appear once in a mapping".into())
    } else if message.contains("flow mapping") || message.contains("flow sequence") {
        Some("inside `{...}` or `[...]`, quote strings that contain `[`, `]`, `{`, `}` or `,` (e.g. JSONPaths)".into())
    } else if message.contains("expected string") {
        Some("this key takes a string; quote the value".into())
    } else if message.contains("invalid type") {
        Some("quote the value if it is meant as a string".into())
    } else {
        None
    }
}

/// The nearest `fixtures/` directory beside the file or in a parent directory.
pub(crate) fn find_fixtures_dir(file: &Path) -> Option<PathBuf> {
    file.parent()?
        .ancestors()
        .map(|a| a.join("fixtures"))
        .find(|d| d.is_dir())
}

/// Read, parse and check one file. Returns the scenario when it has no errors, and every
/// diagnostic found (errors and warnings).
pub(crate) fn load_file(file: &Path) -> (Option<Scenario>, Vec<Diagnostic>) {
    let text = match read_text(file) {
        Ok(t) => t,
        Err(d) => return (None, vec![d]),
    };
    load_text(file, &text)
}

/// Parse and check a file's text (the path is used for messages and fixtures).
pub fn load_text(file: &Path, text: &str) -> (Option<Scenario>, Vec<Diagnostic>) {
    load_text_with_fixtures(file, text, find_fixtures_dir(file))
}

/// [`load_text`] with the fixtures directory given: for the built-in library, whose files
/// have virtual paths (`scenarios/anthropic/...`) that name no directory on disk.
pub(crate) fn load_text_with_fixtures(
    file: &Path,
    text: &str,
    fixtures_dir: Option<PathBuf>,
) -> (Option<Scenario>, Vec<Diagnostic>) {
    let doc = match parse_str(file, text) {
        Ok(doc) => doc,
        // Every structural error at once, not only serde's first.
        Err(d) => {
            let tree = parse_tree(text);
            return (
                None,
                super::structure::all_errors(file, text, tree.as_ref(), d),
            );
        }
    };
    let scenario = Scenario {
        file: file.to_path_buf(),
        fixtures_dir,
        doc,
    };
    let diagnostics = lint::check_scenario(&scenario, text);
    if super::diagnostics::has_errors(&diagnostics) {
        (None, diagnostics)
    } else {
        (Some(scenario), diagnostics)
    }
}

pub(crate) fn read_text(file: &Path) -> Result<String, Diagnostic> {
    crate::fsutil::read_regular_string(file, MAX_FILE_BYTES).map_err(|e| {
        Diagnostic::error(
            file,
            None,
            Pos::UNKNOWN,
            format!("cannot read the file: {e}"),
        )
    })
}

/// [`load_file`] for a file found under the scenario directory `root`: refused, by name, when
/// it leads outside `root` once symlinks are followed.
fn load_within(root: &Path, file: &Path) -> (Option<Scenario>, Vec<Diagnostic>) {
    if root.is_dir()
        && let Err(e) = crate::fsutil::check_inside(root, file)
    {
        let d = Diagnostic::error(
            file,
            None,
            Pos::UNKNOWN,
            format!("cannot read the file: {e}"),
        );
        return (None, vec![d]);
    }
    load_file(file)
}

/// Every `*.yaml` / `*.yml` file under `dir` (skipping `fixtures/` and hidden directories),
/// sorted; a file path is returned as is.
pub(crate) fn scenario_files(path: &Path) -> Result<Vec<PathBuf>, std::io::Error> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if entry.file_type()?.is_dir() {
                if name != "fixtures" && !name.starts_with('.') {
                    stack.push(p);
                }
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Load every scenario under `dir` (or one file). Scenarios with errors are left out and
/// reported; ids used by several files are errors on every file after the first.
pub fn load_dir(dir: &Path) -> (Vec<Scenario>, Vec<Diagnostic>) {
    let files = match scenario_files(dir) {
        Ok(f) => f,
        Err(e) => {
            let d = Diagnostic::error(
                dir,
                None,
                Pos::UNKNOWN,
                format!("cannot list scenario files: {e}"),
            );
            return (Vec::new(), vec![d]);
        }
    };
    let loaded = map_on_parse_stacks(&files, |f| load_within(dir, f));
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut diagnostics = Vec::new();
    for (scenario, diags) in loaded {
        diagnostics.extend(diags);
        if let Some(s) = scenario {
            if let Some(first) = scenarios.iter().find(|o| o.id() == s.id()) {
                let text = read_text(&s.file).ok();
                diagnostics.push(
                    Diagnostic::error(
                        &s.file,
                        text.as_deref(),
                        s.doc.id.pos,
                        format!("duplicate scenario id `{}`", s.id()),
                    )
                    .hint(format!("already used by {}", first.at(first.doc.id.pos))),
                );
            } else {
                scenarios.push(s);
            }
        }
    }
    (scenarios, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_and_every_item_runs_on_a_parse_stack() {
        let items: Vec<usize> = (0..101).collect();
        let out = map_on_parse_stacks(&items, |&i| (i * 2, ON_PARSE_STACK.get()));
        assert_eq!(out.len(), items.len());
        for (i, (doubled, on_stack)) in out.into_iter().enumerate() {
            assert_eq!(doubled, i * 2);
            assert!(on_stack, "item {i} ran on an ordinary stack");
        }
        assert!(map_on_parse_stacks(&[] as &[u8], |&b| b).is_empty());
        assert_eq!(map_on_parse_stacks(&[7u8], |&b| b), vec![7]);
    }
}
