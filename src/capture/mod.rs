//! `conform scenarios capture --out DIR -- COMMAND …`: scenarios written from what a real
//! client sends, so a new Claude Code or SDK release (new fields, new betas) becomes a pack
//! that `conform run --scenarios DIR` sends to any endpoint.
//!
//! It starts conform's proxy ([`crate::proxy`]) in front of an upstream (the built-in reference
//! server in-process, as `conform run` without a target; `--target NAME` or `--base-url URL`
//! for another), runs COMMAND through it ([`child`]: `ANTHROPIC_BASE_URL`, a stand-in key,
//! `--timeout`), then turns the requests the client sent into scenario files ([`shape`]:
//! one file per request shape, tool loops replayed as steps, the model templated,
//! [`normalise`]: volatile values fixed) with a record of the client and its version beside
//! them ([`write`]: `CAPTURE.md`), and lints what it wrote.

mod child;
mod normalise;
mod shape;
mod write;

use crate::target::{AdHoc, Config, Target};
use child::Ended;
use shape::{Captured, Client};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Arguments of `conform scenarios capture`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CaptureArgs {
    /// Where the scenario files and CAPTURE.md go (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Overwrite scenario files of the same name in DIR (others are left as they are).
    #[arg(long)]
    pub force: bool,
    /// The upstream: a target of the config file (default: the built-in reference server).
    #[arg(long, value_name = "NAME", conflicts_with = "base_url")]
    pub target: Option<String>,
    /// The config file of --target (default: conform.toml).
    #[arg(long, value_name = "FILE", requires = "target")]
    pub config: Option<PathBuf>,
    /// The upstream: a base URL (its key from --api-key-env, default $ANTHROPIC_API_KEY).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// With --base-url: the environment variable holding the upstream's key.
    #[arg(long, value_name = "VAR", requires = "base_url")]
    pub api_key_env: Option<String>,
    /// Scenario ids are PREFIX/NAME (default: `claude-code` for Claude Code, else `captured`).
    #[arg(long, value_name = "PREFIX")]
    pub id_prefix: Option<String>,
    /// Seconds the command may run; then it is killed (with what it started) and the files are
    /// written from what it sent until then.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,
    /// The largest request or response body forwarded (MiB).
    #[arg(long, default_value_t = 64)]
    pub max_body_mb: usize,
    /// The client to run (after `--`); it gets ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// Run `conform scenarios capture`; returns the exit code.
pub(crate) fn run_cli(a: &CaptureArgs) -> i32 {
    crate::exit::block_on(run(a))
}

/// The upstream's target, and the reference server when it is the upstream (stopped when
/// dropped).
async fn upstream(
    a: &CaptureArgs,
) -> Result<(Target, Option<crate::mock::MockHandle>, String), String> {
    if let Some(name) = &a.target {
        let path = a
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from("conform.toml"));
        let config = Config::load(&path).map_err(|e| e.to_string())?;
        let t = config
            .resolve(name)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .ok_or_else(|| format!("--target {name}: no target"))?;
        return Ok((t, None, format!("the target `{name}`")));
    }
    if let Some(url) = &a.base_url {
        let var = a.api_key_env.clone().or_else(|| {
            ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
                .into_iter()
                .find(|v| std::env::var_os(v).is_some())
                .map(str::to_string)
        });
        let t = Target::ad_hoc_with(
            AdHoc {
                name: Some("capture".into()),
                base_url: url.clone(),
                // The client names its model; the proxy forwards it as sent.
                model: "the-clients-own".into(),
                api_key_env: var,
                auth: None,
                headers: Vec::new(),
            },
            &|v| std::env::var(v).ok(),
        )
        .map_err(|e| e.to_string())?;
        return Ok((t, None, "the endpoint given with --base-url".into()));
    }
    let (handle, t) = crate::runner::embedded::start(Vec::new())
        .await
        .map_err(|e| format!("cannot start the reference server: {e}"))?;
    Ok((t, Some(handle), "the built-in reference server".into()))
}

/// The distinct values of a comma-separated header across the exchanges, in order.
fn header_values(exchanges: &[Captured], name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in exchanges {
        for (k, v) in &x.headers {
            if k.eq_ignore_ascii_case(name) {
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    if !out.iter().any(|o| o == part) {
                        out.push(part.to_string());
                    }
                }
            }
        }
    }
    out
}

