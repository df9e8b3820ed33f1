//! Serving client requests: role checks, leader and quorum checks, writes
//! through the batcher, linearizable or stale reads, and the audit log.

use super::batcher::WriteError;
pub(super) use super::leadership::{leader_check, not_leader, read_barrier};
use super::{membership, Node};
use crate::certs::Identity;
use crate::proto::error::{ErrorCode, ErrorReply};
use crate::proto::limits::{MAX_AUDIT_ENTRIES, MAX_TEXT_LEN};
use crate::proto::operator::{Member, NodeRole, NodeStatus, OperatorReply, OperatorRequest};
use crate::proto::{Reply, Request};
use crate::raft::NodeId;
use crate::state::constraints::Violation;
use crate::state::role::Permission;
use crate::state::{Actor, Command, CommandError, Op, Outcome, Role};
use openraft::ServerState;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(super) type Reject = (ErrorCode, String);

pub(super) fn error_reply((code, message): Reject) -> Reply {
    Reply::Error(ErrorReply { code, message })
}

/// The longest a request may run on this node.
pub(super) fn deadline(node: &Node, request: &Request) -> Duration {
    match request {
        Request::Operate(
            OperatorRequest::ClusterInit { .. }
            | OperatorRequest::AddNode { .. }
            | OperatorRequest::RemoveNode { .. },
        ) => membership::DEADLINE,
        _ => node.config.request_deadline(),
    }
}

pub(super) async fn handle(node: &Node, identity: &Identity, request: Request) -> Reply {
    let reply = match request {
        Request::Operate(op) => operate(node, identity, op).await.map(Reply::Operated),
        Request::Proposal(p) => super::propose::proposal(node, identity, p).await,
        Request::StatusQuery(q) => super::propose::status_query(node, identity, q).await,
        Request::TelemetryBatch(b) => super::telemetry::intake(node, identity, b).await,
        Request::Subscribe(_) => Err((
            ErrorCode::InvalidMessage {
                field: "type".into(),
                reason: "subscribe opens a push stream of its own".into(),
            },
            "subscribe is served on its own stream".into(),
        )),
    };
    reply.unwrap_or_else(error_reply)
}

fn permission(op: &OperatorRequest) -> Permission {
    match op {
        OperatorRequest::SetConstraints { .. } | OperatorRequest::SetParameters { .. } => {
            Permission::Configure
        }
        OperatorRequest::ClusterInit { .. }
        | OperatorRequest::AddNode { .. }
        | OperatorRequest::RemoveNode { .. } => Permission::Membership,
        _ => Permission::Read,
    }
}

fn action(op: &OperatorRequest) -> &'static str {
    match op {
        OperatorRequest::SetConstraints { .. } => "set_constraints",
        OperatorRequest::GetConstraints { .. } => "get_constraints",
        OperatorRequest::SetParameters { .. } => "set_parameters",
        OperatorRequest::GetParameters { .. } => "get_parameters",
        OperatorRequest::AuditRange { .. } => "audit_range",
        OperatorRequest::NodeStatus => "node_status",
        OperatorRequest::ClusterInit { .. } => "cluster_init",
        OperatorRequest::AddNode { .. } => "add_node",
        OperatorRequest::RemoveNode { .. } => "remove_node",
        OperatorRequest::ListProposals { .. } => "list_proposals",
        OperatorRequest::ShowProposal { .. } => "show_proposal",
    }
}

