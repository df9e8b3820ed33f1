//! Wire types of gradual rollouts (PROTOCOL.md §6.15), added to version 2
//! within the ranges §7.1 holds for them: the requests `watch_assignment`
//! (0x30: a push stream of the target's traffic assignment, for the
//! target's agents), `tagged_telemetry` (0x31: samples tagged with the
//! assignment epoch they were measured under) and `rollout` (0x32: the
//! rollout's status, and pause, resume, promote); the replies
//! `assignment` (0xb0) and `rollout_status` (0xb1). The same rules as every
//! wire type apply (see `message`): field order is the encoding order.

use serde::{Deserialize, Serialize};

use super::envelope::UnixMillis;
use super::message::{Impact, Parameters, TelemetrySample};
use super::reply::RollbackReason;

/// The `phase` of an assignment when no rollout is active; never the name
/// of a rollout's phase.
pub const STEADY: &str = "steady";

/// Request type 0x30: open the assignment push stream of one target.
/// Answered by `assignment` (0xb0) frames on the same stream: the current
/// one first, then each newer one as it is committed (a `rollback` frame,
/// 0x84, comes just before an assignment a rollback produced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchAssignment {
    pub target_system: String,
}

/// One sample tagged with the assignment epoch in force when it was
/// measured; its `cohort` says baseline or candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggedSample {
    pub epoch: u64,
    pub sample: TelemetrySample,
}

/// Request type 0x31: samples tagged with their epoch. Answered by
/// `telemetry_ack` (0x81); a sample of another epoch than the target's
/// current one is counted in `rejected` and dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggedTelemetry {
    pub samples: Vec<TaggedSample>,
}

/// Request type 0x32. `Status` is a read (any role; `stale` lets any node
/// answer from its replica); the others change state (operator, admin;
/// signed) and are answered by the resulting `rollout_status` (0xb1).
/// A manual rollback is `workflow`'s `Rollback` (0x20, variant 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RolloutRequest {
    /// 0: the target's rollout, recent rollbacks and verdicts.
    Status { target_system: String, stale: bool },
    /// 1: hold the rollout in its current phase.
    Pause {
        target_system: String,
        reason: String,
    },
    /// 2: let a paused rollout advance again.
    Resume {
        target_system: String,
        reason: String,
    },
    /// 3: advance to the next phase now (`full`: to the last phase).
    Promote {
        target_system: String,
        full: bool,
        reason: String,
    },
}

impl RolloutRequest {
    /// The target the request is about.
    pub fn target_system(&self) -> &str {
        match self {
            RolloutRequest::Status { target_system, .. }
            | RolloutRequest::Pause { target_system, .. }
            | RolloutRequest::Resume { target_system, .. }
            | RolloutRequest::Promote { target_system, .. } => target_system,
        }
    }
}

/// Reply type 0xb0: which traffic runs which parameters, as of `epoch`.
/// Each assignment replaces the previous; epochs strictly increase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub target_system: String,
    pub epoch: u64,
    /// The proposal rolling out; `None` when `phase` is `steady`.
    pub proposal_id: Option<String>,
    /// The rollout phase's name from the target's plan (`shadow`,
    /// `canary`, `p25`, …), or `steady` when no rollout is active.
    pub phase: String,
    /// Percent of traffic on `candidate`, 0..=100 (0 when steady).
    pub share: u8,
    pub baseline: Parameters,
    /// `None` when `phase` is `steady`.
    pub candidate: Option<Parameters>,
}

/// How a verdict (of a whole rollout, or of one metric) came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictClass {
    /// 0: the candidate is not worse.
    Pass,
    /// 1: worse, but within the tolerance.
    Marginal,
    /// 2: not enough samples to tell.
    Inconclusive,
    /// 3: significantly worse.
    Fail,
}

/// The rollout in progress on a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutView {
    pub proposal_id: String,
    pub phase: String,
    /// Index of `phase` in the plan, from 0; below `phases`.
    pub phase_index: u32,
    /// Phases in the plan.
    pub phases: u32,
    /// Percent of traffic on the candidate, 0..=100.
    pub share: u8,
    pub phase_started_ms: UnixMillis,
    pub paused: bool,
    /// Constraint violations seen in this rollout so far.
    pub violations: u32,
    /// Candidate minus baseline, per metric, in the metric's unit.
    pub observed_impact: Impact,
}

/// One recent rollback of a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentRollback {
    pub proposal_id: String,
    pub reason: RollbackReason,
    pub triggered_constraint: Option<String>,
    pub at_ms: UnixMillis,
}

/// One metric's comparison of candidate against baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricVerdictView {
    pub metric: String,
    pub class: VerdictClass,
    pub reason: String,
    pub candidate_samples: u64,
    pub baseline_samples: u64,
    pub candidate_median: Option<f64>,
    pub baseline_median: Option<f64>,
    /// The Mann–Whitney U test's p-value, in [0, 1].
    pub p_value: Option<f64>,
    /// The effect size, in [-1, 1].
    pub rank_biserial: Option<f64>,
}

/// One recent end-of-rollout verdict of a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictView {
    pub proposal_id: String,
    pub class: VerdictClass,
    pub reason: String,
    pub at_ms: UnixMillis,
    pub metrics: Vec<MetricVerdictView>,
}

/// Reply type 0xb1: a target's rollout, recent rollbacks and verdicts
/// (newest first). Also the answer to a pause, resume or promote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutStatus {
    pub target_system: String,
    /// The target's current assignment epoch.
    pub epoch: u64,
    /// `None` when no rollout is in progress.
    pub rollout: Option<RolloutView>,
    pub recent_rollbacks: Vec<RecentRollback>,
    pub recent_verdicts: Vec<VerdictView>,
}
