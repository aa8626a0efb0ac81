//! `conform init --provider NAME`: a commented conform.toml for one provider, from its
//! profile — the endpoint choices, the documented models, the key variable, and the
//! deviations the provider documents (which conform will mark as *documented*).
//! `conform init --base-url URL --model M…`: the same for any endpoint (one target, or one per
//! model side by side with `models = [...]`); the file is checked by resolving it before it is
//! written.

use super::Profile;
use std::path::PathBuf;

/// Arguments of `conform init`.
#[derive(Debug, Clone, clap::Args)]
#[command(group = clap::ArgGroup::new("endpoint").required(true).args(["provider", "base_url"]))]
pub(crate) struct InitArgs {
    /// The provider profile (`conform providers` lists them).
    #[arg(long)]
    pub provider: Option<String>,
    /// Any endpoint instead of a profile: its base URL (without `/v1`).
    #[arg(long, conflicts_with = "provider")]
    pub base_url: Option<String>,
    /// With --base-url: the model (default: $ANTHROPIC_MODEL); repeat to compare models side
    /// by side (`models = [...]`, one target per model).
    #[arg(long = "model", value_name = "MODEL", requires = "base_url")]
    pub models: Vec<String>,
    /// With --base-url: the target's name [default: the URL's host].
    #[arg(long, requires = "base_url")]
    pub name: Option<String>,
    /// With --base-url: the variable holding the key [default: ANTHROPIC_API_KEY].
    #[arg(long, requires = "base_url", default_value = "ANTHROPIC_API_KEY")]
    pub api_key_env: String,
    /// With --base-url: how the key is sent (`x-api-key` or `bearer`).
    #[arg(long, requires = "base_url", default_value = "x-api-key", value_parser = ["x-api-key", "bearer"])]
    pub auth: String,
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

/// What `--base-url` writes: one endpoint, one model or several.
pub(crate) struct Endpoint<'a> {
    pub name: &'a str,
    pub base_url: &'a str,
    pub models: &'a [String],
    pub api_key_env: &'a str,
    pub auth: &'a str,
}

/// The commented conform.toml for any endpoint.
pub(crate) fn endpoint_toml(e: &Endpoint<'_>) -> String {
    let mut out = format!(
        "# conform.toml for {url}\n# Written by `conform init --base-url`.\n#\n\
         # Run it (without --target every target of ./conform.toml runs):\n\
         #   export {key}=...\n#   conform run\n\n\
         [targets.{name}]\nbase_url = {uq}\napi_key_env = {kq}   # the key is read from the environment, never from this file\n\
         auth = {aq}             # or \"bearer\" (Authorization: Bearer)\n",
        url = e.base_url,
        key = e.api_key_env,
        name = e.name,
        uq = q(e.base_url),
        kq = q(e.api_key_env),
        aq = q(e.auth),
    );
    match e.models {
        [one] => out += &format!("model = {}\n", q(one)),
        many => {
            out += &format!(
                "# One target per model, named {}-MODEL, side by side in one report:\nmodels = [{}]\n",
                e.name,
                many.iter().map(|m| q(m)).collect::<Vec<_>>().join(", ")
            );
        }
    }
    out += "# rpm = 30            # requests per minute, if the account is rate limited\n";
    out
}

/// The target name for a URL: its host, with characters a name cannot hold as `-`.
fn name_of(url: &str) -> String {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or("endpoint");
    let name = crate::fsutil::safe_name(&host.replace('.', "-"), "_-");
    if name.is_empty() {
        "endpoint".into()
    } else {
        name
    }
}

/// The file for `--base-url`, checked by resolving it as `conform run` will.
fn endpoint_file(a: &InitArgs, base_url: &str) -> Result<(String, String), String> {
    let models = if a.models.is_empty() {
        match std::env::var("ANTHROPIC_MODEL")
            .ok()
            .filter(|m| !m.is_empty())
        {
            Some(m) => vec![m],
            None => {
                return Err(
                    "--base-url needs a model: pass --model MODEL (repeat it to compare models side by side) or set ANTHROPIC_MODEL".into(),
                );
            }
        }
    } else {
        a.models.clone()
    };
    let name = a.name.clone().unwrap_or_else(|| name_of(base_url));
    let text = endpoint_toml(&Endpoint {
        name: &name,
        base_url,
        models: &models,
        api_key_env: &a.api_key_env,
        auth: &a.auth,
    });
    let config = crate::target::Config::parse(&text, &a.path).map_err(|e| e.to_string())?;
    config
        .resolve_with(&name, &|_| Some("k".into()))
        .map_err(|e| e.to_string())?;
    Ok((text, name))
}

/// Run `conform init`; returns the exit code.
pub(crate) fn run_cli(a: &InitArgs) -> i32 {
    let made = match (&a.provider, &a.base_url) {
        (Some(p), _) => super::find(p, &Default::default())
            .map(|profile| (conform_toml(&profile), profile.name.clone())),
        (None, Some(url)) => endpoint_file(a, url),
        (None, None) => Err("give --provider NAME or --base-url URL".into()),
    };
    let (text, name) = match made {
        Ok(x) => x,
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
    match std::fs::write(&a.path, text) {
        Ok(()) => {
            let run = if a.path == std::path::Path::new("conform.toml") {
                "`conform run` (every target of ./conform.toml)".to_string()
            } else {
                format!("`conform run --config {}`", a.path.display())
            };
            eprintln!(
                "wrote {} (target {name}); run it with {run}",
                a.path.display()
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
