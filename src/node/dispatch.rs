//! Every client request enters here: the sender's role is checked against
//! the one permission table (a refusal is counted in the security table),
//! then the request goes to its handler, under a deadline the caller
//! applies.

use super::caller::Caller;
use super::membership;
use super::reply::{error_reply, Reject};
use super::security::Kind;
use super::{operate, propose, telemetry, workflow, Node};
use arqonbus_proto::convert;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::limits::clip;
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::{Reply, Request};
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
pub(super) async fn handle(node: &Node, caller: &Caller, request: Request) -> Reply {
    if let Err(reject) = authorize(node, caller, &request) {
        return error_reply(reject);
    }
    let identity = &caller.identity;
    let reply = match request {
        Request::Operate(op) => operate::operate(node, identity, op)
            .await
            .map(Reply::Operated),
        Request::Workflow(w) => workflow::workflow(node, identity, w)
            .await
            .map(Reply::Workflowed),
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

/// Refuses what the sender's role may not do, and counts the attempt.
fn authorize(node: &Node, caller: &Caller, request: &Request) -> Result<(), Reject> {
    let identity = &caller.identity;
    if identity.role.may(convert::permission(request)) {
        return Ok(());
    }
    caller.refused(node, Kind::Forbidden);
    let action = convert::action(request);
    Err((
        ErrorCode::Forbidden,
        format!(
            "{} (role {}) may not {action}",
            clip(&identity.name, 64),
            identity.role
        ),
    ))
}
