//! Operator requests: constraints and parameters (written through the
//! log, where `apply` guards them exactly as it guards `workflow`'s, and
//! refused with the same typed errors), reads (linearizable or stale), the
//! audit log, this node's status and membership. The sender's role was
//! checked by `dispatch`.

use super::leadership::read_barrier;
use super::reply::{internal, Reject};
use super::submit::{submit, Sender};
use super::{membership, propose, Node};
use crate::raft::NodeId;
use arqonbus_core::audit::AuditEntry;
use arqonbus_core::{CommandError, Op, Outcome};
use arqonbus_proto::convert;
use arqonbus_proto::limits::{MAX_AUDIT_ENTRIES, MAX_FRAME_LEN};
use arqonbus_proto::operator::{Member, NodeRole, NodeStatus, OperatorReply, OperatorRequest};
use openraft::ServerState;

pub(super) async fn operate(
    node: &Node,
    sender: &Sender<'_>,
    op: OperatorRequest,
) -> Result<OperatorReply, Reject> {
    match op {
        OperatorRequest::SetConstraints {
            target_system,
            constraints,
        } => {
            write(
                node,
                sender,
                Op::SetConstraints {
                    target: target_system,
                    constraints,
                },
            )
            .await
        }
        OperatorRequest::SetParameters {
            target_system,
            values,
            expected,
        } => {
            write(
                node,
                sender,
                Op::SetParameters {
                    target: target_system,
                    values,
                    expected,
                },
            )
            .await
        }
        OperatorRequest::GetConstraints {
            target_system,
            stale,
        } => {
            read_barrier(node, stale).await?;
            node.sm.read(|a| match a.state.targets.get(&target_system) {
                Some(t) => Ok(OperatorReply::Constraints {
                    target_system: target_system.clone(),
                    version: t.constraints_version,
                    constraints: t.constraints.clone(),
                }),
                None => Ok(convert::refused(CommandError::UnknownTarget(
                    target_system.clone(),
                ))),
            })
        }
        OperatorRequest::GetParameters {
            target_system,
            stale,
        } => {
            read_barrier(node, stale).await?;
            node.sm.read(|a| match a.state.targets.get(&target_system) {
                Some(t) => Ok(OperatorReply::Parameters {
                    target_system: target_system.clone(),
                    live: t.live.clone(),
                    last_known_good: t.last_known_good.clone(),
                }),
                None => Ok(convert::refused(CommandError::UnknownTarget(
                    target_system.clone(),
                ))),
            })
        }
        OperatorRequest::AuditRange {
            from_index,
            limit,
            stale,
        } => {
            read_barrier(node, stale).await?;
            audit_range(node, from_index, limit).await
        }
        OperatorRequest::NodeStatus => Ok(OperatorReply::NodeStatus(status(node))),
        OperatorRequest::ClusterInit { members } => membership::init(node, members).await,
        OperatorRequest::AddNode { member } => membership::add(node, member).await,
        OperatorRequest::RemoveNode { node_id } => membership::remove(node, node_id).await,
        OperatorRequest::ListProposals {
            target_system,
            limit,
            stale,
        } => {
            read_barrier(node, stale).await?;
            Ok(propose::list(node, target_system.as_deref(), limit))
        }
        OperatorRequest::ShowProposal { proposal_id, stale } => {
            read_barrier(node, stale).await?;
            Ok(propose::show(node, &proposal_id))
        }
    }
}

/// A page of this node's audit chain, consistent with the head it reports:
/// the head is read first, and no entry after it is sent (entries never
/// change once written). The store reads files, so off the async threads.
async fn audit_range(node: &Node, from: u64, limit: u32) -> Result<OperatorReply, Reject> {
    let head_index = node.sm.read(|a| a.state.audit.index);
    let limit = (limit as usize).min(MAX_AUDIT_ENTRIES);
    let audit = node.sm.audit().clone();
    let entries = tokio::task::spawn_blocking(move || audit.read_from(from, limit, head_index))
        .await
        .map_err(|e| (internal(), e.to_string()))?
        .map_err(|e| (internal(), e.to_string()))?;
    Ok(OperatorReply::AuditEntries {
        entries: fit_in_a_frame(entries),
        head_index,
    })
}

/// The first entries that fit in one reply frame even uncompressed (their
/// details may be up to 256 KiB each); the client pages on for the rest.
fn fit_in_a_frame(mut entries: Vec<AuditEntry>) -> Vec<AuditEntry> {
    let budget = MAX_FRAME_LEN - FRAME_HEADROOM;
    let mut used = 0;
    let fits = entries
        .iter()
        .take_while(|e| {
            used += crate::record::encoded_len(e).unwrap_or(usize::MAX / 2);
            used <= budget
        })
        .count();
    entries.truncate(fits.max(1));
    entries
}

/// Room in a frame for what is not an entry: the header, the reply's tags
/// and its head index.
const FRAME_HEADROOM: usize = 64;

/// Proposes an operator command and turns `apply`'s answer into a reply.
async fn write(node: &Node, sender: &Sender<'_>, op: Op) -> Result<OperatorReply, Reject> {
    let result = submit(node, sender, op).await?;
    match result {
        Ok(Outcome::ConstraintsSet {
            target,
            version,
            out_of_bounds,
            ..
        }) => Ok(OperatorReply::ConstraintsSet {
            target_system: target,
            version,
            out_of_bounds,
        }),
        Ok(Outcome::ParametersSet { target, values, .. }) => Ok(OperatorReply::ParametersSet {
            target_system: target,
            values,
        }),
        Ok(other) => Err((internal(), format!("unexpected outcome {other:?}"))),
        Err(e) => match convert::guard_error(&e) {
            Some(code) => Err((code, e.to_string())),
            None => Ok(convert::refused(e)),
        },
    }
}

/// This node's own view of itself and the membership.
pub(super) fn status(node: &Node) -> NodeStatus {
    let m = node.raft.metrics().borrow().clone();
    let membership = m.membership_config.membership();
    let member = |id: &NodeId| Member {
        node_id: *id,
        addr: membership
            .get_node(id)
            .map(|n| n.addr.clone())
            .unwrap_or_default(),
    };
    NodeStatus {
        node_id: node.id,
        advertise: node.config.advertise.clone(),
        role: match m.state {
            ServerState::Leader => NodeRole::Leader,
            ServerState::Follower => NodeRole::Follower,
            ServerState::Learner => NodeRole::Learner,
            ServerState::Candidate => NodeRole::Candidate,
            ServerState::Shutdown => NodeRole::Shutdown,
        },
        term: m.current_term,
        leader_id: m.current_leader,
        last_log_index: m.last_log_index,
        last_applied: m.last_applied.map(|l| l.index),
        voters: membership.voter_ids().map(|id| member(&id)).collect(),
        learners: membership.learner_ids().map(|id| member(&id)).collect(),
    }
}
