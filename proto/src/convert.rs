//! The one place where the core's types become the wire's and back: a
//! wire proposal becomes the state's `ProposalSpec`, a recorded `Decision`
//! becomes an `approval`, a `status` or a listing row, a core event a wire
//! event, a refused command an error code, and a request (or a frame's
//! type) the permission it needs. Handlers call these; they never build
//! wire types by hand.

use crate::error::ErrorCode;
use crate::limits::{truncate, MAX_TEXT_LEN};
use crate::message::{Proposal, Request};
use crate::operator::{OperatorReply, OperatorRequest, ProposalSummary};
use crate::reply::{
    Approval, ApprovedChange, Decision as WireDecision, EnforcementMode, Event, EventBody,
    Progress, ProposalStatus, RejectedChange, RolloutSchedule, Status,
};
use crate::rollout::RolloutRequest;
use crate::workflow::{Allowed, WorkflowRequest};
use crate::UnixMillis;
use arqonbus_core::constraints::Violation;
use arqonbus_core::events::{self, EventBody as CoreBody};
use arqonbus_core::proposal::{Change, Decision, ProposalSpec, Verdict};
use arqonbus_core::role::Permission;
use arqonbus_core::rollout::progress::Finished;
use arqonbus_core::CommandError;

/// The `source` of every decision: the cluster, not one node, so a decision
/// reads the same from every replica and in every replay.
pub const SOURCE: &str = "arqonbus";

/// Unix milliseconds as the wire carries them.
pub fn millis(ms: u64) -> UnixMillis {
    UnixMillis(i64::try_from(ms).unwrap_or(i64::MAX))
}

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

fn wire_decision(v: Verdict) -> WireDecision {
    match v {
        Verdict::Approved => WireDecision::Approved,
        Verdict::PartiallyApproved => WireDecision::PartiallyApproved,
        Verdict::Rejected | Verdict::Expired => WireDecision::Rejected,
        Verdict::PendingApproval => WireDecision::PendingApproval,
    }
}

/// The wire form of what a rejected change would have been allowed to be.
pub fn allowed(a: &arqonbus_core::allowed::Allowed) -> Allowed {
    use arqonbus_core::allowed::Allowed as Core;
    match a {
        Core::Range { min, max } => Allowed::Range {
            min: *min,
            max: *max,
        },
        Core::Values(v) => Allowed::Values(v.clone()),
        Core::Step {
            max_step_abs,
            max_step_rel,
        } => Allowed::Step {
            max_step_abs: *max_step_abs,
            max_step_rel: *max_step_rel,
        },
        Core::Quarantine { until_ms, distance } => Allowed::Quarantine {
            until: millis(*until_ms),
            distance: *distance,
        },
    }
}

/// The wire approval of a recorded decision.
pub fn approval(d: &Decision) -> Approval {
    Approval {
        proposal_id: d.proposal_id.clone(),
        target_system: d.target.clone(),
        source: SOURCE.into(),
        timestamp: millis(d.decided_at_ms),
        decision: wire_decision(d.verdict),
        // While pending, `approved_changes` lists everything that waits
        // for operators (PROTOCOL.md §6.2).
        approved_changes: d
            .candidate()
            .map(|a| ApprovedChange {
                parameter: a.parameter.clone(),
                approved_value: a.value.clone(),
                rollout_schedule: if d.rollout.gradual {
                    RolloutSchedule::Gradual
                } else {
                    RolloutSchedule::Immediate
                },
                max_change_rate: a.max_change_rate,
            })
            .collect(),
        rejected_changes: d
            .rejected
            .iter()
            .map(|v| RejectedChange {
                parameter: v.parameter.clone(),
                reason: truncate(v.reason.clone(), MAX_TEXT_LEN),
                constraint_violated: Some(v.constraint.clone()),
                allowed: d.allowed.get(&v.parameter).map(allowed),
            })
            .collect(),
        enforcement_mode: if d.rollout.shadow_first {
            EnforcementMode::Shadow
        } else {
            EnforcementMode::Monitored
        },
        rollback_timeout: d.rollout.rollback_timeout_s,
    }
}

