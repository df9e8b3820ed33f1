//! The nemesis: faults on a schedule. Kinds: SIGKILL the leader (or a
//! random node) and restart it; SIGSTOP the leader past the election
//! timeout and SIGCONT it; partitions (the leader cut off from the other
//! two, one follower isolated, the leader hearing nothing from its peers
//! while what it sends still arrives), each mended after `--partition-ms`;
//! a membership change under load (a follower removed from the cluster
//! and added back with its data); and power losses (one node, the leader,
//! or a majority at once lose every write they did not sync, see
//! `power.rs`). Each fault is logged with the role its
//! victim had at that moment; when the victim led, the election is timed:
//! from the fault to another node reporting itself leader in a higher term.
//!
//! The schedule holds the required minimum of each kind plus random faults
//! from the allowed mix, shuffled, one per interval. Random faults due
//! after the run's end are skipped; required ones are always injected (the
//! run is extended), so a run meets its minimums or fails.

mod crash;
mod membership;
mod partition;
mod power;
mod watch;

use crate::cluster::Cluster;
use crate::rng::Rng;
use serde::Serialize;
use std::time::{Duration, Instant};

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    KillLeader,
    KillRandom,
    PauseLeader,
    /// The leader cut off from both followers, both ways.
    PartitionLeader,
    /// One follower cut off from the other two, both ways.
    IsolateFollower,
    /// The leader hears nothing from its peers; what it sends arrives.
    OneWayLeader,
    /// A follower removed from the membership and added back.
    Membership,
    /// One node, chosen at random, loses power (its unsynced writes).
    PowerLossNode,
    /// The leader loses power.
    PowerLossLeader,
    /// Two of the three nodes, the leader among them, lose power at once.
    PowerLossMajority,
}

/// The power-loss kinds, in the order required power losses take them.
pub const POWER_LOSSES: [FaultKind; 3] = [
    FaultKind::PowerLossNode,
    FaultKind::PowerLossLeader,
    FaultKind::PowerLossMajority,
];

/// The partition kinds, in the order required partitions take them.
pub const PARTITIONS: [FaultKind; 3] = [
    FaultKind::PartitionLeader,
    FaultKind::IsolateFollower,
    FaultKind::OneWayLeader,
];

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillLeader => "kill-leader",
            FaultKind::KillRandom => "kill-random",
            FaultKind::PauseLeader => "pause-leader",
            FaultKind::PartitionLeader => "partition-leader",
            FaultKind::IsolateFollower => "isolate-follower",
            FaultKind::OneWayLeader => "one-way-leader",
            FaultKind::Membership => "membership",
            FaultKind::PowerLossNode => "power-loss-node",
            FaultKind::PowerLossLeader => "power-loss-leader",
            FaultKind::PowerLossMajority => "power-loss-majority",
        }
    }

    pub fn is_partition(self) -> bool {
        PARTITIONS.contains(&self)
    }

    pub fn is_power_loss(self) -> bool {
        POWER_LOSSES.contains(&self)
    }

    /// What the summary groups election times by.
    pub fn cause(self) -> &'static str {
        match self {
            FaultKind::KillLeader | FaultKind::KillRandom => "kill",
            FaultKind::PauseLeader => "pause",
            FaultKind::PartitionLeader | FaultKind::IsolateFollower | FaultKind::OneWayLeader => {
                "partition"
            }
            FaultKind::Membership => "membership",
            FaultKind::PowerLossNode
            | FaultKind::PowerLossLeader
            | FaultKind::PowerLossMajority => "power-loss",
        }
    }
}

/// How the nemesis behaves.
#[derive(Debug, Clone)]
pub struct NemesisOptions {
    pub interval: Duration,
    /// How long a paused leader stays paused.
    pub pause: Duration,
    /// How long a partition is held before it is mended.
    pub partition: Duration,
    pub min_leader_kills: usize,
    pub min_leader_pauses: usize,
    /// At least this many partitions, taking the kinds in turn.
    pub min_partitions: usize,
    pub min_membership_changes: usize,
    /// At least this many power losses, taking the kinds in turn.
    pub min_power_losses: usize,
    /// Kinds the rest of the schedule is drawn from (empty: none).
    pub mix: Vec<FaultKind>,
    /// How long a new leader may take before it is a violation.
    pub election_bound: Duration,
}

