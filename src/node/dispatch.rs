//! Every client request enters here: the sender's role is checked against
//! the one permission table (a refusal is a security event), then the
//! request goes to its handler, under a deadline the caller applies.

use super::membership;
use super::reply::{error_reply, Reject};
use super::submit::record_security_event;
use super::{operate, propose, telemetry, Node};
use arqonbus_proto::convert;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::{Reply, Request};
use arqonbus_transport::Identity;
use std::time::Duration;

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

/// Answers one request (a `subscribe` is served on a stream of its own).
pub(super) async fn handle(node: &Node, identity: &Identity, request: Request) -> Reply {
    if let Err(reject) = authorize(node, identity, &request) {
        return error_reply(reject);
    }
    let reply = match request {
        Request::Operate(op) => operate::operate(node, identity, op)
            .await
            .map(Reply::Operated),
        Request::Proposal(p) => propose::proposal(node, identity, p).await,
        Request::StatusQuery(q) => propose::status_query(node, q).await,
        Request::TelemetryBatch(b) => telemetry::intake(node, b).await,
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

/// Refuses what the sender's role may not do, and records the attempt.
fn authorize(node: &Node, identity: &Identity, request: &Request) -> Result<(), Reject> {
    if identity.role.may(convert::permission(request)) {
        return Ok(());
    }
    let action = convert::action(request);
    let what = format!("tried {action}");
    tracing::warn!(target: "arqonbus::security", node = node.id, identity = %identity.name, role = %identity.role, %what, "forbidden");
    record_security_event(node, identity, what);
    Err((
        ErrorCode::Forbidden,
        format!(
            "{} (role {}) may not {action}",
            identity.name, identity.role
        ),
    ))
}
