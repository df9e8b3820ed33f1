//! The push stream: `subscribe`, then `subscribed`, then `event` frames as
//! this node applies decisions.
//!
//! Any node serves it, follower or leader, from its own applied replica:
//! events are numbered in `apply`, so every replica gives an event the same
//! number, and a client that reconnects to any node with its last position
//! plus one misses nothing and sees nothing twice (a lagging node delivers
//! the missing events once it has applied them). A stream wakes only when
//! an applied entry touched one of its targets (`raft::wakeups`), never on
//! a timer nor on every apply.
//!
//! Bounds: push streams per connection and per identity (`admission`;
//! over either, `rate_limited`), and one frame per stream (bytes after
//! the `subscribe` frame end the stream with `invalid_message`). Who may
//! watch what is `Role::may_watch`, asked for every target: today every
//! role may watch every target (decisions carry no secrets).

use super::caller::Caller;
use super::intake::over_limit;
use super::security::Kind;
use super::Node;
use crate::raft::state_store::Replica;
use arqonbus_core::events::Gone;
use arqonbus_proto::convert;
use arqonbus_proto::error::{CodecError, ErrorCode, ErrorReply};
use arqonbus_proto::limits::clip;
use arqonbus_proto::message::Subscribe;
use arqonbus_proto::reply::{Event, StreamPosition, Subscribed};
use arqonbus_proto::{Message, Reply};

/// Events read from the state per wake-up (keeps the read lock short).
const PER_ROUND: usize = 64;

/// A cursor: the target and the number of the next event to send.
type Cursor = (String, u64);

/// A stream asked for events no longer kept: which target, and the oldest.
type Resync = (String, Gone);

/// Serves one push stream until the client stops it or it cannot go on.
pub(super) async fn serve(
    node: &Node,
    caller: &Caller,
    sub: Subscribe,
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
    if let Some(target) = refused_target(&sub, |t| caller.identity.role.may_watch(t)) {
        caller.refused(node, Kind::Forbidden);
        let message = format!(
            "role {} may not watch {}",
            caller.identity.role,
            clip(target, 128)
        );
        let reply = ErrorReply::new(ErrorCode::Forbidden, &message);
        return finish(&mut send, Reply::Error(reply)).await;
    }
    tracing::debug!(target: "arqonbus::node", node = node.id, identity = clip(&caller.identity.name, 64), targets = sub.targets.len(), "subscription opened");
    let wake = node
        .sm
        .wakeups()
        .watch(sub.targets.iter().map(|t| t.target_system.as_str()));
    let mut cursors = match node.sm.read(|a| start(a, &sub)) {
        Ok(c) => c,
        Err((target, gone)) => return finish(&mut send, resync(&target, gone)).await,
    };
    let streams = cursors
        .iter()
        .map(|(t, next)| StreamPosition {
            target_system: t.clone(),
            next_seq: *next,
        })
        .collect();
    if !write(&mut send, Reply::Subscribed(Subscribed { streams })).await {
        return;
    }
    let mut client_open = true;
    loop {
        let events = match node.sm.read(|a| pending(a, &cursors)) {
            Ok(e) => e,
            Err((target, gone)) => return finish(&mut send, resync(&target, gone)).await,
        };
        if events.is_empty() {
            tokio::select! {
                _ = wake.notified() => {}
                _ = send.stopped() => return,
                more = more_bytes(&mut recv, client_open) => match more {
                    Some(extra) => return finish(&mut send, trailing(extra)).await,
                    None => client_open = false,
                },
            }
            continue;
        }
        for event in events {
            if let Some(c) = cursors.iter_mut().find(|c| c.0 == event.target_system) {
                c.1 = event.seq + 1;
            }
            if !write(&mut send, Reply::Event(event)).await {
                return;
            }
        }
    }
}

/// The first target `may_watch` refuses, if any.
fn refused_target(sub: &Subscribe, may_watch: impl Fn(&str) -> bool) -> Option<&str> {
    sub.targets
        .iter()
        .map(|t| t.target_system.as_str())
        .find(|t| !may_watch(t))
}

/// Waits for the client to send more on a push stream: `Some(bytes)` if it
/// did (one frame per stream), `None` once its side is finished or gone.
/// Never returns while `open` is false.
pub(super) async fn more_bytes(recv: &mut quinn::RecvStream, open: bool) -> Option<usize> {
    if !open {
        return std::future::pending().await;
    }
    let mut probe = [0u8; 64];
    match recv.read(&mut probe).await {
        Ok(Some(n)) if n > 0 => Some(n),
        _ => None,
    }
}

pub(super) fn trailing(extra: usize) -> Reply {
    Reply::Error(CodecError::TrailingBytes { extra }.reply())
}

fn resync(target: &str, gone: Gone) -> Reply {
    let code = ErrorCode::ResyncRequired {
        target_system: target.to_string(),
        oldest_seq: gone.oldest_seq,
    };
    let message = format!("{target}: {gone}; query status, then subscribe from the oldest kept");
    Reply::Error(ErrorReply::new(code, &message))
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
pub(super) async fn write(send: &mut quinn::SendStream, reply: Reply) -> bool {
    match arqonbus_proto::encode(&Message::Reply(reply)) {
        Ok(frame) => send.write_all(&frame).await.is_ok(),
        Err(e) => {
            tracing::error!(target: "arqonbus::node", error = %e, "cannot encode an event");
            false
        }
    }
}

/// Writes a last frame (an error) and finishes the stream.
pub(super) async fn finish(send: &mut quinn::SendStream, reply: Reply) {
    if write(send, reply).await {
        let _ = send.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_proto::message::SubscribeTarget;

    #[test]
    fn every_target_of_a_subscription_is_asked_about() {
        let sub = Subscribe {
            targets: ["public", "secret", "other"]
                .iter()
                .map(|t| SubscribeTarget {
                    target_system: t.to_string(),
                    from_seq: None,
                })
                .collect(),
        };
        assert_eq!(refused_target(&sub, |_| true), None);
        assert_eq!(refused_target(&sub, |t| t != "secret"), Some("secret"));
        let viewer = arqonbus_core::Role::Viewer;
        assert_eq!(
            refused_target(&sub, |t| viewer.may_watch(t)),
            None,
            "the rule today"
        );
    }
}
