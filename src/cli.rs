//! The `conform` command line: parses arguments, calls the library, maps results to the exit
//! codes of [`crate::exit`]. The binary's `main` calls [`main`].

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "conform",
    version,
    about = "Conformance harness for Anthropic Messages API endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios against targets (default: the built-in reference server) and write reports.
    Run(Box<crate::runner::RunArgs>),
    /// Validate captured traffic offline (.sse streams, .json bodies, exchange files).
    Check(crate::offline::CheckArgs),
    /// Run the reference server (a faithful, deterministic Anthropic Messages endpoint).
    Mock(crate::mock::MockArgs),
    /// Check scenario files without sending anything.
    Lint {
        /// Files or directories (default: scenarios/).
        paths: Vec<PathBuf>,
    },
    /// List scenarios: id, feature, title, modes (default: ./scenarios if it exists, else the
    /// built-in library).
    List {
        /// A scenario directory to list instead (its files alone, without the built-in library).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print the rows as JSON (id, feature, title, modes, file).
        #[arg(long)]
        json: bool,
    },
    /// Print a JSON Schema (for editors): `conform schema scenario`.
    Schema {
        #[arg(value_parser = ["scenario", "config"])]
        what: String,
    },
    /// The built-in scenario library: `conform scenarios export DIR` writes it out for editing;
    /// `conform scenarios capture --out DIR -- COMMAND` writes scenarios from what a client sends.
    Scenarios {
        #[command(subcommand)]
        command: ScenariosCommand,
    },
    /// List the built-in provider profiles (endpoint, key variable, documented deviations).
    Providers {
        #[arg(long)]
        json: bool,
    },
    /// Manage snapshots: accept, reject or list pending ones, prune stale ones.
    Snapshots(crate::snapshot::SnapshotsArgs),
    /// Compare two report.json files: regressions, fixes, timing (exit 1 on a regression).
    Diff(crate::diff::DiffArgs),
    /// Measure the validation core on a large generated stream (MB/s, events/s, peak memory).
    Bench(crate::bench::BenchArgs),
    /// Explain a check id (severity, title, public doc, fix hint); `--list` lists them all.
    Explain(crate::check::catalogue::ExplainArgs),
    /// Compare endpoints with a reference on paired, labelled workloads: per metric a value,
    /// a 95% interval and a verdict (equivalent, better, worse, inconclusive).
    Compare(Box<crate::compare::CompareArgs>),
    /// Merge the report.json files of a partitioned run (`--partition K/N`) into one report.
    Merge(crate::report::merge::MergeArgs),
    /// Judge a real application's traffic: a loopback pass-through proxy to `--upstream`
    /// (`conform proxy --upstream URL -- claude -p "…"` runs the command through it).
    Proxy(Box<crate::proxy::ProxyArgs>),
    /// Write a commented conform.toml for a provider (`conform providers` lists them).
    Init(crate::providers::init::InitArgs),
    /// Print a shell completion script: `conform completions bash > /etc/bash_completion.d/conform`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum ScenariosCommand {
    /// Write the built-in library (anthropic/, fixtures/) into DIR; run it with
    /// `conform run --scenarios DIR`.
    Export {
        dir: PathBuf,
        /// Overwrite files that exist.
        #[arg(long)]
        force: bool,
    },
    /// Run COMMAND (a client: Claude Code, an SDK program) through conform's proxy and write a
    /// scenario file into DIR for each request shape it sent, with CAPTURE.md naming the client
    /// and its version: `conform scenarios capture --out DIR -- claude -p "…"`.
    Capture(Box<crate::capture::CaptureArgs>),
}

/// `conform list` without --dir: the library a run would use.
fn list_library(json: bool) -> i32 {
    match crate::scenario::library::load_library(None, false) {
        Ok((scenarios, diagnostics, _)) => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            let rows = crate::scenario::list_entries(&scenarios);
            if json {
                match serde_json::to_string_pretty(&rows) {
                    Ok(s) => println!("{s}"),
                    Err(e) => eprintln!("error: {e}"),
                }
            } else {
                print!("{}", crate::scenario::list_table(&rows));
            }
            if diagnostics.iter().any(|d| d.is_error()) {
                crate::exit::USAGE
            } else {
                crate::exit::OK
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            crate::exit::USAGE
        }
    }
}

