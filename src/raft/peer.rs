//! The messages Raft peers exchange over the peer ALPN, and their framing.
//!
//! One RPC per bidirectional QUIC stream: the caller writes one encoded
//! [`PeerRequest`] and finishes its side; the callee answers with one
//! [`PeerResponse`] and finishes. Besides Raft's RPCs, a node sends the
//! leader its security summaries this way. Encoding is our versioned bincode
//! (`codec`), so a node never decodes what another release meant otherwise.

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

/// A Raft RPC from one node to another.
#[derive(Debug, Serialize, Deserialize)]
pub enum PeerRequest {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
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
    /// The callee could not decode the request.
    Malformed(String),
    /// Whether the leader recorded the summary (why not, if it did not).
    SecuritySummary(Result<(), String>),
}

impl PeerRequest {
    pub fn kind(&self) -> &'static str {
        match self {
            PeerRequest::AppendEntries(_) => "append_entries",
            PeerRequest::Vote(_) => "vote",
            PeerRequest::InstallSnapshot(_) => "install_snapshot",
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
