//! Gate 4b, replay: each (identity, session) has a high-water mark and a
//! 64-message window below it; a sequence number at or below what was
//! accepted is refused (PROTOCOL.md §5). Several processes sharing one
//! identity each have a session of their own, so they never collide.
//!
//! The table is bounded: a session idle for longer than twice the allowed
//! clock skew is forgotten (its old messages are stale by then, so the
//! staleness gate refuses them), and when the table is full of live
//! sessions a new one is refused as `rate_limited` rather than evicting a
//! live one.

use super::GateError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sessions remembered at once on one node.
pub const MAX_SESSIONS: usize = 65_536;
/// How far below the high-water mark a number may still arrive (streams
/// arrive out of order).
pub const WINDOW: u64 = 64;

#[derive(Debug, Clone, Copy)]
struct Session {
    high: u64,
    /// Bit i: `high - 1 - i` was accepted.
    below: u64,
    last: Instant,
}

/// The accepted sequence numbers of live sessions.
#[derive(Debug)]
pub struct ReplayTable {
    sessions: Mutex<HashMap<(String, u64), Session>>,
    /// A session idle this long is dropped.
    idle: Duration,
}

impl ReplayTable {
    pub fn new(max_skew: Duration) -> Self {
        ReplayTable {
            sessions: Mutex::default(),
            idle: max_skew * 2,
        }
    }

    /// Accepts `seq` of `session`, or refuses it as a replay.
    pub fn accept(
        &self,
        identity: &str,
        session: u64,
        seq: u64,
        now: Instant,
    ) -> Result<(), GateError> {
        let mut table = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let key = (identity.to_string(), session);
        if !table.contains_key(&key) && table.len() >= MAX_SESSIONS {
            let idle = self.idle;
            table.retain(|_, s| now.duration_since(s.last) < idle);
            if table.len() >= MAX_SESSIONS {
                return Err(GateError::RateLimited(idle / 2));
            }
        }
        let Some(s) = table.get_mut(&key) else {
            table.insert(
                key,
                Session {
                    high: seq,
                    below: 0,
                    last: now,
                },
            );
            return Ok(());
        };
        s.last = now;
        if seq > s.high {
            let shift = seq - s.high;
            s.below = match shift {
                0..=63 => (s.below << shift) | (1 << (shift - 1)),
                64 => 1 << 63,
                _ => 0,
            };
            s.high = seq;
            return Ok(());
        }
        let back = s.high - seq;
        if back == 0 || back > WINDOW || s.below & (1 << (back - 1)) != 0 {
            return Err(GateError::Replay {
                session,
                last_seq: s.high,
            });
        }
        s.below |= 1 << (back - 1);
        Ok(())
    }

    /// Drops sessions idle for longer than twice the skew.
    pub fn forget_idle(&self, now: Instant) {
        let mut table = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let idle = self.idle;
        table.retain(|_, s| now.duration_since(s.last) < idle);
    }

    pub fn sessions(&self) -> usize {
        self.sessions.lock().map(|t| t.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(r: Result<(), GateError>) -> bool {
        matches!(r, Err(GateError::Replay { .. }))
    }

    #[test]
    fn reused_and_old_numbers_are_refused_out_of_order_within_the_window_is_not() {
        let t = ReplayTable::new(Duration::from_secs(30));
        let now = Instant::now();
        assert!(t.accept("op", 7, 10, now).is_ok());
        assert!(replay(t.accept("op", 7, 10, now)), "the same number again");
        assert!(t.accept("op", 7, 12, now).is_ok());
        assert!(t.accept("op", 7, 11, now).is_ok(), "late but in the window");
        assert!(replay(t.accept("op", 7, 11, now)));
        assert!(t.accept("op", 7, 200, now).is_ok());
        assert!(replay(t.accept("op", 7, 12, now)), "below the window");
        assert!(
            t.accept("op", 8, 10, now).is_ok(),
            "another session, same identity"
        );
        assert!(t.accept("other", 7, 10, now).is_ok(), "another identity");
    }

    #[test]
    fn idle_sessions_are_forgotten() {
        let t = ReplayTable::new(Duration::from_millis(10));
        let now = Instant::now();
        t.accept("op", 1, 1, now).expect("first");
        t.forget_idle(now + Duration::from_millis(25));
        assert_eq!(t.sessions(), 0);
    }
}
