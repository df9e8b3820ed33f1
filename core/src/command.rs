//! Commands: what goes into the Raft log, and what `apply` answers.
//!
//! Every command carries who sent it (from the certificate), the time the
//! leader stamped on it (`apply` never reads a clock) and, for a client's
//! request, how the client numbered it (its session and sequence number,
//! which `apply` checks against replays: `sessions`).

use crate::constraints::{ConstraintSet, Problem, Violation};
use crate::policy::Policy;
use crate::proposal::{Decision, ProposalSpec, Verdict as ProposalVerdict};
use crate::role::{Permission, Role};
use crate::rollout::progress::RollbackCause;
use crate::rollout::verdict::Verdict;
use crate::seal::Seal;
use crate::security::SecuritySummary;
use crate::sessions::Origin;
use crate::value::ParamValue;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The identity behind a command, as its certificate names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub identity: String,
    pub role: Role,
}

/// One command in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub actor: Actor,
    /// Unix milliseconds, stamped by the leader when it accepted the command.
    pub at_ms: u64,
    pub op: Op,
    /// The client's session, sequence number and clock, for a client's
    /// request; `None` for what a node proposes itself (expiry, security
    /// summaries).
    pub origin: Option<Origin>,
    /// The client's signature of the request, with its key and the bytes
    /// signed, when it was signed: `apply` verifies it again, and the
    /// audit entry keeps it.
    pub seal: Option<Seal>,
}

/// What a command asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Replace a target's constraint set (creating the target if new).
    SetConstraints {
        target: String,
        constraints: ConstraintSet,
    },
    /// Operator override: set live and last-known-good values at once.
    /// With `expected`, only if each listed live value equals it
    /// (compare-and-set).
    SetParameters {
        target: String,
        values: BTreeMap<String, ParamValue>,
        expected: Option<BTreeMap<String, ParamValue>>,
    },
    /// A proposer's proposal: decided change by change against the
    /// target's constraints (a proposal id seen before returns the recorded
    /// decision). Only a proposer or an admin may propose.
    Propose { proposal: ProposalSpec },
    /// One security event a node saw. No longer proposed (each attempt
    /// was an entry: any viewer could grow the log at request rate); kept
    /// so that logs holding it still decode. Nodes send
    /// [`Op::SecuritySummary`] instead.
    SecurityEvent {
        identity: String,
        role: Role,
        what: String,
    },
    /// Many commands in one log entry, answered one result each. The
    /// leader packs concurrent commands so one fsync serves them all.
    Batch(Vec<Command>),
    /// The refused and forbidden attempts one node saw in one interval,
    /// counted per identity and kind (at most one per node per interval).
    /// Only a node may propose it.
    SecuritySummary(SecuritySummary),
    /// Replace a target's constraints and format-2 policy. Refused while
    /// a proposal is pending, or when the live values would break them,
    /// unless `force` (which closes the pending proposal; audited
    /// `constraints_forced`).
    Configure {
        target: String,
        constraints: ConstraintSet,
        policy: Policy,
        force: bool,
    },
    /// Operator override checked against kind, range, `frozen` and the
    /// rules (not steps, envelope, quarantine or cooldown). Refused while
    /// a proposal is pending unless `force` (audited `params_forced`).
    Override {
        target: String,
        values: BTreeMap<String, ParamValue>,
        expected: Option<BTreeMap<String, ParamValue>>,
        force: bool,
    },
    /// An operator approves a pending proposal.
    Approve { proposal_id: String, reason: String },
    /// An operator rejects a pending proposal.
    RejectPending { proposal_id: String, reason: String },
    /// The leader closes a pending proposal past its expiry (only a node).
    Expire { proposal_id: String },
    /// An operator rolls back the target's rollout in progress: its
    /// values are quarantined and the target cools down.
    Rollback { target: String, reason: String },
    /// The leader moves the rollout of `proposal_id` on from phase
    /// `from_phase`: to the next phase, or after the last to steady, as
    /// `verdict` (the end-of-rollout verdict the leader computed) allows.
    /// Refused when that rollout is not in that phase (a stale or repeated
    /// command), is paused, or the phase's minimum time is not over by the
    /// command's time. Only a node.
    AdvancePhase {
        target: String,
        proposal_id: String,
        from_phase: u32,
        verdict: Option<Verdict>,
    },
    /// An operator pauses, resumes or promotes the target's rollout.
    Steer {
        target: String,
        action: SteerAction,
        reason: String,
    },
    /// The leader rolls back the rollout of `proposal_id`: refused when
    /// that rollout is no longer in progress, so two leaders seeing the
    /// same breach roll it back once. Only a node.
    AbortRollout {
        target: String,
        proposal_id: String,
        cause: RollbackCause,
    },
    /// The leader's summary of a rollout's telemetry: the candidate's
    /// observed metrics, candidate minus baseline, and the breaching
    /// evaluations since its last summary. Only a node.
    Observe {
        target: String,
        proposal_id: String,
        observed: BTreeMap<String, f64>,
        impact: BTreeMap<String, f64>,
        new_violations: u32,
    },
}

