//! Security I's settings, the `[security]` table of a node's config: the
//! allowed clock skew, whether state changes must be signed, the rate
//! limits per identity, and the budgets per role that all its identities
//! share (`[security.roles.<role>]`; PROTOCOL.md §5, §8.2).

use arqonbus_core::sessions::MAX_SENT_SKEW_MS;
use arqonbus_core::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Every Security I knob of one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// How far a request's `sent_at` may be from this node's clock,
    /// either way (`stale_timestamp` beyond); at most 300000, what the
    /// replicated replay check accepts (`core::sessions`).
    pub max_skew_ms: u64,
    /// Whether a state change must carry a valid signature when no
    /// target's policy says: membership, and a target's first
    /// constraints. A known target's constraint file decides for it
    /// (`[security] signing_required`, `gates::signing`).
    pub signing_required: bool,
    /// State changes (proposals, edits, membership) one identity may send
    /// per second, sustained; bursts up to the same number.
    pub changes_per_second: u32,
    /// Telemetry samples (not frames) one identity may send per second.
    pub samples_per_second: u32,
    /// Reads (status, audit, listings, subscriptions) per identity per
    /// second.
    pub reads_per_second: u32,
    /// Budgets per role name, shared by every identity of that role
    /// (`[security.roles.proposer]`); none by default.
    pub roles: BTreeMap<String, RoleQuota>,
}

/// What all the identities of one role may send together per second, by
/// class; a class left out has no role-wide budget (each identity still
/// has its own). Bursts up to the same number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoleQuota {
    pub changes_per_second: Option<u32>,
    pub samples_per_second: Option<u32>,
    pub reads_per_second: Option<u32>,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            max_skew_ms: 30_000,
            signing_required: true,
            changes_per_second: 20_000,
            samples_per_second: 1_000_000,
            reads_per_second: 20_000,
            roles: BTreeMap::new(),
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
        .or_else(|| self.roles.iter().find_map(|(role, q)| q.problem(role)))
    }
}

impl RoleQuota {
    /// What is wrong with the budgets of `role`, if anything.
    fn problem(&self, role: &str) -> Option<String> {
        if role.parse::<Role>().is_err() {
            let roles: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
            return Some(format!(
                "roles.{role} is not a role (one of {})",
                roles.join(", ")
            ));
        }
        [
            ("changes_per_second", self.changes_per_second),
            ("samples_per_second", self.samples_per_second),
            ("reads_per_second", self.reads_per_second),
        ]
        .into_iter()
        .find_map(|(name, v)| {
            (v == Some(0)).then(|| format!("roles.{role}.{name} must be positive"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_budgets_are_read_from_their_table_and_checked() {
        let s: SecuritySettings = toml::from_str(
            "changes_per_second = 100\n[roles.proposer]\nchanges_per_second = 500\n",
        )
        .expect("parses");
        assert_eq!(s.roles["proposer"].changes_per_second, Some(500));
        assert_eq!(s.roles["proposer"].reads_per_second, None);
        assert_eq!(s.problem(), None);
        let unknown: SecuritySettings =
            toml::from_str("[roles.hacker]\nreads_per_second = 5\n").expect("parses");
        assert!(unknown
            .problem()
            .is_some_and(|p| p.contains("roles.hacker")));
        let zero: SecuritySettings =
            toml::from_str("[roles.viewer]\nreads_per_second = 0\n").expect("parses");
        assert!(zero
            .problem()
            .is_some_and(|p| p.contains("viewer.reads_per_second")));
    }
}
