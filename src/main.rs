//! The `conform` command line: parses arguments, calls the library, maps results to the exit
//! codes of `conform::exit`.

use clap::{Parser, Subcommand};

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
    /// Validate captured traffic offline (.sse streams, .json bodies, exchange files).
    Check(conform::offline::CheckArgs),
    /// Measure the validation core on a large generated stream (MB/s, events/s, peak memory).
    Bench(conform::bench::BenchArgs),
    /// Manage snapshots: accept, reject or list pending ones, prune stale ones.
    Snapshots(conform::snapshot::SnapshotsArgs),
    /// Compare two report.json files: regressions, fixes, timing (exit 1 on a regression).
    Diff(conform::diff::DiffArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                conform::exit::USAGE
            } else {
                conform::exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match cli.command {
        Command::Check(args) => conform::offline::run_cli(&args),
        Command::Bench(args) => conform::bench::run_cli(&args),
        Command::Snapshots(args) => conform::snapshot::run_cli(&args),
        Command::Diff(args) => conform::diff::run_cli(&args),
    };
    std::process::exit(code);
}
