//! What the proposer has learned about where ArqonBus will say yes: the
//! space's hard ranges narrowed by rejections, the enum members still
//! allowed, the tightest step limits around the live value, the values
//! rejected for a hard range (never proposed again), and quarantines
//! around rolled-back values until their end time.
//!
//! Learning checks a whole rejection or rollback before it changes anything.

use super::{Millis, Rejection, Rollback};
use crate::error::HpoError;
use crate::space::{numeric_range, Assignment, Kind, Space, StepLimit, Value};
use std::collections::BTreeMap;

/// A value, or values within `distance` of it, kept out until `until_ms`.
#[derive(Debug, Clone, PartialEq)]
struct Quarantine {
    parameter: String,
    value: Value,
    distance: f64,
    until_ms: Millis,
}

/// One learned fact, checked and ready to apply.
enum Fact {
    Range(String, f64, f64),
    Values(String, Vec<Value>),
    Step(String, StepLimit),
    Forbid(String, Value),
    Quarantine(Quarantine),
}

/// The bounds learned so far, starting from the space's own.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LearnedBounds {
    ranges: BTreeMap<String, (f64, f64)>,
    values: BTreeMap<String, Vec<Value>>,
    steps: BTreeMap<String, StepLimit>,
    forbidden: BTreeMap<String, Vec<Value>>,
    quarantines: Vec<Quarantine>,
}

impl LearnedBounds {
    /// The bounds the space itself states: hard ranges, members, steps.
    pub fn from_space(space: &Space) -> LearnedBounds {
        let mut b = LearnedBounds::default();
        for p in space.parameters() {
            if let Some(r) = numeric_range(&p.kind) {
                b.ranges.insert(p.name.clone(), r);
            }
            match &p.kind {
                Kind::Enum { values } => {
                    let members = values.iter().cloned().map(Value::Enum).collect();
                    b.values.insert(p.name.clone(), members);
                }
                Kind::Bool => {
                    b.values
                        .insert(p.name.clone(), vec![Value::Bool(false), Value::Bool(true)]);
                }
                _ => {}
            }
            b.steps.insert(p.name.clone(), p.step);
        }
        b
    }

    /// The learned range of a numeric parameter.
    pub fn range(&self, parameter: &str) -> Option<(f64, f64)> {
        self.ranges.get(parameter).copied()
    }

    /// The members an enum or bool parameter may still take.
    pub fn values(&self, parameter: &str) -> Option<&[Value]> {
        self.values.get(parameter).map(Vec::as_slice)
    }

    /// The numeric interval a parameter may take now: the learned range,
    /// cut to the step window around `live` when there is one.
    pub fn interval(&self, parameter: &str, live: Option<f64>) -> Option<(f64, f64)> {
        let (mut lo, mut hi) = self.range(parameter)?;
        if let (Some(live), Some(step)) = (live, self.steps.get(parameter)) {
            let reach = [step.max_step_abs, step.max_step_rel.map(|r| r * live.abs())]
                .into_iter()
                .flatten()
                .fold(f64::INFINITY, f64::min);
            lo = lo.max(live - reach);
            hi = hi.min(live + reach);
        }
        Some((lo, hi))
    }

    /// Why ArqonBus would refuse `a` for what has been learned, if it would.
    /// A parameter left at its live value is no change and is not checked.
    pub fn violation(&self, a: &Assignment, live: &Assignment, now: Millis) -> Option<String> {
        for (name, v) in a {
            if let Some(why) = self.parameter_violation(name, v, live.get(name), now) {
                return Some(format!("`{name}` = {v}: {why}"));
            }
        }
        None
    }

    fn parameter_violation(
        &self,
        name: &str,
        v: &Value,
        live: Option<&Value>,
        now: Millis,
    ) -> Option<String> {
        if live == Some(v) {
            // Not a change: ArqonBus checks the changes a proposal makes.
            return None;
        }
        if self.forbidden.get(name).is_some_and(|f| f.contains(v)) {
            return Some("was rejected for a hard range".into());
        }
        if let Some(allowed) = self.values.get(name) {
            if !allowed.contains(v) {
                return Some(format!("not among the allowed {allowed:?}"));
            }
        }
        if let Some(x) = v.as_f64() {
            if let Some((lo, hi)) = self.interval(name, live.and_then(Value::as_f64)) {
                if x < lo || x > hi {
                    return Some(format!("outside the allowed [{lo}, {hi}]"));
                }
            }
        }
        self.quarantines
            .iter()
            .find(|q| q.parameter == name && q.until_ms > now && q.covers(v))
            .map(|q| format!("quarantined until {} ms", q.until_ms))
    }

    /// Learns from a rejection of `proposed`; all or nothing.
    pub fn learn_rejection(
        &mut self,
        space: &Space,
        proposed: &Assignment,
        rejection: &Rejection,
    ) -> Result<(), HpoError> {
        let mut facts = Vec::new();
        for r in &rejection.parameters {
            let p = space.require(&r.parameter)?;
            let value = proposed.get(&r.parameter);
            facts.extend(self.facts_from(space, &p.kind, &r.parameter, value, &r.allowed)?);
        }
        self.apply_all(facts)
    }

    /// Learns the quarantine of a rollback of `proposed` (the values it
    /// changed); all or nothing.
    pub fn learn_rollback(
        &mut self,
        space: &Space,
        proposed: &Assignment,
        rollback: &Rollback,
    ) -> Result<(), HpoError> {
        for (name, d) in &rollback.distance {
            space.require(name)?;
            if !(d.is_finite() && *d >= 0.0) {
                return Err(not_finite(format!("quarantine distance of `{name}`")));
            }
        }
        let Some(until_ms) = rollback.quarantine_until_ms else {
            return Ok(());
        };
        let facts = proposed
            .iter()
            .map(|(name, v)| {
                Fact::Quarantine(Quarantine {
                    parameter: name.clone(),
                    value: v.clone(),
                    distance: rollback.distance.get(name).copied().unwrap_or(0.0),
                    until_ms,
                })
            })
            .collect();
        self.apply_all(facts)
    }

    /// Drops quarantines that ended before `now`.
    pub fn expire(&mut self, now: Millis) {
        self.quarantines.retain(|q| q.until_ms > now);
    }

    fn apply_all(&mut self, facts: Vec<Fact>) -> Result<(), HpoError> {
        for fact in facts {
            match fact {
                Fact::Range(n, lo, hi) => {
                    self.ranges.insert(n, (lo, hi));
                }
                Fact::Values(n, v) => {
                    self.values.insert(n, v);
                }
                Fact::Step(n, s) => {
                    self.steps.insert(n, s);
                }
                Fact::Forbid(n, v) => self.forbidden.entry(n).or_default().push(v),
                Fact::Quarantine(q) => self.quarantines.push(q),
            }
        }
        Ok(())
    }
}

impl Quarantine {
    fn covers(&self, v: &Value) -> bool {
        match (v.as_f64(), self.value.as_f64()) {
            (Some(x), Some(c)) => (x - c).abs() <= self.distance,
            _ => *v == self.value,
        }
    }
}

fn not_finite(what: String) -> HpoError {
    HpoError::NotFinite { what }
}

fn empty(parameter: &str, reason: String) -> HpoError {
    HpoError::EmptyBounds {
        parameter: parameter.to_string(),
        reason,
    }
}

mod facts;
#[cfg(test)]
mod tests;
