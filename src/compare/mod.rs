//! `conform compare`: which endpoint serves a model best, measured with confidence.
//!
//! The pipeline: a paired, labelled workload from a seed ([`workload`]) → every endpoint and
//! the reference's repeat answer every task, through the runner's HTTP client, judged live and
//! recorded ([`exec`], [`observe`]) → each task scored ([`metrics`]) → per metric and target a
//! paired bootstrap against the reference, an equivalence margin calibrated on the reference's
//! own repeat, Holm's correction and a verdict ([`stats`], [`verdict`]) → report.md,
//! report.html, summary.json and samples.jsonl ([`report`]). [`sim`] runs the same scoring and
//! statistics on answers the reference server generates in-process, to measure the false-alarm
//! rate and the power against known truth (tests and `conform bench compare`).
//!
//! docs/compare.md describes the metrics and why these statistics.

pub(crate) mod exec;
pub(crate) mod metrics;
pub(crate) mod observe;
pub(crate) mod report;
pub(crate) mod sim;
pub(crate) mod stats;
pub(crate) mod verdict;
pub(crate) mod workload;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use exec::{Budget, Endpoint};
use metrics::{ItemScore, METRICS, Scorer};
use observe::Obs;
use verdict::{AllScores, MetricResult, Word};
use workload::{Family, Task};

use crate::mock::{Behaviour, MockConfig, MockHandle, Skill};
use crate::target::{Config, Target};

/// Arguments of `conform compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The reference endpoint: a target of conform.toml, or `mock[:KEY=VALUE,…]` for a
    /// reference server started in-process (keys: seed, tool-skill, arg-error-rate, ttft-ms,
    /// ttft-jitter-ms, tps, tps-jitter, loop-abandon-rate, chunk-delay-ms, faults (joined
    /// with `+`), behaviour; realistic by default).
    #[arg(long)]
    pub reference: String,
    /// An endpoint to compare with the reference (repeatable), named like --reference.
    #[arg(long = "target", required = true)]
    pub targets: Vec<String>,
    /// The configuration file naming the targets.
    #[arg(long, default_value = "conform.toml")]
    pub config: PathBuf,
    /// Tasks per family (tool trigger, tool arguments, structured output); agent loops and each
    /// latency-ladder step get a quarter (at least 5).
    #[arg(long, default_value_t = 40)]
    pub samples: usize,
    /// Requests sent at most, over every endpoint (recorded exchanges reused are free).
    #[arg(long, value_name = "N")]
    pub budget_requests: Option<u64>,
    /// Tokens (input and output, as the endpoints report them) spent at most.
    #[arg(long, value_name = "N")]
    pub budget_tokens: Option<u64>,
    /// Seed of the workload and of the bootstrap: the same seed sends the same requests.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output directory (reports, and the recorded exchanges a rerun resumes from).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Rescore a recorded comparison (its directory) without sending anything.
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,
    /// Tasks in flight at once.
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// How many times every endpoint answers every task (k). With k ≥ 2 the comparison also
    /// measures pass^k, the share of tasks whose k answers were all clean; the reference
    /// answers max(k, 2) times (its second answer calibrates the margins).
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub repeats: u32,
    /// A rate limit for one endpoint, in requests per minute (repeatable; overrides its
    /// `rpm` in conform.toml): `--rpm mock:seed=1=120` or `--rpm vendor-a=30`.
    #[arg(long = "rpm", value_name = "ENDPOINT=RPM")]
    pub rpm: Vec<String>,
}

/// Why a comparison could not run.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Exec(#[from] exec::ExecError),
    #[error("cannot start the reference server for `{spec}`: {source}")]
    Mock {
        spec: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// What one endpoint echoed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EndpointSummary {
    pub name: String,
    pub role: &'static str,
    pub base_url: String,
    pub model: String,
    /// The `model` each answer named, with counts.
    pub models_echoed: BTreeMap<String, usize>,
    /// The `request-id` of every answer.
    pub request_ids: Vec<String>,
    /// Tasks scored (per repeat).
    pub tasks_scored: Vec<usize>,
    /// The rate limit the comparison kept to, in requests per minute (`--rpm`, else the
    /// target's `rpm`).
    pub rpm: Option<u32>,
    /// How often a 429 or 529 answer paused sending to it (the retry waited out its
    /// `retry-after`).
    pub pauses: u32,
}

