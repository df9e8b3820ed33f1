//! Wire types of the server-to-client messages: replies on a request's
//! stream and the numbered events of the push stream. The recipient is the
//! holder of the connection, so there is no `target` field; every message
//! names its `target_system`, and its `proposal_id` where it has one.

use serde::{Deserialize, Serialize};

use super::envelope::UnixMillis;
use super::error::ErrorReply;
use super::message::{Impact, Parameters};
use super::workflow::Allowed;
use arqonbus_core::value::ParamValue;

/// The outcome of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 0: every change approved; `rejected_changes` is empty.
    Approved,
    /// 1: some approved, some rejected; both lists are non-empty.
    PartiallyApproved,
    /// 2: nothing approved; `approved_changes` is empty.
    Rejected,
    /// 3: outside the auto-approve envelope; `approved_changes` lists what
    /// waits for an operator. The final decision comes as an event.
    PendingApproval,
}

/// How an approved change reaches all traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutSchedule {
    /// 0: to 100% at once (still monitored).
    Immediate,
    /// 1: shadow (0%), canary (1-5%), 25%, 50%, 75%, 100%, each phase held
    /// for its monitoring window.
    Gradual,
}

/// How a change is watched once applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnforcementMode {
    /// 0: applied; telemetry watched; a breach rolls back automatically.
    Monitored,
    /// 1: evaluated in shadow only: validated and observed, never applied.
    Shadow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovedChange {
    pub parameter: String,
    pub approved_value: ParamValue,
    pub rollout_schedule: RolloutSchedule,
    /// Largest share of traffic (0 < x <= 1) moved onto the new value in
    /// one rollout step.
    pub max_change_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedChange {
    pub parameter: String,
    pub reason: String,
    /// Name of the constraint that refused it, when one did.
    pub constraint_violated: Option<String>,
    /// What would have been accepted, as data (PROTOCOL.md §6.7), when
    /// the rejection is about this parameter's value.
    pub allowed: Option<Allowed>,
}

/// Reply type 0x82 (and event body 0): the decision on a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub proposal_id: String,
    pub target_system: String,
    /// The node that decided (informational).
    pub source: String,
    pub timestamp: UnixMillis,
    pub decision: Decision,
    pub approved_changes: Vec<ApprovedChange>,
    pub rejected_changes: Vec<RejectedChange>,
    pub enforcement_mode: EnforcementMode,
    /// Seconds after reaching 100% during which a breach still rolls back
    /// automatically; after that the change is the new last-known-good.
    pub rollback_timeout: u64,
}

/// Where a proposal is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// 0: waiting for an operator.
    PendingApproval,
    /// 1: approved and rolling out or under watch.
    Active,
    /// 2: at 100% past its rollback timeout; now last-known-good.
    Steady,
    /// 3: rejected.
    Rejected,
    /// 4: rolled back to last-known-good.
    RolledBack,
    /// 5: pending approval for too long; dropped.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Share of traffic on the new values, 0..=100.
    pub rollout_percentage: u8,
    /// Seconds the current phase has been monitored.
    pub monitoring_duration: u64,
    /// Constraint violations seen so far (a hard one triggers a rollback).
    pub constraint_violations: u32,
}

/// Reply type 0x83 (and event body 1): progress of a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub proposal_id: String,
    pub target_system: String,
    pub source: String,
    pub timestamp: UnixMillis,
    pub status: ProposalStatus,
    pub progress: Progress,
    /// Candidate minus baseline, per metric, in the metric's unit.
    pub observed_impact: Impact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackReason {
    /// 0: a constraint was breached (see `triggered_*`).
    ConstraintViolation,
    /// 1: the candidate cohort did significantly worse than the baseline.
    BaselineRegression,
    /// 2: an operator asked for it.
    Operator,
    /// 3: not enough telemetry arrived to judge the change in time.
    MissingTelemetry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackAction {
    /// 0: all traffic back to last-known-good at once.
    Immediate,
    /// 1: stepwise, for changes that are unsafe to flip at once.
    Gradual,
}

/// Reply type 0x84 (and event body 2): a change was rolled back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollback {
    pub proposal_id: String,
    pub target_system: String,
    pub source: String,
    pub timestamp: UnixMillis,
    pub reason: RollbackReason,
    pub triggered_constraint: Option<String>,
    pub triggered_value: Option<f64>,
    pub allowed_value: Option<f64>,
    pub rollback_action: RollbackAction,
    pub parameters_to_restore: Parameters,
}

/// Reply type 0x81: what happened to a telemetry batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryAck {
    pub accepted: u32,
    /// Samples refused (unknown or forbidden target system); not retried.
    pub rejected: u32,
}

/// The next event number of one target system's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPosition {
    pub target_system: String,
    pub next_seq: u64,
}

/// Reply type 0x85: the subscription is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscribed {
    pub streams: Vec<StreamPosition>,
}

/// What an event carries. Variant index: approval 0, status 1, rollback 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EventBody {
    Approval(Approval),
    Status(Status),
    Rollback(Rollback),
}

/// Reply type 0x86: one numbered event of the push stream. `seq` counts
/// from 0 per target system, without gaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub target_system: String,
    pub seq: u64,
    pub body: EventBody,
}

/// Any server-to-client message; the frame's type byte says which.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Error(ErrorReply),
    TelemetryAck(TelemetryAck),
    Approval(Approval),
    Status(Status),
    Rollback(Rollback),
    Subscribed(Subscribed),
    Event(Event),
    Operated(super::operator::OperatorReply),
    Workflowed(super::workflow::WorkflowReply),
    /// 0xb0: a target's traffic assignment (PROTOCOL.md §6.15).
    Assignment(super::rollout::Assignment),
    /// 0xb1: a target's rollout, recent rollbacks and verdicts.
    RolloutStatus(super::rollout::RolloutStatus),
}
