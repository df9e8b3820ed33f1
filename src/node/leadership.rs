//! Who leads, and whether this node may answer: the leader and quorum
//! checks in front of every write and linearizable read.

use super::reply::Reject;
use super::Node;
use crate::raft::NodeId;
use arqonbus_proto::error::ErrorCode;
use openraft::RaftMetrics;
use std::time::Duration;

fn leader_addr(m: &RaftMetrics<NodeId, openraft::BasicNode>, id: NodeId) -> Option<String> {
    m.membership_config
        .membership()
        .get_node(&id)
        .map(|n| n.addr.clone())
}

pub(super) fn not_leader(node: &Node, leader: Option<NodeId>, addr: Option<String>) -> Reject {
    match leader {
        None => (ErrorCode::NoLeader, "no leader is known yet".into()),
        Some(id) => {
            let addr = addr.or_else(|| leader_addr(&node.raft.metrics().borrow(), id));
            (
                ErrorCode::NotLeader {
                    leader_id: Some(id),
                    leader_addr: addr.clone(),
                },
                format!(
                    "node {id} is the leader ({})",
                    addr.unwrap_or_else(|| "address unknown".into())
                ),
            )
        }
    }
}

/// Succeeds on a leader that has heard from a majority recently; waits a
/// bounded time for an election to finish (and, on a leader elected a
/// moment ago, for the first acknowledgements from a majority); otherwise
/// says who to ask. Nothing has been proposed when this fails.
pub(super) async fn leader_check(node: &Node) -> Result<(), Reject> {
    let wait = Duration::from_millis(node.config.client.leader_wait_ms);
    let me = node.id;
    let settled = |m: &RaftMetrics<NodeId, openraft::BasicNode>| match m.current_leader {
        Some(id) if id == me => m.millis_since_quorum_ack.is_some(),
        other => other.is_some(),
    };
    let m = node
        .raft
        .wait(Some(wait))
        .metrics(settled, "a leader is known (and, here, acknowledged)")
        .await
        .map_err(|_| {
            (
                ErrorCode::NoLeader,
                format!("no leader was elected and acknowledged within {wait:?}"),
            )
        })?;
    match m.current_leader {
        Some(id) if id == node.id => {
            let quiet = m.millis_since_quorum_ack.unwrap_or(u64::MAX);
            if quiet > node.config.client.quorum_lost_ms {
                return Err((
                    ErrorCode::NoQuorum,
                    format!("this leader has not heard from a majority for {quiet} ms"),
                ));
            }
            Ok(())
        }
        other => Err(not_leader(node, other, None)),
    }
}

/// A linearizable read needs the leader to confirm it still leads.
///
/// A teeth build (`crate::teeth`, `stale-reads`) breaks this on purpose: every
/// read is served from the local replica, on any node, without asking the
/// leader — so the chaos suite can show that it catches stale reads.
pub(super) async fn read_barrier(node: &Node, stale: bool) -> Result<(), Reject> {
    if stale || crate::teeth::broken("stale-reads") {
        return Ok(());
    }
    leader_check(node).await?;
    let wait = Duration::from_millis(node.config.client.quorum_lost_ms);
    match tokio::time::timeout(wait, node.raft.ensure_linearizable()).await {
        Err(_) => Err((
            ErrorCode::NoQuorum,
            format!("no majority confirmed the leader within {wait:?}"),
        )),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(openraft::error::RaftError::APIError(
            openraft::error::CheckIsLeaderError::ForwardToLeader(f),
        ))) => Err(not_leader(node, f.leader_id, f.leader_node.map(|n| n.addr))),
        Ok(Err(e)) => Err((ErrorCode::NoQuorum, e.to_string())),
    }
}