/// What an operator does to a rollout in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SteerAction {
    /// Hold the current phase (breaches still roll back).
    Pause,
    /// Go on; the phase's minimum time starts again.
    Resume,
    /// The next phase now (`full`: steady now), past the minimum time and
    /// samples, and past a verdict that waits for an operator.
    Promote { full: bool },
}

impl SteerAction {
    pub fn name(self) -> &'static str {
        match self {
            SteerAction::Pause => "rollout_pause",
            SteerAction::Resume => "rollout_resume",
            SteerAction::Promote { full: false } => "rollout_promote",
            SteerAction::Promote { full: true } => "rollout_promote_full",
        }
    }
}

impl Op {
    /// The name used in the audit log.
    pub fn action(&self) -> &'static str {
        match self {
            Op::SetConstraints { .. } => "set_constraints",
            Op::SetParameters { .. } => "override",
            Op::Propose { .. } => "proposal",
            Op::SecurityEvent { .. } => "security_event",
            Op::Batch(_) => "batch",
            Op::SecuritySummary(_) => "security_summary",
            Op::Configure { .. } => "set_constraints",
            Op::Override { .. } => "override",
            Op::Approve { .. } => "approve",
            Op::RejectPending { .. } => "reject",
            Op::Expire { .. } => "expire",
            Op::Rollback { .. } => "rollback",
            Op::AdvancePhase { .. } => "rollout_advance",
            Op::Steer { action, .. } => action.name(),
            Op::AbortRollout { .. } => "rollback",
            Op::Observe { .. } => "rollout_observe",
        }
    }

    /// What the sender's role must allow (`None` for a batch, whose
    /// commands are each checked on their own).
    pub fn permission(&self) -> Option<Permission> {
        match self {
            Op::SetConstraints { .. } | Op::SetParameters { .. } => Some(Permission::Configure),
            Op::Propose { .. } => Some(Permission::Propose),
            Op::SecurityEvent { .. } | Op::SecuritySummary(_) => {
                Some(Permission::RecordSecurityEvent)
            }
            Op::Batch(_) => None,
            Op::Configure { .. }
            | Op::Override { .. }
            | Op::Approve { .. }
            | Op::RejectPending { .. }
            | Op::Rollback { .. }
            | Op::Steer { .. } => Some(Permission::Configure),
            Op::Expire { .. }
            | Op::AdvancePhase { .. }
            | Op::AbortRollout { .. }
            | Op::Observe { .. } => Some(Permission::RecordSecurityEvent),
        }
    }

    /// The target concerned, empty for a batch.
    pub fn target(&self) -> &str {
        match self {
            Op::SetConstraints { target, .. }
            | Op::SetParameters { target, .. }
            | Op::Configure { target, .. }
            | Op::Override { target, .. }
            | Op::Rollback { target, .. }
            | Op::AdvancePhase { target, .. }
            | Op::Steer { target, .. }
            | Op::AbortRollout { target, .. }
            | Op::Observe { target, .. } => target,
            Op::Approve { .. } | Op::RejectPending { .. } | Op::Expire { .. } => "",
            Op::Propose { proposal } => &proposal.target,
            Op::SecurityEvent { .. } | Op::Batch(_) | Op::SecuritySummary(_) => "",
        }
    }
}

/// What a successful command did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    ConstraintsSet {
        target: String,
        version: u64,
        /// Live parameters that the new constraints no longer allow; they
        /// keep their values until an operator or a rollout changes them.
        out_of_bounds: Vec<String>,
        /// A guard was overridden (`force`): audited `constraints_forced`.
        forced: bool,
    },
    ParametersSet {
        target: String,
        values: BTreeMap<String, ParamValue>,
        /// A pending proposal was aborted (`force`): audited `params_forced`.
        forced: bool,
    },
    Batch(Vec<CommandResult>),
    /// A proposal's decision; `first` is false when the id had been decided
    /// before and this is the recorded decision, unchanged.
    Proposal {
        decision: Decision,
        first: bool,
    },
    /// A security event was recorded.
    Recorded,
    /// A pending proposal was approved, rejected or expired: its decision now.
    ProposalUpdated {
        decision: Decision,
    },
    /// A rollout moved (a phase, a pause, a summary): the target's
    /// assignment epoch after it, and its phase (`steady` when it ended).
    RolloutMoved {
        target: String,
        proposal_id: String,
        epoch: u64,
        phase: String,
    },
    /// A candidate was rolled back; these values are quarantined.
    RolledBack {
        target: String,
        proposal_id: String,
        quarantined: BTreeMap<String, ParamValue>,
        quarantine_until_ms: u64,
        /// Why (`breach (latency)`, `operator`...), for the audit log.
        cause: String,
    },
}

