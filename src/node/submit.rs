//! How a handler changes the replicated state: a command stamped with the
//! sender, how the sender numbered the request (checked against replays in
//! `apply`) and the leader's clock, proposed through the batcher, answered
//! with what `apply` returned.

use super::batcher::WriteError;
use super::leadership::{leader_check, not_leader};
use super::reply::Reject;
use super::Node;
use arqonbus_core::sessions::Origin;
use arqonbus_core::{Actor, Command, CommandResult, Op};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::Envelope;
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

/// Who asks for a change: the certificate's identity and, for a client's
/// request, how its envelope numbered it.
pub(super) struct Sender<'a> {
    pub identity: &'a Identity,
    pub origin: Option<Origin>,
}

impl<'a> Sender<'a> {
    /// A client's request, numbered by its envelope.
    pub fn client(identity: &'a Identity, envelope: &Envelope) -> Self {
        Sender {
            identity,
            origin: Some(Origin {
                session: envelope.session,
                seq: envelope.seq,
                sent_at_ms: envelope.sent_at.0,
            }),
        }
    }

    /// A node's own command (expiry, a security summary): not numbered.
    pub fn node(identity: &'a Identity) -> Self {
        Sender {
            identity,
            origin: None,
        }
    }
}

/// Proposes a command on the leader and waits for what `apply` answered.
pub(super) async fn submit(
    node: &Node,
    sender: &Sender<'_>,
    op: Op,
) -> Result<CommandResult, Reject> {
    leader_check(node).await?;
    let command = Command {
        actor: Actor {
            identity: sender.identity.name.clone(),
            role: sender.identity.role,
        },
        at_ms: now_ms(),
        op,
        origin: sender.origin,
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
