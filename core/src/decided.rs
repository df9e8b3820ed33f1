//! The table of decided proposal ids, so a re-sent proposal gets the answer
//! it got the first time and changes nothing.
//!
//! Retention (deterministic, applied in `apply` with the command's leader
//! timestamp, never a clock): a decision is kept for [`RETAIN_MS`] (7 days)
//! after it was made, and the table never holds more than [`MAX_ENTRIES`];
//! past that the oldest decisions go first. A proposer that re-sends an id
//! older than both limits is treated as new, and its timestamp is then
//! checked for staleness like any new proposal, so an old replay is refused.

use crate::proposal::{Decision, Fingerprint};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a decision is remembered.
pub const RETAIN_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// The most decisions remembered at once.
pub const MAX_ENTRIES: usize = 100_000;

/// One remembered decision: when, for which target, what was asked (its
/// fingerprint, to tell a retry from a conflicting reuse of the id) and
/// what was decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    pub at_ms: u64,
    pub target: String,
    pub fingerprint: Fingerprint,
    pub decision: Decision,
}

/// Decided proposals by id, with an index by age for pruning.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DecidedTable {
    by_id: BTreeMap<String, Decided>,
    by_age: BTreeMap<(u64, String), ()>,
}

impl DecidedTable {
    pub fn get(&self, proposal_id: &str) -> Option<&Decided> {
        self.by_id.get(proposal_id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Records a decision; an id already present keeps its first decision.
    pub fn record(&mut self, proposal_id: &str, decided: Decided) -> bool {
        if self.by_id.contains_key(proposal_id) {
            return false;
        }
        self.by_age
            .insert((decided.at_ms, proposal_id.to_string()), ());
        self.by_id.insert(proposal_id.to_string(), decided);
        true
    }

    /// The newest decisions first, of one target or all, at most `limit`.
    pub fn newest(&self, target: Option<&str>, limit: usize) -> Vec<&Decided> {
        self.by_age
            .keys()
            .rev()
            .filter_map(|(_, id)| self.by_id.get(id))
            .filter(|d| target.is_none_or(|t| d.target == t))
            .take(limit)
            .collect()
    }

    /// Drops what the retention rule no longer keeps, as of `now_ms`.
    pub fn prune(&mut self, now_ms: u64) {
        let horizon = now_ms.saturating_sub(RETAIN_MS);
        while let Some(((at_ms, id), ())) = self.by_age.first_key_value() {
            if *at_ms >= horizon && self.by_id.len() <= MAX_ENTRIES {
                break;
            }
            let id = id.clone();
            let key = (*at_ms, id.clone());
            self.by_age.remove(&key);
            self.by_id.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decided(at_ms: u64) -> Decided {
        Decided {
            at_ms,
            target: "svc".into(),
            fingerprint: [0; 32],
            decision: Decision {
                proposal_id: format!("p{at_ms}"),
                target: "svc".into(),
                decided_at_ms: at_ms,
                verdict: crate::proposal::Verdict::Approved,
                approved: vec![],
                rejected: vec![],
                duration_seconds: 1,
                event_seq: 0,
            },
        }
    }

    #[test]
    fn the_first_decision_stands() {
        let mut t = DecidedTable::default();
        assert!(t.record("p1", decided(5)));
        assert!(!t.record("p1", decided(6)));
        assert_eq!(t.get("p1").map(|d| d.at_ms), Some(5));
    }

    #[test]
    fn decisions_older_than_the_retention_are_dropped() {
        let mut t = DecidedTable::default();
        t.record("old", decided(1_000));
        t.record("new", decided(1_000 + RETAIN_MS));
        t.prune(1_000 + RETAIN_MS);
        assert!(t.get("old").is_some(), "exactly at the horizon it is kept");
        t.prune(1_001 + RETAIN_MS);
        assert!(t.get("old").is_none());
        assert!(t.get("new").is_some());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn newest_lists_by_age_descending_and_filters_by_target() {
        let mut t = DecidedTable::default();
        t.record("a", decided(1));
        let mut other = decided(2);
        other.target = "other".into();
        t.record("b", other);
        t.record("c", decided(3));
        let ids = |v: Vec<&Decided>| v.iter().map(|d| d.at_ms).collect::<Vec<_>>();
        assert_eq!(ids(t.newest(None, 10)), [3, 2, 1]);
        assert_eq!(ids(t.newest(Some("svc"), 10)), [3, 1]);
        assert_eq!(ids(t.newest(None, 1)), [3]);
    }

    #[test]
    fn the_table_never_exceeds_its_bound() {
        let mut t = DecidedTable::default();
        for i in 0..(MAX_ENTRIES as u64 + 10) {
            t.record(&format!("p{i}"), decided(i));
        }
        t.prune(0);
        assert_eq!(t.len(), MAX_ENTRIES);
        assert!(t.get("p9").is_none(), "the oldest went first");
        assert!(t.get("p10").is_some());
    }
}
