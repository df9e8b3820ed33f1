//! Wire types of the constraint engine's requests (frame type 0x20,
//! `workflow`) and replies (0xa0, `workflowed`): format-2 constraints,
//! guarded overrides, pending proposals and their approval, and a manual
//! rollback, as the `arqonbus` CLI sends them. The same rules as every
//! wire type apply (see `message`).

use serde::{Deserialize, Serialize};

use super::envelope::UnixMillis;
use super::message::Parameters;
use super::reply::{Decision, ProposalStatus};
use arqonbus_core::constraints::{ConstraintSet, Violation};
use arqonbus_core::value::ParamValue;

/// Request type 0x20. Answered by `workflowed` (0xa0) or `error` (0x80).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkflowRequest {
    /// 0: set a target's constraints from a constraint file's text (TOML
    /// or JSON, format 1 or 2), parsed by the server (operator, admin).
    SetConstraints {
        target_system: String,
        text: String,
        force: bool,
    },
    /// 1: a target's constraints at `version` (`None`: the current one).
    GetConstraints {
        target_system: String,
        version: Option<u64>,
        stale: bool,
    },
    /// 2: a guarded override (operator, admin).
    SetParameters {
        target_system: String,
        values: Parameters,
        expected: Option<Parameters>,
        force: bool,
    },
    /// 3: the proposals pending approval, of one target or all.
    ListPending {
        target_system: Option<String>,
        stale: bool,
    },
    /// 4: approve a pending proposal (an approver under the policy).
    Approve { proposal_id: String, reason: String },
    /// 5: reject a pending proposal; `reason` is required.
    Reject { proposal_id: String, reason: String },
    /// 6: one proposal with its approvals so far.
    ShowProposal { proposal_id: String, stale: bool },
    /// 7: roll back the target's last approved candidate (operator, admin).
    Rollback {
        target_system: String,
        reason: String,
    },
}

/// What a rejected change would have been allowed to be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Allowed {
    /// 0: the hard range.
    Range { min: f64, max: f64 },
    /// 1: the values allowed.
    Values(Vec<ParamValue>),
    /// 2: the largest move from the live value (absolute, relative).
    Step {
        max_step_abs: Option<f64>,
        max_step_rel: Option<f64>,
    },
    /// 3: quarantined (it, or a value within `distance`) until then.
    Quarantine { until: UnixMillis, distance: f64 },
}

impl Allowed {
    /// Whether every number in it is finite (the wire carries no NaN or
    /// infinity).
    pub fn is_finite(&self) -> bool {
        match self {
            Allowed::Range { min, max } => min.is_finite() && max.is_finite(),
            Allowed::Step {
                max_step_abs,
                max_step_rel,
            } => max_step_abs.is_none_or(f64::is_finite) && max_step_rel.is_none_or(f64::is_finite),
            Allowed::Quarantine { distance, .. } => distance.is_finite(),
            Allowed::Values(_) => true,
        }
    }
}

/// One rejected change with its machine-readable `allowed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedDetail {
    pub parameter: String,
    pub reason: String,
    pub constraint_violated: String,
    pub allowed: Option<Allowed>,
}

/// One operator's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub identity: String,
    pub reason: String,
    pub at: UnixMillis,
}

/// A proposal's whole decision: what `proposals show` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalDetail {
    pub proposal_id: String,
    pub target_system: String,
    pub proposer: String,
    pub decided_at: UnixMillis,
    pub decision: Decision,
    pub status: ProposalStatus,
    pub constraints_version: u64,
    pub approved: Parameters,
    /// Changes waiting for operators.
    pub pending: Parameters,
    pub rejected: Vec<RejectedDetail>,
    pub required_approvals: u32,
    pub approvals: Vec<ApprovalRecord>,
    /// When a pending proposal expires.
    pub expires_at: Option<UnixMillis>,
    /// `reject` or `expire` (or an aborting forced edit), by whom, why.
    pub closed_by: Option<String>,
    pub closed_reason: Option<String>,
}

/// Reply type 0xa0: the answer to a [`WorkflowRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkflowReply {
    /// 0: constraints accepted as `version`.
    ConstraintsSet {
        target_system: String,
        version: u64,
        out_of_bounds: Vec<String>,
        forced: bool,
    },
    /// 1: one constraint version; `policy` is its format-2 part as JSON.
    Constraints {
        target_system: String,
        version: u64,
        current_version: u64,
        constraints: ConstraintSet,
        policy: String,
    },
    /// 2: an override applied.
    ParametersSet {
        target_system: String,
        values: Parameters,
        forced: bool,
    },
    /// 3: pending proposals, oldest first.
    Proposals { proposals: Vec<ProposalDetail> },
    /// 4: one proposal (after an approval or rejection too).
    Proposal(ProposalDetail),
    /// 5: a candidate rolled back; its values are quarantined.
    RolledBack {
        target_system: String,
        proposal_id: String,
        quarantined: Parameters,
        quarantine_until: UnixMillis,
    },
    /// 6: the state refused the command and changed nothing.
    Refused {
        reason: String,
        violations: Vec<Violation>,
    },
}

/// The wire detail of a recorded decision (the one conversion, like
/// `convert`).
pub fn detail(d: &arqonbus_core::proposal::Decision) -> ProposalDetail {
    let ms = |v: u64| UnixMillis(i64::try_from(v).unwrap_or(i64::MAX));
    let params = |list: &[arqonbus_core::proposal::Approved]| -> Parameters {
        list.iter()
            .map(|a| (a.parameter.clone(), a.value.clone()))
            .collect()
    };
    let status = super::convert::status(d).status;
    ProposalDetail {
        proposal_id: d.proposal_id.clone(),
        target_system: d.target.clone(),
        proposer: d.proposer.clone(),
        decided_at: ms(d.decided_at_ms),
        decision: super::convert::approval(d).decision,
        status,
        constraints_version: d.constraints_version,
        approved: params(&d.approved),
        pending: params(&d.pending),
        rejected: d
            .rejected
            .iter()
            .map(|v| RejectedDetail {
                parameter: v.parameter.clone(),
                reason: super::limits::fit_text(&v.reason),
                constraint_violated: v.constraint.clone(),
                allowed: d.allowed.get(&v.parameter).map(super::convert::allowed),
            })
            .collect(),
        required_approvals: d.required_approvals,
        approvals: d
            .approvals
            .iter()
            .map(|a| ApprovalRecord {
                identity: a.identity.clone(),
                reason: a.reason.clone(),
                at: ms(a.at_ms),
            })
            .collect(),
        expires_at: (d.expires_at_ms > 0).then(|| ms(d.expires_at_ms)),
        closed_by: d
            .closure
            .as_ref()
            .map(|c| format!("{} {}", c.action, c.identity).trim().to_string()),
        closed_reason: d.closure.as_ref().map(|c| c.reason.clone()),
    }
}
