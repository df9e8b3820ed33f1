//! The table of decided proposal ids, so a re-sent proposal gets the answer
//! it got the first time and changes nothing — and an id is never decided
//! twice, however long the table has been running.
//!
//! Retention is by size only, never by a clock: the table holds at most
//! [`MAX_ENTRIES`] decisions and [`MAX_BYTES`] of them (by
//! [`Decided::weight`], a deterministic estimate of the heap they take).
//! Past either bound it evicts the decision whose *proposal timestamp* is
//! the oldest (never one pending approval: it must stay to be approved,
//! rejected or expired), and raises its staleness floor to that timestamp: from then
//! on any proposal stamped at or before the floor is refused as stale. So
//! whatever is evicted is refused as stale if it comes again with its
//! timestamp, and a retry must carry the first send's timestamp (another
//! one under a remembered id is a conflict). No leader's clock moves
//! anything out: a leader whose clock is days ahead refuses proposals
//! while it leads, but wipes nothing.
//!
//! [`Staleness::check`] is the whole staleness rule for a new id: older
//! than the floor, older than [`WINDOW_MS`] before the leader's time, or
//! more than [`AHEAD_MS`] after it.

use crate::proposal::{Decision, Fingerprint};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A new proposal stamped this long before the leader's time is stale.
pub const WINDOW_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// A new proposal stamped this long after the leader's time is refused too:
/// kept in the table longest, it would raise the floor past honest clocks.
pub const AHEAD_MS: u64 = 5 * 60 * 1000;
/// The most decisions remembered at once.
pub const MAX_ENTRIES: usize = 100_000;
/// The most [`Decided::weight`] remembered at once (64 MiB).
pub const MAX_BYTES: u64 = 64 << 20;
/// What one remembered decision costs besides its texts: the `Decided`
/// and `Decision` structs, three index nodes and allocator slack
/// (measured in `core/tests/decided_memory.rs`).
const ENTRY_OVERHEAD: u64 = 840;
/// What one approved or rejected change costs besides its texts.
const CHANGE_OVERHEAD: u64 = 96;

/// One remembered decision: when, for which target, what was asked (its
/// fingerprint, to tell a retry from a conflicting reuse of the id), what
/// was decided, and the proposal's own timestamp (what a retry repeats).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    pub at_ms: u64,
    pub target: String,
    pub fingerprint: Fingerprint,
    pub decision: Decision,
    pub timestamp_ms: i64,
}

impl Decided {
    /// Whether the decision waits for operators (never evicted meanwhile).
    pub fn is_pending(&self) -> bool {
        self.decision.verdict == crate::proposal::Verdict::PendingApproval
    }

    /// A deterministic estimate, in bytes, of what this entry holds in
    /// memory under `proposal_id`: never below what it takes.
    pub fn weight(&self, proposal_id: &str) -> u64 {
        let d = &self.decision;
        let text = |s: &str| s.len() as u64;
        let approved: u64 = d
            .approved
            .iter()
            .chain(&d.pending)
            .map(|a| CHANGE_OVERHEAD + text(&a.parameter) + a.value.heap_bytes())
            .sum();
        let rejected: u64 = d
            .rejected
            .iter()
            .map(|v| CHANGE_OVERHEAD + text(&v.parameter) + text(&v.constraint) + text(&v.reason))
            .sum();
        let extra: u64 =
            d.allowed
                .iter()
                .map(|(k, a)| CHANGE_OVERHEAD + text(k) + allowed_bytes(a))
                .chain(
                    d.approvals
                        .iter()
                        .map(|a| CHANGE_OVERHEAD + text(&a.identity) + text(&a.reason)),
                )
                .chain(d.closure.iter().map(|c| {
                    CHANGE_OVERHEAD + text(&c.action) + text(&c.identity) + text(&c.reason)
                }))
                .sum();
        ENTRY_OVERHEAD
            + extra
            + d.finished.as_ref().map_or(0, |f| finished_bytes(f))
            + text(&d.proposer)
            + 3 * text(proposal_id)
            + text(&d.proposal_id)
            + text(&self.target)
            + text(&d.target)
            + approved
            + rejected
    }
}

/// The heap how a rollout ended holds (a verdict's metrics, a rollback's
/// restored values and texts).
fn finished_bytes(f: &crate::rollout::progress::Finished) -> u64 {
    use crate::rollout::progress::Finished;
    let size = std::mem::size_of::<Finished>() as u64;
    size + match f {
        Finished::Steady { verdict, .. } => verdict.as_ref().map_or(0, |v| {
            v.reason.len() as u64
                + v.metrics
                    .iter()
                    .map(|m| {
                        std::mem::size_of_val(m) as u64
                            + m.metric.len() as u64
                            + m.reason.len() as u64
                    })
                    .sum::<u64>()
        }),
        Finished::RolledBack(r) => {
            r.proposal_id.len() as u64
                + r.cause.detail.len() as u64
                + r.cause
                    .triggered_constraint
                    .as_ref()
                    .map_or(0, |c| c.len() as u64)
                + r.restored
                    .iter()
                    .map(|(k, v)| CHANGE_OVERHEAD + k.len() as u64 + v.heap_bytes())
                    .sum::<u64>()
        }
    }
}