/// Requests and tokens spent.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Spent {
    pub max_requests: Option<u64>,
    pub max_tokens: Option<u64>,
    pub sent: u64,
    pub tokens: u64,
    pub replayed: u64,
    pub exhausted: bool,
}

/// One task of one endpoint and repeat, as samples.jsonl holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sample {
    pub endpoint: String,
    pub repeat: u32,
    pub task: String,
    pub family: Family,
    pub expected_tool: Option<String>,
    pub score: ItemScore,
    pub exchanges: Vec<Obs>,
}

/// A finished comparison.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Comparison {
    pub run_date: String,
    pub conform_version: &'static str,
    pub mode: &'static str,
    pub seed: u64,
    pub samples: usize,
    /// Answers per task of every endpoint (k of pass^k).
    pub repeats: u32,
    pub reference: String,
    pub targets: Vec<String>,
    pub endpoints: Vec<EndpointSummary>,
    pub spent: Spent,
    /// Tests in the Holm family (metrics × targets with data).
    pub tests: usize,
    /// Trigger tasks that find a 5-point drop in tool-trigger F1 (from ~80%) with 80% power
    /// after the correction for this many tests.
    pub recommended_samples: usize,
    pub results: Vec<MetricResult>,
    #[serde(skip)]
    pub sample_rows: Vec<Sample>,
    /// The endpoints' secrets, redacted from every file written.
    #[serde(skip)]
    pub redactor: crate::secrets::Redactor,
}

impl Comparison {
    /// Whether any metric of any target is `worse`.
    pub fn any_worse(&self) -> bool {
        self.results.iter().any(|r| r.verdict == Word::Worse)
    }
}

/// A `mock[:KEY=VALUE,…]` endpoint.
fn mock_config(spec: &str) -> Result<Option<MockConfig>, String> {
    let rest = match spec.strip_prefix("mock") {
        Some("") => "",
        Some(r) if r.starts_with(':') => &r[1..],
        _ => return Ok(None),
    };
    let mut c = MockConfig {
        behaviour: Behaviour::Realistic,
        ..MockConfig::default()
    };
    let mut skill = Skill::default();
    for kv in rest.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("`{spec}`: `{kv}` is not KEY=VALUE"))?;
        let bad = |e: &dyn std::fmt::Display| format!("`{spec}`: {k}={v}: {e}");
        match k {
            "seed" => c.seed = v.parse().map_err(|e| bad(&e))?,
            "ttft-ms" => c.ttft_ms = v.parse().map_err(|e| bad(&e))?,
            "chunk-delay-ms" => c.chunk_delay_ms = v.parse().map_err(|e| bad(&e))?,
            "tool-skill" => skill.tool_skill = Some(v.parse().map_err(|e| bad(&e))?),
            "arg-error-rate" => skill.arg_error_rate = Some(v.parse().map_err(|e| bad(&e))?),
            "ttft-jitter-ms" => skill.ttft_jitter_ms = Some(v.parse().map_err(|e| bad(&e))?),
            "tps" => skill.output_tps = Some(v.parse().map_err(|e| bad(&e))?),
            "tps-jitter" => skill.tps_jitter = Some(v.parse().map_err(|e| bad(&e))?),
            "loop-abandon-rate" => skill.loop_abandon_rate = Some(v.parse().map_err(|e| bad(&e))?),
            "faults" => {
                c.faults = v
                    .split('+')
                    .map(str::parse)
                    .collect::<Result<Vec<crate::mock::Fault>, _>>()
                    .map_err(|e| bad(&e))?
            }
            "behaviour" => {
                c.behaviour =
                    <Behaviour as clap::ValueEnum>::from_str(v, true).map_err(|e| bad(&e))?
            }
            _ => {
                return Err(format!(
                    "`{spec}`: unknown key `{k}` (seed, tool-skill, arg-error-rate, ttft-ms, ttft-jitter-ms, tps, tps-jitter, loop-abandon-rate, chunk-delay-ms, faults, behaviour)"
                ));
            }
        }
    }
    c.skill = skill.checked().map_err(|e| format!("`{spec}`: {e}"))?;
    Ok(Some(c))
}

