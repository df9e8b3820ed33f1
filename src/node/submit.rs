//! How a handler changes the replicated state: a command stamped with the
//! sender, how the sender numbered and signed the request (checked again
//! in `apply`) and the leader's clock, proposed through the batcher, answered
//! with what `apply` returned.

use super::batcher::WriteError;
use super::leadership::{leader_check, not_leader};
use super::reply::Reject;
use super::Node;
use arqonbus_core::seal::Seal;
use arqonbus_core::sessions::Origin;
use arqonbus_core::{Actor, Command, CommandResult, Op};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::{Envelope, Request};
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
/// request, how its envelope numbered it and its signature (which `apply`
/// verifies again and the audit chain keeps).
pub(super) struct Sender<'a> {
    pub identity: &'a Identity,
    pub origin: Option<Origin>,
    pub seal: Option<Seal>,
}

impl<'a> Sender<'a> {
    /// A client's request, numbered by its envelope; sealed when it is
    /// signed (`key`: the connection's certificate key).
    pub fn client(
        identity: &'a Identity,
        key: Option<&[u8]>,
        envelope: &Envelope,
        request: &Request,
    ) -> Self {
        let seal = match (&envelope.signature, key) {
            (Some(signature), Some(key)) => {
                request.signed_bytes(envelope).ok().map(|signed| Seal {
                    key: key.to_vec(),
                    signature: signature.bytes.clone(),
                    signed,
                })
            }
            _ => None,
        };
        Sender {
            identity,
            origin: Some(Origin {
                session: envelope.session,
                seq: envelope.seq,
                sent_at_ms: envelope.sent_at.0,
            }),
            seal,
        }
    }

    /// A node's own command (expiry, a security summary): not numbered.
    pub fn node(identity: &'a Identity) -> Self {
        Sender {
            identity,
            origin: None,
            seal: None,
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
        seal: sender.seal.clone(),
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
