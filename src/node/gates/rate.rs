//! Gate 2, rate limits: per identity and class of request (state changes,
//! telemetry samples counted one by one, reads), and per role where a
//! role-wide budget is configured (every identity of the role together),
//! before any costly check, so a flood of bad signatures is turned away
//! cheaply. GCRA from the `governor` crate; limiter state of identities
//! not seen recently is dropped ([`RateLimits::forget_idle`]).

use super::settings::SecuritySettings;
use super::GateError;
use arqonbus_core::Role;
use arqonbus_proto::Request;
use governor::clock::{Clock, DefaultClock};
use governor::{
    DefaultDirectRateLimiter, DefaultKeyedRateLimiter, InsufficientCapacity, NotUntil, Quota,
    RateLimiter,
};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

/// What a request is counted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Change,
    Samples,
    Read,
}

type Instant = <DefaultClock as Clock>::Instant;

/// One keyed limiter per class, keyed by identity name, and the role-wide
/// budgets that are configured.
pub struct RateLimits {
    changes: DefaultKeyedRateLimiter<String>,
    samples: DefaultKeyedRateLimiter<String>,
    reads: DefaultKeyedRateLimiter<String>,
    /// One budget per (role, class) configured, shared by the role's
    /// identities.
    roles: HashMap<(Role, Class), DefaultDirectRateLimiter>,
    clock: DefaultClock,
}

fn quota(per_second: u32) -> Quota {
    Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
}

fn limiter(per_second: u32) -> DefaultKeyedRateLimiter<String> {
    RateLimiter::keyed(quota(per_second))
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
        let mut roles = HashMap::new();
        for (name, q) in &s.roles {
            // An unknown role name is refused when the settings are checked.
            let Ok(role) = name.parse::<Role>() else {
                continue;
            };
            let budgets = [
                (Class::Change, q.changes_per_second),
                (Class::Samples, q.samples_per_second),
                (Class::Read, q.reads_per_second),
            ];
            for (class, per_second) in budgets {
                if let Some(n) = per_second {
                    roles.insert((role, class), RateLimiter::direct(quota(n)));
                }
            }
        }
        RateLimits {
            changes: limiter(s.changes_per_second),
            samples: limiter(s.samples_per_second),
            reads: limiter(s.reads_per_second),
            roles,
            clock: DefaultClock::default(),
        }
    }

    /// Takes `units` of `class` from `identity`'s allowance, then from its
    /// role's budget if it has one, or says how long to wait.
    pub fn take(
        &self,
        identity: &str,
        role: Role,
        class: Class,
        units: u32,
    ) -> Result<(), GateError> {
        let limiter = match class {
            Class::Change => &self.changes,
            Class::Samples => &self.samples,
            Class::Read => &self.reads,
        };
        let Some(units) = NonZeroU32::new(units) else {
            return Ok(());
        };
        let key = identity.to_string();
        self.verdict(limiter.check_key_n(&key, units))?;
        match self.roles.get(&(role, class)) {
            Some(budget) => self.verdict(budget.check_n(units)),
            None => Ok(()),
        }
    }

    fn verdict(
        &self,
        outcome: Result<Result<(), NotUntil<Instant>>, InsufficientCapacity>,
    ) -> Result<(), GateError> {
        match outcome {
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
    use crate::node::gates::settings::RoleQuota;

    #[test]
    fn over_the_limit_is_refused_with_a_wait_and_others_are_not_affected() {
        let s = SecuritySettings {
            changes_per_second: 5,
            ..SecuritySettings::default()
        };
        let r = RateLimits::new(&s);
        let p = Role::Proposer;
        for _ in 0..5 {
            r.take("flooder", p, Class::Change, 1)
                .expect("within the burst");
        }
        match r.take("flooder", p, Class::Change, 1) {
            Err(GateError::RateLimited(wait)) => assert!(wait <= Duration::from_millis(200)),
            other => panic!("expected rate_limited, got {other:?}"),
        }
        r.take("polite", p, Class::Change, 1)
            .expect("another identity");
        r.take("flooder", p, Class::Read, 1).expect("another class");
        assert!(matches!(
            r.take("flooder", p, Class::Samples, 2_000_000),
            Err(GateError::RateLimited(_))
        ));
    }

    #[test]
    fn a_roles_budget_is_shared_by_its_identities_and_leaves_other_roles_alone() {
        let s = SecuritySettings {
            roles: [(
                "proposer".to_string(),
                RoleQuota {
                    changes_per_second: Some(5),
                    ..RoleQuota::default()
                },
            )]
            .into(),
            ..SecuritySettings::default()
        };
        let r = RateLimits::new(&s);
        for n in 0..5 {
            r.take(&format!("hpo-{n}"), Role::Proposer, Class::Change, 1)
                .expect("within the role's budget");
        }
        match r.take("hpo-9", Role::Proposer, Class::Change, 1) {
            Err(GateError::RateLimited(wait)) => assert!(wait <= Duration::from_millis(200)),
            other => panic!("a sixth proposer, within its own allowance: {other:?}"),
        }
        r.take("hpo-9", Role::Proposer, Class::Read, 1)
            .expect("no role budget for reads");
        r.take("op", Role::Operator, Class::Change, 1)
            .expect("another role");
    }
}
