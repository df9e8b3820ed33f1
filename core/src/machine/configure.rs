//! `apply` for operator configuration: constraint versions (with their
//! history) and parameter overrides, each guarded.
//!
//! A constraints change is refused while a proposal is pending (it counts
//! as the target's active rollout) and when the live values would break
//! the new constraints or rules; `force` overrides both, closes the pending
//! proposal as rejected, and is audited `constraints_forced`. A change
//! never applies to a rollout in flight: it is refused or forced.
//!
//! An override is checked against kind, range, `frozen` and the rules, but
//! not steps, the envelope, quarantine or cooldown: it is the operator's.
//! While a proposal is pending it is refused unless `force`, which closes
//! that proposal (audited `params_forced`).
//!
//! The format-1 commands (`SetConstraints`, `SetParameters`: `operate`
//! on the wire) take exactly these paths without `force`, so no sender
//! skips a guard by choosing the older command. A format-1 constraint set
//! carries no policy, so it keeps the target's: limits of parameters it
//! drops go, and every rule must still check against it (otherwise the
//! whole set is refused, never a rule silently dropped).

use super::{State, Target, Versioned, VERSIONS_KEPT};
use crate::command::{CommandError, CommandResult, Outcome};
use crate::constraints::{check_name, ConstraintSet, Violation};
use crate::policy::Policy;
use crate::proposal::{Closure, Verdict};
use crate::value::ParamValue;
use std::collections::BTreeMap;

