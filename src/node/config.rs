//! A node's settings: from a TOML file, overridden by flags and
//! `ARQONBUS_*` environment variables (the CLI merges them).
//!
//! Defaults were chosen by measurement on a two-core machine (see the
//! README's figures): a heartbeat well above the append latency and an
//! election timeout well above the heartbeat, so a loaded machine does not
//! hold elections that are not needed, yet a dead leader is replaced within
//! about a second.

use super::gates::settings::SecuritySettings;
use super::limits::Limits;
use crate::audit::store::Retention;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Raft timings, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RaftTimings {
    pub heartbeat_ms: u64,
    pub election_min_ms: u64,
    pub election_max_ms: u64,
    /// Build a snapshot after this many log entries since the last one.
    pub snapshot_every: u64,
    /// Per-chunk deadline of a snapshot transfer.
    pub snapshot_chunk_timeout_ms: u64,
    /// Bytes per snapshot chunk sent to a lagging follower.
    pub snapshot_chunk_bytes: u64,
}

impl Default for RaftTimings {
    fn default() -> Self {
        RaftTimings {
            heartbeat_ms: 100,
            election_min_ms: 300,
            election_max_ms: 500,
            snapshot_every: 10_000,
            snapshot_chunk_timeout_ms: 10_000,
            snapshot_chunk_bytes: 3 * 1024 * 1024,
        }
    }
}

/// Deadlines for client requests, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientDeadlines {
    /// The longest any client request may take on the server.
    pub request_ms: u64,
    /// How long a request waits for a leader during an election.
    pub leader_wait_ms: u64,
    /// A leader without a majority's acknowledgement for this long answers
    /// `no_quorum` at once.
    pub quorum_lost_ms: u64,
    /// Deadline of one connection attempt to a peer.
    pub connect_ms: u64,
}

impl Default for ClientDeadlines {
    fn default() -> Self {
        ClientDeadlines {
            request_ms: 3_000,
            leader_wait_ms: 2_000,
            quorum_lost_ms: 1_000,
            connect_ms: 500,
        }
    }
}

/// Everything a node needs to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub id: u64,
    /// The UDP address the QUIC endpoint binds.
    pub listen: SocketAddr,
    /// `host:port` others reach this node at (a name in its certificate).
    pub advertise: String,
    /// The node's data directory (sled database, snapshots, audit archive).
    pub data: PathBuf,
    /// The directory holding `ca.pem`, `node-<id>.pem` and `node-<id>.key`.
    pub certs: PathBuf,
    #[serde(default)]
    pub raft: RaftTimings,
    #[serde(default)]
    pub client: ClientDeadlines,
    /// How many audit entries stay in sled before chunks move to the archive.
    #[serde(default)]
    pub audit: Retention,
    /// Connections, subscriptions, frame deadline and memory, decoding.
    #[serde(default)]
    pub limits: Limits,
    /// Clock skew, signing and rate limits (Security I).
    #[serde(default)]
    pub security: SecuritySettings,
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("missing setting `{0}` (flag --{0}, env ARQONBUS_{1}, or the config file)")]
    Missing(&'static str, &'static str),
    #[error("invalid setting: {0}")]
    Invalid(String),
}

impl NodeConfig {
    pub fn from_toml(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    pub fn check(&self) -> Result<(), ConfigError> {
        let r = &self.raft;
        let bad = |s: String| Err(ConfigError::Invalid(s));
        if self.id == 0 {
            return bad("id must be 1 or more".into());
        }
        if r.heartbeat_ms == 0 || r.election_min_ms <= r.heartbeat_ms {
            return bad(format!(
                "election_min_ms ({}) must be above heartbeat_ms ({})",
                r.election_min_ms, r.heartbeat_ms
            ));
        }
        if r.election_max_ms <= r.election_min_ms {
            return bad("election_max_ms must be above election_min_ms".into());
        }
        if self.client.request_ms == 0 || self.client.connect_ms == 0 {
            return bad("client deadlines must be positive".into());
        }
        if self.audit.keep == 0 || self.audit.chunk == 0 {
            return bad("audit.keep and audit.chunk must be positive".into());
        }
        if let Some(limit) = self.limits.problem() {
            return bad(format!("limits.{limit} must be positive"));
        }
        if let Some(problem) = self.security.problem() {
            return bad(format!("security.{problem}"));
        }
        Ok(())
    }

    /// The openraft configuration these settings give.
    pub fn openraft(&self) -> Result<openraft::Config, ConfigError> {
        let r = &self.raft;
        let config = openraft::Config {
            cluster_name: "arqonbus".into(),
            heartbeat_interval: r.heartbeat_ms,
            election_timeout_min: r.election_min_ms,
            election_timeout_max: r.election_max_ms,
            install_snapshot_timeout: r.snapshot_chunk_timeout_ms,
            snapshot_max_chunk_size: r.snapshot_chunk_bytes,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(r.snapshot_every),
            max_in_snapshot_log_to_keep: 1_000.min(r.snapshot_every),
            ..Default::default()
        };
        config
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    pub fn request_deadline(&self) -> Duration {
        Duration::from_millis(self.client.request_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_only_the_essentials_gets_the_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            "id = 2\nlisten = \"127.0.0.1:7102\"\nadvertise = \"127.0.0.1:7102\"\n\
             data = \"/tmp/n2\"\ncerts = \"/tmp/certs\"\n[raft]\nheartbeat_ms = 50\n",
        )
        .expect("write");
        let c = NodeConfig::from_toml(&path).expect("parses");
        assert_eq!(c.id, 2);
        assert_eq!(c.raft.heartbeat_ms, 50);
        assert_eq!(
            c.raft.election_min_ms,
            RaftTimings::default().election_min_ms
        );
        assert!(c.check().is_ok());
        assert!(c.openraft().is_ok());
    }

    #[test]
    fn contradictory_timings_and_unknown_keys_are_refused() {
        let mut c = NodeConfig {
            id: 1,
            listen: "127.0.0.1:1".parse().expect("addr"),
            advertise: "127.0.0.1:1".into(),
            data: "/tmp/x".into(),
            certs: "/tmp/c".into(),
            raft: RaftTimings::default(),
            client: ClientDeadlines::default(),
            audit: Retention::default(),
            limits: Limits::default(),
            security: SecuritySettings::default(),
        };
        c.raft.election_min_ms = c.raft.heartbeat_ms;
        assert!(c.check().is_err());
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("node.toml");
        std::fs::write(&path, "id = 1\ncolour = \"red\"\n").expect("write");
        assert!(NodeConfig::from_toml(&path).is_err());
    }
}