/// The `(scenario-id, mode)` pairs of the scenario library, for `conform snapshots prune`.
fn existing_cases() -> Result<std::collections::BTreeSet<(String, String)>, String> {
    let (scenarios, diagnostics, _) = crate::scenario::library::load_library(None, false)?;
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!(
            "fix the scenario files first (pruning could remove live snapshots):\n{d}"
        ));
    }
    Ok(scenarios
        .iter()
        .flat_map(|s| {
            s.modes()
                .iter()
                .map(move |m| (s.id().to_string(), m.as_str().to_string()))
        })
        .collect())
}

/// A closed stdout (`conform check … | head`) ends the program quietly with exit 0, as ripgrep
/// does. Rust ignores SIGPIPE, so a write to a closed pipe fails with `BrokenPipe` and
/// `println!` panics with "failed printing to stdout: Broken pipe (os error 32)"; this hook
/// turns exactly that panic into a quiet exit. Every other panic keeps the default report.
fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if is_broken_stdout(message) {
            std::process::exit(crate::exit::OK);
        }
        default(info);
    }));
}

/// Whether a panic message is std's report of a write to a closed stdout.
fn is_broken_stdout(message: &str) -> bool {
    let broken_pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe).to_string();
    message.starts_with("failed printing to stdout")
        && (message.contains("Broken pipe") || message.contains(&broken_pipe))
}

/// Run the command line of this process's arguments; its exit code.
pub fn main() -> i32 {
    exit_quietly_on_broken_pipe();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                crate::exit::USAGE
            } else {
                crate::exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Run(args) => crate::runner::run_cli(&args),
        Command::Check(args) => crate::offline::run_cli(&args),
        Command::Mock(args) => crate::mock::run_cli(args),
        Command::Lint { paths } => crate::scenario::run_lint_cli_with(
            &paths,
            Some(&crate::protocol::anthropic::wire::lint_request_body),
        ),
        Command::List {
            dir: Some(dir),
            json,
        } => crate::scenario::run_list_cli(&dir, json),
        Command::List { dir: None, json } => list_library(json),
        Command::Scenarios {
            command: ScenariosCommand::Export { dir, force },
        } => match crate::scenario::library::export(&dir, force) {
            Ok(n) => {
                eprintln!(
                    "wrote {n} files to {}; run them with `conform run --scenarios {}`",
                    dir.display(),
                    dir.display()
                );
                crate::exit::OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                crate::exit::USAGE
            }
        },
        Command::Scenarios {
            command: ScenariosCommand::Capture(args),
        } => crate::capture::run_cli(&args),
        Command::Providers { json } => crate::providers::run_list_cli(json),
        Command::Compare(args) => crate::compare::run_cli(*args),
        Command::Merge(args) => crate::report::merge::run_cli(&args),
        Command::Init(args) => crate::providers::init::run_cli(&args),
        Command::Proxy(args) => crate::proxy::run_cli(&args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            use std::io::Write as _;
            // Into a buffer first: clap_complete panics on a write error (e.g. `| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "conform", &mut script);
            let _ = std::io::stdout().write_all(&script);
            crate::exit::OK
        }
        Command::Schema { what } => {
            let schema = if what == "config" {
                crate::target::config_json_schema()
            } else {
                crate::scenario::scenario_json_schema()
            };
            match serde_json::to_string_pretty(&schema) {
                Ok(s) => {
                    println!("{s}");
                    crate::exit::OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    crate::exit::USAGE
                }
            }
        }
        Command::Snapshots(args) => crate::snapshot::cli::run_cli_with(&args, &existing_cases),
        Command::Diff(args) => crate::diff::run_cli(&args),
        Command::Bench(args) => crate::bench::run_cli(&args),
        Command::Explain(args) => crate::check::catalogue::run_cli(&args),
    }
}
