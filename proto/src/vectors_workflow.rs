//! Golden vectors of `workflow` (0x20) and `workflowed` (0xa0), and of
//! the constraint engine's error codes (16-22).

use super::codec::Message;
use super::error::ErrorCode;
use super::message::Request;
use super::reply::{Decision, ProposalStatus, Reply};
use super::vectors::{at, env, error, T0, TARGET};
use super::workflow::{
    Allowed, ApprovalRecord, ProposalDetail, RejectedDetail, WorkflowReply, WorkflowRequest,
};
use super::UnixMillis;
use arqonbus_core::value::ParamValue;

const ID: &str = "prop-7f3a";

fn detail() -> ProposalDetail {
    ProposalDetail {
        proposal_id: ID.into(),
        target_system: TARGET.into(),
        proposer: "hpo-1".into(),
        decided_at: at(1000),
        decision: Decision::PendingApproval,
        status: ProposalStatus::PendingApproval,
        constraints_version: 3,
        approved: [("temperature".to_string(), ParamValue::Float(0.75))].into(),
        pending: [("batch_size".to_string(), ParamValue::Int(64))].into(),
        rejected: vec![
            RejectedDetail {
                parameter: "max_tokens".into(),
                reason: "a move of 4000 from the live 2048 is more than one proposal may make"
                    .into(),
                constraint_violated: "max_step_max_tokens".into(),
                allowed: Some(Allowed::Step {
                    max_step_abs: None,
                    max_step_rel: Some(0.5),
                }),
            },
            RejectedDetail {
                parameter: "temperature_floor".into(),
                reason: "9 is above the maximum 2".into(),
                constraint_violated: "max_temperature_floor".into(),
                allowed: Some(Allowed::Range { min: 0.0, max: 2.0 }),
            },
        ],
        required_approvals: 2,
        approvals: vec![ApprovalRecord {
            identity: "alice".into(),
            reason: "load test passed".into(),
            at: at(2000),
        }],
        expires_at: Some(UnixMillis(T0 + 3_601_000)),
        closed_by: None,
        closed_reason: None,
    }
}

pub(super) fn catalogue() -> Vec<(&'static str, Message)> {
    let req = |seq, t, r| Message::Request(env(seq, t), Request::Workflow(r));
    let done = |r| Message::Reply(Reply::Workflowed(r));
    vec![
        (
            "workflow_approve",
            req(
                20,
                700,
                WorkflowRequest::Approve {
                    proposal_id: ID.into(),
                    reason: "load test passed".into(),
                },
            ),
        ),
        (
            "workflow_list_pending",
            req(
                21,
                710,
                WorkflowRequest::ListPending {
                    target_system: Some(TARGET.into()),
                    stale: false,
                },
            ),
        ),
        (
            "workflowed_proposal",
            done(WorkflowReply::Proposal(detail())),
        ),
        (
            "error_unknown_proposal",
            error(
                ErrorCode::UnknownProposal {
                    proposal_id: ID.into(),
                },
                "unknown proposal",
            ),
        ),
        (
            "error_not_pending",
            error(
                ErrorCode::NotPending {
                    proposal_id: ID.into(),
                    status: "expired".into(),
                },
                "proposal is expired, not pending approval",
            ),
        ),
        (
            "error_self_approval",
            error(
                ErrorCode::SelfApproval {
                    proposal_id: ID.into(),
                },
                "no identity approves its own proposal",
            ),
        ),
        (
            "error_already_approved",
            error(
                ErrorCode::AlreadyApproved {
                    proposal_id: ID.into(),
                },
                "alice has already approved it",
            ),
        ),
        (
            "error_not_an_approver",
            error(
                ErrorCode::NotAnApprover {
                    identity: "hpo-1".into(),
                },
                "not an approver",
            ),
        ),
        (
            "error_active_proposal",
            error(
                ErrorCode::ActiveProposal {
                    proposal_id: ID.into(),
                },
                "a proposal is pending",
            ),
        ),
        (
            "error_live_out_of_bounds",
            error(
                ErrorCode::LiveOutOfBounds {
                    parameters: vec!["batch_size".into(), "rule token_budget".into()],
                },
                "the new constraints make live parameters illegal",
            ),
        ),
    ]
}
