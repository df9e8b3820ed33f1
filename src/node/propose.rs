//! Proposals and status queries: the wire `Proposal` becomes a state
//! command (through the batcher, so concurrent proposals share a log
//! entry), and the decision `apply` returned becomes the `approval`.
//!
//! Until rollouts exist (a later issue) an approved change is recorded and
//! not applied, and the approval says so: `enforcement_mode` is `shadow`
//! and the status of an approved proposal is `active` at 0%.

use super::operate::{internal, read_barrier, record_security_event, submit, truncate, Reject};
use super::Node;
use crate::certs::Identity;
use crate::proto::error::ErrorCode;
use crate::proto::limits::{MAX_LISTED_PROPOSALS, MAX_TEXT_LEN};
use crate::proto::message::{Proposal, StatusQuery};
use crate::proto::operator::{OperatorReply, ProposalSummary};
use crate::proto::reply::{
    Approval, ApprovedChange, Decision as WireDecision, EnforcementMode, Progress, ProposalStatus,
    RejectedChange, RolloutSchedule, Status,
};
use crate::proto::{Reply, UnixMillis};
use crate::state::proposal::{Change, Decision, ProposalSpec, Verdict};
use crate::state::role::Permission;
use crate::state::{CommandError, Op, Outcome};

/// The `source` of every decision: the cluster, not one node, so a decision
/// reads the same from every replica and in every replay.
pub const SOURCE: &str = "arqonbus";

/// Largest share of traffic one rollout step moves (announced in approvals).
pub const MAX_CHANGE_RATE: f64 = 0.25;

/// The state's form of a wire proposal.
pub fn spec(p: Proposal) -> ProposalSpec {
    ProposalSpec {
        proposal_id: p.proposal_id,
        source: p.source,
        target: p.target_system,
        timestamp_ms: p.timestamp.0,
        changes: p
            .changes
            .into_iter()
            .map(|c| Change {
                parameter: c.parameter,
                current_value: c.current_value,
                proposed_value: c.proposed_value,
                reason: c.reason,
            })
            .collect(),
        expected_impact: p.expected_impact,
        confidence: p.confidence,
        duration_seconds: p.duration_seconds,
    }
}

