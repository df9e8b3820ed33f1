//! Which cluster a node belongs to: a `cluster_id` fixed once, when the
//! cluster is bootstrapped, and checked whenever two nodes connect (the
//! peer handshake, `peer.rs`).
//!
//! The node that bootstraps creates the id; every other node adopts it from
//! the first leader that reaches it, and from then on refuses any node of
//! another cluster (and is refused by them). The id is kept in
//! `DATA/cluster-id`, written durably before it is used: a node never
//! forgets which cluster it joined, so a second cluster made by mistake
//! cannot take it over, nor it them.

use crate::durable;
use crate::raft::NodeId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The file holding a node's cluster id, in its data directory.
pub const CLUSTER_ID_FILE: &str = "cluster-id";

/// A cluster's identity: 16 bytes, shown as 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterId(pub [u8; 16]);

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl ClusterId {
    /// A new id, unique to this bootstrap: a hash of the bootstrapping
    /// node, the members it was asked for, the time and the process.
    pub fn new(node: NodeId, members: &str) -> ClusterId {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut h = Sha256::new();
        h.update(b"arqonbus-cluster-id\0");
        h.update(node.to_be_bytes());
        h.update(members.as_bytes());
        h.update(nanos.to_be_bytes());
        h.update(std::process::id().to_be_bytes());
        let digest: [u8; 32] = h.finalize().into();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        ClusterId(id)
    }

    fn parse(text: &str) -> Option<ClusterId> {
        let mut id = [0u8; 16];
        hex::decode_to_slice(text.trim(), &mut id).ok()?;
        Some(ClusterId(id))
    }
}

/// Why a node's cluster id could not be read, kept or agreed on.
#[derive(Debug, thiserror::Error)]
pub enum ClusterIdError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} does not hold a cluster id")]
    Damaged { path: PathBuf },
    #[error("this node belongs to cluster {mine}, not {theirs}")]
    Another { mine: ClusterId, theirs: ClusterId },
    #[error("the other node belongs to no cluster")]
    NoCluster,
}

/// This node's cluster id, shared by everything that checks it.
#[derive(Debug, Clone)]
pub struct ClusterMembership {
    path: PathBuf,
    id: Arc<Mutex<Option<ClusterId>>>,
}

impl ClusterMembership {
    /// Reads the id kept in `data` (none yet on a new node).
    pub fn open(data: &Path) -> Result<Self, ClusterIdError> {
        let path = data.join(CLUSTER_ID_FILE);
        let id = match std::fs::read_to_string(&path) {
            Ok(text) => Some(
                ClusterId::parse(&text)
                    .ok_or_else(|| ClusterIdError::Damaged { path: path.clone() })?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(ClusterIdError::Io { path, source }),
        };
        Ok(ClusterMembership {
            path,
            id: Arc::new(Mutex::new(id)),
        })
    }

    pub fn get(&self) -> Option<ClusterId> {
        *self.id.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id this node keeps from now on: its own if it has one, else
    /// `id`, written durably first. Another id than its own is refused.
    pub fn adopt(&self, id: ClusterId) -> Result<ClusterId, ClusterIdError> {
        let mut mine = self.id.lock().unwrap_or_else(|p| p.into_inner());
        match *mine {
            Some(m) if m == id => Ok(m),
            Some(m) => Err(ClusterIdError::Another {
                mine: m,
                theirs: id,
            }),
            None => {
                durable::write_atomic(&self.path, format!("{id}\n").as_bytes()).map_err(
                    |source| ClusterIdError::Io {
                        path: self.path.clone(),
                        source,
                    },
                )?;
                *mine = Some(id);
                Ok(id)
            }
        }
    }

    /// What a node answers a peer that says it belongs to `theirs`: the
    /// same cluster (adopted if this node had none yet), or a refusal.
    pub fn admit(&self, theirs: Option<ClusterId>) -> Result<ClusterId, ClusterIdError> {
        self.adopt(theirs.ok_or(ClusterIdError::NoCluster)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_adopts_the_first_cluster_and_refuses_any_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = ClusterId::new(1, "1,2,3");
        let b = ClusterId::new(4, "4");
        assert_ne!(a, b);
        let m = ClusterMembership::open(dir.path()).expect("open");
        assert_eq!(m.get(), None);
        assert!(matches!(m.admit(None), Err(ClusterIdError::NoCluster)));
        assert_eq!(m.get(), None, "nothing adopted from a node of no cluster");
        assert_eq!(m.admit(Some(a)).expect("adopted"), a);
        assert_eq!(m.admit(Some(a)).expect("the same"), a);
        assert!(matches!(
            m.admit(Some(b)),
            Err(ClusterIdError::Another { mine, theirs }) if mine == a && theirs == b
        ));
        // Kept across a restart.
        let again = ClusterMembership::open(dir.path()).expect("reopen");
        assert_eq!(again.get(), Some(a));
        assert!(again.admit(Some(b)).is_err());
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_new_node() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(CLUSTER_ID_FILE), "not hex").expect("write");
        assert!(matches!(
            ClusterMembership::open(dir.path()),
            Err(ClusterIdError::Damaged { .. })
        ));
    }
}
