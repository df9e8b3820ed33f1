//! The command line of `arqonbus-chaos run`: the back end, the duration,
//! the fault minimums and mix, the workloads' rates and the checks'
//! bounds, and what they make: the nemesis options and the cluster setup.

use crate::cluster::{PowerModel, Setup};
use crate::nemesis::{FaultKind, NemesisOptions};
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// `arqonbus node` processes: on 127.0.0.1, or each in its own network
    /// namespace when the run partitions (root).
    Process,
    /// The three containers of `--compose-file` (Docker and root).
    Docker,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[arg(long, value_enum, default_value_t = Backend::Process)]
    pub backend: Backend,
    /// Seconds of workload under faults.
    #[arg(long, default_value_t = 60)]
    pub duration: u64,
    /// Output directory: history.jsonl, node-N.log, summary.json, data.
    #[arg(long)]
    pub out: PathBuf,
    /// The arqonbus binary (default: next to this executable).
    #[arg(long)]
    pub arqonbus: Option<PathBuf>,
    /// Seconds between faults.
    #[arg(long, default_value_t = 4.0)]
    pub interval: f64,
    /// Milliseconds a paused leader stays paused (election timeout is 300-500 ms).
    #[arg(long, default_value_t = 2000)]
    pub pause_ms: u64,
    /// Milliseconds a partition is held, and a removed node kept out.
    #[arg(long, default_value_t = 3000)]
    pub partition_ms: u64,
    /// At least this many leader kills.
    #[arg(long, default_value_t = 0)]
    pub kills: usize,
    /// At least this many leader pauses.
    #[arg(long, default_value_t = 0)]
    pub pauses: usize,
    /// At least this many partitions (partition-leader, isolate-follower
    /// and one-way-leader in turn).
    #[arg(long, default_value_t = 0)]
    pub partitions: usize,
    /// At least this many membership changes (a follower removed and added
    /// back).
    #[arg(long, default_value_t = 0)]
    pub membership_changes: usize,
    /// At least this many power losses (one node, the leader, a majority
    /// at once, in turn): process back end only, each node's data on a
    /// power-loss filesystem (root and /dev/fuse).
    #[arg(long, default_value_t = 0)]
    pub power_losses: usize,
    /// With power losses, milliseconds between writebacks: the filesystem
    /// then makes everything durable at that period, as a kernel does, and
    /// a power loss takes only the tail since the last one. 0 (the
    /// default): the strict model, only syncs make anything durable.
    #[arg(long, default_value_t = 0)]
    pub writeback_ms: u64,
    /// The compose file of the docker back end.
    #[arg(long, default_value = "cluster/docker-compose.yml")]
    pub compose_file: PathBuf,
    /// The kinds the rest of the schedule is drawn from (comma-separated;
    /// `--faults ''` for none).
    #[arg(long, value_parser = parse_mix, default_value = "kill-leader,kill-random,pause-leader")]
    pub faults: FaultMix,
    /// Concurrent workload clients.
    #[arg(long, default_value_t = 4)]
    pub clients: u64,
    /// Operations per second over all clients.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Concurrent proposer tasks (0: no proposal workload).
    #[arg(long, default_value_t = 2)]
    pub proposers: u64,
    /// Proposals per second over all proposers.
    #[arg(long, default_value_t = 10.0)]
    pub proposal_rate: f64,
    /// Rollout targets, each with a proposer and an agent (0: no rollout
    /// workload).
    #[arg(long, default_value_t = 4)]
    pub rollout_targets: u64,
    /// Seconds of accepted breaching samples after which a rollout must
    /// have been rolled back (default: the election bound plus the
    /// partition time plus 2 s to gather the guardrail's samples).
    #[arg(long)]
    pub breach_bound: Option<f64>,
    /// Seconds a proposal with an unknown outcome is re-sent before the
    /// proposer gives up on it.
    #[arg(long, default_value_t = 30)]
    pub resend_bound: u64,
    /// Operations per register key before moving to a fresh key.
    #[arg(long, default_value_t = 100)]
    pub ops_per_key: u64,
    /// Seed for the harness's choices (default: from the clock).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Checker search budget per key.
    #[arg(long, default_value_t = crate::checker::DEFAULT_MAX_STATES)]
    pub max_states: u64,
    /// Seconds a new leader may take after a fault before it is a violation.
    #[arg(long, default_value_t = 10)]
    pub election_bound: u64,
    /// Seconds after each heal (a killed node restarted, a paused one
    /// resumed) by which the watched proposer session must have left
    /// degraded mode.
    #[arg(long, default_value_t = 5.0)]
    pub degraded_bound: f64,
    /// Seconds the healed cluster may take to agree on an applied index.
    #[arg(long, default_value_t = 60)]
    pub converge_bound: u64,
}

impl RunArgs {
    /// How long breaching samples may be accepted before a rollback.
    pub(super) fn breach_bound(&self) -> Duration {
        match self.breach_bound {
            Some(s) => Duration::from_secs_f64(s.max(0.0)),
            None => {
                Duration::from_secs(self.election_bound + 2)
                    + Duration::from_millis(self.partition_ms)
            }
        }
    }

    pub(super) fn nemesis_options(&self) -> NemesisOptions {
        NemesisOptions {
            interval: Duration::from_secs_f64(self.interval),
            pause: Duration::from_millis(self.pause_ms),
            partition: Duration::from_millis(self.partition_ms),
            min_leader_kills: self.kills,
            min_leader_pauses: self.pauses,
            min_partitions: self.partitions,
            min_membership_changes: self.membership_changes,
            min_power_losses: self.power_losses,
            mix: self.faults.0.clone(),
            election_bound: Duration::from_secs(self.election_bound),
        }
    }

    /// How to run the cluster; processes get network namespaces only when
    /// the schedule partitions, and power-loss filesystems only when it cuts
    /// power (both need root).
    pub(super) fn setup(&self, schedule: &[(FaultKind, bool)]) -> Setup {
        match self.backend {
            Backend::Process => Setup::Process {
                network: schedule.iter().any(|(kind, _)| kind.is_partition()),
                power_loss: schedule
                    .iter()
                    .any(|(kind, _)| kind.is_power_loss())
                    .then_some(PowerModel {
                        writeback: (self.writeback_ms > 0)
                            .then(|| Duration::from_millis(self.writeback_ms)),
                    }),
            },
            Backend::Docker => Setup::Docker {
                compose_file: self.compose_file.clone(),
            },
        }
    }
}

/// The fault kinds random slots are drawn from; may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultMix(pub Vec<FaultKind>);

/// `kill-leader,pause-leader`, or `` for none.
fn parse_mix(text: &str) -> Result<FaultMix, String> {
    text.split(',')
        .map(str::trim)
        .filter(|kind| !kind.is_empty())
        .map(|kind| FaultKind::from_str(kind, false))
        .collect::<Result<_, _>>()
        .map(FaultMix)
}

/// The `arqonbus` binary: `--arqonbus`, else next to this executable.
pub(super) fn arqonbus_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe()
            .context("finding this executable")?
            .parent()
            .context("this executable has no directory")?
            .join("arqonbus"),
    };
    anyhow::ensure!(
        path.is_file(),
        "no arqonbus binary at {} (build it, or pass --arqonbus)",
        path.display()
    );
    Ok(path)
}
