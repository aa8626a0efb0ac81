//! `conform run` arguments (raw, from clap) and the settings resolved from them, plus the
//! command's top level: load, resolve, execute, write, summarise, exit code.

use crate::protocol::anthropic::grammar::Profile;
use crate::scenario::model::Mode;
use crate::target::{AdHoc, AuthStyle, Config, Target};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `conform run`.
#[derive(Debug, Clone, Args)]
pub(crate) struct RunArgs {
    /// Targets file, checked before anything is sent; without --target every target it defines
    /// runs. Without --config: `conform.toml` in the current directory, used when it exists and
    /// no --target, --base-url, --provider or --mock-fault is given.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Target(s) from the config file; repeat to compare side by side. Without any target
    /// (flags, config file, ANTHROPIC_BASE_URL) the built-in reference server is used.
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// Ad-hoc target: base URL (e.g. https://dashscope.aliyuncs.com/apps/anthropic).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Ad-hoc target: model (default: $ANTHROPIC_MODEL, or the provider's); repeat to compare
    /// models of one endpoint side by side (one target per model, named NAME-MODEL).
    #[arg(long = "model", value_name = "MODEL")]
    pub models: Vec<String>,
    /// Ad-hoc target: environment variable holding the API key (default: $ANTHROPIC_API_KEY,
    /// else $ANTHROPIC_AUTH_TOKEN, or the provider's variable).
    #[arg(long)]
    pub api_key_env: Option<String>,
    /// Ad-hoc target: how the key is sent: `bearer` (`Authorization: Bearer`, the default, as
    /// today's SDKs send it) or `x-api-key` (the `x-api-key` header).
    #[arg(long, value_parser = parse_auth, value_name = "x-api-key|bearer")]
    pub auth: Option<AuthStyle>,
    /// The API version(s) every target runs under: 2023-06-01, 2026-10-21 or both (each
    /// case under each version, as targets NAME@VERSION side by side) [default: a target's
    /// `api_version`, else 2026-10-21 as today's SDKs send].
    #[arg(long, value_name = "VERSION", value_parser = parse_api_versions)]
    pub api_version: Option<crate::target::ApiVersions>,
    /// Ad-hoc target: extra header `K:V` (repeatable).
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// Ad-hoc target: its name in reports.
    #[arg(long)]
    pub name: Option<String>,
    /// Send no credentials (a local server without auth).
    #[arg(long, conflicts_with = "api_key_env")]
    pub no_auth: bool,
    /// A provider profile (`conform providers`): its endpoint, key variable, model and
    /// documented deviations. --base-url, --model, --api-key-env override its values.
    #[arg(long, value_name = "NAME", conflicts_with = "targets")]
    pub provider: Option<String>,
    /// With --provider: one of the profile's named endpoints (e.g. `mainland`).
    #[arg(long, requires = "provider", conflicts_with = "base_url")]
    pub endpoint: Option<String>,
    /// Findings that match a provider's documented deviations fail the run too.
    #[arg(long)]
    pub strict_docs: bool,
    /// Run the built-in reference server with these faults (see `conform mock --list-faults`).
    #[arg(long = "mock-fault", conflicts_with_all = ["base_url", "targets", "provider", "config"])]
    pub mock_faults: Vec<String>,
    /// Scenarios to add to the built-in library (a file with the id of a built-in scenario
    /// replaces it). Without it: `./scenarios` when it exists, else the built-in library.
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// With --scenarios: run that directory alone, without the built-in library.
    #[arg(long, requires = "scenarios")]
    pub no_builtin: bool,
    /// Only scenarios whose id contains PATTERN (`*` globs allowed); repeatable.
    #[arg(long)]
    pub filter: Vec<String>,
    /// Only this mode.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Scenarios run at once (the steps of one scenario always in order).
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Run each case N times; disagreeing repeats are `flaky`.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// `warn` results fail the run too.
    #[arg(long)]
    pub strict: bool,
    #[arg(long, value_enum, default_value_t)]
    pub profile: Profile,
    /// Where report.md, report.json, junit.xml and exchanges/ go.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// Snapshot directory.
    #[arg(long, default_value = "snapshots")]
    pub snapshots: PathBuf,
    /// Do not compare snapshots.
    #[arg(long)]
    pub no_snapshots: bool,
    /// Accept the new shapes as snapshots (like INSTA_UPDATE=always).
    #[arg(long)]
    pub update_snapshots: bool,
    /// Compare with an earlier report.json and add the comparison to the report.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// No progress bar, no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Judge a previous run's recorded exchanges (its report dir or `exchanges/`) instead of
    /// the network: same scenarios, steps and assertions, no request sent, no token spent.
    #[arg(long, value_name = "DIR", conflicts_with = "mock_faults")]
    pub replay: Option<PathBuf>,
    /// Seconds one exchange may take, retries included [default: 300, or the target's
    /// `total_timeout_ms`]; the response head must come within this and 120 s (a
    /// target's `first_byte_timeout_ms`), whichever is shorter. An exchange that times out is
    /// an `error` result, never a finding about the feature.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub timeout: Option<u64>,
    /// Seconds the whole run may take [default: no limit]. When reached, the cases still
    /// running or waiting end as `error` ("the run reached --max-run-time") and the reports
    /// are written as usual; `--timeout` bounds each exchange.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=604800))]
    pub max_run_time: Option<u64>,
    /// Retries of one request on a connection error, a timeout, or a status a client retries
    /// (408, 409, 429, 5xx), honouring `retry-after` [default: 2, or the target's `retries`].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: Option<u32>,
    /// Seconds between two progress lines when stderr is not a terminal (for tests).
    #[arg(long, hide = true, env = "CONFORM_PROGRESS_EVERY",
          default_value_t = crate::report::sinks::progress::PLAIN_EVERY_SECS)]
    pub progress_every: u64,
    /// Cut any response body longer than this (MiB); the result is `error`.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub max_body_mb: u64,
    /// Run only shard K of N (`1/3`, `2/3`, `3/3`): a deterministic split of the cases for CI
    /// matrices; `conform merge` joins the shards' reports.
    #[arg(long, value_name = "K/N", value_parser = parse_partition)]
    pub partition: Option<Partition>,
    /// Also drive a real client through the in-process proxy against each target and judge
    /// its exchanges (`claude-code`: a few fixed prompts, sandboxed; skipped when not installed).
    #[arg(
        long = "client",
        value_enum,
        value_name = "CLIENT",
        conflicts_with = "replay"
    )]
    pub clients: Vec<crate::clients::ClientKind>,
    /// With --client claude-code: the `claude` binary (default: `claude` on PATH).
    #[arg(long, value_name = "PATH", env = "CONFORM_CLAUDE_BIN")]
    pub claude_bin: Option<PathBuf>,
    /// With --client: seconds one prompt may take before the client is killed (`error`).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub client_timeout: u64,
}

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub index: u32,
    pub count: u32,
}

