//! A circuit breaker: after `failure_threshold` failures in a row the
//! breaker opens and calls fail at once (no network) for `open_for`; then
//! one trial call is let through (half-open): its success closes the
//! breaker, its failure opens it again. A session's probe is that trial
//! ([`Breaker::trial`]); its other calls go out only while the breaker is
//! closed. Time is passed in, so the states are tested without a clock.

use std::time::{Duration, Instant};

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; failures are counted.
    Closed { failures: u32 },
    /// Calls fail at once until `until`.
    Open { until: Instant },
    /// One trial call is in flight; others fail at once.
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
pub struct BreakerSettings {
    pub failure_threshold: u32,
    pub open_for: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            failure_threshold: 5,
            open_for: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Breaker {
    settings: BreakerSettings,
    state: BreakerState,
}

impl Breaker {
    pub fn new(settings: BreakerSettings) -> Self {
        Breaker {
            settings,
            state: BreakerState::Closed { failures: 0 },
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    pub fn is_open(&self) -> bool {
        matches!(self.state, BreakerState::Open { .. })
    }

    /// Whether a call may go out now; moves an expired open breaker to
    /// half-open and lets exactly that one trial through.
    pub fn allow(&mut self, now: Instant) -> bool {
        match self.state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => false,
        }
    }

    /// Whether the trial may go out now: `Ok` while closed, or once
    /// `open_for` has passed (the breaker is then half-open and this call
    /// is its one trial); otherwise how long until it may.
    pub fn trial(&mut self, now: Instant) -> Result<(), Duration> {
        match self.state {
            BreakerState::Open { until } if now < until => Err(until - now),
            // A trial is in flight; the next may follow it shortly.
            BreakerState::HalfOpen => Err(self.settings.open_for),
            // Closed, or open past its time: then this is the trial.
            BreakerState::Closed { .. } | BreakerState::Open { .. } => {
                self.allow(now);
                Ok(())
            }
        }
    }

    pub fn on_success(&mut self) {
        self.state = BreakerState::Closed { failures: 0 };
    }

    pub fn on_failure(&mut self, now: Instant) {
        self.state = match self.state {
            BreakerState::Closed { failures } if failures + 1 < self.settings.failure_threshold => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            _ => BreakerState::Open {
                until: now + self.settings.open_for,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerSettings {
            failure_threshold: 3,
            open_for: Duration::from_secs(2),
        })
    }

    #[test]
    fn closed_counts_failures_and_a_success_resets_them() {
        let now = Instant::now();
        let mut b = breaker();
        b.on_failure(now);
        b.on_failure(now);
        assert_eq!(b.state(), BreakerState::Closed { failures: 2 });
        assert!(b.allow(now));
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
    }

    #[test]
    fn the_threshold_opens_it_and_open_refuses_until_the_time_is_up() {
        let now = Instant::now();
        let mut b = breaker();
        for _ in 0..3 {
            b.on_failure(now);
        }
        assert!(b.is_open());
        assert!(!b.allow(now + Duration::from_millis(1999)));
        assert!(b.is_open(), "a refused call does not change the state");
    }

    #[test]
    fn the_trial_waits_out_the_open_time_then_goes_alone() {
        let now = Instant::now();
        let mut b = breaker();
        assert_eq!(b.trial(now), Ok(()), "closed: the probe goes");
        for _ in 0..3 {
            b.on_failure(now);
        }
        let half = now + Duration::from_secs(1);
        assert_eq!(b.trial(half), Err(Duration::from_secs(1)));
        let later = now + Duration::from_secs(2);
        assert_eq!(b.trial(later), Ok(()));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.trial(later).is_err(), "one trial at a time");
        b.on_failure(later);
        assert_eq!(b.trial(later), Err(Duration::from_secs(2)));
        assert_eq!(b.trial(later + Duration::from_secs(2)), Ok(()));
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
    }

    #[test]
    fn half_open_lets_one_trial_through_and_its_outcome_decides() {
        let now = Instant::now();
        let later = now + Duration::from_secs(2);
        let mut b = breaker();
        for _ in 0..3 {
            b.on_failure(now);
        }
        assert!(b.allow(later), "the first call after open_for is the trial");
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(!b.allow(later), "only one trial at a time");
        b.on_failure(later);
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until: later + Duration::from_secs(2)
            }
        );
        let after = later + Duration::from_secs(2);
        assert!(b.allow(after));
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
    }
}
