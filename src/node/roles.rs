//! One log line per change of this node's Raft role or term:
//! `role changed node=N term=T role=leader`. Operators read leadership
//! history from it, and the chaos suite checks from every node's log that
//! no term ever had two leaders (which a vote lost to a power cut allows).

use super::Node;
use crate::raft::NodeId;
use openraft::ServerState;

/// The name of a Raft role, as the log line spells it.
pub fn role_name(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "leader",
        ServerState::Follower => "follower",
        ServerState::Learner => "learner",
        ServerState::Candidate => "candidate",
        ServerState::Shutdown => "shutdown",
    }
}

/// Logs role and term changes until the node shuts down.
pub(super) async fn watch(node: Node) {
    let mut metrics = node.raft.metrics();
    let mut seen: Option<(ServerState, u64)> = None;
    loop {
        let (state, term, leader): (ServerState, u64, Option<NodeId>) = {
            let m = metrics.borrow_and_update();
            (m.state, m.current_term, m.current_leader)
        };
        if seen != Some((state, term)) {
            seen = Some((state, term));
            tracing::info!(target: "arqonbus::raft", node = node.id, term, role = role_name(state), leader = ?leader, "role changed");
        }
        if state == ServerState::Shutdown || metrics.changed().await.is_err() {
            return;
        }
    }
}
