//! The decision on a proposal: a pure function of the target's state, the
//! proposal, the proposer and the leader's time.
//!
//! Proposal-wide first: an active (pending) proposal on the target, a
//! cooldown after a rollback, a proposal that changes nothing, or one whose
//! own `expected_impact` would break a guardrail (judged against the last
//! observed summary; skipped while there is none) rejects every change.
//! Then per change, the first check that fails decides: unknown parameter,
//! `frozen`, kind and hard range (`allowed` = the range or the values),
//! quarantine (`allowed` = its end), maximum step (`allowed` = the step).
//! A change that passes is approved, or pending approval when it is beyond
//! the auto-approve envelope. Finally the cross-parameter rules are
//! evaluated over live values overlaid with every surviving change; a rule
//! that fails rejects the changes of every parameter it reads, until all
//! rules hold (a rule the live values already break, over parameters the
//! proposal does not change, blames nothing). A numeric parameter a rule
//! rejects gets `allowed` = the range the rule leaves it, the others held
//! at those values, where the rule can be solved for it (`rules::range`).
//!
//! If any change is pending, the whole proposal is `pending_approval` and
//! its approved changes wait with it.

use crate::allowed::Allowed;
use crate::constraints::{ParamConstraint, Violation};
use crate::machine::Target;
use crate::policy::ChangeLimits;
use crate::proposal::{Approved, Decision, ProposalSpec, Verdict};
use crate::terms::{max_change_rate, RolloutTerms};
use crate::value::ParamValue;

/// One change's fate before the rules.
enum Fate {
    Approve(ParamValue),
    Pend(ParamValue),
    Reject(Violation, Option<Allowed>),
}

fn violation(parameter: &str, constraint: String, reason: String) -> Violation {
    Violation {
        parameter: parameter.to_string(),
        constraint,
        reason,
    }
}

/// Decides `spec` for `target`.
pub fn decide(spec: &ProposalSpec, target: &Target, proposer: &str, at_ms: u64) -> Decision {
    let mut decision = Decision::new(
        &spec.proposal_id,
        &spec.target,
        at_ms,
        spec.duration_seconds,
    );
    decision.constraints_version = target.constraints_version;
    decision.proposer = proposer.to_string();
    decision.rollout = RolloutTerms::of(&target.policy.rollout);
    if let Some((constraint, reason)) = whole(spec, target, at_ms) {
        decision.rejected = spec
            .changes
            .iter()
            .map(|c| violation(&c.parameter, constraint.clone(), reason.clone()))
            .collect();
        return decision;
    }
    let mut fates: Vec<(String, Fate)> = spec
        .changes
        .iter()
        .map(|c| {
            (
                c.parameter.clone(),
                change(&c.parameter, &c.proposed_value, target, at_ms),
            )
        })
        .collect();
    rules(&mut fates, target);
    let policy = &target.policy;
    let mut large = false;
    for (parameter, fate) in fates {
        let live = target.live.get(&parameter).and_then(ParamValue::as_f64);
        let max_change_rate = max_change_rate(&policy.limits_of(&parameter), live);
        match fate {
            Fate::Approve(value) => decision.approved.push(Approved {
                parameter,
                value,
                max_change_rate,
            }),
            Fate::Pend(value) => {
                let new = value.as_f64();
                if let (Some(live), Some(new)) = (live, new) {
                    large |= live == 0.0
                        || (new - live).abs() / live.abs() > policy.approval.large_step_rel;
                }
                decision.pending.push(Approved {
                    parameter,
                    value,
                    max_change_rate,
                })
            }
            Fate::Reject(v, allowed) => {
                if let Some(a) = allowed {
                    decision.allowed.insert(parameter, a);
                }
                decision.rejected.push(v)
            }
        }
    }
    decision.verdict = if decision.pending.is_empty() {
        Verdict::of(!decision.approved.is_empty(), !decision.rejected.is_empty())
    } else {
        decision.required_approvals = if large {
            policy.approval.required_large
        } else {
            policy.approval.required
        };
        decision.expires_at_ms =
            at_ms.saturating_add(policy.approval.expiry_s.saturating_mul(1000));
        Verdict::PendingApproval
    };
    decision
}

/// A reason that rejects the whole proposal: (constraint, reason).
fn whole(spec: &ProposalSpec, target: &Target, at_ms: u64) -> Option<(String, String)> {
    if let Some(active) = target.active_proposal() {
        if active != spec.proposal_id {
            let state = if target.pending.is_some() {
                "pending approval"
            } else {
                "rolling out"
            };
            return Some((
                "active_proposal".into(),
                format!("proposal `{active}` is {state} on this target"),
            ));
        }
    }
    if at_ms < target.cooldown_until_ms {
        return Some((
            "cooldown".into(),
            format!(
                "the target is cooling down after a rollback until {} ms",
                target.cooldown_until_ms
            ),
        ));
    }
    let unchanged = spec.changes.iter().all(|c| {
        let live = target.live.get(&c.parameter);
        let kind = target
            .constraints
            .parameters
            .get(&c.parameter)
            .map(ParamConstraint::kind);
        match (live, kind) {
            (Some(live), Some(kind)) => c.proposed_value.clone().coerce(kind) == *live,
            _ => false,
        }
    });
    if unchanged {
        return Some((
            "no_op".into(),
            "the proposal changes nothing: every value is already live".into(),
        ));
    }
    let observed = target.observed.as_ref()?;
    for g in &target.policy.guardrails {
        let (Some(now), Some(delta)) =
            (observed.get(&g.metric), spec.expected_impact.get(&g.metric))
        else {
            continue;
        };
        let predicted = now + delta;
        let limit = g.limit.resolve(*now);
        if !g.direction.holds(predicted, limit) {
            return Some((
                g.name.clone(),
                format!(
                    "predicted violation: {} would be {predicted} against the limit {limit}",
                    g.metric
                ),
            ));
        }
    }
    None
}

