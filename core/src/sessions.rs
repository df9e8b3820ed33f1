//! Replay protection in the replicated state: the sequence numbers each
//! sender's sessions have used, checked in `apply` (PROTOCOL.md §5).
//!
//! A client numbers its messages per session (envelope v2: a random
//! `session`, a counting `seq`, its clock in `sent_at`). Every node checks
//! that on its own before it proposes anything, but its table is its own:
//! after a leader change the new leader has not seen what the old one
//! accepted. So each state change carries its [`Origin`] into the log, and
//! `apply` keeps, per identity and session, a high-water mark and the 64
//! numbers below it. A number at or below the mark and not in that window
//! (or already seen in it) is a replay, on every replica alike.
//!
//! Deterministic and bounded: time is the leader's stamp on the command;
//! a session not heard from for [`SESSION_IDLE_MS`] of that time is
//! forgotten, and a request whose `sent_at` is further than
//! [`MAX_SENT_SKEW_MS`] from the stamp is refused, so nothing a forgotten
//! session sent can be applied again. At most [`MAX_SESSIONS`] sessions
//! are remembered, and [`MAX_SESSIONS_PER_IDENTITY`] of one identity; a
//! new session beyond either is refused (never a live one evicted).

use crate::command::CommandError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How far below the high-water mark a number may still arrive (requests
/// on concurrent streams reach the log in any order).
pub const WINDOW: u64 = 64;
/// Sessions remembered at once in the replicated state.
pub const MAX_SESSIONS: usize = 65_536;
/// Sessions of one identity remembered at once.
pub const MAX_SESSIONS_PER_IDENTITY: usize = 1_024;
/// A session idle this long (in the leaders' time) is forgotten.
pub const SESSION_IDLE_MS: u64 = 600_000;
/// How far a state change's `sent_at` may be from the leader's stamp.
/// Half the idle time: by the time a session is forgotten, every message
/// it sent is refused as stale. A node's allowed skew may not exceed it.
pub const MAX_SENT_SKEW_MS: u64 = SESSION_IDLE_MS / 2;

/// How a client numbered one request: what its envelope said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub session: u64,
    pub seq: u64,
    /// The client's clock when it sent the request, Unix milliseconds.
    pub sent_at_ms: i64,
}

/// What one session has used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMark {
    /// The highest number accepted.
    pub high: u64,
    /// Bit i: `high - 1 - i` was accepted.
    pub below: u64,
    /// The leader time of the last accepted request.
    pub last_at_ms: u64,
}

/// The live sessions of every identity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sessions {
    marks: BTreeMap<(String, u64), SessionMark>,
    /// The same sessions by when they were last heard from: the order in
    /// which they expire.
    by_idle: BTreeSet<(u64, String, u64)>,
    /// Live sessions per identity.
    per_identity: BTreeMap<String, usize>,
}

impl Sessions {
    /// Forgets every session idle since before `now_ms - SESSION_IDLE_MS`.
    pub fn expire(&mut self, now_ms: u64) {
        let horizon = now_ms.saturating_sub(SESSION_IDLE_MS);
        while let Some(first) = self.by_idle.first() {
            if first.0 >= horizon {
                break;
            }
            let Some((_, identity, session)) = self.by_idle.pop_first() else {
                break;
            };
            self.marks.remove(&(identity.clone(), session));
            self.release(&identity);
        }
    }

    /// Whether `origin` of `identity` would be accepted at leader time
    /// `at_ms`; records it if so.
    pub fn accept(
        &mut self,
        identity: &str,
        origin: &Origin,
        at_ms: u64,
    ) -> Result<(), CommandError> {
        let skew = (at_ms as i128 - origin.sent_at_ms as i128).unsigned_abs();
        if skew > MAX_SENT_SKEW_MS as u128 {
            return Err(CommandError::StaleRequest {
                sent_at_ms: origin.sent_at_ms,
                now_ms: at_ms,
                max_skew_ms: MAX_SENT_SKEW_MS,
            });
        }
        let key = (identity.to_string(), origin.session);
        let Some(old) = self.marks.get(&key).copied() else {
            return self.open(key, origin.seq, at_ms);
        };
        let mark = next(&old, origin, at_ms)?;
        self.by_idle.remove(&(old.last_at_ms, key.0.clone(), key.1));
        self.by_idle.insert((mark.last_at_ms, key.0.clone(), key.1));
        self.marks.insert(key, mark);
        Ok(())
    }

    /// Whether `origin` of `identity` is a replay, without recording it.
    pub fn is_replay(&self, identity: &str, origin: &Origin) -> bool {
        let key = (identity.to_string(), origin.session);
        self.marks
            .get(&key)
            .is_some_and(|m| next(m, origin, m.last_at_ms).is_err())
    }

    /// Sessions remembered.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// The mark of one session, if remembered.
    pub fn mark(&self, identity: &str, session: u64) -> Option<&SessionMark> {
        self.marks.get(&(identity.to_string(), session))
    }

    /// A session heard from for the first time.
    fn open(&mut self, key: (String, u64), seq: u64, at_ms: u64) -> Result<(), CommandError> {
        let of_identity = self.per_identity.get(&key.0).copied().unwrap_or(0);
        if of_identity >= MAX_SESSIONS_PER_IDENTITY {
            return Err(CommandError::TooManySessions {
                identity: key.0,
                limit: MAX_SESSIONS_PER_IDENTITY,
            });
        }
        if self.marks.len() >= MAX_SESSIONS {
            return Err(CommandError::TooManySessions {
                identity: key.0,
                limit: MAX_SESSIONS,
            });
        }
        self.per_identity.insert(key.0.clone(), of_identity + 1);
        self.by_idle.insert((at_ms, key.0.clone(), key.1));
        self.marks.insert(
            key,
            SessionMark {
                high: seq,
                below: 0,
                last_at_ms: at_ms,
            },
        );
        Ok(())
    }

    fn release(&mut self, identity: &str) {
        match self.per_identity.get_mut(identity) {
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                self.per_identity.remove(identity);
            }
            None => {}
        }
    }
}

/// The mark after accepting `origin`, or the replay it is.
fn next(mark: &SessionMark, origin: &Origin, at_ms: u64) -> Result<SessionMark, CommandError> {
    let seq = origin.seq;
    let last_at_ms = mark.last_at_ms.max(at_ms);
    if seq > mark.high {
        let shift = seq - mark.high;
        let below = match shift {
            1..=63 => (mark.below << shift) | (1 << (shift - 1)),
            64 => 1 << 63,
            _ => 0,
        };
        return Ok(SessionMark {
            high: seq,
            below,
            last_at_ms,
        });
    }
    let back = mark.high - seq;
    if back == 0 || back > WINDOW || mark.below & (1 << (back - 1)) != 0 {
        return Err(CommandError::Replay {
            session: origin.session,
            last_seq: mark.high,
        });
    }
    Ok(SessionMark {
        below: mark.below | (1 << (back - 1)),
        last_at_ms,
        ..*mark
    })
}

#[cfg(test)]
mod tests;
