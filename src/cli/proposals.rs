//! `arqonbus proposals list [--pending]|show`: decided proposals from the
//! replicated decided table (linearizable on the leader unless `--stale`);
//! `show` and `--pending` print the whole decision with its approvals;
//! `show` adds its rollout's verdict (post-deployment validation).

use super::connect::GlobalArgs;
use super::output;
use arqonbus_proto::json_operator::JsonOperatorReply;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::rollout::RolloutRequest;
use arqonbus_proto::workflow::{WorkflowReply, WorkflowRequest};
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

/// One proposal's decision, with its rollout's verdict when the target
/// still lists it (`recent_verdicts`): in text after the decision, in
/// JSON as a `verdict` key beside the reply's.
async fn show(g: &GlobalArgs, a: ShowArgs) -> anyhow::Result<i32> {
    let client = g.client()?;
    let request = WorkflowRequest::ShowProposal {
        proposal_id: a.id.clone(),
        stale: a.stale,
    };
    let reply = match client.workflow(request.clone()).await {
        Ok(reply) => reply,
        Err(_) => return super::approval::send(g, request).await,
    };
    let verdict = match &reply {
        WorkflowReply::Proposal(d) => {
            let status = RolloutRequest::Status {
                target_system: d.target_system.clone(),
                stale: a.stale,
            };
            client.rollout(status).await.ok().and_then(|s| {
                s.recent_verdicts
                    .into_iter()
                    .find(|v| v.proposal_id == a.id)
            })
        }
        _ => None,
    };
    if !g.json() {
        let code = super::approval::print(false, &reply)?;
        if let Some(v) = &verdict {
            println!("verdict: {}", v.reason);
            for m in &v.metrics {
                println!("  {}: {}", m.metric, m.reason);
            }
        }
        return Ok(code);
    }
    let mut value = serde_json::to_value(&reply)?;
    if let Some(map) = value.as_object_mut() {
        map.insert("verdict".into(), serde_json::to_value(&verdict)?);
    }
    output::json(&value)?;
    Ok(match reply {
        WorkflowReply::Refused { .. } => super::exit::REFUSED,
        _ => super::exit::OK,
    })
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
        Proposals::Show(a) => return show(g, a).await,
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
