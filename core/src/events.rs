//! The numbered event stream of each target system, kept in the replicated
//! state so every replica numbers events the same way.
//!
//! Events are numbered from 0 per target, without gaps, in the order
//! `apply` produced them. Only the newest [`EVENTS_KEPT`] are kept; a
//! subscriber asking for an older one is told to resynchronise from
//! [`EventLog::oldest_seq`].

use crate::proposal::Decision;
use crate::rollout::progress::RollbackRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::VecDeque;

/// Events kept per target system.
pub const EVENTS_KEPT: usize = 1024;

/// What an event says: a decision, a rollout's progress (a phase, a
/// pause, a telemetry summary, steady), or a rollback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EventBody {
    Decided(Decision),
    Progress(Progress),
    RolledBack(RollbackRecord),
}

/// Where a rollout stands, as its proposer is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub proposal_id: String,
    pub phase: String,
    pub share: u8,
    pub phase_started_ms: u64,
    /// The leader's time of the command that moved it.
    pub at_ms: u64,
    pub violations: u32,
    pub observed_impact: BTreeMap<String, f64>,
    pub paused: bool,
    /// The rollout is over: the candidate is live.
    pub steady: bool,
}

/// One numbered event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateEvent {
    pub seq: u64,
    pub body: EventBody,
}

/// The newest events of one target, and the next number to give.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EventLog {
    next_seq: u64,
    kept: VecDeque<StateEvent>,
}

/// A subscriber asked for events that are no longer kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("events before {oldest_seq} are no longer kept")]
pub struct Gone {
    pub oldest_seq: u64,
}

impl EventLog {
    /// The number the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The oldest number still kept (equal to `next_seq` when none is).
    pub fn oldest_seq(&self) -> u64 {
        self.kept.front().map_or(self.next_seq, |e| e.seq)
    }

    /// Appends an event; returns its number. Drops the oldest past the bound.
    pub fn push(&mut self, body: EventBody) -> u64 {
        let seq = self.next_seq;
        self.kept.push_back(StateEvent { seq, body });
        self.next_seq += 1;
        while self.kept.len() > EVENTS_KEPT {
            self.kept.pop_front();
        }
        seq
    }

    /// Up to `max` events numbered `from` and after. A `from` beyond the
    /// newest gives none (yet); one before the oldest kept is [`Gone`].
    pub fn read_from(&self, from: u64, max: usize) -> Result<Vec<StateEvent>, Gone> {
        let oldest = self.oldest_seq();
        if from < oldest {
            return Err(Gone { oldest_seq: oldest });
        }
        let skip = (from - oldest) as usize;
        Ok(self.kept.iter().skip(skip).take(max).cloned().collect())
    }

    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proposal::Verdict;

    fn body(n: u64) -> EventBody {
        EventBody::Decided(Decision {
            proposal_id: format!("p{n}"),
            target: "svc".into(),
            decided_at_ms: n,
            verdict: Verdict::Approved,
            approved: vec![],
            rejected: vec![],
            duration_seconds: 1,
            event_seq: n,
            ..Decision::new("", "", 0, 0)
        })
    }

    #[test]
    fn numbers_are_gapless_and_old_events_are_dropped_past_the_bound() {
        let mut log = EventLog::default();
        assert_eq!(log.read_from(0, 10), Ok(vec![]));
        for n in 0..(EVENTS_KEPT as u64 + 5) {
            assert_eq!(log.push(body(n)), n);
        }
        assert_eq!(log.len(), EVENTS_KEPT);
        assert_eq!(log.oldest_seq(), 5);
        assert_eq!(log.next_seq(), EVENTS_KEPT as u64 + 5);
        assert_eq!(log.read_from(4, 10), Err(Gone { oldest_seq: 5 }));
        let got = log.read_from(5, 3).expect("kept");
        assert_eq!(
            got.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [5, 6, 7],
            "read in order from the position asked"
        );
        assert_eq!(log.read_from(log.next_seq() + 7, 3), Ok(vec![]));
    }
}
