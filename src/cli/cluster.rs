//! `arqonbus cluster init|status|add-node|remove-node`.

use super::connect::GlobalArgs;
use super::output;
use arqonbus_client::{operated, Client};
use arqonbus_proto::operator::{Member, NodeRole, NodeStatus, OperatorReply, OperatorRequest};
use arqonbus_proto::{Reply, Request};
use clap::{Args, Subcommand};
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum Cluster {
    /// Bootstrap the nodes given by --endpoints into one cluster (once;
    /// again on a formed cluster it changes nothing).
    Init,
    /// Every member: id, address, role, term, log and apply positions.
    Status,
    /// Add a node: a learner first, promoted to voter once caught up.
    AddNode(AddNode),
    /// Remove a node from the membership.
    RemoveNode(RemoveNode),
}

#[derive(Debug, Args)]
pub struct AddNode {
    #[arg(long)]
    pub id: u64,
    /// `host:port` the node is reached at.
    #[arg(long)]
    pub addr: String,
}

#[derive(Debug, Args)]
pub struct RemoveNode {
    #[arg(long)]
    pub id: u64,
}

/// One member as `cluster status` shows it.
#[derive(Debug, Serialize)]
pub struct MemberView {
    pub id: u64,
    pub addr: String,
    /// leader, follower, learner, candidate or unknown (unreachable).
    pub role: String,
    pub voter: bool,
    pub term: Option<u64>,
    pub last_log_index: Option<u64>,
    pub last_applied: Option<u64>,
    pub reachable: bool,
}

/// `cluster status --output json`.
#[derive(Debug, Serialize)]
pub struct StatusView {
    pub leader: Option<u64>,
    pub members: Vec<MemberView>,
}

async fn node_status(client: &Client, endpoint: &str) -> Option<NodeStatus> {
    match client
        .call_node(endpoint, &Request::Operate(OperatorRequest::NodeStatus))
        .await
    {
        Ok(Reply::Operated(OperatorReply::NodeStatus(s))) => Some(s),
        _ => None,
    }
}

/// Asks every endpoint at once for its own view.
async fn all_status(client: &Client, endpoints: &[String]) -> Vec<(String, Option<NodeStatus>)> {
    let asks: Vec<_> = endpoints
        .iter()
        .map(|e| {
            let (client, e) = (client.clone(), e.clone());
            tokio::spawn(async move {
                let s = node_status(&client, &e).await;
                (e, s)
            })
        })
        .collect();
    let mut out = Vec::new();
    for (ask, e) in asks.into_iter().zip(endpoints) {
        out.push(ask.await.unwrap_or_else(|_| (e.clone(), None)));
    }
    out
}

fn role_name(r: NodeRole) -> &'static str {
    match r {
        NodeRole::Leader => "leader",
        NodeRole::Follower => "follower",
        NodeRole::Learner => "learner",
        NodeRole::Candidate => "candidate",
        NodeRole::Shutdown => "shutdown",
    }
}

pub async fn status(client: &Client) -> anyhow::Result<StatusView> {
    let seen = all_status(client, client.endpoints()).await;
    let reachable: Vec<&NodeStatus> = seen.iter().filter_map(|(_, s)| s.as_ref()).collect();
    // The membership as the most advanced reachable node knows it.
    let reference = reachable
        .iter()
        .max_by_key(|s| (s.term, s.last_applied))
        .ok_or_else(|| anyhow::anyhow!("no endpoint answered: {:?}", client.endpoints()))?;
    let leader = reachable
        .iter()
        .find(|s| s.role == NodeRole::Leader && s.term == reference.term)
        .map(|s| s.node_id);
    let mut members = Vec::new();
    let all = reference
        .voters
        .iter()
        .map(|m| (m, true))
        .chain(reference.learners.iter().map(|m| (m, false)));
    for (m, voter) in all {
        let own = reachable.iter().find(|s| s.node_id == m.node_id);
        members.push(MemberView {
            id: m.node_id,
            addr: m.addr.clone(),
            role: own.map_or("unknown", |s| role_name(s.role)).to_string(),
            voter,
            term: own.map(|s| s.term),
            last_log_index: own.and_then(|s| s.last_log_index),
            last_applied: own.and_then(|s| s.last_applied),
            reachable: own.is_some(),
        });
    }
    Ok(StatusView { leader, members })
}

/// Bootstraps the nodes behind the client's endpoints (their ids are asked
/// of each node); safe to repeat.
pub async fn init(client: &Client) -> anyhow::Result<OperatorReply> {
    let seen = all_status(client, client.endpoints()).await;
    let mut members = Vec::new();
    for (endpoint, s) in &seen {
        let s = s.as_ref().ok_or_else(|| {
            anyhow::anyhow!("{endpoint} did not answer; every node must be up to bootstrap")
        })?;
        members.push(Member {
            node_id: s.node_id,
            addr: s.advertise.clone(),
        });
    }
    let first = seen.first().map(|(e, _)| e.clone()).unwrap_or_default();
    let request = Request::Operate(OperatorRequest::ClusterInit {
        members: members.clone(),
    });
    // Ask the first node; if an earlier run left another leader, ask it.
    let reply = match client.call_node(&first, &request).await {
        Err(e) if matches!(e.code(), Some(arqonbus_proto::ErrorCode::NotLeader { .. })) => {
            client.call(request, arqonbus_client::Retry::Safe).await?
        }
        other => other?,
    };
    Ok(operated(reply)?)
}

pub async fn run(g: &GlobalArgs, c: Cluster) -> anyhow::Result<i32> {
    let client = g.client()?;
    let done = |reply: OperatorReply| -> anyhow::Result<i32> {
        match reply {
            OperatorReply::Done { message } => {
                if g.json() {
                    output::json(&serde_json::json!({ "message": message }))?;
                } else {
                    println!("{message}");
                }
                Ok(super::exit::OK)
            }
            other => output::refused(g.json(), &other),
        }
    };
    match c {
        Cluster::Init => done(init(&client).await?),
        Cluster::Status => {
            let view = status(&client).await?;
            if g.json() {
                output::json(&view)?;
            } else {
                println!(
                    "leader: {}",
                    view.leader.map_or("none".to_string(), |l| l.to_string())
                );
                for m in &view.members {
                    println!(
                        "  node {:<3} {:<22} {:<9} term {:<4} last_log {:<8} applied {:<8} {}",
                        m.id,
                        m.addr,
                        m.role,
                        m.term.map_or("-".into(), |t| t.to_string()),
                        m.last_log_index.map_or("-".into(), |t| t.to_string()),
                        m.last_applied.map_or("-".into(), |t| t.to_string()),
                        if m.reachable {
                            "reachable"
                        } else {
                            "UNREACHABLE"
                        }
                    );
                }
            }
            Ok(super::exit::OK)
        }
        Cluster::AddNode(a) => done(
            client
                .operate(OperatorRequest::AddNode {
                    member: Member {
                        node_id: a.id,
                        addr: a.addr,
                    },
                })
                .await?,
        ),
        Cluster::RemoveNode(r) => done(
            client
                .operate(OperatorRequest::RemoveNode { node_id: r.id })
                .await?,
        ),
    }
}
