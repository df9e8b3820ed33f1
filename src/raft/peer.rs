//! The messages Raft peers exchange over the peer ALPN, and their framing.
//!
//! One RPC per bidirectional QUIC stream: the caller writes one encoded
//! [`PeerRequest`] and finishes its side; the callee answers with one
//! [`PeerResponse`] and finishes. Besides Raft's RPCs, a node sends the
//! leader its security summaries this way. Encoding is our versioned bincode
//! (`codec`), so a node never decodes what another release meant otherwise.
//!
//! The first RPC on a connection is the handshake, `Hello`: each side
//! names its [`PeerIdentity`], and the callee refuses every other RPC
//! until it has accepted one (`cluster_id.rs` says which it accepts).

use crate::raft::cluster_id::ClusterId;
use crate::raft::{NodeId, TypeConfig};
use crate::record::{self, RecordError};
use arqonbus_core::security::SecuritySummary;
use openraft::error::{InstallSnapshotError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::{Deserialize, Serialize};

/// The largest peer message: a snapshot chunk or an append batch.
pub const MAX_PEER_MESSAGE: usize = 64 * 1024 * 1024;

/// Who a node is, as it says in the handshake (the operations issue adds
/// an incarnation here). The node id must be its certificate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerIdentity {
    /// None on a node that belongs to no cluster yet.
    pub cluster_id: Option<ClusterId>,
    pub node_id: NodeId,
}

/// A Raft RPC from one node to another.
#[derive(Debug, Serialize, Deserialize)]
pub enum PeerRequest {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
    /// The handshake, first on every connection.
    Hello(PeerIdentity),
    /// The refused attempts the sender saw, for the leader to propose as
    /// the sender's `security_summary` command.
    SecuritySummary(SecuritySummary),
}

/// The answer to a [`PeerRequest`], with the callee's Raft error if any.
#[derive(Debug, Serialize, Deserialize)]
pub enum PeerResponse {
    AppendEntries(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    InstallSnapshot(
        Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>,
    ),
    /// The callee could not decode the request, or it came before the
    /// handshake.
    Malformed(String),
    /// The callee's identity, or why it refuses the caller's.
    Hello(Result<PeerIdentity, String>),
    /// Whether the leader recorded the summary (why not, if it did not).
    SecuritySummary(Result<(), String>),
}

impl PeerRequest {
    pub fn kind(&self) -> &'static str {
        match self {
            PeerRequest::AppendEntries(_) => "append_entries",
            PeerRequest::Vote(_) => "vote",
            PeerRequest::InstallSnapshot(_) => "install_snapshot",
            PeerRequest::Hello(_) => "hello",
            PeerRequest::SecuritySummary(_) => "security_summary",
        }
    }
}

pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, RecordError> {
    record::encode(msg)
}

pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    record::decode(bytes)
}
