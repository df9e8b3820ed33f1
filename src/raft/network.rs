//! Raft over QUIC: the dialling side of peer RPCs.
//!
//! Each peer gets one cached connection on the peer ALPN, checked to be the
//! node we meant to reach (its certificate names our target id). A connect
//! has a short deadline, so a dead, paused or cut-off peer costs that
//! deadline and is reported `Unreachable` (openraft then backs off), never
//! the 30 s idle timeout. Every RPC has openraft's own deadline on top.

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
        )
    }
}

/// Creates a client per peer; shares the node's one QUIC endpoint.
#[derive(Clone)]
pub struct PeerNetwork {
    endpoint: quinn::Endpoint,
    config: quinn::ClientConfig,
    connect_timeout: Duration,
}

impl PeerNetwork {
    pub fn new(
        endpoint: quinn::Endpoint,
        config: quinn::ClientConfig,
        connect_timeout: Duration,
    ) -> Self {
        PeerNetwork {
            endpoint,
            config,
            connect_timeout,
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
        self.conn = Some(conn.clone());
        Ok(conn)
    }

    /// One RPC on its own stream, bounded by `deadline` end to end.
    pub(crate) async fn call(
        &mut self,
        req: PeerRequest,
        deadline: Duration,
    ) -> Result<PeerResponse, PeerCallError> {
        let kind = req.kind();
        let target = self.target;
        let result = tokio::time::timeout(deadline, async {
            let conn = self.connection().await?;
            let stream_err = |e: &dyn std::fmt::Display| PeerCallError::Stream {
                kind,
                target,
                reason: e.to_string(),
            };
            let bytes = peer::encode(&req).map_err(|e| stream_err(&e))?;
            let (mut send, mut recv) = conn.open_bi().await.map_err(|e| stream_err(&e))?;
            send.write_all(&bytes).await.map_err(|e| stream_err(&e))?;
            send.finish().map_err(|e| stream_err(&e))?;
            let answer = recv
                .read_to_end(MAX_PEER_MESSAGE)
                .await
                .map_err(|e| stream_err(&e))?;
            peer::decode::<PeerResponse>(&answer).map_err(|e| stream_err(&e))
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
        match self
            .call(PeerRequest::AppendEntries(rpc), option.hard_ttl())
            .await
        {
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
