//! Provider profiles: what a provider documents about its Anthropic-compatible endpoint.
//!
//! A profile (`providers/NAME.toml`, embedded in the binary; `[providers.NAME]` in
//! conform.toml adds one or replaces the built-in one of that name) gives the endpoint, the
//! key variable, the auth style, the documented model ids, and two lists:
//! * `deviations`: where the provider's own docs say it differs from Anthropic. A finding that
//!   matches one is marked *documented* ([`mark`]): it does not fail the run unless
//!   `--strict-docs`.
//! * `supports`: features the docs say work. A case of such a feature that fails, is ignored
//!   or rejected gets a `provider.documented-claim` finding.
//!
//! [`table`] builds the report's "documented vs observed" list per target.

mod docs;
pub(crate) mod init;

pub(crate) use docs::{ProviderDocs, mark, table};

use crate::protocol::anthropic::wire::{ApiVersion, AuthStyle};
use crate::text::glob_match;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One provider profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The id used by `--provider` and `provider = "..."`.
    pub name: String,
    /// Who runs it, in a few words.
    pub title: String,
    /// The provider's page about its Anthropic-compatible API.
    pub docs: String,
    /// The default endpoint (the base URL an Anthropic SDK is given).
    pub base_url: String,
    /// Other documented endpoints by name (`--endpoint NAME`), e.g. `mainland`.
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// The environment variable holding the key; none for local servers without auth.
    #[serde(default)]
    pub key_env: Option<String>,
    /// How the key is sent to this provider unless a target says otherwise.
    #[serde(default)]
    pub auth: AuthStyle,
    /// The auth styles the provider documents as accepted (`x-api-key`, `bearer`); empty: not
    /// documented. A style left out makes a rejection of it (`auth.style-rejected`)
    /// documented.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auth_styles: Vec<AuthStyle>,
    /// The API versions the provider documents as accepted (`2023-06-01`, `2026-10-21`);
    /// empty: not documented. A version left out makes its rejection
    /// (`version.current-rejected`) documented.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<ApiVersion>,
    /// The model used unless `--model` names another.
    pub model: String,
    /// Model ids the provider documents for this endpoint.
    #[serde(default)]
    pub models: Vec<String>,
    /// Features or scenario ids the endpoint documents as unsupported (`expect_unsupported`).
    #[serde(default)]
    pub expect_unsupported: Vec<String>,
    #[serde(default)]
    pub deviations: Vec<Deviation>,
    #[serde(default)]
    pub supports: Vec<Claim>,
}

/// A documented difference from the Anthropic API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// A short stable id, e.g. `stop-reason-end-turn`.
    pub id: String,
    /// Check ids (globs) whose findings this deviation explains; empty: any finding of the
    /// matching scenarios.
    #[serde(default)]
    pub checks: Vec<String>,
    /// Scenario ids or features (globs) where it shows; empty: every scenario.
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// What the provider says, in one line.
    pub note: String,
    /// Where it says it.
    pub doc: String,
    /// When `doc` was last read for this claim: `YYYY-MM-DD` (or `YYYY-MM`). Every built-in
    /// profile states it; a profile of your own may leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<String>,
}

/// A feature the provider documents as supported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub id: String,
    /// Scenario ids or features (globs) that exercise it.
    pub scenarios: Vec<String>,
    pub note: String,
    pub doc: String,
    /// When `doc` was last read for this claim (`YYYY-MM-DD` or `YYYY-MM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<String>,
}

fn matches_any(patterns: &[String], scenario: &str, feature: &str) -> bool {
    patterns
        .iter()
        .any(|p| glob_match(p, scenario) || glob_match(p, feature))
}

impl Profile {
    /// The documented deviations: `deviations`, and those `auth_styles` and `versions` imply
    /// (a style or version the provider does not accept).
    pub(crate) fn all_deviations(&self) -> Vec<Deviation> {
        let mut out = self.deviations.clone();
        let implied = |id: &str, check: &str, note: String| Deviation {
            id: id.to_string(),
            checks: vec![check.to_string()],
            scenarios: Vec::new(),
            note,
            doc: self.docs.clone(),
            checked: self.checked_at(),
        };
        for style in [AuthStyle::Bearer, AuthStyle::XApiKey] {
            if !self.auth_styles.is_empty() && !self.auth_styles.contains(&style) {
                let name = match style {
                    AuthStyle::Bearer => "bearer",
                    AuthStyle::XApiKey => "x-api-key",
                };
                out.push(implied(
                    &format!("{name}-rejected"),
                    "auth.style-rejected",
                    format!("the key is not accepted as `{}`", style.header_name()),
                ));
            }
        }
        if !self.versions.is_empty() && !self.versions.contains(&ApiVersion::V2026_10_21) {
            out.push(implied(
                "version-2026-10-21-rejected",
                "version.current-rejected",
                "anthropic-version 2026-10-21 is not accepted".into(),
            ));
        }
        out
    }
}

impl Profile {
    /// The newest date any of the profile's claims was read on: the date of what `auth_styles`
    /// and `versions` imply.
    fn checked_at(&self) -> Option<String> {
        self.deviations
            .iter()
            .filter_map(|d| d.checked.clone())
            .chain(self.supports.iter().filter_map(|c| c.checked.clone()))
            .max()
    }
}