/// The endpoints named on the command line, with the reference servers started for them.
async fn resolve(
    a: &CompareArgs,
) -> Result<(Vec<(String, Target)>, Vec<MockHandle>), CompareError> {
    let mut names = vec![a.reference.clone()];
    names.extend(a.targets.iter().cloned());
    let mut seen = std::collections::BTreeSet::new();
    for n in &names {
        if !seen.insert(n.clone()) {
            return Err(CompareError::Usage(format!(
                "`{n}` is named twice: the reference and each target must be different endpoints"
            )));
        }
    }
    let mut config: Option<Config> = None;
    let mut out = Vec::new();
    let mut handles = Vec::new();
    for name in names {
        if let Some(mc) = mock_config(&name).map_err(CompareError::Usage)? {
            if a.replay.is_some() {
                // Nothing is sent in a replay: the endpoint is only a name.
                let t = placeholder(&name);
                out.push((name, t));
                continue;
            }
            let (handle, mut t) =
                crate::runner::embedded::start_with(mc)
                    .await
                    .map_err(|source| CompareError::Mock {
                        spec: name.clone(),
                        source,
                    })?;
            t.name = name.clone();
            handles.push(handle);
            out.push((name, t));
            continue;
        }
        if config.is_none() {
            config = Some(Config::load(&a.config).map_err(|e| {
                CompareError::Usage(format!(
                    "`{name}` is not `mock[:…]`, so it names a target of {}: {e}",
                    a.config.display()
                ))
            })?);
        }
        let resolved = config
            .as_ref()
            .map(|c| c.resolve(&name))
            .transpose()
            .map_err(|e| CompareError::Usage(e.to_string()))?
            .unwrap_or_default();
        match resolved.as_slice() {
            [t] => out.push((name, t.clone())),
            _ => {
                return Err(CompareError::Usage(format!(
                    "target `{name}` resolves to {} endpoints (one model each is needed: name a target with a single `model`)",
                    resolved.len()
                )));
            }
        }
    }
    Ok((out, handles))
}

/// `--rpm ENDPOINT=RPM`, by endpoint name (the last `=` splits: mock specs contain `=`).
fn rate_limits(
    given: &[String],
    endpoints: &[(String, Target)],
) -> Result<HashMap<String, u32>, CompareError> {
    let mut out = HashMap::new();
    for g in given {
        let bad = |why: &str| CompareError::Usage(format!("--rpm {g}: {why}"));
        let (name, n) = g
            .rsplit_once('=')
            .ok_or_else(|| bad("expected ENDPOINT=RPM"))?;
        let n: u32 = n
            .parse()
            .map_err(|_| bad("RPM must be a whole number of requests per minute"))?;
        if n == 0 {
            return Err(bad("RPM must be at least 1"));
        }
        if !endpoints.iter().any(|(e, _)| e == name) {
            let names: Vec<&str> = endpoints.iter().map(|(e, _)| e.as_str()).collect();
            return Err(bad(&format!(
                "`{name}` is not an endpoint of this comparison ({})",
                names.join(", ")
            )));
        }
        out.insert(name.to_string(), n);
    }
    Ok(out)
}

/// A target that is never contacted (replay of an in-process reference server).
fn placeholder(name: &str) -> Target {
    let mut t = Target::ad_hoc_with(
        crate::target::AdHoc {
            name: Some(name.to_string()),
            base_url: "http://127.0.0.1:9".to_string(),
            model: crate::mock::DEFAULT_MODEL.to_string(),
            api_key_env: None,
            auth: None,
            headers: Vec::new(),
        },
        &|_| None,
    )
    .expect("a loopback ad-hoc target resolves");
    t.name = name.to_string();
    t
}

