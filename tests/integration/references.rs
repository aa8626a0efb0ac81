//! The repository is self-contained: no text file in it points at a document outside it (a
//! design note or a corpus beside the clone, a path of one machine), and every relative link
//! in its Markdown files resolves to a file of the repository. ARCHITECTURE.md says where the
//! cited documents live ("References in comments").

use std::path::{Component, Path, PathBuf};

/// Names that are not the repository's own text (the same as `.gitignore`, and git's own
/// directory, or its file in a worktree): build output, installed clients, Python caches.
const SKIPPED: &[&str] = &[
    "target",
    "node_modules",
    ".git",
    ".venv0",
    ".venv",
    "__pycache__",
];

/// Text that points outside the repository. Spelled in pieces so this file does not match.
fn outside_markers() -> Vec<String> {
    [
        ["../", "shared"],
        ["/work", "/"],
        ["design ", "§"],
        ["design", ".md"],
        ["crates", ".md"],
    ]
    .iter()
    .map(|p| p.concat())
    .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, skipping [`SKIPPED`]; of `reports/` (the output of local runs) only
/// its README is the repository's.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        if path == root().join("reports") {
            out.push(path.join("README.md"));
        } else if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The repository's text files (files that are not UTF-8 are data, not prose).
fn text_files() -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    files(&root(), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some((p, text))
        })
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn no_file_points_outside_the_repository() {
    let markers = outside_markers();
    let files = text_files();
    assert!(
        files.iter().any(|(p, _)| p.ends_with("ARCHITECTURE.md")),
        "the walk must see the repository's own documents"
    );
    let mut hits = Vec::new();
    for (path, text) in &files {
        for (n, line) in text.lines().enumerate() {
            for m in markers.iter().filter(|m| line.contains(m.as_str())) {
                hits.push(format!(
                    "{}:{}: `{m}` in {}",
                    relative(path),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "references to documents outside the repository (cite ARCHITECTURE.md, docs/ or a \
         public URL instead):\n{}",
        hits.join("\n")
    );
}

/// The targets of inline Markdown links `[text](target)` in `text`.
fn link_targets(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].trim());
            rest = &rest[end..];
        }
    }
    out
}

/// `path` with `.` and `..` resolved lexically; `None` when `..` climbs above the start.
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

#[test]
fn relative_markdown_links_resolve_inside_the_repository() {
    let root = root();
    let mut broken = Vec::new();
    for (path, text) in text_files()
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "md"))
    {
        for target in link_targets(text) {
            let file = target.split(['#', ' ']).next().unwrap_or_default();
            if file.is_empty() || file.contains("://") || file.starts_with("mailto:") {
                continue;
            }
            let dir = path.parent().unwrap_or(&root);
            let inside = normalise(&dir.join(file)).filter(|p| p.starts_with(&root));
            if !inside.is_some_and(|p| p.exists()) {
                broken.push(format!("{}: ({target})", relative(path)));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_checks_see_what_they_look_for() {
    let markers = outside_markers();
    let design = format!("see the {}4", markers[2]);
    assert!(markers.iter().any(|m| design.contains(m.as_str())));
    assert_eq!(
        link_targets("a [b](docs/ci.md#x) and [c](https://x.y/z) [d]"),
        ["docs/ci.md#x", "https://x.y/z"]
    );
    assert_eq!(
        normalise(Path::new("/r/a/../b")),
        Some(PathBuf::from("/r/b"))
    );
    assert_eq!(normalise(Path::new("a/../..")), None);
}
