//! `arqonbus-chaos`: the chaos suite's command line. `check` judges recorded
//! register histories for linearizability; `run` starts a cluster, runs the
//! workload under faults and checks what happened. See `chaos/README.md`
//! for the history format, the run's options and the exit codes.

mod audit_check;
mod bitset;
mod checker;
mod cluster;
mod degraded;
mod history;
mod model;
mod nemesis;
mod ops;
mod outcome;
mod proposal_check;
mod proposal_plan;
mod proposals;
mod recorder;
mod report;
mod rng;
mod rollout_check;
mod rollouts;
mod run;
#[cfg(test)]
mod scenarios;
mod session_watch;
#[cfg(test)]
mod simulate;
mod summary;
mod tasks;
mod terms_check;
mod workload;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use report::{HistoryReport, Status};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(version, about = "Chaos testing tools for ArqonBus")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check histories for linearizability, one register per key.
    Check(CheckArgs),
    /// Start a cluster, run the workload under faults, check the results.
    Run(Box<run::RunArgs>),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// History files: JSON lines, one event per line.
    #[arg(required = true)]
    histories: Vec<PathBuf>,
    /// Configurations the search may explore per key before it gives up;
    /// giving up is reported as unknown, never as a pass.
    #[arg(long, default_value_t = checker::DEFAULT_MAX_STATES)]
    max_states: u64,
}

/// The outcome of a whole run, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RunStatus {
    Passed,
    Unknown,
    Unreadable,
    Violation,
}

impl RunStatus {
    fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            RunStatus::Passed => 0,
            RunStatus::Violation => 1,
            RunStatus::Unknown => 3,
            RunStatus::Unreadable => 4,
        })
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check(args) => check(&args).exit_code(),
        Command::Run(args) => match tokio::runtime::Runtime::new() {
            Ok(runtime) => ExitCode::from(runtime.block_on(run::run(*args))),
            Err(e) => {
                eprintln!("arqonbus-chaos: cannot start the async runtime: {e}");
                ExitCode::from(run::exit::HARNESS)
            }
        },
    }
}

/// Checks every history, printing verdicts to stdout and errors to stderr.
fn check(args: &CheckArgs) -> RunStatus {
    let mut worst = RunStatus::Passed;
    for path in &args.histories {
        let status = match check_file(path, args.max_states) {
            Ok(report) => {
                print!("{}", report.render(&path.display().to_string()));
                match report.status() {
                    Status::Linearizable => RunStatus::Passed,
                    Status::Unknown => RunStatus::Unknown,
                    Status::NotLinearizable => RunStatus::Violation,
                }
            }
            Err(err) => {
                eprintln!("{}: error: {err:#}", path.display());
                RunStatus::Unreadable
            }
        };
        worst = worst.max(status);
    }
    worst
}

fn check_file(path: &Path, max_states: u64) -> anyhow::Result<HistoryReport> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let report = report::check_history(BufReader::new(file), max_states)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_history(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
        let path = dir.join(name);
        let mut file = File::create(&path).expect("create history");
        for line in lines {
            writeln!(file, "{line}").expect("write history");
        }
        path
    }

    const W: &str = r#"{"process":0,"type":"invoke","f":"write","key":"k","value":5,"time_ns":1}"#;
    const W_OK: &str = r#"{"process":0,"type":"ok","f":"write","key":"k","value":5,"time_ns":2}"#;
    const R: &str =
        r#"{"process":1,"type":"invoke","f":"read","key":"k","value":null,"time_ns":3}"#;

    #[test]
    fn checks_history_files_from_disk() {
        let dir = tempfile::tempdir().expect("temp dir");
        let read_5 = r#"{"process":1,"type":"ok","f":"read","key":"k","value":5,"time_ns":4}"#;
        let good = write_history(dir.path(), "good.jsonl", &[W, W_OK, R, read_5]);
        let report = check_file(&good, 1000).expect("readable");
        assert_eq!(report.status(), Status::Linearizable);
        assert_eq!(report.counts.operations, 2);

        let read_4 = r#"{"process":1,"type":"ok","f":"read","key":"k","value":4,"time_ns":4}"#;
        let bad = write_history(dir.path(), "bad.jsonl", &[W, W_OK, R, read_4]);
        let report = check_file(&bad, 1000).expect("readable");
        assert_eq!(report.status(), Status::NotLinearizable);

        let args = CheckArgs {
            histories: vec![good, bad],
            max_states: 1000,
        };
        assert_eq!(check(&args), RunStatus::Violation);
    }

    #[test]
    fn a_missing_or_malformed_file_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing.jsonl");
        assert!(check_file(&missing, 1000).is_err());
        let broken = write_history(dir.path(), "broken.jsonl", &[W, "{not json"]);
        let err = check_file(&broken, 1000).expect_err("malformed");
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
    }

    #[test]
    fn the_command_line_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["arqonbus-chaos", "check", "a", "--max-states", "7"])
            .expect("valid arguments");
        let Command::Check(args) = cli.command else {
            panic!("expected the check subcommand");
        };
        assert_eq!(args.max_states, 7);
        assert!(Cli::try_parse_from(["arqonbus-chaos", "check"]).is_err());

        let cli = Cli::try_parse_from([
            "arqonbus-chaos",
            "run",
            "--out",
            "o",
            "--duration",
            "30",
            "--kills",
            "10",
            "--pauses",
            "3",
            "--faults",
            "kill-leader,pause-leader",
        ])
        .expect("valid arguments");
        let Command::Run(args) = cli.command else {
            panic!("expected the run subcommand");
        };
        assert_eq!((args.duration, args.kills, args.pauses), (30, 10, 3));
        assert_eq!(args.degraded_bound, 5.0);
        assert_eq!(
            args.faults.0,
            [
                nemesis::FaultKind::KillLeader,
                nemesis::FaultKind::PauseLeader
            ]
        );
        let none = ["arqonbus-chaos", "run", "--out", "o", "--faults", ""];
        let Command::Run(args) = Cli::try_parse_from(none).expect("valid").command else {
            panic!("expected the run subcommand");
        };
        assert!(args.faults.0.is_empty(), "--faults '' is an empty mix");
        let wrong = [
            "arqonbus-chaos",
            "run",
            "--out",
            "o",
            "--faults",
            "kill-leader,nap",
        ];
        assert!(
            Cli::try_parse_from(wrong).is_err(),
            "unknown fault kinds are refused"
        );
        assert!(
            Cli::try_parse_from(["arqonbus-chaos", "run"]).is_err(),
            "--out is required"
        );
    }
}