/// The heap an `allowed` holds.
fn allowed_bytes(a: &crate::allowed::Allowed) -> u64 {
    match a {
        crate::allowed::Allowed::Values(v) => v.iter().map(|x| 32 + x.heap_bytes()).sum(),
        _ => 0,
    }
}

/// Why a new proposal's timestamp is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// At or before what the table has forgotten.
    Forgotten { floor_ms: i64 },
    /// Older than the window before the leader's time.
    TooOld,
    /// Too far after the leader's time.
    TooNew,
}

impl Staleness {
    /// The staleness rule for a proposal id the table does not hold.
    pub fn check(table: &DecidedTable, timestamp_ms: i64, now_ms: u64) -> Result<(), Staleness> {
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        if let Some(floor_ms) = table.floor_ms {
            if timestamp_ms <= floor_ms {
                return Err(Staleness::Forgotten { floor_ms });
            }
        }
        let window = i64::try_from(WINDOW_MS).unwrap_or(i64::MAX);
        if timestamp_ms < now.saturating_sub(window) {
            return Err(Staleness::TooOld);
        }
        let ahead = i64::try_from(AHEAD_MS).unwrap_or(i64::MAX);
        if timestamp_ms > now.saturating_add(ahead) {
            return Err(Staleness::TooNew);
        }
        Ok(())
    }
}

/// How much the table may hold (the defaults are [`MAX_ENTRIES`] and
/// [`MAX_BYTES`]; tests use small ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    pub bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries: MAX_ENTRIES,
            bytes: MAX_BYTES,
        }
    }
}

/// Decided proposals by id, indexed by proposal timestamp (eviction order)
/// and by decision time (listing order).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DecidedTable {
    by_id: BTreeMap<String, Decided>,
    by_stamp: BTreeSet<(i64, String)>,
    by_age: BTreeSet<(u64, String)>,
    /// The sum of the entries' weights.
    bytes: u64,
    /// The newest proposal timestamp evicted so far.
    floor_ms: Option<i64>,
    #[serde(skip)]
    limits: Limits,
}

impl DecidedTable {
    /// An empty table with other limits than the defaults.
    pub fn with_limits(limits: Limits) -> Self {
        DecidedTable {
            limits,
            ..Default::default()
        }
    }

    pub fn get(&self, proposal_id: &str) -> Option<&Decided> {
        self.by_id.get(proposal_id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The sum of the entries' weights.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The newest proposal timestamp forgotten so far, if any.
    pub fn floor_ms(&self) -> Option<i64> {
        self.floor_ms
    }

    /// Records a decision; an id already present keeps its first decision.
    /// Then evicts what is over the limits, oldest proposal timestamp first.
    pub fn record(&mut self, proposal_id: &str, decided: Decided) -> bool {
        if self.by_id.contains_key(proposal_id) {
            return false;
        }
        let id = proposal_id.to_string();
        self.bytes += decided.weight(proposal_id);
        self.by_stamp.insert((decided.timestamp_ms, id.clone()));
        self.by_age.insert((decided.at_ms, id.clone()));
        self.by_id.insert(id, decided);
        self.evict();
        true
    }

    /// Replaces the decision recorded under `proposal_id` (an approval, a
    /// rejection or an expiry of a pending one); false when not held.
    pub fn update(&mut self, proposal_id: &str, decision: Decision) -> bool {
        let Some(entry) = self.by_id.get_mut(proposal_id) else {
            return false;
        };
        let before = entry.weight(proposal_id);
        entry.decision = decision;
        let after = entry.weight(proposal_id);
        self.bytes = self.bytes.saturating_sub(before).saturating_add(after);
        self.evict();
        true
    }

    /// The newest decisions first, of one target or all, at most `limit`.
    pub fn newest(&self, target: Option<&str>, limit: usize) -> Vec<&Decided> {
        self.by_age
            .iter()
            .rev()
            .filter_map(|(_, id)| self.by_id.get(id))
            .filter(|d| target.is_none_or(|t| d.target == t))
            .take(limit)
            .collect()
    }

    /// Evicts the oldest proposal timestamps until the table is within its
    /// limits, skipping decisions pending approval: an evicted one could
    /// no longer be approved, rejected or expired. There is at most one per
    /// target, so the table may exceed its bound by that many at most.
    fn evict(&mut self) {
        while self.by_id.len() > self.limits.entries || self.bytes > self.limits.bytes {
            let victim = self
                .by_stamp
                .iter()
                .find(|(_, id)| !self.by_id.get(id).is_some_and(Decided::is_pending))
                .cloned();
            let Some((stamp, id)) = victim else {
                return;
            };
            self.by_stamp.remove(&(stamp, id.clone()));
            if let Some(gone) = self.by_id.remove(&id) {
                self.bytes = self.bytes.saturating_sub(gone.weight(&id));
                self.by_age.remove(&(gone.at_ms, id));
            }
            self.floor_ms = Some(self.floor_ms.map_or(stamp, |f| f.max(stamp)));
        }
    }
}

#[cfg(test)]
mod tests;