impl Partition {
    /// Whether a case (`target scenario@mode`) belongs to this shard: a stable hash of its
    /// name, so a case stays in its shard whatever else the library holds.
    pub(crate) fn holds(&self, case: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in case.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h % u64::from(self.count) == u64::from(self.index - 1)
    }
}

fn parse_partition(s: &str) -> Result<Partition, String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} is not K/N (e.g. 2/3)"))?;
    let index: u32 = k
        .trim()
        .parse()
        .map_err(|_| format!("{k:?} is not a number"))?;
    let count: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("{n:?} is not a number"))?;
    if count == 0 || index == 0 || index > count {
        return Err(format!("{s}: K must be between 1 and N"));
    }
    Ok(Partition { index, count })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ModeArg {
    Sync,
    Stream,
}

fn parse_api_versions(s: &str) -> Result<crate::target::ApiVersions, String> {
    s.parse()
}

fn parse_auth(s: &str) -> Result<AuthStyle, String> {
    s.parse::<AuthStyle>().map_err(|e| e.to_string())
}

/// Run settings resolved from the arguments.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Redacts every recorded and reported value.
    pub redactor: crate::secrets::Redactor,
    /// `--replay`: where the recorded exchanges are.
    pub replay: Option<PathBuf>,
    /// Response body limit in bytes.
    pub max_body: usize,
    /// `--max-run-time`: the whole run's bound; cases not finished by then are `error`.
    pub max_run_time: Option<std::time::Duration>,
    /// `--baseline`, read before the run.
    pub baseline: Option<crate::report::model::BaselineInput>,
    /// How long each (target, scenario, mode) took in the baseline run (for scheduling).
    pub expected_ms: std::collections::HashMap<crate::run::CaseId, f64>,
    /// `--partition K/N`: only this shard's cases.
    pub partition: Option<Partition>,
    pub filters: Vec<String>,
    pub mode: Option<Mode>,
    pub jobs: usize,
    pub repeat: usize,
    pub profile: Profile,
    pub quiet: bool,
    pub snapshots_dir: Option<PathBuf>,
    pub update_snapshots: bool,
    /// `--client`: the real clients driven against each target.
    pub clients: crate::clients::ClientSettings,
    /// `--api-version`: the versions every target runs under (else each target's own).
    pub api_versions: Option<crate::target::ApiVersions>,
}

