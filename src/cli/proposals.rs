//! `arqonbus proposals list [--pending]|show`: decided proposals from the
//! replicated decided table (linearizable on the leader unless `--stale`);
//! `show` and `--pending` print the whole decision with its approvals.

use super::connect::GlobalArgs;
use super::output;
use arqonbus_proto::json_operator::JsonOperatorReply;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::workflow::WorkflowRequest;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum Proposals {
    /// The newest decided proposals, newest first.
    List(ListArgs),
    /// One proposal's decision and status.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this target system's proposals.
    #[arg(long)]
    pub target: Option<String>,
    /// At most this many (the server caps it at 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Read this node's replica instead of a linearizable read.
    #[arg(long)]
    pub stale: bool,
    /// Only the proposals pending approval, with their approvals so far.
    #[arg(long)]
    pub pending: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub id: String,
    #[arg(long)]
    pub stale: bool,
}

pub async fn run(g: &GlobalArgs, p: Proposals) -> anyhow::Result<i32> {
    let request = match p {
        Proposals::List(a) if a.pending => {
            let request = WorkflowRequest::ListPending {
                target_system: a.target,
                stale: a.stale,
            };
            return super::approval::send(g, request).await;
        }
        Proposals::Show(a) => {
            let request = WorkflowRequest::ShowProposal {
                proposal_id: a.id,
                stale: a.stale,
            };
            return super::approval::send(g, request).await;
        }
        Proposals::List(a) => OperatorRequest::ListProposals {
            target_system: a.target,
            limit: a.limit.max(1),
            stale: a.stale,
        },
    };
    let reply = g.client()?.operate(request).await?;
    match &reply {
        OperatorReply::Proposals { proposals } => {
            if g.json() {
                output::json(&JsonOperatorReply::from_wire(&reply)?)?;
            } else {
                for p in proposals {
                    let decision = serde_json::to_value(p.decision)?;
                    println!(
                        "{}  {}  {}  {}  approved {} rejected {}",
                        p.timestamp.to_rfc3339()?,
                        p.target_system,
                        p.proposal_id,
                        decision.as_str().unwrap_or("?"),
                        p.approved,
                        p.rejected
                    );
                }
            }
            Ok(super::exit::OK)
        }
        OperatorReply::Proposal { approval, status } => {
            if g.json() {
                output::json(&JsonOperatorReply::from_wire(&reply)?)?;
            } else {
                super::propose::print_approval(false, approval)?;
                let s = serde_json::to_value(status.status)?;
                println!(
                    "  status {} at {}%",
                    s.as_str().unwrap_or("?"),
                    status.progress.rollout_percentage
                );
            }
            Ok(super::exit::OK)
        }
        other => output::refused(g.json(), other),
    }
}
