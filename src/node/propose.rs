//! Proposals and status queries: the wire `Proposal` becomes a state
//! command (through the batcher, so concurrent proposals share a log
//! entry), and the decision `apply` returned becomes the `approval`.
//!
//! An approved change starts its rollout in `apply`; a status query reads
//! the rollout's progress (share, time in phase, violations, observed
//! impact) while it runs, and `steady` or `rolled_back` once it ended.

use super::leadership::read_barrier;
use super::reply::{internal, Reject};
use super::submit::{submit, Sender};
use super::Node;
use arqonbus_core::{Op, Outcome};
use arqonbus_proto::convert::{self, approval, status};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::limits::{truncate, MAX_LISTED_PROPOSALS, MAX_TEXT_LEN};
use arqonbus_proto::message::{Proposal, StatusQuery};
use arqonbus_proto::operator::OperatorReply;
use arqonbus_proto::Reply;

/// `proposal` → `approval`, or an error frame for what was not decided.
pub(super) async fn proposal(
    node: &Node,
    sender: &Sender<'_>,
    p: Proposal,
) -> Result<Reply, Reject> {
    let id = p.proposal_id.clone();
    match submit(
        node,
        sender,
        Op::Propose {
            proposal: convert::spec(p),
        },
    )
    .await?
    {
        Ok(Outcome::Proposal { decision, .. }) => Ok(Reply::Approval(approval(&decision))),
        Ok(other) => Err((internal(), format!("unexpected outcome {other:?}"))),
        Err(e) => match convert::proposal_error(e, &id) {
            (Some(code), message) => Err((code, message)),
            (None, message) => Err((internal(), message)),
        },
    }
}

/// `status_query` → `status`, read linearizably on the leader.
pub(super) async fn status_query(node: &Node, q: StatusQuery) -> Result<Reply, Reject> {
    read_barrier(node, false).await?;
    let now = super::submit::now_ms();
    node.sm
        .read(|a| {
            a.state.decided.get(&q.proposal_id).map(|d| {
                let target = a.state.targets.get(&d.target);
                arqonbus_proto::convert::rollout::proposal_status(&d.decision, target, now)
            })
        })
        .map(Reply::Status)
        .ok_or_else(|| unknown_proposal(&q.proposal_id))
}

/// No decision is recorded under this id.
pub(super) fn unknown_proposal(id: &str) -> Reject {
    (
        ErrorCode::InvalidMessage {
            field: "proposal_id".into(),
            reason: "no decision is recorded under this id".into(),
        },
        truncate(
            format!("proposal `{id}` is unknown (never decided, or past the retention)"),
            MAX_TEXT_LEN,
        ),
    )
}

/// `list_proposals`: the newest decisions of this node's replica.
pub(super) fn list(node: &Node, target: Option<&str>, limit: u32) -> OperatorReply {
    let limit = (limit as usize).min(MAX_LISTED_PROPOSALS);
    let proposals = node.sm.read(|a| {
        a.state
            .decided
            .newest(target, limit)
            .into_iter()
            .map(|d| convert::summary(&d.decision))
            .collect()
    });
    OperatorReply::Proposals { proposals }
}

/// `show_proposal`: one decision and its status, or `refused` when unknown.
pub(super) fn show(node: &Node, id: &str) -> OperatorReply {
    node.sm
        .read(|a| a.state.decided.get(id).map(|d| d.decision.clone()))
        .map_or_else(
            || OperatorReply::Refused {
                reason: unknown_proposal(id).1,
                violations: Vec::new(),
            },
            |d| OperatorReply::Proposal {
                approval: approval(&d),
                status: status(&d),
            },
        )
}