/// A word as a shell reads it back.
fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// The command line to capture again, as the record shows it: a program given by its absolute
/// path by its file name (a path on this machine means nothing elsewhere), volatile paths fixed.
fn command_line(a: &CaptureArgs, vol: &normalise::Volatile) -> String {
    // `DIR`: the directory the record is in, wherever it was written from.
    let mut words = vec![
        "conform".to_string(),
        "scenarios".into(),
        "capture".into(),
        "--out".into(),
        "DIR".into(),
        "--force".into(),
    ];
    if let Some(t) = &a.target {
        words.extend(["--target".into(), t.clone()]);
    }
    if let Some(p) = &a.id_prefix {
        words.extend(["--id-prefix".into(), p.clone()]);
    }
    words.push("--".into());
    if let Some((program, args)) = a.command.split_first() {
        let p = Path::new(program);
        let name = match p.file_name() {
            Some(n) if p.is_absolute() => n.to_string_lossy().into_owned(),
            _ => program.clone(),
        };
        words.push(name);
        words.extend(args.iter().cloned());
    }
    vol.text(
        &words
            .iter()
            .map(|w| shell_word(w))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn run(a: &CaptureArgs) -> i32 {
    if let Err(e) = write::prepare(&a.out, a.force) {
        eprintln!("error: {e}");
        return crate::exit::USAGE;
    }
    let (target, _reference, upstream_name) = match upstream(a).await {
        Ok(u) => u,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::exit::USAGE;
        }
    };
    let redactor = crate::secrets::SharedRedactor::new(target.redactor());
    let seen: Arc<Mutex<Vec<Captured>>> = Arc::default();
    let sink = seen.clone();
    let config = crate::proxy::Config::for_target(
        &target,
        redactor.clone(),
        a.max_body_mb << 20,
        "capture".into(),
    );
    let on_exchange = Box::new(move |x: crate::proxy::Exchanged| {
        let req = &x.judgement.exchange.request;
        lock(&sink).push(Captured {
            n: x.n,
            method: x.method.clone(),
            path: x.path.clone(),
            headers: req.headers.clone(),
            body: req.body_json(),
            status: x.judgement.exchange.response.as_ref().map(|r| r.status),
            message: x.judgement.validation.message.clone(),
        });
    });
    let proxy = match crate::proxy::start(config, on_exchange).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start the proxy: {e}");
            return crate::exit::INFRA;
        }
    };
    if let Some(w) = crate::proxy::sandbox_warning(&a.command) {
        eprintln!("{w}");
    }
    eprintln!(
        "capture: proxy on {} → {upstream_name}; running {}",
        proxy.base_url,
        a.command.first().map(String::as_str).unwrap_or("")
    );
    let ended = child::run(&a.command, &proxy.base_url, Duration::from_secs(a.timeout)).await;
    proxy.settle(Duration::from_secs(5)).await;
    drop(proxy);
    let ended = match ended {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::exit::USAGE;
        }
    };
    let mut exchanges = std::mem::take(&mut *lock(&seen));
    exchanges.sort_by_key(|x| x.n);
    let cwd = std::env::current_dir().ok();
    let home = std::env::var("HOME").ok();
    let mut vol = normalise::Volatile::new(cwd.as_deref().and_then(Path::to_str), home.as_deref());
    let client = Client::of(&exchanges);
    let plan = shape::plan(&exchanges, &mut vol, &client);
    let prefix = a.id_prefix.clone().unwrap_or_else(|| {
        if client.is_claude_code() {
            "claude-code".into()
        } else {
            "captured".into()
        }
    });
    let ctx = write::Context {
        client: &client,
        command: command_line(a, &vol),
        upstream: upstream_name,
        prefix,
        total: exchanges.len(),
    };
    let betas = header_values(&exchanges, "anthropic-beta");
    let versions = header_values(&exchanges, "anthropic-version");
    let written = match write::write(&a.out, &plan, &ctx, &betas, &versions) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::exit::INFRA;
        }
    };
    for (n, why) in &plan.skipped {
        eprintln!("capture: exchange {n} left out: {why}");
    }
    eprintln!(
        "capture: {} exchange(s) from {}; wrote {} scenario file(s) and {} to {}",
        exchanges.len(),
        client.short(),
        written.len(),
        write::RECORD,
        a.out.display()
    );
    let diagnostics = crate::scenario::lint_with(
        &a.out,
        Some(&crate::protocol::anthropic::wire::lint_request_body),
    );
    for d in &diagnostics {
        eprintln!("{d}\n");
    }
    if diagnostics.iter().any(|d| d.is_error()) {
        eprintln!(
            "error: the files written do not lint clean (a bug of conform: please report it)"
        );
        return crate::exit::USAGE;
    }
    match ended {
        Ended::TimedOut => {
            eprintln!(
                "error: the command did not finish within --timeout {} s and was killed; the files hold what it sent until then",
                a.timeout
            );
            crate::exit::INFRA
        }
        Ended::Exited(code) if code != Some(0) => {
            eprintln!(
                "error: the command exited with {}; the files hold what it sent",
                code.map_or("a signal".to_string(), |c| format!("code {c}"))
            );
            crate::exit::INFRA
        }
        Ended::Exited(_) if written.is_empty() => {
            eprintln!("error: the command sent no request that makes a scenario");
            crate::exit::INFRA
        }
        Ended::Exited(_) => crate::exit::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        a: CaptureArgs,
    }

    #[test]
    fn the_record_names_the_program_by_its_file_name_and_quotes_what_a_shell_would_split() {
        let cli = Cli::parse_from([
            "x",
            "--out",
            "/abs/out",
            "--target",
            "local",
            "--",
            "/opt/node/bin/claude",
            "-p",
            "It's here",
            "--allowedTools",
            "Read Glob",
        ]);
        let vol = normalise::Volatile::new(None, None);
        assert_eq!(
            command_line(&cli.a, &vol),
            r#"conform scenarios capture --out DIR --force --target local -- claude -p 'It'\''s here' --allowedTools 'Read Glob'"#
        );
    }

    #[test]
    fn betas_are_listed_once_in_the_order_sent() {
        let x = |beta: &str| Captured {
            n: 1,
            method: "POST".into(),
            path: "/v1/messages".into(),
            headers: vec![("Anthropic-Beta".into(), beta.into())],
            body: None,
            status: Some(200),
            message: None,
        };
        assert_eq!(
            header_values(&[x("a-1, b-2"), x("b-2,c-3")], "anthropic-beta"),
            ["a-1", "b-2", "c-3"]
        );
    }
}
