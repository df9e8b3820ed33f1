//! Security I's settings, the `[security]` table of a node's config: the
//! allowed clock skew, whether state changes must be signed, and the rate
//! limits per identity (PROTOCOL.md §5, §8.2).

use arqonbus_core::sessions::MAX_SENT_SKEW_MS;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Every Security I knob of one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// How far a request's `sent_at` may be from this node's clock,
    /// either way (`stale_timestamp` beyond); at most 300000, what the
    /// replicated replay check accepts (`core::sessions`).
    pub max_skew_ms: u64,
    /// Whether a state change (proposal, configuration, membership) must
    /// carry a valid signature. A target's constraint file may say the
    /// same per target (`[security] signing_required`).
    pub signing_required: bool,
    /// State changes (proposals, edits, membership) one identity may send
    /// per second, sustained; bursts up to the same number.
    pub changes_per_second: u32,
    /// Telemetry samples (not frames) one identity may send per second.
    pub samples_per_second: u32,
    /// Reads (status, audit, listings, subscriptions) per identity per
    /// second.
    pub reads_per_second: u32,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            max_skew_ms: 30_000,
            signing_required: true,
            changes_per_second: 20_000,
            samples_per_second: 1_000_000,
            reads_per_second: 20_000,
        }
    }
}

impl SecuritySettings {
    pub fn max_skew(&self) -> Duration {
        Duration::from_millis(self.max_skew_ms)
    }

    /// A setting that cannot work, and why (`max_skew_ms must be …`).
    pub fn problem(&self) -> Option<String> {
        // Beyond what `apply` accepts, and past the point where the
        // replicated replay table may forget a session safely.
        if self.max_skew_ms == 0 || self.max_skew_ms > MAX_SENT_SKEW_MS {
            return Some(format!(
                "max_skew_ms must be positive and at most {MAX_SENT_SKEW_MS}"
            ));
        }
        [
            ("changes_per_second", self.changes_per_second),
            ("samples_per_second", self.samples_per_second),
            ("reads_per_second", self.reads_per_second),
        ]
        .into_iter()
        .find_map(|(name, v)| (v == 0).then(|| format!("{name} must be positive")))
    }
}
