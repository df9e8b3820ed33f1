//! The push stream: `subscribe`, then `subscribed`, then `event` frames as
//! this node applies decisions.
//!
//! Any node serves it, follower or leader, from its own applied replica:
//! events are numbered in `apply`, so every replica gives an event the same
//! number, and a client that reconnects to any node with its last position
//! plus one misses nothing and sees nothing twice (a lagging node delivers
//! the missing events once it has applied them). The stream wakes on the
//! state machine's applied-index watch, not on a timer.
//!
//! Who may watch what: every authenticated identity may watch every target
//! system for now (decisions carry no secrets); narrowing by role and
//! target comes with the target bindings of a later issue.

use super::Node;
use crate::raft::state_store::Replica;
use arqonbus_core::events::Gone;
use arqonbus_proto::convert;
use arqonbus_proto::error::{ErrorCode, ErrorReply};
use arqonbus_proto::message::Subscribe;
use arqonbus_proto::reply::{Event, StreamPosition, Subscribed};
use arqonbus_proto::{Message, Reply};
use arqonbus_transport::Identity;

/// Events read from the state per wake-up (keeps the read lock short).
const PER_ROUND: usize = 64;

/// A cursor: the target and the number of the next event to send.
type Cursor = (String, u64);

/// A stream asked for events no longer kept: which target, and the oldest.
type Resync = (String, Gone);

/// Serves one push stream until the client stops it or it cannot go on.
pub(super) async fn serve(
    node: &Node,
    identity: &Identity,
    sub: Subscribe,
    mut send: quinn::SendStream,
) {
    tracing::debug!(target: "arqonbus::node", node = node.id, identity = %identity.name, targets = sub.targets.len(), "subscription opened");
    let mut applied = node.sm.watch_applied();
    applied.borrow_and_update();
    let start = node.sm.read(|a| start(a, &sub));
    let mut cursors = match start {
        Ok(c) => c,
        Err((target, gone)) => return finish(&mut send, &resync(&target, gone)).await,
    };
    let streams = cursors
        .iter()
        .map(|(t, next)| StreamPosition {
            target_system: t.clone(),
            next_seq: *next,
        })
        .collect();
    if !write(&mut send, &Reply::Subscribed(Subscribed { streams })).await {
        return;
    }
    loop {
        applied.borrow_and_update();
        let events = node.sm.read(|a| pending(a, &cursors));
        let events = match events {
            Ok(e) => e,
            Err((target, gone)) => return finish(&mut send, &resync(&target, gone)).await,
        };
        if events.is_empty() {
            tokio::select! {
                changed = applied.changed() => if changed.is_err() { return },
                _ = send.stopped() => return,
            }
            continue;
        }
        for event in events {
            if let Some(c) = cursors.iter_mut().find(|c| c.0 == event.target_system) {
                c.1 = event.seq + 1;
            }
            if !write(&mut send, &Reply::Event(event)).await {
                return;
            }
        }
    }
}

fn resync(target: &str, gone: Gone) -> Reply {
    Reply::Error(ErrorReply {
        code: ErrorCode::ResyncRequired {
            target_system: target.to_string(),
            oldest_seq: gone.oldest_seq,
        },
        message: format!("{target}: {gone}; query status, then subscribe from the oldest kept"),
    })
}

/// Where each stream starts: `from_seq`, or the next event when none.
fn start(a: &Replica, sub: &Subscribe) -> Result<Vec<Cursor>, Resync> {
    sub.targets
        .iter()
        .map(|t| {
            let log = a.state.targets.get(&t.target_system).map(|x| &x.events);
            let next = log.map_or(0, |l| l.next_seq());
            match t.from_seq {
                None => Ok((t.target_system.clone(), next)),
                Some(from) => {
                    let oldest = log.map_or(0, |l| l.oldest_seq());
                    if from < oldest {
                        Err((t.target_system.clone(), Gone { oldest_seq: oldest }))
                    } else {
                        Ok((t.target_system.clone(), from))
                    }
                }
            }
        })
        .collect()
}

/// The events not sent yet, in order per target.
fn pending(a: &Replica, cursors: &[Cursor]) -> Result<Vec<Event>, Resync> {
    let mut out = Vec::new();
    for (target, next) in cursors {
        let Some(t) = a.state.targets.get(target) else {
            continue;
        };
        let events = t
            .events
            .read_from(*next, PER_ROUND)
            .map_err(|gone| (target.clone(), gone))?;
        out.extend(events.into_iter().map(|e| convert::event(target, e)));
    }
    Ok(out)
}

/// Writes one frame; false when the stream is gone.
async fn write(send: &mut quinn::SendStream, reply: &Reply) -> bool {
    match arqonbus_proto::encode(&Message::Reply(reply.clone())) {
        Ok(frame) => send.write_all(&frame).await.is_ok(),
        Err(e) => {
            tracing::error!(target: "arqonbus::node", error = %e, "cannot encode an event");
            false
        }
    }
}

/// Writes a last frame (an error) and finishes the stream.
async fn finish(send: &mut quinn::SendStream, reply: &Reply) {
    if write(send, reply).await {
        let _ = send.finish();
    }
}
