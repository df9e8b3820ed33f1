//! Raft over QUIC: the dialling side of peer RPCs.
//!
//! Each peer gets one cached connection on the peer ALPN, checked to be the
//! node we meant to reach (its certificate names our target id) and of our
//! cluster (the handshake, first on the connection). A connect
//! has a short deadline, so a dead, paused or cut-off peer costs that
//! deadline and is reported `Unreachable` (openraft then backs off), never
//! the 30 s idle timeout. Every RPC has openraft's own deadline on top.
//!
//! Peers refuse a message over [`MAX_PEER_MESSAGE`]. An append that would
//! encode larger is not sent: openraft gets `PayloadTooLarge` with the
//! number of entries that fit, and sends those first (the log store's
//! byte-bounded reads make this rare; it is the backstop).

use crate::raft::cluster_id::ClusterMembership;
use crate::raft::payload::{encode_append, Oversize};
use crate::raft::peer::PeerIdentity;
use crate::raft::peer::{self, PeerRequest, PeerResponse, MAX_PEER_MESSAGE};
use crate::raft::{NodeId, TypeConfig};
use arqonbus_transport::{self, AuthError};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;
use std::time::Duration;

/// Why a peer call failed before a Raft answer came back.
#[derive(Debug, thiserror::Error)]
pub enum PeerCallError {
    #[error("cannot resolve {addr}: {reason}")]
    Resolve { addr: String, reason: String },
    #[error("connecting to node {target} at {addr} took longer than {deadline:?}")]
    ConnectTimeout {
        target: NodeId,
        addr: String,
        deadline: Duration,
    },
    #[error("connecting to node {target} at {addr}: {reason}")]
    Connect {
        target: NodeId,
        addr: String,
        reason: String,
    },
    #[error("node {target} is not who answered: {0}", target = .1)]
    WrongPeer(AuthError, NodeId),
    #[error("node {target} at {addr} refused the handshake or is of another cluster: {reason}")]
    Refused {
        target: NodeId,
        addr: String,
        reason: String,
    },
    #[error("{kind} to node {target}: no answer within {deadline:?}")]
    Timeout {
        kind: &'static str,
        target: NodeId,
        deadline: Duration,
    },
    #[error("{kind} to node {target}: {reason}")]
    Stream {
        kind: &'static str,
        target: NodeId,
        reason: String,
    },
    #[error(
        "{kind} to node {target}: one entry alone encodes to {size} bytes, over the peer limit"
    )]
    EntryTooLarge {
        kind: &'static str,
        target: NodeId,
        size: usize,
    },
    #[error("node {target} could not decode our {kind}: {reason}")]
    Malformed {
        kind: &'static str,
        target: NodeId,
        reason: String,
    },
}

impl PeerCallError {
    /// Whether openraft should treat the peer as down (and back off).
    fn unreachable(&self) -> bool {
        matches!(
            self,
            PeerCallError::Resolve { .. }
                | PeerCallError::ConnectTimeout { .. }
                | PeerCallError::Connect { .. }
                | PeerCallError::WrongPeer(..)
                | PeerCallError::Refused { .. }
        )
    }
}

/// Creates a client per peer; shares the node's one QUIC endpoint.
#[derive(Clone)]
pub struct PeerNetwork {
    endpoint: quinn::Endpoint,
    config: quinn::ClientConfig,
    connect_timeout: Duration,
    me: NodeId,
    cluster: ClusterMembership,
}

impl PeerNetwork {
    pub fn new(
        endpoint: quinn::Endpoint,
        config: quinn::ClientConfig,
        connect_timeout: Duration,
        me: NodeId,
        cluster: ClusterMembership,
    ) -> Self {
        PeerNetwork {
            endpoint,
            config,
            connect_timeout,
            me,
            cluster,
        }
    }
}

/// One peer: its address and a cached, verified connection.
pub struct PeerClient {
    net: PeerNetwork,
    target: NodeId,
    addr: String,
    conn: Option<quinn::Connection>,
}

impl RaftNetworkFactory<TypeConfig> for PeerNetwork {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> PeerClient {
        PeerClient {
            net: self.clone(),
            target,
            addr: node.addr.clone(),
            conn: None,
        }
    }
}

impl PeerClient {
    async fn connection(&mut self) -> Result<quinn::Connection, PeerCallError> {
        if let Some(conn) = &self.conn {
            if conn.close_reason().is_none() {
                return Ok(conn.clone());
            }
        }
        self.conn = None;
        let (host, sock) = arqonbus_transport::resolve(&self.addr)
            .await
            .map_err(|reason| PeerCallError::Resolve {
                addr: self.addr.clone(),
                reason,
            })?;
        let connect_err = |reason: String| PeerCallError::Connect {
            target: self.target,
            addr: self.addr.clone(),
            reason,
        };
        let connecting = self
            .net
            .endpoint
            .connect_with(self.net.config.clone(), sock, &host)
            .map_err(|e| connect_err(e.to_string()))?;
        let conn = tokio::time::timeout(self.net.connect_timeout, connecting)
            .await
            .map_err(|_| PeerCallError::ConnectTimeout {
                target: self.target,
                addr: self.addr.clone(),
                deadline: self.net.connect_timeout,
            })?
            .map_err(|e| connect_err(e.to_string()))?;
        if let Err(e) = arqonbus_transport::authorize_peer(&conn, self.target) {
            arqonbus_transport::refuse(&conn, &e);
            return Err(PeerCallError::WrongPeer(e, self.target));
        }
        if let Err(e) = self.handshake(&conn).await {
            conn.close(0u32.into(), b"handshake refused");
            return Err(e);
        }
        self.conn = Some(conn.clone());
        Ok(conn)
    }