/// One change on its own.
fn change(parameter: &str, proposed: &ParamValue, target: &Target, at_ms: u64) -> Fate {
    let Some(c) = target.constraints.parameters.get(parameter) else {
        return Fate::Reject(
            violation(
                parameter,
                "unknown_parameter".into(),
                "no such parameter in the target's constraints".into(),
            ),
            None,
        );
    };
    let limits: ChangeLimits = target.policy.limits_of(parameter);
    let live = target
        .live
        .get(parameter)
        .cloned()
        .unwrap_or_else(|| c.default_value());
    if limits.frozen {
        return Fate::Reject(
            violation(
                parameter,
                format!("frozen_{parameter}"),
                "the parameter is frozen".into(),
            ),
            Some(Allowed::Values(vec![live])),
        );
    }
    let value = match c.check(parameter, proposed.clone()) {
        Ok(v) => v,
        Err(v) => return Fate::Reject(v, Some(hard(c))),
    };
    let distance = target.policy.anti_flapping.quarantine_distance;
    for q in &target.quarantine {
        if q.parameter == parameter && q.until_ms > at_ms && near(&q.value, &value, distance) {
            return Fate::Reject(
                violation(
                    parameter,
                    format!("quarantine_{parameter}"),
                    format!(
                        "{} was rolled back; quarantined until {} ms",
                        q.value, q.until_ms
                    ),
                ),
                Some(Allowed::Quarantine {
                    until_ms: q.until_ms,
                    distance,
                }),
            );
        }
    }
    let (Some(from), Some(to)) = (live.as_f64(), value.as_f64()) else {
        return Fate::Approve(value);
    };
    let step = (to - from).abs();
    let too_far_abs = limits.max_step_abs.is_some_and(|m| step > m);
    let too_far_rel = limits.max_step_rel.is_some_and(|m| step > m * from.abs());
    if too_far_abs || too_far_rel {
        return Fate::Reject(
            violation(
                parameter,
                format!("max_step_{parameter}"),
                format!("a move of {step} from the live {live} is more than one proposal may make"),
            ),
            Some(Allowed::Step {
                max_step_abs: limits.max_step_abs,
                max_step_rel: limits.max_step_rel,
            }),
        );
    }
    match limits.auto_approve {
        Some(envelope) if step > envelope => Fate::Pend(value),
        _ => Fate::Approve(value),
    }
}

fn hard(c: &ParamConstraint) -> Allowed {
    match c {
        ParamConstraint::Int { min, max, .. } => Allowed::Range {
            min: *min as f64,
            max: *max as f64,
        },
        ParamConstraint::Float { min, max, .. } => Allowed::Range {
            min: *min,
            max: *max,
        },
        ParamConstraint::Enum { values, .. } => {
            Allowed::Values(values.iter().cloned().map(ParamValue::Enum).collect())
        }
        ParamConstraint::Bool { .. } => {
            Allowed::Values(vec![ParamValue::Bool(false), ParamValue::Bool(true)])
        }
    }
}

/// What a rule allows a numeric parameter, the others held at `values`
/// (what the proposal would have made them): a range inside its hard one.
fn rule_range(
    rule: &crate::rules::Compiled,
    parameter: &str,
    values: &std::collections::BTreeMap<String, ParamValue>,
    target: &Target,
) -> Option<Allowed> {
    let (hard, integer) = match target.constraints.parameters.get(parameter)? {
        ParamConstraint::Int { min, max, .. } => ((*min as f64, *max as f64), true),
        ParamConstraint::Float { min, max, .. } => ((*min, *max), false),
        ParamConstraint::Enum { .. } | ParamConstraint::Bool { .. } => return None,
    };
    let (min, max) = rule.range_of(parameter, values, hard, integer)?;
    Some(Allowed::Range { min, max })
}

fn near(a: &ParamValue, b: &ParamValue, distance: f64) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= distance,
        _ => a == b,
    }
}

/// Applies the cross-parameter rules to the surviving changes.
fn rules(fates: &mut [(String, Fate)], target: &Target) {
    let live = &target.live;
    // Each pass rejects at least one change or stops: bounded by the changes.
    for _ in 0..=fates.len() {
        let mut values = live.clone();
        for (p, fate) in fates.iter() {
            if let Fate::Approve(v) | Fate::Pend(v) = fate {
                values.insert(p.clone(), v.clone());
            }
        }
        let broken = target.policy.rules.iter().find(|rule| {
            let touched = fates.iter().any(|(p, f)| {
                !matches!(f, Fate::Reject(..)) && rule.compiled.parameters.contains(p)
            });
            touched && !rule.compiled.holds(&values)
        });
        let Some(rule) = broken else {
            return;
        };
        for (p, fate) in fates.iter_mut() {
            if !matches!(fate, Fate::Reject(..)) && rule.compiled.parameters.contains(p) {
                *fate = Fate::Reject(
                    violation(
                        p,
                        rule.name.clone(),
                        format!("breaks rule `{}`: {}", rule.name, rule.expr),
                    ),
                    rule_range(&rule.compiled, p, &values, target),
                );
            }
        }
    }
}

#[cfg(test)]
mod props;
#[cfg(test)]
pub(crate) mod tests;