/// The wire status of a recorded decision.
pub fn status(d: &Decision) -> Status {
    Status {
        proposal_id: d.proposal_id.clone(),
        target_system: d.target.clone(),
        source: SOURCE.into(),
        timestamp: millis(d.decided_at_ms),
        status: match (d.verdict, d.finished.as_deref()) {
            (_, Some(Finished::Steady { .. })) => ProposalStatus::Steady,
            (_, Some(Finished::RolledBack(_))) => ProposalStatus::RolledBack,
            (Verdict::Rejected, None) => ProposalStatus::Rejected,
            (Verdict::Approved | Verdict::PartiallyApproved, None) => ProposalStatus::Active,
            (Verdict::PendingApproval, None) => ProposalStatus::PendingApproval,
            (Verdict::Expired, None) => ProposalStatus::Expired,
        },
        progress: Progress {
            rollout_percentage: 0,
            monitoring_duration: 0,
            constraint_violations: 0,
        },
        observed_impact: Default::default(),
    }
}

/// One row of a `proposals` listing.
pub fn summary(d: &Decision) -> ProposalSummary {
    ProposalSummary {
        proposal_id: d.proposal_id.clone(),
        target_system: d.target.clone(),
        timestamp: millis(d.decided_at_ms),
        decision: wire_decision(d.verdict),
        approved: d.candidate().count() as u32,
        rejected: d.rejected.len() as u32,
    }
}

/// A target's numbered event as the wire carries it.
pub fn event(target: &str, e: events::StateEvent) -> Event {
    Event {
        target_system: target.to_string(),
        seq: e.seq,
        body: match e.body {
            CoreBody::Decided(d) => EventBody::Approval(approval(&d)),
            CoreBody::Progress(p) => EventBody::Status(rollout::progress_status(target, &p)),
            CoreBody::RolledBack(r) => EventBody::Rollback(rollout::rollback(target, &r)),
        },
    }
}

/// The error frame of a request `apply` refused for how it was numbered
/// or signed (PROTOCOL.md §5): a replay, a `sent_at` too far from the
/// leader's stamp, one session too many, a signature that does not verify
/// or is missing. `None` for any other refusal.
pub fn origin_error(e: &CommandError) -> Option<ErrorCode> {
    match e {
        CommandError::Replay { last_seq, .. } => Some(ErrorCode::Replay {
            last_seq: *last_seq,
        }),
        CommandError::StaleRequest {
            now_ms,
            max_skew_ms,
            ..
        } => Some(ErrorCode::StaleTimestamp {
            server_time: millis(*now_ms),
            max_skew_ms: *max_skew_ms,
        }),
        CommandError::TooManySessions { .. } => Some(ErrorCode::RateLimited {
            retry_after_ms: arqonbus_core::sessions::SESSION_IDLE_MS / 10,
        }),
        CommandError::Unauthenticated(_) => Some(ErrorCode::Unauthenticated),
        _ => None,
    }
}

