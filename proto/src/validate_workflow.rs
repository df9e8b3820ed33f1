//! Checks on `workflow` (0x20) and `workflowed` (0xa0): names are names,
//! texts fit `MAX_TEXT_LEN` (a constraint file's text fits the request
//! body limit, which the frame already enforces), numbers are finite.

use super::error::CodecError;
use super::limits::MAX_TEXT_LEN;
use super::workflow::{Allowed, WorkflowReply, WorkflowRequest};

type R = Result<(), CodecError>;

fn name(field: &str, v: &str) -> R {
    if v.is_empty() || v.len() > 128 {
        return Err(CodecError::invalid(
            field,
            format!("{field} is 1-128 bytes"),
        ));
    }
    Ok(())
}

fn text(field: &str, v: &str) -> R {
    if v.len() > MAX_TEXT_LEN {
        return Err(CodecError::invalid(
            field,
            format!("{field} is at most {MAX_TEXT_LEN} bytes"),
        ));
    }
    Ok(())
}

pub(crate) fn request(w: &WorkflowRequest) -> R {
    match w {
        WorkflowRequest::SetConstraints { target_system, .. }
        | WorkflowRequest::GetConstraints { target_system, .. }
        | WorkflowRequest::SetParameters { target_system, .. } => {
            name("target_system", target_system)
        }
        WorkflowRequest::ListPending { target_system, .. } => target_system
            .as_deref()
            .map_or(Ok(()), |t| name("target_system", t)),
        WorkflowRequest::Approve {
            proposal_id,
            reason,
        }
        | WorkflowRequest::Reject {
            proposal_id,
            reason,
        } => {
            name("proposal_id", proposal_id)?;
            text("reason", reason)
        }
        WorkflowRequest::ShowProposal { proposal_id, .. } => name("proposal_id", proposal_id),
        WorkflowRequest::Rollback {
            target_system,
            reason,
        } => {
            name("target_system", target_system)?;
            text("reason", reason)
        }
    }
}

pub(crate) fn reply(w: &WorkflowReply) -> R {
    let details = match w {
        WorkflowReply::Proposal(d) => std::slice::from_ref(d),
        WorkflowReply::Proposals { proposals } => proposals.as_slice(),
        _ => &[],
    };
    for d in details {
        for (i, r) in d.rejected.iter().enumerate() {
            let finite = r.allowed.as_ref().is_none_or(Allowed::is_finite);
            if !finite {
                return Err(CodecError::NonFinite {
                    field: format!("rejected[{i}].allowed"),
                });
            }
        }
    }
    Ok(())
}