fn millis(ms: u64) -> UnixMillis {
    UnixMillis(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// The wire approval of a recorded decision.
pub fn approval(d: &Decision) -> Approval {
    Approval {
        proposal_id: d.proposal_id.clone(),
        target_system: d.target.clone(),
        source: SOURCE.into(),
        timestamp: millis(d.decided_at_ms),
        decision: match d.verdict {
            Verdict::Approved => WireDecision::Approved,
            Verdict::PartiallyApproved => WireDecision::PartiallyApproved,
            Verdict::Rejected => WireDecision::Rejected,
        },
        approved_changes: d
            .approved
            .iter()
            .map(|a| ApprovedChange {
                parameter: a.parameter.clone(),
                approved_value: a.value.clone(),
                rollout_schedule: RolloutSchedule::Gradual,
                max_change_rate: MAX_CHANGE_RATE,
            })
            .collect(),
        rejected_changes: d
            .rejected
            .iter()
            .map(|v| RejectedChange {
                parameter: v.parameter.clone(),
                reason: truncate(v.reason.clone(), MAX_TEXT_LEN),
                constraint_violated: Some(v.constraint.clone()),
            })
            .collect(),
        enforcement_mode: EnforcementMode::Shadow,
        rollback_timeout: d.duration_seconds,
    }
}

/// The wire status of a recorded decision.
pub fn status(d: &Decision) -> Status {
    Status {
        proposal_id: d.proposal_id.clone(),
        target_system: d.target.clone(),
        source: SOURCE.into(),
        timestamp: millis(d.decided_at_ms),
        status: match d.verdict {
            Verdict::Rejected => ProposalStatus::Rejected,
            Verdict::Approved | Verdict::PartiallyApproved => ProposalStatus::Active,
        },
        progress: Progress {
            rollout_percentage: 0,
            monitoring_duration: 0,
            constraint_violations: 0,
        },
        observed_impact: Default::default(),
    }
}

/// `proposal` → `approval`, or an error frame for what was not decided.
pub(super) async fn proposal(
    node: &Node,
    identity: &Identity,
    p: Proposal,
) -> Result<Reply, Reject> {
    if !identity.role.may(Permission::Propose) {
        record_security_event(node, identity, "tried proposal".into());
        return Err((
            ErrorCode::Forbidden,
            format!("{} (role {}) may not propose", identity.name, identity.role),
        ));
    }
    let id = p.proposal_id.clone();
    match submit(node, identity, Op::Propose { proposal: spec(p) }).await? {
        Ok(Outcome::Proposal { decision, .. }) => Ok(Reply::Approval(approval(&decision))),
        Ok(other) => Err((internal(), format!("unexpected outcome {other:?}"))),
        Err(e) => Err(command_error(e, &id)),
    }
}

/// The error frame for a proposal `apply` refused.
fn command_error(e: CommandError, id: &str) -> Reject {
    let message = truncate(e.to_string(), MAX_TEXT_LEN);
    let code = match e {
        CommandError::Forbidden { .. } => ErrorCode::Forbidden,
        CommandError::Conflict(_) => ErrorCode::Conflict {
            proposal_id: id.to_string(),
        },
        CommandError::StaleProposal {
            now_ms, max_age_ms, ..
        } => ErrorCode::StaleTimestamp {
            server_time: millis(now_ms),
            max_skew_ms: max_age_ms,
        },
        CommandError::UnknownTarget(_) => ErrorCode::InvalidMessage {
            field: "target_system".into(),
            reason: "unknown target system".into(),
        },
        CommandError::InvalidProposal(reason) => ErrorCode::InvalidMessage {
            field: "changes".into(),
            reason: truncate(reason, MAX_TEXT_LEN),
        },
        _ => internal(),
    };
    (code, message)
}

/// `status_query` → `status`, read linearizably on the leader.
pub(super) async fn status_query(
    node: &Node,
    _identity: &Identity,
    q: StatusQuery,
) -> Result<Reply, Reject> {
    read_barrier(node, false).await?;
    node.sm
        .read(|a| {
            a.state
                .decided
                .get(&q.proposal_id)
                .map(|d| status(&d.decision))
        })
        .map(Reply::Status)
        .ok_or_else(|| unknown_proposal(&q.proposal_id))
}

/// No decision is recorded under this id.
pub(super) fn unknown_proposal(id: &str) -> Reject {
    (
        ErrorCode::InvalidMessage {
            field: "proposal_id".into(),
            reason: "no decision is recorded under this id".into(),
        },
        truncate(
            format!("proposal `{id}` is unknown (never decided, or past the retention)"),
            MAX_TEXT_LEN,
        ),
    )
}

/// `list_proposals`: the newest decisions of this node's replica.
pub(super) fn list(node: &Node, target: Option<&str>, limit: u32) -> OperatorReply {
    let limit = (limit as usize).min(MAX_LISTED_PROPOSALS);
    let proposals = node.sm.read(|a| {
        a.state
            .decided
            .newest(target, limit)
            .into_iter()
            .map(|d| {
                let approval = approval(&d.decision);
                ProposalSummary {
                    proposal_id: approval.proposal_id,
                    target_system: approval.target_system,
                    timestamp: approval.timestamp,
                    decision: approval.decision,
                    approved: approval.approved_changes.len() as u32,
                    rejected: approval.rejected_changes.len() as u32,
                }
            })
            .collect()
    });
    OperatorReply::Proposals { proposals }
}

/// `show_proposal`: one decision and its status, or `refused` when unknown.
pub(super) fn show(node: &Node, id: &str) -> OperatorReply {
    node.sm
        .read(|a| a.state.decided.get(id).map(|d| d.decision.clone()))
        .map_or_else(
            || OperatorReply::Refused {
                reason: unknown_proposal(id).1,
                violations: Vec::new(),
            },
            |d| OperatorReply::Proposal {
                approval: approval(&d),
                status: status(&d),
            },
        )
}
