//! The `arqonbus` command line: argument parsing and dispatch. Each
//! subcommand is a thin call into the library.

mod bench;

use clap::{Parser, Subcommand};

/// Exit codes, documented in the README.
pub mod exit {
    /// Done.
    pub const OK: i32 = 0;
    /// Failed (an error was printed).
    pub const FAILED: i32 = 1;
    /// Bad command line.
    pub const USAGE: i32 = 2;
    /// Refused by the constraints.
    pub const REFUSED: i32 = 3;
}

#[derive(Debug, Parser)]
#[command(
    name = "arqonbus",
    version,
    about = "The safety coordinator for self-tuning systems"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure this machine (figures for the issue notes and the README).
    #[command(subcommand)]
    Bench(bench::Bench),
}

/// Runs a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Bench(b) => bench::run(b).await,
    }
}
