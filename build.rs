//! Embeds the scenario library (`scenarios/anthropic/**`, `scenarios/fixtures/**`) and the
//! provider profiles (`providers/*.toml`) in the binary, so `conform run` works from any
//! directory after `cargo install`.
//!
//! Writes `$OUT_DIR/library.rs`: two tables of `(virtual path, bytes)` built with
//! `include_bytes!`, sorted by path so the binary is reproducible. A build script rather than
//! the `include_dir` crate: twenty lines, no dependency, and the same rebuild tracking
//! (`rerun-if-changed` on the directories).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files_under(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            files_under(root, &path, out);
        } else if !name.ends_with(".py") && !name.ends_with(".new") && !name.ends_with(".tmp") {
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
}

fn table(root: &Path, name: &str, dirs: &[&str], code: &mut String) {
    let mut files = Vec::new();
    for d in dirs {
        println!("cargo:rerun-if-changed={d}");
        files_under(root, &root.join(d), &mut files);
    }
    files.sort();
    writeln!(code, "pub(super) static {name}: &[(&str, &[u8])] = &[").unwrap();
    for f in files {
        let virtual_path = f.to_string_lossy().replace('\\', "/");
        let absolute = root.join(&f);
        writeln!(
            code,
            "    ({virtual_path:?}, include_bytes!({:?})),",
            absolute.to_string_lossy()
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let mut code = String::new();
    table(
        &root,
        "LIBRARY",
        &["scenarios/anthropic", "scenarios/fixtures"],
        &mut code,
    );
    table(&root, "PROVIDERS", &["providers"], &mut code);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("library.rs");
    std::fs::write(out, code).expect("write library.rs");
}
