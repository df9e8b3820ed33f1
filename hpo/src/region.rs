//! The region a proposal is drawn from now: for each parameter the numeric
//! interval or the members it may take (what was learned, cut to the step
//! window around the live value and, when exploring locally, to the trust
//! region), plus the learned bounds' own check for quarantines and
//! forbidden values. Optimizers sample and perturb only inside it.

use crate::error::HpoError;
use crate::feedback::{LearnedBounds, Millis};
use crate::space::{Assignment, Kind, Parameter, Space, Value};
use crate::Rng;
use rand::Rng as _;
use rand_distr::{Distribution, Normal};
use std::collections::BTreeMap;

/// Tries to find an admissible point before giving up.
const TRIES: usize = 200;

/// Where a numeric parameter may be, in its own units (ints already rounded
/// inwards).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Interval {
    lo: f64,
    hi: f64,
}

/// The region proposals are drawn from.
#[derive(Debug, Clone)]
pub struct Region<'a> {
    space: &'a Space,
    bounds: &'a LearnedBounds,
    live: &'a Assignment,
    now: Millis,
    intervals: BTreeMap<String, Interval>,
    members: BTreeMap<String, Vec<Value>>,
}

impl<'a> Region<'a> {
    /// The region what was learned allows around `live` at time `now`.
    pub fn new(
        space: &'a Space,
        bounds: &'a LearnedBounds,
        live: &'a Assignment,
        now: Millis,
    ) -> Result<Region<'a>, HpoError> {
        let mut intervals = BTreeMap::new();
        let mut members = BTreeMap::new();
        for p in space.parameters() {
            let live_x = live.get(&p.name).and_then(Value::as_f64);
            if let Some((lo, hi)) = bounds.interval(&p.name, live_x) {
                let iv = Interval::of(&p.kind, lo, hi).ok_or_else(|| HpoError::EmptyBounds {
                    parameter: p.name.clone(),
                    reason: format!("no value in [{lo}, {hi}] around the live value"),
                })?;
                intervals.insert(p.name.clone(), iv);
            } else if let Some(v) = bounds.values(&p.name) {
                members.insert(p.name.clone(), open_members(p, v, bounds, live, now)?);
            }
        }
        Ok(Region {
            space,
            bounds,
            live,
            now,
            intervals,
            members,
        })
    }

    pub fn space(&self) -> &'a Space {
        self.space
    }

    /// Cuts numeric parameter `name` to the unit-cube window
    /// `[centre - half, centre + half]`, unless that leaves it no value.
    pub fn narrow(&mut self, name: &str, centre: f64, half: f64) {
        let (Some(p), Some(iv)) = (self.space.parameter(name), self.intervals.get(name)) else {
            return;
        };
        let lo = p.kind.from_unit(centre - half).max(iv.lo);
        let hi = p.kind.from_unit(centre + half).min(iv.hi);
        if let Some(cut) = Interval::of(&p.kind, lo, hi) {
            self.intervals.insert(name.to_string(), cut);
        }
    }

    /// Whether `a` is inside the region and what was learned admits it
    /// (a parameter left at its live value is always admitted).
    pub fn admits(&self, a: &Assignment) -> bool {
        let unchanged = |name: &String, v: &Value| self.live.get(name) == Some(v);
        let inside = a.iter().all(|(name, v)| {
            unchanged(name, v)
                || match (self.intervals.get(name), v.as_f64()) {
                    (Some(iv), Some(x)) => x >= iv.lo && x <= iv.hi,
                    (Some(_), None) => false,
                    (None, _) => self.members.get(name).is_some_and(|m| m.contains(v)),
                }
        });
        let complete = self
            .space
            .parameters()
            .iter()
            .all(|p| a.contains_key(&p.name) == self.space.is_active(&p.name, a));
        inside && complete && self.bounds.violation(a, self.live, self.now).is_none()
    }

    /// A uniformly drawn admissible assignment.
    pub fn sample(&self, rng: &mut Rng) -> Result<Assignment, HpoError> {
        self.first_admissible(|| self.draw(None, 1.0, rng))
    }

    /// An admissible assignment near `base`: numeric coordinates move by a
    /// normal step of `scale` (unit-cube units), enum and bool members
    /// change with probability `scale` (at least 0.05).
    pub fn perturb(
        &self,
        base: &Assignment,
        scale: f64,
        rng: &mut Rng,
    ) -> Result<Assignment, HpoError> {
        self.first_admissible(|| self.draw(Some(base), scale, rng))
    }

    fn first_admissible(
        &self,
        mut draw: impl FnMut() -> Assignment,
    ) -> Result<Assignment, HpoError> {
        (0..TRIES)
            .map(|_| draw())
            .find(|a| self.admits(a))
            .ok_or(HpoError::NoAdmissibleProposal { tries: TRIES })
    }

    fn draw(&self, base: Option<&Assignment>, scale: f64, rng: &mut Rng) -> Assignment {
        let mut a = Assignment::new();
        for p in self.space.parameters() {
            let old = base.and_then(|b| b.get(&p.name));
            let v = match (self.intervals.get(&p.name), old) {
                (Some(iv), Some(old)) => iv.step(&p.kind, old, scale, rng),
                (Some(iv), None) => iv.uniform(&p.kind, rng),
                (None, old) => self.member(&p.name, old, scale, rng),
            };
            if let Some(v) = v {
                a.insert(p.name.clone(), v);
            }
        }
        self.space.prune_inactive(&mut a);
        a
    }

    fn member(&self, name: &str, old: Option<&Value>, scale: f64, rng: &mut Rng) -> Option<Value> {
        let members = self.members.get(name)?;
        match old {
            Some(v) if members.contains(v) && !rng.random_bool(scale.clamp(0.05, 1.0)) => {
                Some(v.clone())
            }
            _ => members.get(rng.random_range(0..members.len())).cloned(),
        }
    }
}