impl State {
    pub(super) fn configure(
        &mut self,
        name: &str,
        constraints: &ConstraintSet,
        policy: &Policy,
        force: bool,
        at_ms: u64,
    ) -> CommandResult {
        check_name(name).map_err(|_| CommandError::InvalidTarget(name.to_string()))?;
        let mut problems = constraints.problems();
        problems.extend(policy_problems(constraints, policy));
        if !problems.is_empty() {
            return Err(CommandError::InvalidConstraints(problems));
        }
        let existing = self.targets.get(name);
        let pending = existing.and_then(|t| t.pending.clone());
        let rolling = existing.and_then(|t| t.rollout.as_ref().map(|r| r.proposal_id.clone()));
        let mut live = existing.map(|t| t.live.clone()).unwrap_or_default();
        live.retain(|k, _| constraints.parameters.contains_key(k));
        for (k, v) in constraints.defaults() {
            live.entry(k).or_insert(v);
        }
        let mut out_of_bounds: Vec<String> = live
            .iter()
            .filter(|(k, v)| {
                constraints.parameters[k.as_str()]
                    .check(k, (*v).clone())
                    .is_err()
            })
            .map(|(k, _)| k.clone())
            .collect();
        let broken = policy.rules.iter().filter(|r| !r.compiled.holds(&live));
        out_of_bounds.extend(broken.map(|r| format!("rule {}", r.name)));
        let mut forced = false;
        if let Some(id) = pending.as_ref().or(rolling.as_ref()) {
            if !force {
                return Err(CommandError::ActiveProposal {
                    proposal_id: id.clone(),
                });
            }
            forced = true;
        }
        if !out_of_bounds.is_empty() && existing.is_some() {
            if !force {
                return Err(CommandError::LiveOutOfBounds(out_of_bounds));
            }
            forced = true;
        }
        if let Some(id) = &pending {
            self.close_pending(
                id,
                "constraints_forced",
                "",
                "aborted by a constraints change",
                at_ms,
            );
        }
        if rolling.is_some() {
            self.roll_back(name, &aborted("a constraints change"), at_ms)?;
        }
        let target = self.targets.entry(name.to_string()).or_default();
        let defaults = constraints.defaults();
        for values in [&mut target.live, &mut target.last_known_good] {
            values.retain(|k, _| constraints.parameters.contains_key(k));
            for (k, v) in &defaults {
                values.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        target.constraints = constraints.clone();
        target.policy = policy.clone();
        target.constraints_version += 1;
        target.history.insert(
            target.constraints_version,
            Versioned {
                constraints: constraints.clone(),
                policy: policy.clone(),
            },
        );
        while target.history.len() > VERSIONS_KEPT {
            target.history.pop_first();
        }
        Ok(Outcome::ConstraintsSet {
            target: name.to_string(),
            version: target.constraints_version,
            out_of_bounds,
            forced,
        })
    }

    /// A format-1 constraint set (hard constraints only): the guarded
    /// `configure` without `force`, keeping the target's policy (a new
    /// target gets the default one, as a format-1 file does).
    pub(super) fn configure_hard(
        &mut self,
        name: &str,
        constraints: &ConstraintSet,
        at_ms: u64,
    ) -> CommandResult {
        let policy = match self.targets.get(name) {
            Some(target) => kept_policy(&target.policy, constraints),
            None => Ok(Policy::legacy()),
        };
        match policy {
            Ok(policy) => self.configure(name, constraints, &policy, false, at_ms),
            // Every problem at once: the set's own, then the kept rules'.
            Err(rules) => {
                let mut problems = constraints.problems();
                problems.extend(rules);
                Err(CommandError::InvalidConstraints(problems))
            }
        }
    }

    pub(super) fn set_parameters(
        &mut self,
        name: &str,
        values: &BTreeMap<String, ParamValue>,
        expected: Option<&BTreeMap<String, ParamValue>>,
        force: bool,
        at_ms: u64,
    ) -> CommandResult {
        let target = self
            .targets
            .get(name)
            .ok_or_else(|| CommandError::UnknownTarget(name.to_string()))?;
        let differing: Vec<Violation> = expected
            .into_iter()
            .flatten()
            .filter(|(k, want)| target.live.get(*k) != Some(*want))
            .map(|(k, want)| Violation {
                parameter: k.clone(),
                constraint: format!("expected_{k}"),
                reason: format!(
                    "live value is {}, not {want}",
                    target
                        .live
                        .get(k)
                        .map_or("unset".to_string(), ToString::to_string)
                ),
            })
            .collect();
        if !differing.is_empty() {
            return Err(CommandError::Refused(differing));
        }
        let checked = target
            .constraints
            .check_all(values)
            .map_err(CommandError::Refused)?;
        let mut forced = false;
        guard_override(target, &checked)?;
        let rolling = target.rollout.is_some();
        if let Some(id) = target.active_proposal().map(str::to_string) {
            if !force {
                return Err(CommandError::ActiveProposal { proposal_id: id });
            }
            forced = true;
        }
        if let Some(id) = target.pending.clone() {
            self.close_pending(
                &id,
                "params_forced",
                "",
                "aborted by a forced override",
                at_ms,
            );
        }
        if rolling {
            self.roll_back(name, &aborted("a forced override"), at_ms)?;
        }
        let Some(target) = self.targets.get_mut(name) else {
            return Err(CommandError::UnknownTarget(name.to_string()));
        };
        // What agents serve changes: a new assignment.
        target.epoch += 1;
        for (k, v) in &checked {
            target.live.insert(k.clone(), v.clone());
            target.last_known_good.insert(k.clone(), v.clone());
        }
        Ok(Outcome::ParametersSet {
            target: name.to_string(),
            values: checked,
            forced,
        })
    }

    /// Closes the pending proposal `id` as rejected (or expired), records
    /// its new decision, and pushes it on the target's stream.
    pub(super) fn close_pending(
        &mut self,
        id: &str,
        action: &str,
        identity: &str,
        reason: &str,
        at_ms: u64,
    ) -> Option<crate::proposal::Decision> {
        let mut decision = self.decided.get(id)?.decision.clone();
        let target = self.targets.get_mut(&decision.target)?;
        if target.pending.as_deref() == Some(id) {
            target.pending = None;
        }
        decision.verdict = if action == "expire" {
            Verdict::Expired
        } else {
            Verdict::Rejected
        };
        let constraint = match action {
            "reject" => "operator_rejected",
            "expire" => "expired",
            _ => "aborted",
        };
        for change in decision
            .approved
            .drain(..)
            .chain(decision.pending.drain(..))
        {
            decision.rejected.push(Violation {
                parameter: change.parameter,
                constraint: constraint.to_string(),
                reason: reason.to_string(),
            });
        }
        decision.closure = Some(Closure {
            action: action.to_string(),
            identity: identity.to_string(),
            reason: reason.to_string(),
            at_ms,
        });
        decision.event_seq = target.events.next_seq();
        target
            .events
            .push(crate::events::EventBody::Decided(decision.clone()));
        self.decided.update(id, decision.clone());
        Some(decision)
    }
}

/// What an override must still respect: `frozen` and the rules.
fn guard_override(
    target: &Target,
    checked: &BTreeMap<String, ParamValue>,
) -> Result<(), CommandError> {
    let mut bad = Vec::new();
    for k in checked.keys() {
        if target.policy.limits_of(k).frozen {
            bad.push(Violation {
                parameter: k.clone(),
                constraint: format!("frozen_{k}"),
                reason: "the parameter is frozen".into(),
            });
        }
    }
    let mut values = target.live.clone();
    values.extend(checked.iter().map(|(k, v)| (k.clone(), v.clone())));
    for rule in &target.policy.rules {
        if !rule.compiled.holds(&values) {
            for p in rule
                .compiled
                .parameters
                .iter()
                .filter(|p| checked.contains_key(*p))
            {
                bad.push(Violation {
                    parameter: p.clone(),
                    constraint: rule.name.clone(),
                    reason: format!("breaks rule `{}`: {}", rule.name, rule.expr),
                });
            }
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Refused(bad))
    }
}

/// The target's policy under new hard constraints: the limits of the
/// parameters still there, and every rule checked again against them.
fn kept_policy(
    policy: &Policy,
    constraints: &ConstraintSet,
) -> Result<Policy, Vec<crate::constraints::Problem>> {
    let mut kept = policy.clone();
    kept.limits
        .retain(|k, _| constraints.parameters.contains_key(k));
    let mut problems = Vec::new();
    for rule in &mut kept.rules {
        match crate::rules::Compiled::compile(&rule.expr, constraints) {
            Ok(compiled) => rule.compiled = compiled,
            Err(m) => problems.push(crate::constraints::Problem {
                parameter: None,
                message: format!(
                    "rule `{}` of the target's policy does not check against these constraints: {m}",
                    rule.name
                ),
                at: None,
            }),
        }
    }
    if problems.is_empty() {
        Ok(kept)
    } else {
        Err(problems)
    }
}

/// What `apply` checks again of a policy from a command: its limits name
/// parameters, and each rule compiles to what it carries.
fn policy_problems(
    constraints: &ConstraintSet,
    policy: &Policy,
) -> Vec<crate::constraints::Problem> {
    let mut out = Vec::new();
    let mut problem = |message: String| {
        out.push(crate::constraints::Problem {
            parameter: None,
            message,
            at: None,
        })
    };
    for k in policy.limits.keys() {
        if !constraints.parameters.contains_key(k) {
            problem(format!("limits for unknown parameter `{k}`"));
        }
    }
    for rule in &policy.rules {
        match crate::rules::Compiled::compile(&rule.expr, constraints) {
            Ok(c) if c == rule.compiled => {}
            Ok(_) => problem(format!("rule `{}` does not match its text", rule.name)),
            Err(m) => problem(format!("rule `{}` does not check: {m}", rule.name)),
        }
    }
    if policy.rules.len() > crate::rules::MAX_RULES {
        problem(format!("more than {} rules", crate::rules::MAX_RULES));
    }
    out
}

/// The cause of a rollout that a forced change replaced.
fn aborted(by: &str) -> crate::rollout::progress::RollbackCause {
    crate::rollout::progress::RollbackCause {
        reason: crate::rollout::progress::RollbackReason::Aborted,
        triggered_constraint: None,
        triggered_value: None,
        allowed_value: None,
        detail: format!("aborted by {by}"),
    }
}