async fn operate(
    node: &Node,
    identity: &Identity,
    op: OperatorRequest,
) -> Result<OperatorReply, Reject> {
    if !identity.role.may(permission(&op)) {
        let what = format!("tried {}", action(&op));
        tracing::warn!(target: "arqonbus::security", node = node.id, identity = %identity.name, role = %identity.role, %what, "forbidden");
        record_security_event(node, identity, what);
        return Err((
            ErrorCode::Forbidden,
            format!(
                "{} (role {}) may not {}",
                identity.name,
                identity.role,
                action(&op)
            ),
        ));
    }
    match op {
        OperatorRequest::SetConstraints {
            target_system,
            constraints,
        } => {
            write(
                node,
                identity,
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
                identity,
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
                None => Ok(refused(CommandError::UnknownTarget(target_system.clone()))),
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
                None => Ok(refused(CommandError::UnknownTarget(target_system.clone()))),
            })
        }
        OperatorRequest::AuditRange {
            from_index,
            limit,
            stale,
        } => {
            read_barrier(node, stale).await?;
            let head_index = node.sm.read(|a| a.state.audit.index);
            let limit = (limit as usize).min(MAX_AUDIT_ENTRIES);
            let entries = node
                .sm
                .audit()
                .read_from(from_index, limit)
                .map_err(|e| (internal(), e.to_string()))?;
            Ok(OperatorReply::AuditEntries {
                entries,
                head_index,
            })
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
            Ok(super::propose::list(node, target_system.as_deref(), limit))
        }
        OperatorRequest::ShowProposal { proposal_id, stale } => {
            read_barrier(node, stale).await?;
            Ok(super::propose::show(node, &proposal_id))
        }
    }
}

pub(super) fn internal() -> ErrorCode {
    ErrorCode::InvalidMessage {
        field: "server".into(),
        reason: "internal error".into(),
    }
}

fn refused(e: CommandError) -> OperatorReply {
    let violations = match &e {
        CommandError::Refused(v) => v
            .iter()
            .map(|v| Violation {
                reason: truncate(v.reason.clone(), MAX_TEXT_LEN),
                ..v.clone()
            })
            .collect(),
        _ => Vec::new(),
    };
    OperatorReply::Refused {
        reason: truncate(e.to_string(), MAX_TEXT_LEN),
        violations,
    }
}

/// Cuts `text` to at most `max` bytes at a character boundary.
pub(super) fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Records a security event in the audit log, without delaying the reply.
pub(super) fn record_security_event(node: &Node, identity: &Identity, what: String) {
    let command = Command {
        actor: Actor {
            identity: crate::certs::node_name(node.id),
            role: Role::Node,
        },
        at_ms: now_ms(),
        op: Op::SecurityEvent {
            identity: identity.name.clone(),
            role: identity.role,
            what,
        },
    };
    let node = node.clone();
    tokio::spawn(async move {
        if leader_check(&node).await.is_ok() {
            let _ = node.batcher.submit(command).await;
        }
    });
}

/// Proposes a command on the leader and waits for what `apply` answered.
pub(super) async fn submit(
    node: &Node,
    identity: &Identity,
    op: Op,
) -> Result<crate::state::CommandResult, Reject> {
    leader_check(node).await?;
    let command = Command {
        actor: Actor {
            identity: identity.name.clone(),
            role: identity.role,
        },
        at_ms: now_ms(),
        op,
    };
    node.batcher.submit(command).await.map_err(|e| match e {
        WriteError::NotLeader { leader, addr } => not_leader(node, leader, addr),
        // The command may already be in the log (and be applied later):
        // the outcome is unknown, so the client must not retry it.
        other => (ErrorCode::NoQuorum, other.to_string()),
    })
}

/// Proposes an operator command and turns `apply`'s answer into a reply.
async fn write(node: &Node, identity: &Identity, op: Op) -> Result<OperatorReply, Reject> {
    let result = submit(node, identity, op).await?;
    match result {
        Ok(Outcome::ConstraintsSet {
            target,
            version,
            out_of_bounds,
        }) => Ok(OperatorReply::ConstraintsSet {
            target_system: target,
            version,
            out_of_bounds,
        }),
        Ok(Outcome::ParametersSet { target, values }) => Ok(OperatorReply::ParametersSet {
            target_system: target,
            values,
        }),
        Ok(other) => Err((internal(), format!("unexpected outcome {other:?}"))),
        Err(CommandError::Forbidden { .. }) => Err((ErrorCode::Forbidden, "forbidden".into())),
        Err(e) => Ok(refused(e)),
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
