//! Cluster membership: bootstrap once, add and remove nodes.
//!
//! `init` is safe to repeat, on any member: only one of them ever
//! bootstraps — the one with the lowest node id, which fixes the
//! `cluster_id` (`raft::cluster_id`) and initializes itself alone — and
//! every other member that is not in a cluster yet answers `not_leader`
//! naming it, so a retry that lands elsewhere is sent back to it and never
//! makes a second cluster. On a formed cluster init says so and changes
//! nothing; after an interrupted run it finishes what is missing. The
//! bootstrapper waits until its own membership is committed, then adds the
//! others as learners (which waits until they catch up; each adopts the
//! cluster id in its first handshake) and promotes them.

use super::leadership::leader_check;
use super::reply::Reject;
use super::Node;
use crate::raft::cluster_id::ClusterId;
use crate::raft::NodeId;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::{Member, OperatorReply};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, ChangeMembers};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Membership changes wait for learners to catch up, so they get longer.
pub(super) const DEADLINE: Duration = Duration::from_secs(60);

fn failed(e: impl std::fmt::Display) -> Reject {
    (ErrorCode::NoQuorum, e.to_string())
}

fn map_write_error(
    node: &Node,
    e: RaftError<NodeId, ClientWriteError<NodeId, BasicNode>>,
) -> Reject {
    match e {
        RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => (
            ErrorCode::NotLeader {
                leader_id: f.leader_id,
                leader_addr: f.leader_node.map(|n| n.addr),
            },
            format!("node {} is not the leader", node.id),
        ),
        // Handed to openraft: the change may still be committed.
        other => (ErrorCode::OutcomeUnknown, other.to_string()),
    }
}

fn voters(node: &Node) -> BTreeSet<NodeId> {
    node.raft
        .metrics()
        .borrow()
        .membership_config
        .membership()
        .voter_ids()
        .collect()
}

pub(super) async fn init(node: &Node, members: Vec<Member>) -> Result<OperatorReply, Reject> {
    let Some(me) = members.iter().find(|m| m.node_id == node.id) else {
        return Err((
            ErrorCode::InvalidMessage {
                field: "members".into(),
                reason: format!(
                    "node {} (which received this) is not among the members",
                    node.id
                ),
            },
            "send cluster init to one of the members".into(),
        ));
    };
    let initialized = node.raft.is_initialized().await.map_err(failed)?;
    if !initialized {
        bootstrap(node, me, &members).await?;
    }
    leader_check(node).await?;
    let wanted: BTreeSet<NodeId> = members.iter().map(|m| m.node_id).collect();
    let present = voters(node);
    if wanted.is_subset(&present) {
        let message = if initialized {
            format!("the cluster is already formed (voters {present:?}); nothing changed")
        } else {
            format!("cluster formed: voters {present:?}")
        };
        return Ok(OperatorReply::Done { message });
    }
    for m in members.iter().filter(|m| !present.contains(&m.node_id)) {
        add_learner(node, m).await?;
    }
    let missing: BTreeSet<NodeId> = wanted.difference(&present).copied().collect();
    super::deadline::mark_proposed();
    node.raft
        .change_membership(ChangeMembers::AddVoterIds(missing), false)
        .await
        .map_err(|e| map_write_error(node, e))?;
    Ok(OperatorReply::Done {
        message: format!("cluster formed: voters {:?}", voters(node)),
    })
}

/// Bootstraps the cluster on this node if it is the one that does (the
/// lowest id among `members`); any other sends the request there.
async fn bootstrap(node: &Node, me: &Member, members: &[Member]) -> Result<(), Reject> {
    let Some(first) = members.iter().min_by_key(|m| m.node_id) else {
        return Err(failed("no members"));
    };
    if first.node_id != node.id {
        return Err((
            ErrorCode::NotLeader {
                leader_id: Some(first.node_id),
                leader_addr: Some(first.addr.clone()),
            },
            format!(
                "node {} bootstraps this cluster (the lowest id among the members); node {} waits to be added",
                first.node_id, node.id
            ),
        ));
    }
    let cluster = node.cluster.clone();
    let seed = format!("{members:?}");
    let me_id = node.id;
    let id = tokio::task::spawn_blocking(move || match cluster.get() {
        Some(id) => Ok(id),
        None => cluster.adopt(ClusterId::new(me_id, &seed)),
    })
    .await
    .map_err(failed)?
    .map_err(failed)?;
    tracing::info!(target: "arqonbus::node", node = node.id, cluster = %id, "initializing the cluster");
    let only_me = BTreeMap::from([(node.id, BasicNode::new(&me.addr))]);
    node.raft.initialize(only_me).await.map_err(failed)
}

async fn add_learner(node: &Node, m: &Member) -> Result<(), Reject> {
    tracing::info!(target: "arqonbus::node", node = node.id, learner = m.node_id, addr = %m.addr, "adding learner");
    super::deadline::mark_proposed();
    node.raft
        .add_learner(m.node_id, BasicNode::new(&m.addr), true)
        .await
        .map_err(|e| map_write_error(node, e))?;
    Ok(())
}

pub(super) async fn add(node: &Node, member: Member) -> Result<OperatorReply, Reject> {
    leader_check(node).await?;
    if voters(node).contains(&member.node_id) {
        return Ok(OperatorReply::Done {
            message: format!(
                "node {} is already a voter; nothing changed",
                member.node_id
            ),
        });
    }
    add_learner(node, &member).await?;
    super::deadline::mark_proposed();
    node.raft
        .change_membership(
            ChangeMembers::AddVoterIds(BTreeSet::from([member.node_id])),
            false,
        )
        .await
        .map_err(|e| map_write_error(node, e))?;
    Ok(OperatorReply::Done {
        message: format!("node {} added; voters {:?}", member.node_id, voters(node)),
    })
}

pub(super) async fn remove(node: &Node, id: NodeId) -> Result<OperatorReply, Reject> {
    leader_check(node).await?;
    let membership = node
        .raft
        .metrics()
        .borrow()
        .membership_config
        .membership()
        .clone();
    if membership.get_node(&id).is_none() {
        return Ok(OperatorReply::Done {
            message: format!("node {id} is not a member; nothing changed"),
        });
    }
    let ids = BTreeSet::from([id]);
    super::deadline::mark_proposed();
    if membership.voter_ids().any(|v| v == id) {
        node.raft
            .change_membership(ChangeMembers::RemoveVoters(ids.clone()), false)
            .await
            .map_err(|e| map_write_error(node, e))?;
    }
    node.raft
        .change_membership(ChangeMembers::RemoveNodes(ids), false)
        .await
        .map_err(|e| map_write_error(node, e))?;
    Ok(OperatorReply::Done {
        message: format!("node {id} removed; voters {:?}", voters(node)),
    })
}
