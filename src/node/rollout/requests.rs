//! The rollout's requests: tagged telemetry (0x31) for the leader's
//! windows, and `rollout` (0x32): a target's rollout status (a read), or an
//! operator's pause, resume or promote (a `Steer` command; `apply`
//! decides).

use super::{intake, Tagged};
use crate::node::leadership::{leader_check, read_barrier};
use crate::node::reply::Reject;
use crate::node::submit::{submit, Sender};
use crate::node::Node;
use arqonbus_core::command::SteerAction;
use arqonbus_core::{CommandError, Op};
use arqonbus_proto::convert::rollout::rollout_status;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::reply::TelemetryAck;
use arqonbus_proto::rollout::{RolloutRequest, TaggedTelemetry};
use arqonbus_proto::Reply;

/// `tagged_telemetry` → `telemetry_ack`, on the leader.
pub(crate) async fn tagged(node: &Node, batch: TaggedTelemetry) -> Result<Reply, Reject> {
    leader_check(node).await?;
    let samples: Vec<Tagged<'_>> = batch
        .samples
        .iter()
        .map(|s| Tagged {
            target: &s.sample.target_system,
            epoch: s.epoch,
            cohort: s.sample.cohort,
            metrics: &s.sample.metrics,
        })
        .collect();
    let (accepted, rejected) = intake(node, &samples);
    Ok(Reply::TelemetryAck(TelemetryAck { accepted, rejected }))
}

/// `rollout` → `rollout_status`.
pub(crate) async fn rollout(
    node: &Node,
    sender: &Sender<'_>,
    request: RolloutRequest,
) -> Result<Reply, Reject> {
    let (target, action, reason) = match request {
        RolloutRequest::Status {
            target_system,
            stale,
        } => {
            read_barrier(node, stale).await?;
            return status(node, &target_system);
        }
        RolloutRequest::Pause {
            target_system,
            reason,
        } => (target_system, SteerAction::Pause, reason),
        RolloutRequest::Resume {
            target_system,
            reason,
        } => (target_system, SteerAction::Resume, reason),
        RolloutRequest::Promote {
            target_system,
            full,
            reason,
        } => (target_system, SteerAction::Promote { full }, reason),
    };
    let op = Op::Steer {
        target: target.clone(),
        action,
        reason,
    };
    match submit(node, sender, op).await? {
        Ok(_) => status(node, &target),
        Err(e) => Err(error(&target, e)),
    }
}

fn status(node: &Node, target: &str) -> Result<Reply, Reject> {
    node.sm
        .read(|a| {
            a.state
                .targets
                .get(target)
                .map(|t| rollout_status(target, t))
        })
        .map(Reply::RolloutStatus)
        .ok_or_else(|| unknown(target))
}

fn unknown(target: &str) -> Reject {
    let message = format!("unknown target system `{target}`");
    (
        ErrorCode::InvalidMessage {
            field: "target_system".into(),
            reason: message.clone(),
        },
        message,
    )
}

/// The typed error of a refused steer (nothing changed).
fn error(target: &str, e: CommandError) -> Reject {
    let message = e.to_string();
    if let Some(code) = arqonbus_proto::convert::guard_error(&e) {
        return (code, message);
    }
    match e {
        CommandError::NothingToRollBack(_) => (
            ErrorCode::NoRollout {
                target_system: target.to_string(),
            },
            message,
        ),
        CommandError::UnknownTarget(_) => unknown(target),
        _ => (ErrorCode::OutcomeUnknown, message),
    }
}
