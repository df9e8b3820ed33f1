//! How a handler changes the replicated state: a command stamped with the
//! sender and the leader's clock, proposed through the batcher, answered
//! with what `apply` returned.

use super::batcher::WriteError;
use super::leadership::{leader_check, not_leader};
use super::reply::Reject;
use super::Node;
use arqonbus_core::{Actor, Command, CommandResult, Op};
use arqonbus_proto::error::ErrorCode;
use arqonbus_transport::Identity;
use std::time::{SystemTime, UNIX_EPOCH};

/// This node's clock in Unix milliseconds: the time a leader stamps on a
/// command (`apply` itself never reads a clock).
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Proposes a command on the leader and waits for what `apply` answered.
pub(super) async fn submit(
    node: &Node,
    identity: &Identity,
    op: Op,
) -> Result<CommandResult, Reject> {
    leader_check(node).await?;
    let command = Command {
        actor: Actor {
            identity: identity.name.clone(),
            role: identity.role,
        },
        at_ms: now_ms(),
        op,
    };
    super::deadline::mark_proposed();
    node.batcher.submit(command).await.map_err(|e| match &e {
        // openraft refused it before appending anything.
        WriteError::NotLeader { leader, addr } => not_leader(node, *leader, addr.clone()),
        // Refused before it was queued.
        WriteError::TooLarge { size, limit } => (
            ErrorCode::TooLarge {
                size: *size as u64,
                limit: *limit as u64,
            },
            e.to_string(),
        ),
        // The command may already be in the log (and be applied later).
        _ => (ErrorCode::OutcomeUnknown, e.to_string()),
    })
}
