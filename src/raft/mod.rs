//! Raft: openraft's type configuration and our durable storage for it.
//!
//! `wal` keeps the log and the vote in segment files and syncs
//! (`fdatasync`) before it acknowledges; `log_store` is openraft's view of
//! it; `state_store` applies committed entries to the pure
//! [`State`](arqonbus_core::State) and persists audit entries, waking
//! the event streams of the targets touched (`wakeups`); `snapshot`
//! writes and reads snapshot files.

// openraft's StorageError is large (about 224 bytes) and the storage traits
// require it, so helpers that return it are allowed to as well.
#![allow(clippy::result_large_err)]

pub mod cluster_id;
pub mod log_store;
pub mod network;
mod payload;
pub mod peer;
pub mod snapshot;
mod snapshot_builder;
pub mod state_store;
pub mod storage;
pub mod wakeups;
pub mod wal;

use arqonbus_core::{Command, CommandResult};
use serde::{Deserialize, Serialize};

pub use log_store::LogStore;
pub use state_store::StateStore;

/// A node id.
pub type NodeId = u64;

/// What `apply` answers for each log entry. One per entry, moved once to
/// its waiter: the size of the decision inside is not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// A client command's result.
    Command(CommandResult),
    /// A blank entry (a new leader's first).
    Blank,
    /// A membership change.
    Membership,
}

openraft::declare_raft_types!(
    /// ArqonBus's Raft types: commands in, responses out, snapshots in files.
    pub TypeConfig:
        D = Command,
        R = Response,
        NodeId = NodeId,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type StorageIOError = openraft::StorageIOError<NodeId>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, openraft::BasicNode>;
pub type StoredMembership = openraft::StoredMembership<NodeId, openraft::BasicNode>;
