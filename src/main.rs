//! The `conform` command line: parses arguments and calls the library.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "conform",
    version,
    about = "Conformance harness for Anthropic Messages API endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the reference server (a faithful, deterministic Anthropic Messages endpoint).
    Mock(conform::mock::MockArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Mock(args) => conform::mock::run_cli(args),
    };
    std::process::exit(code);
}