impl Settings {
    pub(crate) fn from_args(a: &RunArgs) -> Settings {
        Settings {
            filters: a.filter.clone(),
            mode: a.mode.map(|m| match m {
                ModeArg::Sync => Mode::Sync,
                ModeArg::Stream => Mode::Stream,
            }),
            jobs: a.jobs,
            repeat: a.repeat,
            profile: a.profile,
            quiet: a.quiet,
            snapshots_dir: (!a.no_snapshots).then(|| a.snapshots.clone()),
            update_snapshots: a.update_snapshots,
            redactor: crate::secrets::Redactor::default(),
            replay: a.replay.clone(),
            max_body: usize::try_from(a.max_body_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
            max_run_time: a.max_run_time.map(std::time::Duration::from_secs),
            baseline: None,
            expected_ms: Default::default(),
            partition: a.partition,
            clients: crate::clients::ClientSettings {
                clients: a.clients.clone(),
                claude_bin: a.claude_bin.clone(),
                timeout: std::time::Duration::from_secs(a.client_timeout),
                max_body: usize::try_from(a.max_body_mb.saturating_mul(1 << 20))
                    .unwrap_or(usize::MAX),
            },
            api_versions: a.api_version,
        }
    }

    /// Whether a scenario id passes the `--filter` patterns (all pass when there are none).
    pub(crate) fn selects(&self, id: &str) -> bool {
        self.filters.is_empty()
            || self.filters.iter().any(|p| {
                if p.contains('*') {
                    crate::target::glob_match(p, id)
                } else {
                    id.contains(p.as_str())
                }
            })
    }
}

/// The SDKs' variables that define a target when no target flag is given.
pub(crate) const ENV_BASE_URL: &str = "ANTHROPIC_BASE_URL";
pub(crate) const ENV_API_KEY: &str = "ANTHROPIC_API_KEY";
pub(crate) const ENV_AUTH_TOKEN: &str = "ANTHROPIC_AUTH_TOKEN";
pub(crate) const ENV_MODEL: &str = "ANTHROPIC_MODEL";

/// The targets of a run and the line that says where they come from (the run's first line).
/// Empty targets: start the built-in reference server.
pub(crate) fn resolve_targets(a: &RunArgs) -> Result<(Vec<Target>, String), String> {
    resolve_targets_with(a, &|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
}

/// [`resolve_targets`] with an explicit environment (for tests).
pub(crate) fn resolve_targets_with(
    a: &RunArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<Target>, String), String> {
    if a.models.len() > 1 {
        return side_by_side(a, env);
    }
    if !a.targets.is_empty() {
        let path = super::config_file::path(a.config.as_deref());
        let config = Config::load(&path).map_err(|e| e.to_string())?;
        let targets = config.resolve_all(&a.targets).map_err(|e| e.to_string())?;
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        let line = format!("target: {} from {}", names.join(", "), path.display());
        return Ok((targets, line));
    }
    if let Some(name) = &a.provider {
        return provider_target(a, name, env);
    }
    let uses_file = super::config_file::Given {
        config: a.config.as_deref(),
        base_url: a.base_url.is_some(),
        mock_faults: !a.mock_faults.is_empty(),
        env_base_url: env(ENV_BASE_URL).is_some(),
    };
    if let Some(found) = super::config_file::every_target(&uses_file, env) {
        return found;
    }
    let env_base = env(ENV_BASE_URL);
    let (base_url, from) = match (&a.base_url, env_base) {
        (Some(u), _) => (u.clone(), "--base-url".to_string()),
        (None, Some(u)) => (u, ENV_BASE_URL.to_string()),
        (None, None) => {
            let mut line = format!(
                "target: the built-in reference server ({ENV_BASE_URL} is not set and no --target, --base-url or --provider was given)"
            );
            if !a.mock_faults.is_empty() {
                line = format!(
                    "target: the built-in reference server with faults {}",
                    a.mock_faults.join(", ")
                );
            }
            for v in [ENV_API_KEY, ENV_AUTH_TOKEN, ENV_MODEL] {
                if env(v).is_some() && a.mock_faults.is_empty() {
                    line.push_str(&format!(
                        "; {v} is set but is only used with {ENV_BASE_URL}"
                    ));
                    break;
                }
            }
            return Ok((Vec::new(), line));
        }
    };
    let model = match (a.models.first(), env(ENV_MODEL)) {
        (Some(m), _) => m.clone(),
        (None, Some(m)) => m,
        (None, None) => {
            return Err(format!(
                "{from} needs a model: pass --model or set {ENV_MODEL}"
            ));
        }
    };
    // Flags first, then the SDKs' variables.
    let (key_var, auth) = if a.no_auth {
        (None, a.auth)
    } else if let Some(v) = &a.api_key_env {
        (Some(v.clone()), a.auth)
    } else if env(ENV_API_KEY).is_some() {
        // Today's SDKs send the API key as Bearer too.
        (Some(ENV_API_KEY.to_string()), a.auth)
    } else if env(ENV_AUTH_TOKEN).is_some() {
        (Some(ENV_AUTH_TOKEN.to_string()), a.auth)
    } else {
        (None, a.auth)
    };
    let adhoc = AdHoc {
        name: a.name.clone(),
        base_url: base_url.clone(),
        model: model.clone(),
        api_key_env: key_var.clone(),
        auth,
        headers: a.headers.clone(),
    };
    // The URL, the name and the headers are checked before the key.
    let t = Target::ad_hoc_with(
        AdHoc {
            api_key_env: None,
            ..adhoc.clone()
        },
        env,
    )
    .map_err(|e| e.to_string())?;
    if key_var.is_none() && !a.no_auth {
        return Err(format!(
            "{from} is given but no key: pass --api-key-env VAR, or set {ENV_API_KEY} or {ENV_AUTH_TOKEN} (sent as Bearer unless --auth x-api-key); --no-auth sends none"
        ));
    }
    let t = match &key_var {
        Some(_) => Target::ad_hoc_with(adhoc, env).map_err(|e| e.to_string())?,
        None => t,
    };
    let key = match (&key_var, t.auth) {
        (None, _) => "no key (--no-auth)".to_string(),
        (Some(v), AuthStyle::XApiKey) => format!("key from {v} as x-api-key"),
        (Some(v), AuthStyle::Bearer) => format!("key from {v} as Bearer"),
    };
    let line = format!("target: {} (from {from}), model {model}, {key}", t.base_url);
    Ok((vec![t], line))
}

/// `--model A --model B`: the one endpoint of the flags (or of the SDK variables), once per
/// model, named `NAME-MODEL`, side by side in one report.
fn side_by_side(
    a: &RunArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<Target>, String), String> {
    if !a.targets.is_empty() || a.config.is_some() {
        return Err(
            "--model given more than once compares models of the endpoint of --base-url, --provider or ANTHROPIC_BASE_URL; in a targets file use `models = [...]`".into(),
        );
    }
    let mut targets: Vec<Target> = Vec::new();
    let mut first_line = String::new();
    for m in &a.models {
        let mut one = a.clone();
        one.models = vec![m.clone()];
        let (mut ts, line) = resolve_targets_with(&one, env)?;
        let Some(mut t) = ts.pop().filter(|_| ts.is_empty()) else {
            return Err(
                "--model given more than once needs one endpoint: --base-url URL, --provider NAME or ANTHROPIC_BASE_URL".into(),
            );
        };
        t.name = format!("{}-{}", t.name, crate::fsutil::safe_name(m, "._-"));
        if targets.iter().any(|x| x.name == t.name) {
            return Err(format!("--model {m} is given twice"));
        }
        if first_line.is_empty() {
            first_line = line;
        }
        targets.push(t);
    }
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    let line = format!("{first_line}; models side by side: {}", names.join(", "));
    Ok((targets, line))
}

/// `--provider NAME`: the profile (built-in, or from conform.toml when that file exists)
/// with the flags on top.
fn provider_target(
    a: &RunArgs,
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<Target>, String), String> {
    let path = super::config_file::path(a.config.as_deref());
    let overrides = if a.config.is_some() || path.is_file() {
        Config::load(&path)
            .map_err(|e| e.to_string())?
            .raw
            .providers
    } else {
        Default::default()
    };
    let profile = crate::providers::find(name, &overrides)?;
    let base_url = match (&a.base_url, &a.endpoint) {
        (Some(u), _) => u.clone(),
        (None, Some(e)) => profile.endpoints.get(e).cloned().ok_or_else(|| {
            let known: Vec<&str> = profile.endpoints.keys().map(String::as_str).collect();
            format!(
                "provider {name}: no endpoint named {e:?} (known: {})",
                known.join(", ")
            )
        })?,
        (None, None) => profile.base_url.clone(),
    };
    let model = a
        .models
        .first()
        .cloned()
        .unwrap_or_else(|| profile.model.clone());
    let key_var = if a.no_auth {
        None
    } else {
        a.api_key_env.clone().or_else(|| profile.key_env.clone())
    };
    if let Some(v) = &key_var
        && env(v).is_none()
    {
        return Err(format!(
            "provider {name} reads its key from {v}, which is not set (export {v}=..., or --no-auth)"
        ));
    }
    let t = Target::ad_hoc_with_profile(
        AdHoc {
            name: Some(a.name.clone().unwrap_or_else(|| profile.name.clone())),
            base_url,
            model: model.clone(),
            api_key_env: key_var.clone(),
            auth: a.auth.or(Some(profile.auth)),
            headers: a.headers.clone(),
        },
        Some(profile.clone()),
        env,
    )
    .map_err(|e| e.to_string())?;
    let key = key_var
        .map(|v| format!("key from {v}"))
        .unwrap_or_else(|| "no key".into());
    let line = format!(
        "target: provider {name} at {}, model {model}, {key}; {} documented deviation(s)",
        t.base_url,
        profile.deviations.len()
    );
    Ok((vec![t], line))
}

/// Load scenarios (see [`crate::scenario::library::load_library`]); file errors are printed
/// and counted, never stop the others.
pub(crate) fn load_scenarios(
    a: &RunArgs,
) -> Result<
    (
        Vec<crate::scenario::Scenario>,
        usize,
        crate::scenario::library::Source,
    ),
    String,
> {
    let (scenarios, diagnostics, source) =
        crate::scenario::library::load_library(a.scenarios.as_deref(), a.no_builtin)?;
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    for d in &diagnostics {
        eprintln!("{d}");
    }
    Ok((scenarios, errors, source))
}
