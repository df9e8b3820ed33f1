//! `arqonbus approve ID [--reason TEXT]`, `arqonbus reject ID --reason
//! TEXT`, and the printing of a proposal's detail (with its approvals so
//! far) that `proposals show` and `proposals list --pending` share. A
//! refusal by the state (self-approval, not pending, unknown …) prints its
//! error code and exits with the "refused" code, 3.

use super::connect::GlobalArgs;
use super::output;
use arqonbus_client::ClientError;
use arqonbus_proto::workflow::{ProposalDetail, WorkflowReply, WorkflowRequest};
use clap::Args;

#[derive(Debug, Args)]
pub struct ApproveArgs {
    pub id: String,
    /// Why (recorded in the audit log).
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    pub id: String,
    /// Why (required; recorded in the audit log).
    #[arg(long)]
    pub reason: String,
}

pub async fn approve(g: &GlobalArgs, a: ApproveArgs) -> anyhow::Result<i32> {
    send(
        g,
        WorkflowRequest::Approve {
            proposal_id: a.id,
            reason: a.reason,
        },
    )
    .await
}

pub async fn reject(g: &GlobalArgs, a: RejectArgs) -> anyhow::Result<i32> {
    send(
        g,
        WorkflowRequest::Reject {
            proposal_id: a.id,
            reason: a.reason,
        },
    )
    .await
}

/// Sends a workflow request and prints the answer.
pub async fn send(g: &GlobalArgs, request: WorkflowRequest) -> anyhow::Result<i32> {
    match g.client()?.workflow(request).await {
        Ok(reply) => print(g.json(), &reply),
        // The constraint engine's refusals (codes 16-22) exit "refused";
        // anything else (forbidden, unavailable …) is an error, exit 1.
        Err(ClientError::Server { error, .. }) if engine_code(&error.code) => {
            if g.json() {
                output::json(&serde_json::json!({
                    "error": error.code.name(), "code": error.code, "message": error.message
                }))?;
            } else {
                eprintln!("refused ({}): {}", error.code.name(), error.message);
            }
            Ok(super::exit::REFUSED)
        }
        Err(e) => Err(e.into()),
    }
}

fn engine_code(code: &arqonbus_proto::ErrorCode) -> bool {
    use arqonbus_proto::ErrorCode as E;
    matches!(
        code,
        E::UnknownProposal { .. }
            | E::NotPending { .. }
            | E::SelfApproval { .. }
            | E::AlreadyApproved { .. }
            | E::NotAnApprover { .. }
            | E::ActiveProposal { .. }
            | E::LiveOutOfBounds { .. }
            | E::NoRollout { .. }
    )
}

/// Prints a workflow reply; a refusal returns the "refused" code.
pub fn print(as_json: bool, reply: &WorkflowReply) -> anyhow::Result<i32> {
    if as_json {
        output::json(reply)?;
        return Ok(match reply {
            WorkflowReply::Refused { .. } => super::exit::REFUSED,
            _ => super::exit::OK,
        });
    }
    match reply {
        WorkflowReply::Proposal(d) => detail(d)?,
        WorkflowReply::Proposals { proposals } => {
            if proposals.is_empty() {
                println!("no proposal is pending approval");
            }
            for d in proposals {
                detail(d)?;
            }
        }
        WorkflowReply::ConstraintsSet {
            target_system,
            version,
            out_of_bounds,
            forced,
        } => {
            println!("{target_system}: constraints version {version}");
            if !out_of_bounds.is_empty() {
                println!(
                    "live values outside the new constraints: {}",
                    out_of_bounds.join(", ")
                );
            }
            if *forced {
                println!("forced: a guard was overridden (audited constraints_forced)");
            }
        }
        WorkflowReply::Constraints {
            target_system,
            version,
            current_version,
            constraints,
            policy,
        } => {
            println!("{target_system}: constraints version {version} (current {current_version})");
            for (name, c) in &constraints.parameters {
                println!("  {name}: {c:?}");
            }
            println!("  policy: {policy}");
        }
        WorkflowReply::ParametersSet {
            target_system,
            values,
            forced,
        } => {
            for (k, v) in values {
                println!("{target_system}: {k} = {v}");
            }
            if *forced {
                println!("forced: the pending proposal was aborted (audited params_forced)");
            }
        }
        WorkflowReply::RolledBack {
            target_system,
            proposal_id,
            quarantined,
            quarantine_until,
        } => {
            println!("{target_system}: rolled back {proposal_id}");
            for (k, v) in quarantined {
                println!(
                    "  {k} = {v} quarantined until {}",
                    quarantine_until.to_rfc3339()?
                );
            }
        }
        WorkflowReply::Refused { reason, .. } => {
            eprintln!("refused: {reason}");
            return Ok(super::exit::REFUSED);
        }
    }
    Ok(super::exit::OK)
}

fn detail(d: &ProposalDetail) -> anyhow::Result<()> {
    let name = |v: serde_json::Value| v.as_str().unwrap_or("?").to_string();
    println!(
        "{}  {}  {}  status {}  proposed by {}  constraints v{}",
        d.proposal_id,
        d.target_system,
        name(serde_json::to_value(d.decision)?),
        name(serde_json::to_value(d.status)?),
        d.proposer,
        d.constraints_version
    );
    for (k, v) in &d.approved {
        println!("  approved {k} = {v}");
    }
    for (k, v) in &d.pending {
        println!("  pending  {k} = {v}");
    }
    for r in &d.rejected {
        let allowed = r
            .allowed
            .as_ref()
            .map(|a| format!(" allowed {}", serde_json::to_string(a).unwrap_or_default()))
            .unwrap_or_default();
        println!(
            "  rejected {} ({}): {}{allowed}",
            r.parameter, r.constraint_violated, r.reason
        );
    }
    if !d.pending.is_empty() || !d.approvals.is_empty() {
        println!("  approvals {}/{}", d.approvals.len(), d.required_approvals);
    }
    for a in &d.approvals {
        println!("    {} at {}: {}", a.identity, a.at.to_rfc3339()?, a.reason);
    }
    if let Some(at) = d.expires_at {
        println!("  expires at {}", at.to_rfc3339()?);
    }
    if let (Some(by), Some(why)) = (&d.closed_by, &d.closed_reason) {
        println!("  closed: {by}: {why}");
    }
    Ok(())
}