/// Whether `s` is a date as `checked` takes it: `YYYY-MM-DD` or `YYYY-MM`.
fn is_checked_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    let month_ok = |m: &str| matches!(m.parse::<u8>(), Ok(1..=12));
    match parts.as_slice() {
        [y, m] => num(y, 4) && num(m, 2) && month_ok(m),
        [y, m, d] => {
            num(y, 4)
                && num(m, 2)
                && month_ok(m)
                && num(d, 2)
                && matches!(d.parse::<u8>(), Ok(1..=31))
        }
        _ => false,
    }
}

impl Deviation {
    /// Whether this deviation applies to a scenario (by id or feature).
    pub(crate) fn applies_to(&self, scenario: &str, feature: &str) -> bool {
        self.scenarios.is_empty() || matches_any(&self.scenarios, scenario, feature)
    }

    /// Whether it explains a finding with this check id in this scenario.
    pub(crate) fn explains(&self, check: &str, scenario: &str, feature: &str) -> bool {
        self.applies_to(scenario, feature)
            && (self.checks.is_empty() || self.checks.iter().any(|c| glob_match(c, check)))
    }
}

impl Claim {
    pub(crate) fn applies_to(&self, scenario: &str, feature: &str) -> bool {
        matches_any(&self.scenarios, scenario, feature)
    }
}

/// A profile file that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub(crate) struct ProfileError {
    pub origin: String,
    pub message: String,
}

/// Parse one profile (TOML); `origin` names it in errors.
pub(crate) fn parse(origin: &str, text: &str) -> Result<Profile, ProfileError> {
    let p: Profile = toml::from_str(text).map_err(|e| ProfileError {
        origin: origin.to_string(),
        message: e.message().trim_end().to_string(),
    })?;
    let dates = p
        .deviations
        .iter()
        .map(|d| (&d.id, &d.checked))
        .chain(p.supports.iter().map(|c| (&c.id, &c.checked)));
    for (id, checked) in dates {
        if let Some(date) = checked
            && !is_checked_date(date)
        {
            return Err(ProfileError {
                origin: origin.to_string(),
                message: format!(
                    "{id:?}: checked = {date:?} is not a date (YYYY-MM-DD or YYYY-MM)"
                ),
            });
        }
    }
    for d in &p.deviations {
        for c in &d.checks {
            let known = c.contains('*') || crate::check::catalogue::get(c).is_some();
            if !known {
                return Err(ProfileError {
                    origin: origin.to_string(),
                    message: format!(
                        "deviation {:?}: {c:?} is not a check id (`conform explain --list`)",
                        d.id
                    ),
                });
            }
        }
    }
    Ok(p)
}

/// The built-in profiles, sorted by name.
pub(crate) fn builtin() -> Vec<Profile> {
    let mut out: Vec<Profile> = crate::scenario::library::provider_files()
        .iter()
        .filter(|(path, _)| path.ends_with(".toml"))
        .map(|(path, bytes)| {
            let text = std::str::from_utf8(bytes).unwrap_or_default();
            // The files are checked by the tests; a broken one is a build defect.
            parse(path, text).unwrap_or_else(|e| panic!("built-in profile: {e}"))
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The built-in profiles with those of conform.toml on top (same name: replaced).
pub(crate) fn all(overrides: &BTreeMap<String, Profile>) -> Vec<Profile> {
    let mut out = builtin();
    for (name, p) in overrides {
        let mut p = p.clone();
        p.name = name.clone();
        match out.iter_mut().find(|b| &b.name == name) {
            Some(b) => *b = p,
            None => out.push(p),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A profile by name, or an error naming the known ones.
pub(crate) fn find(name: &str, overrides: &BTreeMap<String, Profile>) -> Result<Profile, String> {
    let all = all(overrides);
    all.iter().find(|p| p.name == name).cloned().ok_or_else(|| {
        let known: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        format!(
            "no provider profile named {name:?} (known: {})",
            known.join(", ")
        )
    })
}

/// `conform providers`: one line per profile, or JSON.
pub(crate) fn run_list_cli(json: bool) -> i32 {
    let profiles = builtin();
    if json {
        match serde_json::to_string_pretty(&profiles) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return crate::exit::USAGE;
            }
        }
        return crate::exit::OK;
    }
    let key = |p: &Profile| p.key_env.clone().unwrap_or_else(|| "(no key)".into());
    // Columns as wide as their longest value, so no row is pushed out of line.
    let wn = profiles.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let wu = profiles.iter().map(|p| p.base_url.len()).max().unwrap_or(0);
    let wk = profiles.iter().map(|p| key(p).len()).max().unwrap_or(0);
    let wd = profiles
        .iter()
        .map(|p| p.deviations.len().to_string().len())
        .max()
        .unwrap_or(0);
    for p in &profiles {
        println!(
            "{:wn$}  {:wu$}  {:wk$}  {:>wd$} deviation(s)  {}",
            p.name,
            p.base_url,
            key(p),
            p.deviations.len(),
            p.title
        );
    }
    crate::exit::OK
}

#[cfg(test)]
mod tests;
