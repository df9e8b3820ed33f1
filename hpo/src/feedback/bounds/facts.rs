//! Turning one rejected parameter's `allowed` into facts to learn, each
//! checked (finite, of the parameter's kind, leaving some value) before
//! anything is applied.

use super::{empty, not_finite, Fact, LearnedBounds, Quarantine};
use crate::error::HpoError;
use crate::feedback::{Allowed, StepAllowed};
use crate::space::{numeric_range, Kind, Space, StepLimit, Value};

impl LearnedBounds {
    pub(super) fn facts_from(
        &self,
        space: &Space,
        kind: &Kind,
        name: &str,
        value: Option<&Value>,
        allowed: &Allowed,
    ) -> Result<Vec<Fact>, HpoError> {
        let numeric = numeric_range(kind).is_some();
        let mismatch = |what: &str| HpoError::KindMismatch {
            parameter: name.to_string(),
            expected: crate::space::kind_name(kind).to_string(),
            got: format!("allowed {what}"),
        };
        match allowed {
            Allowed::Range(r) if numeric => {
                if !(r.min.is_finite() && r.max.is_finite()) {
                    return Err(not_finite(format!("allowed range of `{name}`")));
                }
                let (lo, hi) = self.range(name).unwrap_or((r.min, r.max));
                let (lo, hi) = (lo.max(r.min), hi.min(r.max));
                if lo > hi || (matches!(kind, Kind::Int { .. }) && lo.ceil() > hi.floor()) {
                    return Err(empty(
                        name,
                        format!("allowed [{}, {}] leaves no value", r.min, r.max),
                    ));
                }
                let mut facts = vec![Fact::Range(name.into(), lo, hi)];
                facts.extend(value.map(|v| Fact::Forbid(name.into(), v.clone())));
                Ok(facts)
            }
            Allowed::Values(v) if !numeric => {
                let given = v
                    .values
                    .iter()
                    .map(|m| space.coerce(name, m))
                    .collect::<Result<Vec<_>, _>>()?;
                let kept: Vec<Value> = self.values.get(name).map_or(given.clone(), |old| {
                    old.iter().filter(|m| given.contains(m)).cloned().collect()
                });
                if kept.is_empty() {
                    return Err(empty(name, "no allowed member is left".into()));
                }
                Ok(vec![Fact::Values(name.into(), kept)])
            }
            Allowed::Step(s) if numeric => {
                Ok(vec![Fact::Step(name.into(), self.tighter_step(name, s)?)])
            }
            Allowed::Quarantine(q) => {
                let value = value.ok_or_else(|| {
                    empty(
                        name,
                        "quarantine for a parameter the proposal did not set".into(),
                    )
                })?;
                if !(q.distance.is_finite() && q.distance >= 0.0) {
                    return Err(not_finite(format!("quarantine distance of `{name}`")));
                }
                Ok(vec![Fact::Quarantine(Quarantine {
                    parameter: name.into(),
                    value: value.clone(),
                    distance: q.distance,
                    until_ms: q.quarantine_until_ms,
                })])
            }
            Allowed::Range(_) => Err(mismatch("range")),
            Allowed::Values(_) => Err(mismatch("values")),
            Allowed::Step(_) => Err(mismatch("step")),
        }
    }

    fn tighter_step(&self, name: &str, s: &StepAllowed) -> Result<StepLimit, HpoError> {
        if s.max_step_abs.is_none() && s.max_step_rel.is_none() {
            return Err(empty(
                name,
                "a step limit names neither max_step_abs nor max_step_rel".into(),
            ));
        }
        let old = self.steps.get(name).copied().unwrap_or_default();
        let tighter = |old: Option<f64>, new: Option<f64>| -> Result<Option<f64>, HpoError> {
            match new {
                Some(n) if !(n.is_finite() && n >= 0.0) => {
                    Err(not_finite(format!("step limit of `{name}`")))
                }
                Some(n) => Ok(Some(old.map_or(n, |o| o.min(n)))),
                None => Ok(old),
            }
        };
        Ok(StepLimit {
            max_step_abs: tighter(old.max_step_abs, s.max_step_abs)?,
            max_step_rel: tighter(old.max_step_rel, s.max_step_rel)?,
        })
    }
}