/// The error code (and message) of a proposal `apply` refused, or `None`
/// where the refusal is not the sender's to fix (an internal error).
pub fn proposal_error(e: CommandError, proposal_id: &str) -> (Option<ErrorCode>, String) {
    let message = truncate(e.to_string(), MAX_TEXT_LEN);
    if let Some(code) = origin_error(&e) {
        return (Some(code), message);
    }
    let code = match e {
        CommandError::Forbidden { .. } => Some(ErrorCode::Forbidden),
        CommandError::Conflict(_) | CommandError::RetryRestamped { .. } => {
            Some(ErrorCode::Conflict {
                proposal_id: proposal_id.to_string(),
            })
        }
        CommandError::StaleProposal {
            now_ms, max_age_ms, ..
        } => Some(ErrorCode::StaleTimestamp {
            server_time: millis(now_ms),
            max_skew_ms: max_age_ms,
        }),
        CommandError::FutureProposal {
            now_ms,
            max_ahead_ms,
            ..
        } => Some(ErrorCode::StaleTimestamp {
            server_time: millis(now_ms),
            max_skew_ms: max_ahead_ms,
        }),
        CommandError::UnknownTarget(_) => Some(ErrorCode::InvalidMessage {
            field: "target_system".into(),
            reason: "unknown target system".into(),
        }),
        CommandError::InvalidProposal(reason) => Some(ErrorCode::InvalidMessage {
            field: "changes".into(),
            reason: truncate(reason, MAX_TEXT_LEN),
        }),
        _ => None,
    };
    (code, message)
}

/// The typed error of an operator edit `apply` refused by a guard
/// (`active_proposal`, `live_out_of_bounds`), the role check or the
/// sender's own request (`origin_error`: replay, staleness, signature):
/// the same frame whichever request carried the edit, `operate` or
/// `workflow`. `None` for a refusal answered as `refused`.
pub fn guard_error(e: &CommandError) -> Option<ErrorCode> {
    match e {
        CommandError::Forbidden { .. } => Some(ErrorCode::Forbidden),
        CommandError::ActiveProposal { proposal_id } => Some(ErrorCode::ActiveProposal {
            proposal_id: proposal_id.clone(),
        }),
        CommandError::LiveOutOfBounds(parameters) => Some(ErrorCode::LiveOutOfBounds {
            parameters: parameters.clone(),
        }),
        _ => origin_error(e),
    }
}

/// The `refused` reply of an operator command `apply` refused, every quoted
/// text cut to the wire's limit.
pub fn refused(e: CommandError) -> OperatorReply {
    let violations = match &e {
        CommandError::Refused(v) => v
            .iter()
            .map(|v| Violation {
                reason: truncate(v.reason.clone(), MAX_TEXT_LEN),
                ..v.clone()
            })
            .collect(),
        _ => Vec::new(),
    };
    OperatorReply::Refused {
        reason: truncate(e.to_string(), MAX_TEXT_LEN),
        violations,
    }
}

/// What a request needs its sender's role to allow (the table itself is
/// `arqonbus_core::role`).
pub fn permission(request: &Request) -> Permission {
    match request {
        Request::Proposal(_) => Permission::Propose,
        Request::TelemetryBatch(_) => Permission::Telemetry,
        Request::StatusQuery(_) | Request::Subscribe(_) => Permission::Read,
        Request::Operate(op) => match op {
            OperatorRequest::SetConstraints { .. } | OperatorRequest::SetParameters { .. } => {
                Permission::Configure
            }
            OperatorRequest::ClusterInit { .. }
            | OperatorRequest::AddNode { .. }
            | OperatorRequest::RemoveNode { .. } => Permission::Membership,
            OperatorRequest::GetConstraints { .. }
            | OperatorRequest::GetParameters { .. }
            | OperatorRequest::AuditRange { .. }
            | OperatorRequest::NodeStatus
            | OperatorRequest::ListProposals { .. }
            | OperatorRequest::ShowProposal { .. } => Permission::Read,
        },
        Request::Workflow(w) => match w {
            WorkflowRequest::GetConstraints { .. }
            | WorkflowRequest::ListPending { .. }
            | WorkflowRequest::ShowProposal { .. } => Permission::Read,
            _ => Permission::Configure,
        },
        Request::WatchAssignment(_) => Permission::Read,
        Request::TaggedTelemetry(_) => Permission::Telemetry,
        Request::Rollout(r) => match r {
            RolloutRequest::Status { .. } => Permission::Read,
            RolloutRequest::Pause { .. }
            | RolloutRequest::Resume { .. }
            | RolloutRequest::Promote { .. } => Permission::Configure,
        },
    }
}