/// Score every endpoint's observations.
pub(crate) fn score_all(tasks: &[Task], observed: &exec::Observed) -> (AllScores, Vec<Sample>) {
    let by_id: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut scorer = Scorer::default();
    let mut scores = AllScores::new();
    let mut rows = Vec::new();
    let mut keys: Vec<&(String, u32)> = observed.keys().collect();
    keys.sort();
    for key in keys {
        let entry = scores.entry(key.clone()).or_default();
        for (id, turns) in &observed[key] {
            let Some(task) = by_id.get(id.as_str()) else {
                continue;
            };
            if let Some(s) = scorer.score(task, turns) {
                entry.insert(id.clone(), s.clone());
                rows.push(Sample {
                    endpoint: key.0.clone(),
                    repeat: key.1,
                    task: id.clone(),
                    family: task.family,
                    expected_tool: task.expected_tool.clone(),
                    score: s,
                    exchanges: turns.clone(),
                });
            }
        }
    }
    (scores, rows)
}

/// F1's variance over that of a proportion: a wrong tool counts twice (a false positive and a
/// false negative). Measured by simulation (`conform bench compare`, docs/compare.md).
const F1_DESIGN_EFFECT: f64 = 1.3;

/// The trigger tasks that find a 5-point F1 drop (from ~80%) with 80% power after Holm's
/// correction over `tests` tests: the paired-proportion formula times F1's design effect.
pub(crate) fn recommended(tests: usize) -> usize {
    let n = stats::recommended_items(0.8, 0.05, 0.05 / tests.max(1) as f64, 0.8);
    (n as f64 * F1_DESIGN_EFFECT).ceil() as usize
}

/// Run a comparison (live, resuming from `out`, or replaying `--replay`) and write its reports
/// into the output directory.
pub async fn run(a: &CompareArgs) -> Result<Comparison, CompareError> {
    if a.samples == 0 {
        return Err(CompareError::Usage("--samples must be at least 1".into()));
    }
    let out = output_dir(a);
    let (resolved, _handles) = resolve(a).await?;
    let targets: Vec<Target> = resolved.iter().map(|(_, t)| t.clone()).collect();
    let redactor = crate::target::redactor(&targets);
    if a.repeats == 0 {
        return Err(CompareError::Usage("--repeats must be at least 1".into()));
    }
    let rpm = rate_limits(&a.rpm, &resolved)?;
    let mut endpoints = Vec::new();
    for (i, (name, t)) in resolved.iter().enumerate() {
        let repeats = if i == 0 { a.repeats.max(2) } else { a.repeats };
        endpoints.push(Arc::new(Endpoint::open(
            name,
            t.clone(),
            repeats,
            rpm.get(name).copied(),
            &out,
            a.replay.as_deref(),
            redactor.clone(),
        )?));
    }
    let tasks = workload::generate(a.seed, a.samples);
    let budget = Budget::new(a.budget_requests, a.budget_tokens);
    let observed = exec::run_all(&endpoints, &tasks, &budget, a.seed, a.jobs).await;
    let c = assemble(a, &tasks, &endpoints, &observed, &budget, &redactor);
    report::write(&out, &c)?;
    Ok(c)
}

