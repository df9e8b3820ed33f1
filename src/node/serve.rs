//! Accepting connections: mutual TLS is done by the handshake; here each
//! connection is admitted (a node-wide cap before the handshake, a cap
//! per identity after it; over either it is refused or closed with
//! `CLOSE_BUSY`), authorized for its ALPN, and its streams are served:
//! Raft RPCs on the peer ALPN (`peers.rs`), protocol frames on the client
//! ALPN. Every read has a deadline; a stream that misses it is reset.

use super::admission::NodeSlot;
use super::caller::Caller;
use super::intake::{self, Intake};
use super::security::Kind;
use super::Node;
use arqonbus_proto::error::{ErrorCode, ErrorReply};
use arqonbus_proto::limits::clip;
use arqonbus_proto::{Message, Reply, Request};
use arqonbus_transport::Identity;
use arqonbus_transport::{self, ALPN_PEER, CLOSE_BUSY, RESET_DEADLINE, STOP_REFUSED};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a handshake may take before the attempt is dropped.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(5);

/// Who a connection refused before its handshake is counted as.
const UNIDENTIFIED: &str = "unidentified";

pub(super) async fn accept_loop(node: Node) {
    while let Some(incoming) = node.endpoint.accept().await {
        let remote = incoming.remote_address();
        let slot = match node.admission.connection() {
            Ok(slot) => slot,
            Err(refusal) => {
                tracing::debug!(target: "arqonbus::security", node = node.id, %remote, %refusal, "connection refused");
                node.security.record(UNIDENTIFIED, Kind::OverLimit, remote);
                incoming.refuse();
                continue;
            }
        };
        let node = node.clone();
        tokio::spawn(async move {
            let conn = match tokio::time::timeout(HANDSHAKE_DEADLINE, incoming).await {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => {
                    tracing::info!(target: "arqonbus::security", node = node.id, error = %e, "handshake refused");
                    return;
                }
                Err(_) => return,
            };
            connection(node, conn, slot).await;
        });
    }
}

/// Admits an established connection for its identity and serves it.
async fn connection(node: Node, conn: quinn::Connection, slot: NodeSlot) {
    let remote = conn.remote_address();
    let identity = match arqonbus_transport::authorize_incoming(&conn) {
        Ok(identity) => identity,
        Err(e) => {
            tracing::warn!(target: "arqonbus::security", node = node.id, error = %e, %remote, "connection refused");
            arqonbus_transport::refuse(&conn, &e);
            return;
        }
    };
    let admitted = match node.admission.identify(slot, &identity.name) {
        Ok(admitted) => admitted,
        Err(refusal) => {
            node.security
                .record(&identity.name, Kind::OverLimit, remote);
            conn.close(CLOSE_BUSY, refusal.to_string().as_bytes());
            return;
        }
    };
    let caller = Arc::new(Caller {
        identity,
        remote,
        conn: admitted,
        key: arqonbus_transport::peer_signing_key(&conn),
    });
    if arqonbus_transport::negotiated_alpn(&conn).as_deref() == Some(ALPN_PEER) {
        super::peers::serve(node, conn, caller).await;
    } else {
        serve_client(node, conn, caller).await;
    }
}

async fn serve_client(node: Node, conn: quinn::Connection, caller: Arc<Caller>) {
    let identity: &Identity = &caller.identity;
    tracing::debug!(target: "arqonbus::node", node = node.id, identity = clip(&identity.name, 64), role = %identity.role, "client connected");
    while let Ok((send, recv)) = conn.accept_bi().await {
        let (node, caller) = (node.clone(), caller.clone());
        tokio::spawn(async move {
            client_stream(&node, &caller, send, recv).await;
        });
    }
}

/// One request and its reply on one bidirectional stream, or a push
/// stream when the request is `subscribe`. A request holds the in-flight
/// guard (shutdown waits for it) and its frame memory until answered; a
/// push stream holds neither, it ends when the endpoint closes.
async fn client_stream(
    node: &Node,
    caller: &Caller,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
) {
    let opened = Instant::now();
    let (envelope, request, _hold) = match intake::read(node, caller, &mut recv, opened).await {
        Intake::Ended => return,
        Intake::Late => {
            caller.refused(node, Kind::Deadline);
            let _ = send.reset(RESET_DEADLINE);
            let _ = recv.stop(RESET_DEADLINE);
            return;
        }
        Intake::Refused { reply, kind, stop } => {
            caller.refused(node, kind);
            if stop {
                let _ = recv.stop(STOP_REFUSED);
            }
            return answer(node, &mut send, Reply::Error(reply)).await;
        }
        Intake::Request {
            envelope,
            request,
            hold,
        } => (envelope, request, hold),
    };
    if let Err(refused) = super::dispatch::admit(node, caller, &envelope, &request) {
        return answer(node, &mut send, *refused).await;
    }
    let request = match request {
        Request::Subscribe(sub) => {
            drop(_hold);
            return super::subscribe::serve(node, caller, sub, send, recv).await;
        }
        Request::WatchAssignment(watch) => {
            drop(_hold);
            return super::assignment::serve(node, caller, watch, send, recv).await;
        }
        other => other,
    };
    let Ok(_guard) = node.inflight.clone().try_read_owned() else {
        return; // shutting down
    };
    let deadline = super::dispatch::deadline(node, &request);
    let reply = super::deadline::within(
        deadline,
        super::dispatch::handle(node, caller, &envelope, request),
    )
    .await;
    answer(node, &mut send, reply).await;
}

/// Writes the one reply of a request stream and finishes it. A reply that
/// cannot be encoded (a fault of this node) is answered with an error
/// saying so, never with silence.
async fn answer(node: &Node, send: &mut quinn::SendStream, reply: Reply) {
    let frame = arqonbus_proto::encode(&Message::Reply(reply)).or_else(|e| {
        tracing::error!(target: "arqonbus::node", node = node.id, error = %clip(&e.to_string(), 256), "cannot encode a reply");
        // The request may have been applied: say so rather than go mute.
        let fault = ErrorReply::new(ErrorCode::OutcomeUnknown, "the reply could not be encoded");
        arqonbus_proto::encode(&Message::Reply(Reply::Error(fault)))
    });
    let Ok(frame) = frame else {
        return;
    };
    if send.write_all(&frame).await.is_ok() {
        let _ = send.finish();
    }
}