/// One injected fault.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    pub kind: FaultKind,
    pub node: u64,
    /// The victim's role when it was hit.
    pub victim_role: &'static str,
    /// Seconds since the run started.
    pub at_s: f64,
    pub term_before: Option<u64>,
    /// Time from the signal to a new leader, when the victim led.
    pub election_ms: Option<u64>,
    pub new_leader: Option<u64>,
    pub new_term: Option<u64>,
    /// When the victim was restarted (kill), resumed (pause), reconnected
    /// (partition) or added back (membership), in seconds since the run
    /// started: the heal the degraded-mode check times from.
    pub healed_s: Option<f64>,
    /// What else happened (a membership change's steps and times).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What the nemesis did and saw.
#[derive(Debug, Default, Serialize)]
pub struct NemesisReport {
    pub faults: Vec<Fault>,
    /// Broken promises: no new leader in time, a node that died by itself.
    pub violations: Vec<String>,
    /// Faults that could not be injected: the run cannot pass.
    pub errors: Vec<String>,
    /// Seconds the run went past its duration to meet the minimums.
    pub extended_s: f64,
}

/// The schedule: required faults and random ones, shuffled.
pub fn plan(duration: Duration, options: &NemesisOptions, rng: &mut Rng) -> Vec<(FaultKind, bool)> {
    let slots = (duration.as_secs_f64() / options.interval.as_secs_f64().max(0.001)) as usize;
    let required = |kind, n| std::iter::repeat_n((kind, true), n);
    let partitions = (0..options.min_partitions).map(|i| (PARTITIONS[i % PARTITIONS.len()], true));
    let power_losses =
        (0..options.min_power_losses).map(|i| (POWER_LOSSES[i % POWER_LOSSES.len()], true));
    let mut faults: Vec<(FaultKind, bool)> =
        required(FaultKind::KillLeader, options.min_leader_kills)
            .chain(required(FaultKind::PauseLeader, options.min_leader_pauses))
            .chain(partitions)
            .chain(required(
                FaultKind::Membership,
                options.min_membership_changes,
            ))
            .chain(power_losses)
            .collect();
    while faults.len() < slots && !options.mix.is_empty() {
        let kind = options.mix[rng.below(options.mix.len() as u64) as usize];
        faults.push((kind, false));
    }
    rng.shuffle(&mut faults);
    faults
}

/// Runs the schedule from `start` until `end` (later for required faults).
/// `stop` ends it early (the harness is failing anyway).
pub async fn run(
    cluster: &mut Cluster,
    schedule: Vec<(FaultKind, bool)>,
    options: &NemesisOptions,
    (start, end): (Instant, Instant),
    rng: &mut Rng,
) -> NemesisReport {
    let mut report = NemesisReport::default();
    let mut next = start;
    for (kind, required) in schedule {
        next += options.interval;
        let now = Instant::now();
        if now.max(next) >= end && !required {
            continue;
        }
        if next > now {
            tokio::time::sleep(next - now).await;
        }
        report.violations.extend(cluster.exited().await);
        match inject(cluster, kind, options, start, rng).await {
            Ok(fault) => {
                if fault.victim_role == "leader" && fault.election_ms.is_none() {
                    report.violations.push(format!(
                        "{} of node {} at {:.1} s: no new leader within {:?}",
                        kind.name(),
                        fault.node,
                        fault.at_s,
                        options.election_bound
                    ));
                }
                report.faults.push(fault);
            }
            Err(e) => {
                report.errors.push(format!("{}: {e:#}", kind.name()));
                // Leave the cluster whole for the next fault.
                if let Err(e) = cluster.heal().await {
                    report
                        .errors
                        .push(format!("healing after a failed fault: {e:#}"));
                    break;
                }
            }
        }
    }
    let done = Instant::now();
    if done > end {
        report.extended_s = (done - end).as_secs_f64();
    }
    report.violations.extend(cluster.exited().await);
    report
}

