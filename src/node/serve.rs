//! Accepting connections: mutual TLS is done by the handshake; here each
//! connection is authorized for its ALPN and its streams are served — Raft
//! RPCs on the peer ALPN (`peers.rs`), protocol frames on the client ALPN.

use super::Node;
use arqonbus_proto::error::{ErrorCode, ErrorReply};
use arqonbus_proto::{Message, Reply};
use arqonbus_transport::frame_io::{read_frame, ReadError};
use arqonbus_transport::Identity;
use arqonbus_transport::{self, ALPN_PEER};
use std::time::Duration;

/// How long a handshake may take before the attempt is dropped.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(5);

pub(super) async fn accept_loop(node: Node) {
    while let Some(incoming) = node.endpoint.accept().await {
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
            let identity = match arqonbus_transport::authorize_incoming(&conn) {
                Ok(identity) => identity,
                Err(e) => {
                    tracing::warn!(target: "arqonbus::security", node = node.id, error = %e, remote = %conn.remote_address(), "connection refused");
                    arqonbus_transport::refuse(&conn, &e);
                    return;
                }
            };
            if arqonbus_transport::negotiated_alpn(&conn).as_deref() == Some(ALPN_PEER) {
                super::peers::serve(node, conn, identity).await;
            } else {
                serve_client(node, conn, identity).await;
            }
        });
    }
}

async fn serve_client(node: Node, conn: quinn::Connection, identity: Identity) {
    tracing::debug!(target: "arqonbus::node", node = node.id, identity = %identity.name, role = %identity.role, "client connected");
    while let Ok((send, recv)) = conn.accept_bi().await {
        let node = node.clone();
        let identity = identity.clone();
        tokio::spawn(async move {
            client_stream(&node, &identity, send, recv).await;
        });
    }
}

fn error_reply(code: ErrorCode, message: impl Into<String>) -> Reply {
    Reply::Error(ErrorReply {
        code,
        message: message.into(),
    })
}

/// One request and its reply on one bidirectional stream, or a push
/// stream when the request is `subscribe`. A request holds the in-flight
/// guard (shutdown waits for it); a push stream does not, it ends when the
/// endpoint closes.
async fn client_stream(
    node: &Node,
    identity: &Identity,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
) {
    let mut _guard = None;
    let reply = match read_frame(&mut recv).await {
        Ok(None) => return,
        Err(ReadError::Io(e)) => {
            tracing::debug!(target: "arqonbus::node", node = node.id, error = %e, "client stream ended mid-frame");
            error_reply(
                ErrorCode::InvalidMessage {
                    field: "frame".into(),
                    reason: "the stream ended inside the frame".into(),
                },
                "truncated frame",
            )
        }
        Err(ReadError::Codec(e)) => error_reply(e.to_wire(), e.to_string()),
        Ok(Some(frame)) => match arqonbus_proto::decode_request(&frame) {
            Err(e) => {
                tracing::info!(target: "arqonbus::security", node = node.id, identity = %identity.name, error = %e, "malformed frame");
                error_reply(e.to_wire(), e.to_string())
            }
            Ok((_, arqonbus_proto::Request::Subscribe(sub))) => {
                super::subscribe::serve(node, identity, sub, send).await;
                return;
            }
            Ok((_envelope, request)) => {
                let Ok(guard) = node.inflight.clone().try_read_owned() else {
                    return; // shutting down
                };
                _guard = Some(guard);
                let deadline = super::dispatch::deadline(node, &request);
                super::deadline::within(deadline, super::dispatch::handle(node, identity, request))
                    .await
            }
        },
    };
    let frame = match arqonbus_proto::encode(&Message::Reply(reply)) {
        Ok(f) => f,
        Err(e) => {
            // A fault of this node: say so rather than end the stream mute.
            tracing::error!(target: "arqonbus::node", node = node.id, error = %e, "cannot encode a reply");
            let fallback =
                error_reply(ErrorCode::OutcomeUnknown, "the answer could not be encoded");
            match arqonbus_proto::encode(&Message::Reply(fallback)) {
                Ok(f) => f,
                Err(_) => return,
            }
        }
    };
    if send.write_all(&frame).await.is_ok() {
        let _ = send.finish();
    }
}