/// Why a command changed nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum CommandError {
    #[error("forbidden: {identity} (role {role}) may not {action}")]
    Forbidden {
        identity: String,
        role: Role,
        action: String,
    },
    #[error("unknown target system `{0}`")]
    UnknownTarget(String),
    #[error("invalid target name `{0}`")]
    InvalidTarget(String),
    #[error("invalid constraints: {}", join(.0))]
    InvalidConstraints(Vec<Problem>),
    #[error("refused by the constraints: {}", join(.0))]
    Refused(Vec<Violation>),
    #[error("a batch may not contain a batch")]
    NestedBatch,
    #[error("proposal id `{0}` was used for a different proposal")]
    Conflict(String),
    #[error("proposal made at {timestamp_ms} ms is older than the {max_age_ms} ms the cluster remembers (now {now_ms} ms)")]
    StaleProposal {
        timestamp_ms: i64,
        now_ms: u64,
        max_age_ms: u64,
    },
    #[error("invalid proposal: {0}")]
    InvalidProposal(String),
    #[error("proposal made at {timestamp_ms} ms is more than {max_ahead_ms} ms ahead of the cluster's time ({now_ms} ms)")]
    FutureProposal {
        timestamp_ms: i64,
        now_ms: u64,
        max_ahead_ms: u64,
    },
    #[error("proposal id `{proposal_id}` was first sent with timestamp {recorded_ms} ms; a retry repeats the first send's timestamp")]
    RetryRestamped {
        proposal_id: String,
        recorded_ms: i64,
    },
    #[error("invalid security summary: {0}")]
    InvalidSummary(String),
    #[error("unknown proposal `{0}`")]
    UnknownProposal(String),
    #[error("proposal `{proposal_id}` is {verdict}, not pending approval")]
    NotPending {
        proposal_id: String,
        verdict: ProposalVerdict,
    },
    #[error("{identity} proposed `{proposal_id}` and may not approve it")]
    SelfApproval {
        identity: String,
        proposal_id: String,
    },
    #[error("{identity} has already approved `{proposal_id}`")]
    AlreadyApproved {
        identity: String,
        proposal_id: String,
    },
    #[error("{identity} (role {role}) is not an approver under the target's approval policy")]
    NotAnApprover { identity: String, role: Role },
    #[error("proposal `{proposal_id}` expires at {expires_at_ms} ms, not yet")]
    NotExpired {
        proposal_id: String,
        expires_at_ms: u64,
    },
    #[error("proposal `{proposal_id}` is pending approval on the target; use force to abort it")]
    ActiveProposal { proposal_id: String },
    #[error("the new constraints make live parameters illegal ({}); use force", .0.join(", "))]
    LiveOutOfBounds(Vec<String>),
    #[error("target `{0}` has no rollout in progress")]
    NothingToRollBack(String),
    #[error("proposal `{proposal_id}` is in phase {phase}, not {from_phase}")]
    StalePhase {
        proposal_id: String,
        phase: u32,
        from_phase: u32,
    },
    #[error("the phase's minimum time is over at {due_ms} ms, not yet")]
    PhaseNotDue { due_ms: u64 },
    #[error("the rollout of `{0}` is paused")]
    RolloutPaused(String),
    #[error("the rollout of `{0}` waits for an operator to promote it")]
    AwaitingOperator(String),
    #[error("session {session:#x}: sequence number at or below {last_seq} already applied")]
    Replay { session: u64, last_seq: u64 },
    #[error("sent at {sent_at_ms} ms, further than {max_skew_ms} ms from the cluster's time ({now_ms} ms)")]
    StaleRequest {
        sent_at_ms: i64,
        now_ms: u64,
        max_skew_ms: u64,
    },
    #[error(
        "{identity} has too many sessions in use (at most {limit}); retry when one has been idle"
    )]
    TooManySessions { identity: String, limit: usize },
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub type CommandResult = Result<Outcome, CommandError>;
