//! The `arqonbus` command line: argument parsing and dispatch. Each
//! subcommand is a thin call into the library.

mod approval;
mod audit;
mod bench;
mod certs;
mod cluster;
mod connect;
mod dev;
mod health;
mod node;
mod output;
mod proposals;
mod propose;
mod rollback;
mod rollout;
mod status;
mod target;
mod telemetry;
mod watch;

use clap::{Parser, Subcommand};
pub use connect::GlobalArgs;

/// Exit codes, documented in the README.
pub mod exit {
    /// Done.
    pub const OK: i32 = 0;
    /// Failed (an error was printed).
    pub const FAILED: i32 = 1;
    /// Bad command line.
    pub const USAGE: i32 = 2;
    /// Refused by the constraints (or another rule of the replicated state).
    pub const REFUSED: i32 = 3;
}

#[derive(Debug, Parser)]
#[command(
    name = "arqonbus",
    version,
    about = "The safety coordinator for self-tuning systems"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make the cluster CA and certificates.
    #[command(subcommand)]
    Certs(certs::Certs),
    /// Run one node.
    Node(Box<node::NodeArgs>),
    /// Run a local three-node cluster (certificates, nodes, bootstrap).
    Dev(dev::DevArgs),
    /// Exit 0 if one node answers a status request, else 1 (health checks).
    Health(health::HealthArgs),
    /// Bootstrap, inspect and change the cluster.
    #[command(subcommand)]
    Cluster(cluster::Cluster),
    /// Set or read a target system's constraints.
    #[command(subcommand)]
    Constraints(target::Constraints),
    /// Override or read a target system's parameters.
    #[command(subcommand)]
    Params(target::Params),
    /// Propose parameter changes; prints the decision (exit 3 when rejected).
    Propose(propose::ProposeArgs),
    /// List or show decided proposals.
    #[command(subcommand)]
    Proposals(proposals::Proposals),
    /// Approve a proposal pending approval.
    Approve(approval::ApproveArgs),
    /// Reject a proposal pending approval.
    Reject(approval::RejectArgs),
    /// Send telemetry samples.
    #[command(subcommand)]
    Telemetry(telemetry::Telemetry),
    /// Print a target system's events (decisions) as JSON lines, or with
    /// `--assignments` its traffic assignment on every change.
    Watch(watch::WatchArgs),
    /// Print a target system's rollout, recent rollbacks and verdicts.
    Status(status::StatusArgs),
    /// Pause, resume or promote a target's rollout (exit 3: no rollout).
    #[command(subcommand)]
    Rollout(rollout::Rollout),
    /// Roll a target's rollout back now (exit 3: nothing to roll back).
    Rollback(rollback::RollbackArgs),
    /// Read and verify the audit log.
    #[command(subcommand)]
    Audit(audit::Audit),
    /// Measure this machine (figures for the issue notes and the README).
    #[command(subcommand)]
    Bench(bench::Bench),
}

/// Runs a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let g = &cli.global;
    match cli.command {
        Command::Certs(c) => certs::run(c),
        Command::Node(n) => node::run(*n, g.certs.clone()).await,
        Command::Dev(d) => dev::run(d).await,
        Command::Health(h) => health::run(g, h).await,
        Command::Cluster(c) => cluster::run(g, c).await,
        Command::Constraints(c) => target::constraints(g, c).await,
        Command::Params(p) => target::params(g, p).await,
        Command::Propose(p) => propose::run(g, p).await,
        Command::Proposals(p) => proposals::run(g, p).await,
        Command::Approve(a) => approval::approve(g, a).await,
        Command::Reject(a) => approval::reject(g, a).await,
        Command::Telemetry(t) => telemetry::run(g, t).await,
        Command::Watch(w) => watch::run(g, w).await,
        Command::Status(s) => status::run(g, s).await,
        Command::Rollout(r) => rollout::run(g, r).await,
        Command::Rollback(r) => rollback::run(g, r).await,
        Command::Audit(a) => audit::run(g, a).await,
        Command::Bench(b) => bench::run(g, b).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// A subcommand flag that shadows a global one (`--output` once did)
    /// only shows when the line is parsed: parse each bench command.
    #[test]
    fn every_bench_command_parses_with_and_without_json() {
        for bench in [
            "storage",
            "cluster",
            "sessions",
            "writes",
            "flood",
            "bursts",
            "decisions",
        ] {
            for extra in [&[][..], &["--output", "json"][..]] {
                let mut line = vec!["arqonbus", "bench", bench, "--dir", "/tmp"];
                line.extend_from_slice(extra);
                let parsed = Cli::try_parse_from(&line);
                assert!(parsed.is_ok(), "{line:?}: {:?}", parsed.err());
            }
        }
    }
}