fn assemble(
    a: &CompareArgs,
    tasks: &[Task],
    endpoints: &[Arc<Endpoint>],
    observed: &exec::Observed,
    budget: &Budget,
    redactor: &crate::secrets::Redactor,
) -> Comparison {
    let (scores, sample_rows) = score_all(tasks, observed);
    let target_names: Vec<String> = endpoints[1..].iter().map(|e| e.name.clone()).collect();
    let results = verdict::compare(tasks, &scores, &endpoints[0].name, &target_names, a.seed);
    let tests = results.iter().filter(|r| r.p_adjusted.is_some()).count();
    let summaries = endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut models = BTreeMap::new();
            let mut ids = Vec::new();
            for r in 0..e.repeats {
                for (_, turns) in observed.get(&(e.name.clone(), r)).into_iter().flatten() {
                    for o in turns {
                        if let Some(m) = &o.model {
                            *models.entry(m.clone()).or_insert(0) += 1;
                        }
                        ids.extend(o.request_id.clone());
                    }
                }
            }
            EndpointSummary {
                name: e.name.clone(),
                role: if i == 0 { "reference" } else { "target" },
                base_url: redactor.redact(&e.target.base_url),
                model: e.target.model.clone(),
                models_echoed: models,
                request_ids: ids,
                tasks_scored: (0..e.repeats)
                    .map(|r| scores.get(&(e.name.clone(), r)).map_or(0, |s| s.len()))
                    .collect(),
                rpm: e.rpm,
                pauses: e.target.pauses().causes.values().sum(),
            }
        })
        .collect();
    let run_date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Comparison {
        run_date,
        conform_version: env!("CARGO_PKG_VERSION"),
        mode: if a.replay.is_some() { "replay" } else { "live" },
        seed: a.seed,
        samples: a.samples,
        repeats: a.repeats,
        reference: endpoints[0].name.clone(),
        targets: target_names,
        endpoints: summaries,
        spent: Spent {
            max_requests: budget.max_requests,
            max_tokens: budget.max_tokens,
            sent: budget.sent.load(Ordering::SeqCst),
            tokens: budget.tokens.load(Ordering::SeqCst),
            replayed: budget.replayed.load(Ordering::SeqCst),
            exhausted: budget.exhausted.load(Ordering::SeqCst),
        },
        tests,
        recommended_samples: recommended(
            tests.max(METRICS.len() * endpoints.len().saturating_sub(1)),
        ),
        results,
        sample_rows,
        redactor: redactor.clone(),
    }
}

/// Where the reports go: `--out`, else the replayed directory, else `reports/compare`.
fn output_dir(a: &CompareArgs) -> PathBuf {
    a.out
        .clone()
        .or_else(|| a.replay.clone())
        .unwrap_or_else(|| Path::new("reports").join("compare"))
}

/// `conform compare`: run, write the reports, print the leaderboard; the exit code (1 when a
/// target is `worse` on some metric).
pub(crate) fn run_cli(a: CompareArgs) -> i32 {
    crate::exit::block_on(async move {
        let c = match run(&a).await {
            Ok(c) => c,
            Err(e @ CompareError::Usage(_)) => {
                eprintln!("error: {e}");
                return crate::exit::USAGE;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return crate::exit::INFRA;
            }
        };
        let dir = output_dir(&a);
        print!("{}", report::terminal(&c));
        println!("reports: {}", dir.display());
        if c.results.iter().all(|r| r.n == 0) {
            eprintln!("error: nothing could be compared (no task was answered by every endpoint)");
            return crate::exit::INFRA;
        }
        if c.any_worse() {
            crate::exit::FAILURES
        } else {
            crate::exit::OK
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_specs_take_the_speed_loop_and_fault_knobs() {
        let c = mock_config("mock:seed=2,tps=40,tps-jitter=0.1,loop-abandon-rate=0.2,faults=cache-ignored+rate-limit")
            .unwrap()
            .unwrap();
        assert_eq!(c.seed, 2);
        assert_eq!(c.skill.output_tps, Some(40.0));
        assert_eq!(c.skill.tps_jitter, Some(0.1));
        assert_eq!(c.skill.loop_abandon_rate, Some(0.2));
        assert_eq!(
            c.faults,
            [
                crate::mock::Fault::CacheIgnored,
                crate::mock::Fault::RateLimit
            ]
        );
        for bad in [
            "mock:tps=0",
            "mock:loop-abandon-rate=2",
            "mock:faults=no-such-fault",
        ] {
            assert!(mock_config(bad).is_err(), "{bad}");
        }
        assert!(mock_config("vendor-a").unwrap().is_none());
    }

    #[test]
    fn rpm_names_an_endpoint_of_the_comparison() {
        let endpoints = vec![
            ("mock".to_string(), placeholder("mock")),
            ("mock:seed=1".to_string(), placeholder("mock:seed=1")),
        ];
        let got = rate_limits(&["mock:seed=1=120".into()], &endpoints).unwrap();
        assert_eq!(got.get("mock:seed=1"), Some(&120));
        for bad in ["mock:seed=1", "other=5", "mock=0", "mock=fast"] {
            assert!(rate_limits(&[bad.into()], &endpoints).is_err(), "{bad}");
        }
    }
}