/// Whether the request changes state (a proposal, a configuration or a
/// membership change): what Security I signs and checks for replay in
/// `apply`.
pub fn changes_state(request: &Request) -> bool {
    matches!(
        permission(request),
        Permission::Propose | Permission::Configure | Permission::Membership
    )
}

/// The least a role must be allowed to send a frame of type `msg_type` at
/// all: checked from the frame's header, before its body is read or
/// decompressed (an `operate` needs more for some actions: [`permission`]
/// says which, once decoded). `None` for a type no client may send.
pub fn type_permission(msg_type: u8) -> Option<Permission> {
    use crate::codec::msg_type as t;
    match msg_type {
        t::TELEMETRY_BATCH | t::TAGGED_TELEMETRY => Some(Permission::Telemetry),
        t::PROPOSAL => Some(Permission::Propose),
        t::SUBSCRIBE
        | t::STATUS_QUERY
        | t::OPERATE
        | t::WORKFLOW
        | t::WATCH_ASSIGNMENT
        | t::ROLLOUT => Some(Permission::Read),
        _ => None,
    }
}

/// The request's name, as logs and security events say it.
pub fn action(request: &Request) -> &'static str {
    match request {
        Request::Proposal(_) => "proposal",
        Request::TelemetryBatch(_) => "telemetry_batch",
        Request::StatusQuery(_) => "status_query",
        Request::Subscribe(_) => "subscribe",
        Request::Operate(op) => match op {
            OperatorRequest::SetConstraints { .. } => "set_constraints",
            OperatorRequest::GetConstraints { .. } => "get_constraints",
            OperatorRequest::SetParameters { .. } => "set_parameters",
            OperatorRequest::GetParameters { .. } => "get_parameters",
            OperatorRequest::AuditRange { .. } => "audit_range",
            OperatorRequest::NodeStatus => "node_status",
            OperatorRequest::ClusterInit { .. } => "cluster_init",
            OperatorRequest::AddNode { .. } => "add_node",
            OperatorRequest::RemoveNode { .. } => "remove_node",
            OperatorRequest::ListProposals { .. } => "list_proposals",
            OperatorRequest::ShowProposal { .. } => "show_proposal",
        },
        Request::Workflow(w) => match w {
            WorkflowRequest::SetConstraints { .. } => "set_constraints",
            WorkflowRequest::GetConstraints { .. } => "get_constraints",
            WorkflowRequest::SetParameters { .. } => "set_parameters",
            WorkflowRequest::ListPending { .. } => "list_pending",
            WorkflowRequest::Approve { .. } => "approve",
            WorkflowRequest::Reject { .. } => "reject",
            WorkflowRequest::ShowProposal { .. } => "show_proposal",
            WorkflowRequest::Rollback { .. } => "rollback",
        },
        Request::WatchAssignment(_) => "watch_assignment",
        Request::TaggedTelemetry(_) => "tagged_telemetry",
        Request::Rollout(_) => "rollout",
    }
}

pub mod rollout;

#[cfg(test)]
mod tests_allowed;
#[cfg(test)]
mod tests_terms;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::msg_type;
    use crate::vectors;

    #[test]
    fn a_frame_type_needs_no_more_than_every_request_of_that_type() {
        for (name, msg) in vectors::catalogue() {
            let crate::Message::Request(_, request) = &msg else {
                assert_eq!(type_permission(msg.msg_type()), None, "{name}");
                continue;
            };
            let least = type_permission(request.msg_type()).expect("a request type");
            for role in arqonbus_core::Role::ALL {
                if role.may(permission(request)) {
                    assert!(
                        role.may(least),
                        "{name}: {role} may send it but not its type"
                    );
                }
            }
        }
        assert_eq!(
            type_permission(msg_type::TELEMETRY_BATCH),
            Some(Permission::Telemetry)
        );
    }
}
