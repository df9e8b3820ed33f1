//! Gate 2, rate limits: per identity and class of request (state changes,
//! telemetry samples counted one by one, reads), before any costly check,
//! so a flood of bad signatures is turned away cheaply. GCRA from the
//! `governor` crate; limiter state of identities not seen recently is
//! dropped ([`RateLimits::forget_idle`]).

use super::settings::SecuritySettings;
use super::GateError;
use arqonbus_proto::Request;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

/// What a request is counted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Change,
    Samples,
    Read,
}

/// One keyed limiter per class, keyed by identity name.
pub struct RateLimits {
    changes: DefaultKeyedRateLimiter<String>,
    samples: DefaultKeyedRateLimiter<String>,
    reads: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn limiter(per_second: u32) -> DefaultKeyedRateLimiter<String> {
    let n = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(n))
}

/// The class of `request` and how many units it counts.
pub fn class(request: &Request) -> (Class, u32) {
    match request {
        Request::TelemetryBatch(b) => (Class::Samples, b.samples.len() as u32),
        r if arqonbus_proto::convert::changes_state(r) => (Class::Change, 1),
        _ => (Class::Read, 1),
    }
}

impl RateLimits {
    pub fn new(s: &SecuritySettings) -> Self {
        RateLimits {
            changes: limiter(s.changes_per_second),
            samples: limiter(s.samples_per_second),
            reads: limiter(s.reads_per_second),
            clock: DefaultClock::default(),
        }
    }

    /// Takes `units` of `class` from `identity`'s allowance, or says how
    /// long to wait.
    pub fn take(&self, identity: &str, class: Class, units: u32) -> Result<(), GateError> {
        let limiter = match class {
            Class::Change => &self.changes,
            Class::Samples => &self.samples,
            Class::Read => &self.reads,
        };
        let Some(units) = NonZeroU32::new(units) else {
            return Ok(());
        };
        let key = identity.to_string();
        match limiter.check_key_n(&key, units) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(GateError::RateLimited(wait.max(Duration::from_millis(1))))
            }
            // More units than the whole burst: never allowed at once.
            Err(_) => Err(GateError::RateLimited(Duration::from_secs(1))),
        }
    }

    /// Drops the state of identities whose allowance is full again.
    pub fn forget_idle(&self) {
        for l in [&self.changes, &self.samples, &self.reads] {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Identities with limiter state (for tests and figures).
    pub fn tracked(&self) -> usize {
        self.changes.len() + self.samples.len() + self.reads.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_is_refused_with_a_wait_and_others_are_not_affected() {
        let s = SecuritySettings {
            changes_per_second: 5,
            ..SecuritySettings::default()
        };
        let r = RateLimits::new(&s);
        for _ in 0..5 {
            r.take("flooder", Class::Change, 1)
                .expect("within the burst");
        }
        match r.take("flooder", Class::Change, 1) {
            Err(GateError::RateLimited(wait)) => assert!(wait <= Duration::from_millis(200)),
            other => panic!("expected rate_limited, got {other:?}"),
        }
        r.take("polite", Class::Change, 1)
            .expect("another identity");
        r.take("flooder", Class::Read, 1).expect("another class");
        assert!(matches!(
            r.take("flooder", Class::Samples, 2_000_000),
            Err(GateError::RateLimited(_))
        ));
    }
}