    /// Says who we are and checks the answer: the node we meant, of our
    /// cluster. A node that has no cluster yet never dials.
    async fn handshake(&self, conn: &quinn::Connection) -> Result<(), PeerCallError> {
        let ours = self.net.cluster.get();
        let hello = PeerIdentity {
            cluster_id: ours,
            node_id: self.net.me,
        };
        let refused = |reason: String| PeerCallError::Refused {
            target: self.target,
            addr: self.addr.clone(),
            reason,
        };
        let bytes = peer::encode(&PeerRequest::Hello(hello)).map_err(|e| refused(e.to_string()))?;
        let deadline = self.net.connect_timeout;
        let answer = tokio::time::timeout(deadline, exchange(conn, "hello", self.target, &bytes))
            .await
            .map_err(|_| PeerCallError::Timeout {
                kind: "hello",
                target: self.target,
                deadline,
            })??;
        match answer {
            PeerResponse::Hello(Ok(theirs))
                if theirs.node_id == self.target && ours.is_some() && theirs.cluster_id == ours =>
            {
                Ok(())
            }
            PeerResponse::Hello(Ok(theirs)) => Err(refused(format!(
                "it is node {} of cluster {}, we are of {}",
                theirs.node_id,
                theirs.cluster_id.map_or("none".into(), |c| c.to_string()),
                ours.map_or("none".into(), |c| c.to_string())
            ))),
            PeerResponse::Hello(Err(reason)) => Err(refused(reason)),
            PeerResponse::Malformed(reason) => Err(refused(reason)),
            _ => Err(refused("it answered something other than a hello".into())),
        }
    }

    /// One RPC on its own stream, bounded by `deadline` end to end.
    pub(crate) async fn call(
        &mut self,
        req: PeerRequest,
        deadline: Duration,
    ) -> Result<PeerResponse, PeerCallError> {
        let kind = req.kind();
        let bytes = peer::encode(&req).map_err(|e| PeerCallError::Stream {
            kind,
            target: self.target,
            reason: e.to_string(),
        })?;
        self.send(kind, bytes, deadline).await
    }

    /// Sends one encoded RPC and reads the answer.
    async fn send(
        &mut self,
        kind: &'static str,
        bytes: Vec<u8>,
        deadline: Duration,
    ) -> Result<PeerResponse, PeerCallError> {
        let target = self.target;
        let result = tokio::time::timeout(deadline, async {
            let conn = self.connection().await?;
            exchange(&conn, kind, target, &bytes).await
        })
        .await
        .unwrap_or(Err(PeerCallError::Timeout {
            kind,
            target,
            deadline,
        }));
        match result {
            Ok(PeerResponse::Malformed(reason)) => Err(PeerCallError::Malformed {
                kind,
                target,
                reason,
            }),
            Ok(answer) => Ok(answer),
            Err(e) => {
                // Start afresh next time: the connection may be what failed.
                self.conn = None;
                tracing::debug!(target: "arqonbus::raft", node = target, error = %e, "peer call failed");
                Err(e)
            }
        }
    }
}

/// Writes one encoded RPC on a new stream of `conn` and reads the answer.
async fn exchange(
    conn: &quinn::Connection,
    kind: &'static str,
    target: NodeId,
    bytes: &[u8],
) -> Result<PeerResponse, PeerCallError> {
    let stream_err = |e: &dyn std::fmt::Display| PeerCallError::Stream {
        kind,
        target,
        reason: e.to_string(),
    };
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| stream_err(&e))?;
    send.write_all(bytes).await.map_err(|e| stream_err(&e))?;
    send.finish().map_err(|e| stream_err(&e))?;
    let answer = recv
        .read_to_end(MAX_PEER_MESSAGE)
        .await
        .map_err(|e| stream_err(&e))?;
    peer::decode::<PeerResponse>(&answer).map_err(|e| stream_err(&e))
}

type RpcError<E = openraft::error::Infallible> = RPCError<NodeId, BasicNode, RaftError<NodeId, E>>;

fn rpc_error<E: std::error::Error>(
    e: PeerCallError,
) -> RPCError<NodeId, BasicNode, RaftError<NodeId, E>> {
    if e.unreachable() {
        RPCError::Unreachable(Unreachable::new(&e))
    } else {
        RPCError::Network(NetworkError::new(&e))
    }
}

fn unexpected(target: NodeId, kind: &'static str) -> PeerCallError {
    PeerCallError::Stream {
        kind,
        target,
        reason: "the answer is for another request".into(),
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcError> {
        let bytes = match encode_append(rpc, self.target) {
            Ok(bytes) => bytes,
            Err(Oversize::Split(hint)) => return Err(hint.into()),
            Err(Oversize::Unsendable(e)) => return Err(rpc_error(e)),
        };
        match self.send("append_entries", bytes, option.hard_ttl()).await {
            Ok(PeerResponse::AppendEntries(r)) => {
                r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
            }
            Ok(_) => Err(rpc_error(unexpected(self.target, "append_entries"))),
            Err(e) => Err(rpc_error(e)),
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcError<InstallSnapshotError>> {
        match self
            .call(PeerRequest::InstallSnapshot(rpc), option.hard_ttl())
            .await
        {
            Ok(PeerResponse::InstallSnapshot(r)) => {
                r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
            }
            Ok(_) => Err(rpc_error(unexpected(self.target, "install_snapshot"))),
            Err(e) => Err(rpc_error(e)),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RpcError> {
        match self.call(PeerRequest::Vote(rpc), option.hard_ttl()).await {
            Ok(PeerResponse::Vote(r)) => {
                r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
            }
            Ok(_) => Err(rpc_error(unexpected(self.target, "vote"))),
            Err(e) => Err(rpc_error(e)),
        }
    }
}
