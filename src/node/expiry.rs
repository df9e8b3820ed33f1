//! The leader's expiry of pending proposals: once a second, the node that
//! leads reads which pending proposals its clock has passed the expiry of
//! and proposes an `Expire` command for each. `apply` checks the command's
//! time against the recorded expiry (never a clock), so a follower's or a
//! stale leader's attempt changes nothing; a new leader picks up where the
//! old one stopped, because the pending set is in the replicated state.

use super::submit::{now_ms, submit, Sender};
use super::Node;
use arqonbus_core::Op;
use arqonbus_transport::Identity;
use std::time::Duration;

/// How often the leader looks for expired proposals.
const EVERY: Duration = Duration::from_secs(1);

pub(super) async fn run(node: Node) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if node.raft.metrics().borrow().current_leader != Some(node.id) {
            continue;
        }
        let now = now_ms();
        let expired = node.sm.read(|a| a.state.expired_pending(now));
        for proposal_id in expired {
            let op = Op::Expire {
                proposal_id: proposal_id.clone(),
            };
            match submit(&node, &Sender::node(&Identity::node(node.id)), op).await {
                Ok(Ok(_)) => {
                    tracing::info!(target: "arqonbus::approval", node = node.id, proposal = %proposal_id, "pending proposal expired")
                }
                Ok(Err(e)) => {
                    tracing::debug!(target: "arqonbus::approval", node = node.id, proposal = %proposal_id, error = %e, "expiry refused")
                }
                Err((_, e)) => {
                    tracing::warn!(target: "arqonbus::approval", node = node.id, proposal = %proposal_id, error = %e, "expiry not proposed")
                }
            }
        }
    }
}
