//! The constraint engine's requests (`workflow`, 0x20): format-2
//! constraints parsed here from the file's text (the core parses; the node
//! moves bytes), guarded overrides, pending proposals and their approval,
//! and a manual rollback. Writes go through the log; `apply` decides.

use super::leadership::read_barrier;
use super::reply::{internal, Reject};
use super::submit::{submit, Sender};
use super::Node;
use arqonbus_core::constraint_file::parse_file;
use arqonbus_core::{CommandError, Op, Outcome};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::limits::fit_text;
use arqonbus_proto::workflow::{detail, WorkflowReply, WorkflowRequest};
use arqonbus_proto::UnixMillis;

/// Pending proposals listed at most.
const MAX_LISTED: usize = 256;

pub(super) async fn workflow(
    node: &Node,
    sender: &Sender<'_>,
    request: WorkflowRequest,
) -> Result<WorkflowReply, Reject> {
    let op = match request {
        WorkflowRequest::SetConstraints {
            target_system,
            text,
            force,
        } => match parse_file(&format!("{target_system}.constraints"), &text) {
            Ok(file) => Op::Configure {
                target: target_system,
                constraints: file.constraints,
                policy: file.policy,
                force,
            },
            Err(e) => return Ok(refused(&e.to_string())),
        },
        WorkflowRequest::SetParameters {
            target_system,
            values,
            expected,
            force,
        } => Op::Override {
            target: target_system,
            values,
            expected,
            force,
        },
        WorkflowRequest::Approve {
            proposal_id,
            reason,
        } => Op::Approve {
            proposal_id,
            reason,
        },
        WorkflowRequest::Reject {
            proposal_id,
            reason,
        } => Op::RejectPending {
            proposal_id,
            reason,
        },
        WorkflowRequest::Rollback {
            target_system,
            reason,
        } => Op::Rollback {
            target: target_system,
            reason,
        },
        WorkflowRequest::GetConstraints {
            target_system,
            version,
            stale,
        } => {
            read_barrier(node, stale).await?;
            return Ok(node.sm.read(|a| {
                let Some(t) = a.state.targets.get(&target_system) else {
                    return refused(&format!("unknown target system `{target_system}`"));
                };
                let version = version.unwrap_or(t.constraints_version);
                match t.history.get(&version) {
                    Some(v) => WorkflowReply::Constraints {
                        target_system: target_system.clone(),
                        version,
                        current_version: t.constraints_version,
                        constraints: v.constraints.clone(),
                        policy: serde_json::to_string(&v.policy).unwrap_or_default(),
                    },
                    None => refused(&format!(
                        "version {version} of `{target_system}` is not kept (current {})",
                        t.constraints_version
                    )),
                }
            }));
        }
        WorkflowRequest::ListPending {
            target_system,
            stale,
        } => {
            read_barrier(node, stale).await?;
            return Ok(node.sm.read(|a| WorkflowReply::Proposals {
                proposals: a
                    .state
                    .targets
                    .iter()
                    .filter(|(name, _)| target_system.as_ref().is_none_or(|t| t == *name))
                    .filter_map(|(_, t)| t.pending.as_ref())
                    .filter_map(|id| a.state.decided.get(id))
                    .take(MAX_LISTED)
                    .map(|d| detail(&d.decision))
                    .collect(),
            }));
        }
        WorkflowRequest::ShowProposal { proposal_id, stale } => {
            read_barrier(node, stale).await?;
            return node
                .sm
                .read(|a| {
                    a.state
                        .decided
                        .get(&proposal_id)
                        .map(|d| detail(&d.decision))
                })
                .map(WorkflowReply::Proposal)
                .ok_or_else(|| unknown(&proposal_id));
        }
    };
    let result = submit(node, sender, op).await?;
    match result {
        Ok(Outcome::ConstraintsSet {
            target,
            version,
            out_of_bounds,
            forced,
        }) => Ok(WorkflowReply::ConstraintsSet {
            target_system: target,
            version,
            out_of_bounds,
            forced,
        }),
        Ok(Outcome::ParametersSet {
            target,
            values,
            forced,
        }) => Ok(WorkflowReply::ParametersSet {
            target_system: target,
            values,
            forced,
        }),
        Ok(Outcome::ProposalUpdated { decision }) => Ok(WorkflowReply::Proposal(detail(&decision))),
        Ok(Outcome::RolledBack {
            target,
            proposal_id,
            quarantined,
            quarantine_until_ms,
            ..
        }) => Ok(WorkflowReply::RolledBack {
            target_system: target,
            proposal_id,
            quarantined,
            quarantine_until: UnixMillis(i64::try_from(quarantine_until_ms).unwrap_or(i64::MAX)),
        }),
        Ok(other) => Err((internal(), format!("unexpected outcome {other:?}"))),
        Err(e) => error(e),
    }
}

fn refused(reason: &str) -> WorkflowReply {
    WorkflowReply::Refused {
        reason: fit_text(reason),
        violations: Vec::new(),
    }
}

fn unknown(id: &str) -> Reject {
    (
        ErrorCode::UnknownProposal {
            proposal_id: id.to_string(),
        },
        format!("unknown proposal `{id}`"),
    )
}

/// The typed error of a refused workflow command (the state changed nothing).
fn error(e: CommandError) -> Result<WorkflowReply, Reject> {
    let message = e.to_string();
    if let Some(code) = arqonbus_proto::convert::guard_error(&e) {
        return Err((code, message));
    }
    let code = match e {
        CommandError::UnknownProposal(id) => return Err(unknown(&id)),
        CommandError::NotPending {
            proposal_id,
            verdict,
        } => ErrorCode::NotPending {
            proposal_id,
            status: verdict.name().to_string(),
        },
        CommandError::SelfApproval { proposal_id, .. } => ErrorCode::SelfApproval { proposal_id },
        CommandError::AlreadyApproved { proposal_id, .. } => {
            ErrorCode::AlreadyApproved { proposal_id }
        }
        CommandError::NotAnApprover { identity, .. } => ErrorCode::NotAnApprover { identity },
        CommandError::Refused(violations) => {
            return Ok(WorkflowReply::Refused {
                reason: fit_text(&message),
                violations,
            })
        }
        _ => return Ok(refused(&message)),
    };
    Err((code, message))
}
