//! `conform init --provider NAME`: a commented conform.toml for one provider, from its
//! profile — the endpoint choices, the documented models, the key variable, and the
//! deviations the provider documents (which conform will mark as *documented*).

use super::Profile;
use std::path::PathBuf;

/// Arguments of `conform init`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct InitArgs {
    /// The provider profile (`conform providers` lists them).
    #[arg(long)]
    pub provider: String,
    /// Where to write the file.
    #[arg(long, default_value = "conform.toml")]
    pub path: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// TOML-quote a string.
fn q(s: &str) -> String {
    // A JSON string is a valid TOML basic string (same escapes).
    serde_json::Value::from(s).to_string()
}

/// The commented conform.toml for `p`.
pub(crate) fn conform_toml(p: &Profile) -> String {
    let bare = p
        .name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let table = if bare { p.name.clone() } else { q(&p.name) };
    let export = match &p.key_env {
        Some(k) => format!("#   export {k}=...\n"),
        None => "#   (no key is needed)\n".to_string(),
    };
    let mut out = format!(
        "# conform.toml for {title}\n# Written by `conform init --provider {name}`; docs: {docs}\n#\n\
         # Run it:\n{export}#   conform run --target {name}\n\n\
         [targets.{table}]\nprovider = {pq}\n",
        title = p.title,
        name = p.name,
        docs = p.docs,
        pq = q(&p.name),
    );
    if p.endpoints.is_empty() {
        out += &format!("# base_url = {}\n", q(&p.base_url));
    } else {
        out += "# The profile's default endpoint is used; to pick another, uncomment one:\n";
        for (label, url) in &p.endpoints {
            out += &format!("# base_url = {}   # {label}\n", q(url));
        }
    }
    out += &format!("model = {}\n", q(&p.model));
    if p.models.len() > 1 {
        out += "# Other documented models (or list several to compare them side by side):\n";
        out += &format!(
            "# models = [{}]\n",
            p.models.iter().map(|m| q(m)).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(k) = &p.key_env {
        out += &format!(
            "# The key is read from ${k}; a key in this file is refused.\n# api_key_env = {}\n",
            q(k)
        );
    }
    out += "# rpm = 30            # requests per minute, if the account is rate limited\n";
    if !p.deviations.is_empty() {
        out += "\n# Deviations the provider documents (reported as documented, not failures;\n# `conform run --strict-docs` fails on them too):\n";
        for d in &p.deviations {
            out += &format!("#   - {}: {}\n", d.id, d.note);
        }
    }
    out
}

/// Run `conform init`; returns the exit code.
pub(crate) fn run_cli(a: &InitArgs) -> i32 {
    let profile = match super::find(&a.provider, &Default::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::exit::USAGE;
        }
    };
    if a.path.exists() && !a.force {
        eprintln!(
            "error: {} exists; pass --force to replace it",
            a.path.display()
        );
        return crate::exit::USAGE;
    }
    match std::fs::write(&a.path, conform_toml(&profile)) {
        Ok(()) => {
            eprintln!(
                "wrote {}; run it with `conform run --target {}`",
                a.path.display(),
                profile.name
            );
            crate::exit::OK
        }
        Err(e) => {
            eprintln!("error: {}: {e}", a.path.display());
            crate::exit::USAGE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in profile's file parses as a conform.toml whose target resolves to the
    /// profile's endpoint and model.
    #[test]
    fn every_profile_gives_a_config_that_resolves() {
        for p in super::super::builtin() {
            let text = conform_toml(&p);
            let config = crate::target::Config::parse(&text, std::path::Path::new("conform.toml"))
                .unwrap_or_else(|e| panic!("{}: {e}\n{text}", p.name));
            let targets = config
                .resolve_with(&p.name, &|_| Some("k-123456".into()))
                .unwrap_or_else(|e| panic!("{}: {e}\n{text}", p.name));
            assert_eq!(
                targets[0].base_url,
                p.base_url.trim_end_matches('/'),
                "{}",
                p.name
            );
            assert_eq!(targets[0].model, p.model, "{}", p.name);
        }
    }
}
