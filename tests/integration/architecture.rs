//! The crate's layout keeps its promises: no file-level import circle (a file that uses
//! another never is used back by it, directly or around a loop, apart from a module and its
//! own submodules), so the pipeline reads one way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A file's module path (`src/report/causes/mod.rs` → `report::causes`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments, string literals and its test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Expand `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len().saturating_sub(1)];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// Every path of a file that names a module of the crate: its `use` trees and the
/// `crate::`/`super::`/`self::` paths in its code.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let tail = &rest[i + 4..];
        rest = tail;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = tail.find(';') {
            out.extend(expand(&tail[..end]));
        }
    }
    let re = regex::Regex::new(r"\b(?:crate|super|self)(?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+")
        .unwrap();
    out.extend(re.find_iter(code).map(|m| m.as_str().to_string()));
    out
}

/// The file module a path names, seen from module `from`.
fn resolve(
    from: &[String],
    is_mod_file: bool,
    path: &str,
    files: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let segs: Vec<&str> = path
        .split("::")
        .map(|s| s.trim_start_matches("r#"))
        .collect();
    let mut at: Vec<String> = match segs.first()? {
        &"crate" => Vec::new(),
        &"super" | &"self" => from.to_vec(),
        _ => return None,
    };
    let mut i = usize::from(segs[0] == "crate");
    let _ = is_mod_file;
    while i < segs.len() && matches!(segs[i], "super" | "self") {
        if segs[i] == "super" {
            at.pop();
        }
        i += 1;
    }
    at.extend(segs[i..].iter().map(|s| s.to_string()));
    (0..=at.len())
        .rev()
        .map(|n| at[..n].to_vec())
        .find(|m| files.contains(m))
}

#[test]
fn no_file_level_import_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut list = Vec::new();
    rust_files(&src, &mut list);
    let modules: BTreeMap<Vec<String>, PathBuf> = list
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "tests.rs"))
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    let known: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (m, file) in &modules {
        let text = code(&std::fs::read_to_string(file).unwrap());
        let is_mod = file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        for p in paths(&text) {
            let Some(t) = resolve(m, is_mod, &p, &known) else {
                continue;
            };
            // A module and its own submodules refer to each other by design.
            let related = t.starts_with(m) || m.starts_with(&t);
            if !related {
                edges.entry(m.clone()).or_default().insert(t);
            }
        }
    }
    let circles = circles(&known, &edges);
    assert!(
        circles.is_empty(),
        "files that import each other (around a loop):\n{}",
        circles.join("\n")
    );
}

/// The strongly connected components with more than one file (Tarjan), each as a line.
fn circles(
    nodes: &BTreeSet<Vec<String>>,
    edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Vec<String> {
    struct State<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on: BTreeSet<&'a Vec<String>>,
        out: Vec<String>,
    }
    fn visit<'a>(v: &'a Vec<String>, s: &mut State<'a>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut c = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                c.push(w.join("::"));
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                c.sort();
                s.out.push(c.join(" ↔ "));
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in nodes {
        if !s.index.contains_key(v) {
            visit(v, &mut s);
        }
    }
    s.out
}

#[test]
fn the_circle_finder_finds_a_circle_and_expands_use_trees() {
    assert_eq!(
        expand("crate::a::{b, c::{d, e}}"),
        vec!["crate::a::b", "crate::a::c::d", "crate::a::c::e"]
    );
    let v = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
    let nodes: BTreeSet<Vec<String>> = ["a", "b", "c"].iter().map(|s| v(s)).collect();
    let mut edges = BTreeMap::new();
    edges.insert(v("a"), BTreeSet::from([v("b")]));
    edges.insert(v("b"), BTreeSet::from([v("a"), v("c")]));
    assert_eq!(circles(&nodes, &edges), vec!["a ↔ b"]);
    let known: BTreeSet<Vec<String>> = [vec![], v("x"), v("x::y")].into_iter().collect();
    assert_eq!(
        resolve(&v("x::y"), false, "super::Thing", &known),
        Some(v("x"))
    );
    assert_eq!(
        resolve(&v("x"), true, "crate::x::y::Z", &known),
        Some(v("x::y"))
    );
}
