//! Serving other nodes: the handshake first, then Raft RPCs, one per
//! stream, each read under a deadline. A connection's handshake must name
//! the node its certificate names, of this node's cluster (or, on a node
//! of no cluster yet, the cluster it then joins: `raft::cluster_id`);
//! until one is accepted, every RPC on that connection is refused. A
//! follower's `security_summary` also arrives here.

use super::caller::Caller;
use super::security::{self, Kind};
use super::Node;
use crate::raft::peer::{self, PeerIdentity, PeerRequest, PeerResponse, MAX_PEER_MESSAGE};
use arqonbus_transport::{Identity, RESET_DEADLINE};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub(super) async fn serve(node: Node, conn: quinn::Connection, caller: Arc<Caller>) {
    let greeted = Arc::new(AtomicBool::new(false));
    while let Ok((send, recv)) = conn.accept_bi().await {
        let (node, caller, greeted) = (node.clone(), caller.clone(), greeted.clone());
        tokio::spawn(async move {
            if let Err(e) = rpc(&node, &caller, &greeted, send, recv).await {
                tracing::debug!(target: "arqonbus::raft", node = node.id, error = %e, "peer rpc stream failed");
            }
        });
    }
}

/// How long a peer RPC may take to arrive: the frame deadline, or a
/// snapshot chunk's deadline when that is longer.
fn deadline(node: &Node) -> Duration {
    let chunk = Duration::from_millis(node.config.raft.snapshot_chunk_timeout_ms);
    node.admission.limits().frame_deadline().max(chunk)
}

async fn rpc(
    node: &Node,
    caller: &Caller,
    greeted: &AtomicBool,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
) -> Result<(), String> {
    let deadline = deadline(node);
    let bytes = match tokio::time::timeout(deadline, recv.read_to_end(MAX_PEER_MESSAGE)).await {
        Ok(read) => read.map_err(|e| e.to_string())?,
        Err(_) => {
            caller.refused(node, Kind::Deadline);
            let _ = send.reset(RESET_DEADLINE);
            let _ = recv.stop(RESET_DEADLINE);
            return Err(format!("no whole request within {deadline:?}"));
        }
    };
    let response = match peer::decode::<PeerRequest>(&bytes) {
        Err(e) => PeerResponse::Malformed(e.to_string()),
        Ok(PeerRequest::Hello(theirs)) => {
            let answer = greet(node, &caller.identity, theirs).await;
            greeted.store(answer.is_ok(), Ordering::SeqCst);
            PeerResponse::Hello(answer)
        }
        Ok(_) if !greeted.load(Ordering::SeqCst) => {
            PeerResponse::Malformed("the handshake (hello) comes first".into())
        }
        Ok(PeerRequest::AppendEntries(r)) => {
            PeerResponse::AppendEntries(node.raft.append_entries(r).await)
        }
        Ok(PeerRequest::Vote(r)) => PeerResponse::Vote(node.raft.vote(r).await),
        Ok(PeerRequest::InstallSnapshot(r)) => {
            PeerResponse::InstallSnapshot(node.raft.install_snapshot(r).await)
        }
        Ok(PeerRequest::SecuritySummary(s)) => {
            PeerResponse::SecuritySummary(security::record(node, &caller.identity, s).await)
        }
    };
    let out = peer::encode(&response).map_err(|e| e.to_string())?;
    send.write_all(&out).await.map_err(|e| e.to_string())?;
    send.finish().map_err(|e| e.to_string())
}

/// This node's answer to a handshake: its own identity, or why it refuses.
async fn greet(
    node: &Node,
    identity: &Identity,
    theirs: PeerIdentity,
) -> Result<PeerIdentity, String> {
    let named = arqonbus_transport::node_name(theirs.node_id);
    if named != identity.name {
        return Err(format!(
            "the certificate is {}'s, the handshake says {named}",
            identity.name
        ));
    }
    let cluster = node.cluster.clone();
    let admitted = tokio::task::spawn_blocking(move || cluster.admit(theirs.cluster_id))
        .await
        .map_err(|e| e.to_string())?;
    match admitted {
        Ok(id) => Ok(PeerIdentity {
            cluster_id: Some(id),
            node_id: node.id,
        }),
        Err(e) => {
            tracing::warn!(target: "arqonbus::security", node = node.id, peer = theirs.node_id, error = %e, "peer refused");
            Err(e.to_string())
        }
    }
}