/// Injects one fault and heals it.
async fn inject(
    cluster: &mut Cluster,
    kind: FaultKind,
    options: &NemesisOptions,
    start: Instant,
    rng: &mut Rng,
) -> anyhow::Result<Fault> {
    match kind {
        FaultKind::KillLeader | FaultKind::KillRandom | FaultKind::PauseLeader => {
            crash::inject(cluster, kind, options, start, rng).await
        }
        FaultKind::PartitionLeader | FaultKind::IsolateFollower | FaultKind::OneWayLeader => {
            partition::inject(cluster, kind, options, start, rng).await
        }
        FaultKind::Membership => membership::inject(cluster, options, start, rng).await,
        FaultKind::PowerLossNode | FaultKind::PowerLossLeader | FaultKind::PowerLossMajority => {
            power::inject(cluster, kind, options, start, rng).await
        }
    }
}

impl Fault {
    /// A fault of `kind` on `node` (which had `role`), hit at `hit`.
    fn new(
        kind: FaultKind,
        node: u64,
        role: &'static str,
        term: Option<u64>,
        at: Duration,
    ) -> Fault {
        Fault {
            kind,
            node,
            victim_role: role,
            at_s: at.as_secs_f64(),
            term_before: term,
            election_ms: None,
            new_leader: None,
            new_term: None,
            healed_s: None,
            note: None,
        }
    }

    fn note_election(&mut self, elected: Option<(u64, u64, Duration)>) {
        if let Some((id, term, took)) = elected {
            self.election_ms = Some(took.as_millis() as u64);
            self.new_leader = Some(id);
            self.new_term = Some(term);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(kills: usize, pauses: usize, mix: Vec<FaultKind>) -> NemesisOptions {
        NemesisOptions {
            interval: Duration::from_secs(4),
            pause: Duration::from_secs(2),
            partition: Duration::from_secs(3),
            min_leader_kills: kills,
            min_leader_pauses: pauses,
            min_partitions: 0,
            min_membership_changes: 0,
            min_power_losses: 0,
            mix,
            election_bound: Duration::from_secs(10),
        }
    }

    #[test]
    fn the_plan_holds_the_minimums_and_fills_the_slots() {
        let mut rng = Rng::new(3);
        let all = vec![
            FaultKind::KillLeader,
            FaultKind::KillRandom,
            FaultKind::PauseLeader,
        ];
        let plan = plan(Duration::from_secs(180), &options(10, 3, all), &mut rng);
        assert_eq!(plan.len(), 45);
        let required = |k| plan.iter().filter(|(kind, req)| *kind == k && *req).count();
        assert_eq!(required(FaultKind::KillLeader), 10);
        assert_eq!(required(FaultKind::PauseLeader), 3);
    }

    #[test]
    fn minimums_above_the_slots_are_kept() {
        let mut rng = Rng::new(3);
        let plan = plan(Duration::from_secs(8), &options(3, 2, Vec::new()), &mut rng);
        assert_eq!(plan.len(), 5);
        assert!(plan.iter().all(|(_, required)| *required));
    }
}

#[cfg(test)]
mod partition_plan_tests {
    use super::*;

    #[test]
    fn required_partitions_and_power_losses_take_each_kind_in_turn() {
        let options = NemesisOptions {
            interval: Duration::from_secs(4),
            pause: Duration::from_secs(2),
            partition: Duration::from_secs(3),
            min_leader_kills: 10,
            min_leader_pauses: 3,
            min_partitions: 4,
            min_membership_changes: 1,
            min_power_losses: 4,
            mix: vec![FaultKind::KillRandom],
            election_bound: Duration::from_secs(10),
        };
        let plan = plan(Duration::from_secs(180), &options, &mut Rng::new(9));
        let required = |k| plan.iter().filter(|(kind, req)| *kind == k && *req).count();
        assert_eq!(required(FaultKind::PartitionLeader), 2);
        assert_eq!(required(FaultKind::IsolateFollower), 1);
        assert_eq!(required(FaultKind::OneWayLeader), 1);
        assert_eq!(required(FaultKind::Membership), 1);
        assert_eq!(required(FaultKind::PowerLossNode), 2);
        assert_eq!(required(FaultKind::PowerLossLeader), 1);
        assert_eq!(required(FaultKind::PowerLossMajority), 1);
        assert_eq!(required(FaultKind::KillLeader), 10);
        assert_eq!(plan.len(), 45, "random kills fill the remaining slots");
        assert!(plan
            .iter()
            .any(|(k, req)| *k == FaultKind::KillRandom && !req));
    }
}
