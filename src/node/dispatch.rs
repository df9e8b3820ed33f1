//! Every client request enters here: it passes the gates (authentication,
//! rate limits, the one permission table, staleness and replay, the
//! signature; a refusal is counted in the security table), then goes to
//! its handler, under a deadline the caller applies.

use super::caller::Caller;
use super::gates::signing::About;
use super::gates::Passed;
use super::membership;
use super::reply::error_reply;
use super::submit::Sender;
use super::{operate, propose, rollout, telemetry, workflow, Node};
use arqonbus_core::State;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::{Envelope, Reply, Request};
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

/// Runs the gates (`gates`) on a decoded request; a refusal is counted
/// in the security table and answered with its error.
pub(super) fn admit(
    node: &Node,
    caller: &Caller,
    envelope: &Envelope,
    request: &Request,
) -> Result<Passed, Box<Reply>> {
    let decided = |id: &str| node.sm.read(|a| a.state.decided.get(id).is_some());
    let signing = |about: About<'_>| node.sm.read(|a| stored_signing(&a.state, about));
    node.gates
        .check(
            &caller.identity,
            caller.key.as_deref(),
            envelope,
            request,
            decided,
            signing,
        )
        .map_err(|e| {
            caller.refused(node, e.kind());
            Box::new(error_reply(e.reject()))
        })
}

/// The `[security] signing_required` this replica stores for what a
/// request is about: a target's own, or a proposal's target's; `None` for
/// an unknown target or proposal (the node's setting decides).
fn stored_signing(state: &State, about: About<'_>) -> Option<bool> {
    let target = match about {
        About::Target(t) => t,
        About::Proposal(id) => &state.decided.get(id)?.target,
        About::Cluster => return None,
    };
    let target = state.targets.get(target)?;
    Some(target.policy.security.signing_required)
}

/// Answers one request that passed the gates (a `subscribe` is served on
/// a stream of its own). An exact re-send of a decided proposal goes the
/// proposal's way, which answers with the recorded decision.
pub(super) async fn handle(
    node: &Node,
    caller: &Caller,
    envelope: &Envelope,
    request: Request,
) -> Reply {
    let identity = &caller.identity;
    let sender = Sender::client(identity, caller.key.as_deref(), envelope, &request);
    let reply = match request {
        Request::Operate(op) => operate::operate(node, &sender, op)
            .await
            .map(Reply::Operated),
        Request::Workflow(w) => workflow::workflow(node, &sender, w)
            .await
            .map(Reply::Workflowed),
        Request::Proposal(p) => propose::proposal(node, &sender, p).await,
        Request::StatusQuery(q) => propose::status_query(node, q).await,
        Request::TelemetryBatch(b) => telemetry::intake(node, b).await,
        Request::Subscribe(_) => Err((
            ErrorCode::InvalidMessage {
                field: "type".into(),
                reason: "subscribe opens a push stream of its own".into(),
            },
            "subscribe is served on its own stream".into(),
        )),
        Request::TaggedTelemetry(t) => rollout::tagged(node, t).await,
        Request::Rollout(r) => rollout::request(node, &sender, r).await,
        Request::WatchAssignment(_) => Err((
            ErrorCode::InvalidMessage {
                field: "type".into(),
                reason: "watch_assignment opens a push stream of its own".into(),
            },
            "watch_assignment is served on its own stream".into(),
        )),
    };
    reply.unwrap_or_else(error_reply)
}
