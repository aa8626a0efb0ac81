//! `conform run` arguments (raw, from clap) and the settings resolved from them, plus the
//! command's top level: load, resolve, execute, write, summarise, exit code.

use crate::protocol::anthropic::grammar::Profile;
use crate::scenario::model::Mode;
use crate::target::{AdHoc, AuthStyle, Config, Target};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `conform run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Targets file (used when --target names a target).
    #[arg(long, default_value = "conform.toml")]
    pub config: PathBuf,
    /// Target(s) from the config file; repeat to compare side by side. Without --target and
    /// --base-url the built-in reference server is started and used.
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// Ad-hoc target: base URL (e.g. https://dashscope.aliyuncs.com/apps/anthropic).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Ad-hoc target: model.
    #[arg(long, requires = "base_url")]
    pub model: Option<String>,
    /// Ad-hoc target: environment variable holding the API key.
    #[arg(long, requires = "base_url")]
    pub api_key_env: Option<String>,
    /// Ad-hoc target: how the key is sent.
    #[arg(long, value_parser = parse_auth, requires = "base_url")]
    pub auth: Option<AuthStyle>,
    /// Ad-hoc target: extra header `K:V` (repeatable).
    #[arg(long = "header", requires = "base_url")]
    pub headers: Vec<String>,
    /// Ad-hoc target: its name in reports.
    #[arg(long, requires = "base_url")]
    pub name: Option<String>,
    /// Run the built-in reference server with these faults (see `conform mock --list-faults`).
    #[arg(long = "mock-fault", conflicts_with_all = ["base_url", "targets"])]
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
    /// Cut any response body longer than this (MiB); the result is `error`.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub max_body_mb: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    Sync,
    Stream,
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
    /// `--baseline`, read before the run.
    pub baseline: Option<crate::report::model::BaselineInput>,
    /// How long each (target, scenario, mode) took in the baseline run (for scheduling).
    pub expected_ms: std::collections::HashMap<(String, String, String), f64>,
    pub filters: Vec<String>,
    pub mode: Option<Mode>,
    pub jobs: usize,
    pub repeat: usize,
    pub profile: Profile,
    pub quiet: bool,
    pub snapshots_dir: Option<PathBuf>,
    pub update_snapshots: bool,
}

impl Settings {
    pub fn from_args(a: &RunArgs) -> Settings {
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
            baseline: None,
            expected_ms: Default::default(),
        }
    }

    /// Whether a scenario id passes the `--filter` patterns (all pass when there are none).
    pub fn selects(&self, id: &str) -> bool {
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

/// Targets named on the command line (config or ad hoc); empty means "use the embedded one".
pub fn resolve_targets(a: &RunArgs) -> Result<Vec<Target>, String> {
    if let Some(base_url) = &a.base_url {
        let model = a.model.clone().ok_or("--base-url needs --model")?;
        let t = Target::ad_hoc(AdHoc {
            name: a.name.clone(),
            base_url: base_url.clone(),
            model,
            api_key_env: a.api_key_env.clone(),
            auth: a.auth,
            headers: a.headers.clone(),
        })
        .map_err(|e| e.to_string())?;
        return Ok(vec![t]);
    }
    if a.targets.is_empty() {
        return Ok(Vec::new());
    }
    let config = Config::load(&a.config).map_err(|e| e.to_string())?;
    config.resolve_all(&a.targets).map_err(|e| e.to_string())
}

/// Load scenarios (see [`crate::scenario::library::load_library`]); file errors are printed
/// and counted, never stop the others.
pub fn load_scenarios(
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
