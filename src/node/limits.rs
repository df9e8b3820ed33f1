//! The bounds a node holds every client to, as numbers: connections,
//! subscriptions, the frame deadline, the memory frames may hold while
//! they are read and decoded, and how many decode at once. Defaults here;
//! the config file's `[limits]` table and a few `arqonbus node` flags
//! override them. `admission` enforces them; PROTOCOL.md §8.2 states them.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Every per-node and per-client bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Connections open at once, peers and clients together.
    pub max_connections: usize,
    /// Connections open at once by one identity (certificate name).
    pub max_connections_per_identity: usize,
    /// A frame must arrive whole within this of its stream opening.
    pub frame_deadline_ms: u64,
    /// Push streams open at once on one connection.
    pub max_subscriptions_per_connection: usize,
    /// Push streams open at once by one identity.
    pub max_subscriptions_per_identity: usize,
    /// Bytes of frames (as sent, plus their decompressed bodies) being
    /// read, decoded or served at once on this node.
    pub frame_memory: usize,
    /// The same, for one identity.
    pub frame_memory_per_identity: usize,
    /// Frames decoded at once, off the threads that serve Raft (0: one
    /// fewer than the cores, at least one).
    pub decode_threads: usize,
    /// Frames of one identity decoded at once.
    pub decodes_per_identity: usize,
    /// Frames of one connection decoded at once.
    pub decodes_per_connection: usize,
    /// How often a node reports the attempts it refused (one
    /// `security_summary` at most per interval).
    pub summary_interval_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_connections_per_identity: 128,
            frame_deadline_ms: 10_000,
            max_subscriptions_per_connection: 16,
            max_subscriptions_per_identity: 256,
            frame_memory: 64 << 20,
            frame_memory_per_identity: 16 << 20,
            decode_threads: 0,
            decodes_per_identity: 2,
            decodes_per_connection: 1,
            summary_interval_ms: 10_000,
        }
    }
}

impl Limits {
    /// A bound of zero would refuse everything; say which.
    pub fn problem(&self) -> Option<&'static str> {
        let named = [
            ("max_connections", self.max_connections),
            (
                "max_connections_per_identity",
                self.max_connections_per_identity,
            ),
            ("frame_deadline_ms", self.frame_deadline_ms as usize),
            (
                "max_subscriptions_per_connection",
                self.max_subscriptions_per_connection,
            ),
            (
                "max_subscriptions_per_identity",
                self.max_subscriptions_per_identity,
            ),
            ("frame_memory", self.frame_memory),
            ("frame_memory_per_identity", self.frame_memory_per_identity),
            ("decodes_per_identity", self.decodes_per_identity),
            ("decodes_per_connection", self.decodes_per_connection),
            ("summary_interval_ms", self.summary_interval_ms as usize),
        ];
        named.iter().find(|(_, v)| *v == 0).map(|(name, _)| *name)
    }

    pub fn frame_deadline(&self) -> Duration {
        Duration::from_millis(self.frame_deadline_ms)
    }

    pub fn summary_interval(&self) -> Duration {
        Duration::from_millis(self.summary_interval_ms)
    }

    /// Decode threads, with 0 resolved against this machine's cores.
    pub fn decoders(&self) -> usize {
        match self.decode_threads {
            0 => std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1))
                .max(1),
            n => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_hold_the_issues_numbers_and_a_zero_is_named() {
        let l = Limits::default();
        assert_eq!(l.frame_deadline(), Duration::from_secs(10));
        assert_eq!(l.summary_interval(), Duration::from_secs(10));
        assert!(l.problem().is_none() && l.decoders() >= 1);
        let zero = Limits {
            max_subscriptions_per_identity: 0,
            ..Limits::default()
        };
        assert_eq!(zero.problem(), Some("max_subscriptions_per_identity"));
    }
}
