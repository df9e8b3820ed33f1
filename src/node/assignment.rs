//! The assignment push stream: `watch_assignment`, then `assignment`
//! frames, each newer than the last, as this node applies changes to the
//! target (a `rollback` frame first when a rollback made the new one).
//!
//! Any node serves it from its own applied replica, like `subscribe`: an
//! agent that reconnects elsewhere gets the current assignment at once
//! and then every newer one. Epochs only grow, so an assignment already
//! sent is never sent again, and an agent may miss intermediate ones
//! without harm: each replaces the previous. Bounds are `subscribe`'s
//! (push streams per connection and identity; one frame per stream).

use super::caller::Caller;
use super::intake::over_limit;
use super::security::Kind;
use super::subscribe::{finish, more_bytes, trailing, write};
use super::Node;
use arqonbus_proto::convert::rollout::{assignment, rollback};
use arqonbus_proto::error::{ErrorCode, ErrorReply};
use arqonbus_proto::limits::clip;
use arqonbus_proto::rollout::WatchAssignment;
use arqonbus_proto::Reply;

/// Serves one assignment stream until the client stops it.
pub(super) async fn serve(
    node: &Node,
    caller: &Caller,
    watch: WatchAssignment,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
) {
    let _slot = match caller.conn.subscribe() {
        Ok(slot) => slot,
        Err(refusal) => {
            caller.refused(node, Kind::OverLimit);
            return finish(&mut send, Reply::Error(over_limit(refusal))).await;
        }
    };
    let target = watch.target_system;
    if !caller.identity.role.may_watch(&target) {
        caller.refused(node, Kind::Forbidden);
        let message = format!(
            "role {} may not watch {}",
            caller.identity.role,
            clip(&target, 128)
        );
        return finish(
            &mut send,
            Reply::Error(ErrorReply::new(ErrorCode::Forbidden, &message)),
        )
        .await;
    }
    let wake = node.sm.wakeups().watch([target.as_str()]);
    let mut sent: Option<u64> = None;
    let mut client_open = true;
    loop {
        let Some(frames) = node.sm.read(|a| newer(a, &target, sent)) else {
            let code = ErrorCode::InvalidMessage {
                field: "target_system".into(),
                reason: format!("unknown target system `{}`", clip(&target, 128)),
            };
            let message = format!("unknown target system `{}`", clip(&target, 128));
            return finish(&mut send, Reply::Error(ErrorReply::new(code, &message))).await;
        };
        if let Some((epoch, frames)) = frames {
            for frame in frames {
                if !write(&mut send, frame).await {
                    return;
                }
            }
            sent = Some(epoch);
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = send.stopped() => return,
            more = more_bytes(&mut recv, client_open) => match more {
                Some(extra) => return finish(&mut send, trailing(extra)).await,
                None => client_open = false,
            },
        }
    }
}

/// The frames to send when the target's epoch is past `sent`: the
/// rollback that made it (if one did), then the assignment. `None` for an
/// unknown target; `Some(None)` when there is nothing new.
type Frames = Option<(u64, Vec<Reply>)>;

fn newer(a: &crate::raft::state_store::Replica, name: &str, sent: Option<u64>) -> Option<Frames> {
    let t = a.state.targets.get(name)?;
    if sent.is_some_and(|s| s >= t.epoch) {
        return Some(None);
    }
    let mut frames = Vec::new();
    if let Some(r) = t.recent_rollbacks.last().filter(|r| r.epoch == t.epoch) {
        frames.push(Reply::Rollback(rollback(name, r)));
    }
    frames.push(Reply::Assignment(assignment(name, &t.assignment())));
    Some(Some((t.epoch, frames)))
}