/// The members of `p` not quarantined now (the live one always counts).
fn open_members(
    p: &Parameter,
    allowed: &[Value],
    bounds: &LearnedBounds,
    live: &Assignment,
    now: Millis,
) -> Result<Vec<Value>, HpoError> {
    let open: Vec<Value> = allowed
        .iter()
        .filter(|v| {
            let alone: Assignment = [(p.name.clone(), (*v).clone())].into();
            bounds.violation(&alone, live, now).is_none()
        })
        .cloned()
        .collect();
    if open.is_empty() {
        return Err(HpoError::EmptyBounds {
            parameter: p.name.clone(),
            reason: "every allowed value is quarantined now".into(),
        });
    }
    Ok(open)
}

impl Interval {
    /// The interval of `kind` values in `[lo, hi]`, if there is one.
    fn of(kind: &Kind, lo: f64, hi: f64) -> Option<Interval> {
        let (lo, hi) = match kind {
            Kind::Int { .. } => (lo.ceil(), hi.floor()),
            _ => (lo, hi),
        };
        (lo <= hi).then_some(Interval { lo, hi })
    }

    fn uniform(&self, kind: &Kind, rng: &mut Rng) -> Option<Value> {
        let (a, b) = (kind.to_unit(self.lo), kind.to_unit(self.hi));
        let u = if b > a { rng.random_range(a..=b) } else { a };
        Some(self.value(kind, kind.from_unit(u)))
    }

    fn step(&self, kind: &Kind, old: &Value, scale: f64, rng: &mut Rng) -> Option<Value> {
        let Some(x) = old.as_f64() else {
            return self.uniform(kind, rng);
        };
        let noise = Normal::new(0.0, scale.max(1e-9)).map_or(0.0, |n| n.sample(rng));
        Some(self.value(kind, kind.from_unit(kind.to_unit(x) + noise)))
    }

    /// `x` clamped into the interval, rounded for an int kind.
    fn value(&self, kind: &Kind, x: f64) -> Value {
        let x = x.clamp(self.lo, self.hi);
        match kind {
            Kind::Int { .. } => Value::Int(x.round().clamp(self.lo, self.hi) as i64),
            _ => Value::Float(x),
        }
    }
}

#[cfg(test)]
mod tests;
