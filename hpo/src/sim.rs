//! A simulated enforcer: ArqonBus's decisions without a cluster, for tests
//! and demos. It has constraints the proposer does not know (hard ranges,
//! enum members, a step limit from the live value) and answers each
//! proposal as the constraint engine would: a rejection listing, per
//! parameter, the constraint and what is `allowed`. A rollout whose
//! outcome is worse than a breach threshold is rolled back and its values
//! quarantined for a while.

use crate::feedback::{
    Allowed, Millis, ParameterRejection, ProposalId, QuarantineAllowed, RangeAllowed, Rejection,
    Rollback, StepAllowed, ValuesAllowed,
};
use crate::space::{Assignment, Value};
use std::collections::BTreeMap;

/// A value quarantined after a rollback.
#[derive(Debug, Clone, PartialEq)]
struct Quarantined {
    parameter: String,
    value: Value,
    until_ms: Millis,
}

/// The enforcer's hidden constraints and state.
#[derive(Debug, Clone, Default)]
pub struct Enforcer {
    pub ranges: BTreeMap<String, (f64, f64)>,
    pub members: BTreeMap<String, Vec<Value>>,
    pub max_step_abs: BTreeMap<String, f64>,
    /// Outcomes above this (values to minimise) are rolled back.
    pub breach_above: Option<f64>,
    pub quarantine_ms: Millis,
    pub live: Assignment,
    quarantined: Vec<Quarantined>,
}

impl Enforcer {
    /// Checks a proposal: `None` approves it, `Some` is the rejection.
    pub fn review(&self, proposal: ProposalId, a: &Assignment, now: Millis) -> Option<Rejection> {
        let parameters: Vec<ParameterRejection> = a
            .iter()
            .filter_map(|(name, v)| self.check(name, v, now))
            .collect();
        (!parameters.is_empty()).then_some(Rejection {
            proposal,
            parameters,
        })
    }

    /// Rolls an approved proposal out with outcome `value`: `None` keeps it
    /// (it becomes live), `Some` rolls it back.
    pub fn roll_out(
        &mut self,
        proposal: ProposalId,
        a: &Assignment,
        value: f64,
        now: Millis,
    ) -> Option<Rollback> {
        if self.breach_above.is_some_and(|limit| value > limit) {
            let until_ms = now + self.quarantine_ms;
            self.quarantined
                .extend(a.iter().map(|(name, v)| Quarantined {
                    parameter: name.clone(),
                    value: v.clone(),
                    until_ms,
                }));
            return Some(Rollback {
                proposal,
                observed: Some(value),
                restored: Some(self.live.clone()),
                quarantine_until_ms: Some(until_ms),
                distance: BTreeMap::new(),
            });
        }
        self.live.extend(a.clone());
        None
    }

    fn check(&self, name: &str, v: &Value, now: Millis) -> Option<ParameterRejection> {
        let reject = |constraint: &str, allowed: Allowed| ParameterRejection {
            parameter: name.to_string(),
            constraint_violated: Some(format!("{constraint}_{name}")),
            allowed,
        };
        if let (Some(&(min, max)), Some(x)) = (self.ranges.get(name), v.as_f64()) {
            if x < min || x > max {
                return Some(reject("range", Allowed::Range(RangeAllowed { min, max })));
            }
        }
        if let Some(members) = self.members.get(name) {
            if !members.contains(v) {
                let values = members.clone();
                return Some(reject("values", Allowed::Values(ValuesAllowed { values })));
            }
        }
        let live = self.live.get(name).and_then(Value::as_f64);
        if let (Some(&step), Some(x), Some(live)) = (self.max_step_abs.get(name), v.as_f64(), live)
        {
            if (x - live).abs() > step {
                let allowed = StepAllowed {
                    max_step_abs: Some(step),
                    max_step_rel: None,
                };
                return Some(reject("max_step", Allowed::Step(allowed)));
            }
        }
        self.quarantined
            .iter()
            .find(|q| q.parameter == name && &q.value == v && q.until_ms > now)
            .map(|q| {
                let allowed = QuarantineAllowed {
                    quarantine_until_ms: q.until_ms,
                    distance: 0.0,
                };
                reject("quarantine", Allowed::Quarantine(allowed))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_with_the_allowed_bounds_and_rolls_back_breaches() {
        let mut e = Enforcer {
            breach_above: Some(10.0),
            quarantine_ms: 100,
            ..Enforcer::default()
        };
        e.ranges.insert("n".into(), (0.0, 8.0));
        e.max_step_abs.insert("n".into(), 2.0);
        e.live.insert("n".into(), Value::Int(4));
        let mut a = Assignment::new();
        a.insert("n".into(), Value::Int(9));
        let r = e.review(1, &a, 0).expect("out of range");
        assert_eq!(
            r.parameters[0].allowed,
            Allowed::Range(RangeAllowed { min: 0.0, max: 8.0 })
        );
        a.insert("n".into(), Value::Int(7));
        let r = e.review(2, &a, 0).expect("too big a step");
        assert!(matches!(r.parameters[0].allowed, Allowed::Step(_)));
        a.insert("n".into(), Value::Int(5));
        assert!(e.review(3, &a, 0).is_none());
        assert!(e.roll_out(3, &a, 11.0, 0).is_some());
        assert!(e.review(4, &a, 50).is_some(), "quarantined");
        assert!(e.review(5, &a, 150).is_none(), "quarantine over");
    }
}
