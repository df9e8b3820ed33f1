//! `apply` for rollouts: an approved proposal starts one (or, under a plan
//! with no phase, becomes live at once); the leader's commands move it
//! phase by phase to steady or roll it back; an operator pauses, resumes,
//! promotes or rolls it back.
//!
//! What the leader knows and `apply` cannot (samples, breaches, the
//! verdict) arrives as fields of its commands; what `apply` can check it
//! does: the rollout is the one named and in the phase named (so a stale
//! or repeated command, or a second leader's rollback of the same breach,
//! changes nothing), and the phase's minimum time is over by the
//! command's own time. `live` stays last-known-good until steady.

use super::{State, Target, VerdictRecord, RECENT_KEPT};
use crate::command::{Actor, CommandError, CommandResult, Outcome, SteerAction};
use crate::events::{EventBody, Progress};
use crate::proposal::Approved;
use crate::rollout::progress::{
    immediate, Finished, RollbackCause, RollbackReason, RollbackRecord, Rollout, STEADY,
};
use crate::rollout::verdict::{Class, Verdict};
use std::collections::BTreeMap;

impl State {
    /// Starts the rollout of an approved proposal's changes; under a plan
    /// with no phase they become live at once. Returns how it ended when
    /// it ended at once. The caller pushes the decision's event, then
    /// [`State::announce_rollout`].
    pub(super) fn start_rollout(
        target: &mut Target,
        proposal_id: &str,
        approved: &[Approved],
        at_ms: u64,
    ) -> Option<Box<Finished>> {
        if approved.is_empty() {
            return None;
        }
        let mut candidate = target.last_known_good.clone();
        for a in approved {
            candidate.insert(a.parameter.clone(), a.value.clone());
        }
        target.epoch += 1;
        if immediate(&target.policy.rollout) {
            target.live = candidate.clone();
            target.last_known_good = candidate;
            return Some(Box::new(Finished::Steady {
                at_ms,
                verdict: None,
            }));
        }
        let rollout = Rollout::start(proposal_id, candidate, &target.policy.rollout, at_ms);
        target.rollout = Some(rollout);
        None
    }

    /// Pushes the progress event of a rollout that just started.
    pub(super) fn announce_rollout(target: &mut Target, proposal_id: &str, at_ms: u64) {
        let event = target
            .rollout
            .as_ref()
            .filter(|r| r.proposal_id == proposal_id)
            .map(|r| progress(r, at_ms, false));
        if let Some(event) = event {
            target.events.push(EventBody::Progress(event));
        }
    }

    pub(super) fn advance(
        &mut self,
        name: &str,
        proposal_id: &str,
        from_phase: u32,
        verdict: Option<&Verdict>,
        at_ms: u64,
    ) -> CommandResult {
        let target = self.target_mut(name)?;
        let rollout = rollout_of(target, name, proposal_id)?;
        if rollout.phase != from_phase {
            return Err(CommandError::StalePhase {
                proposal_id: proposal_id.to_string(),
                phase: rollout.phase,
                from_phase,
            });
        }
        if rollout.paused {
            return Err(CommandError::RolloutPaused(proposal_id.to_string()));
        }
        if rollout.awaiting_operator {
            return Err(CommandError::AwaitingOperator(proposal_id.to_string()));
        }
        if at_ms < rollout.phase_due_ms() {
            return Err(CommandError::PhaseNotDue {
                due_ms: rollout.phase_due_ms(),
            });
        }
        if !rollout.in_last_phase() {
            return Ok(self.next_phase(name, at_ms));
        }
        let class = verdict.map_or(Class::Pass, |v| v.class);
        let plan = &rollout.plan;
        let held = match class {
            Class::Fail => {
                let verdict = verdict.cloned();
                if let Some(v) = &verdict {
                    self.record_verdict(name, proposal_id, v, at_ms);
                }
                let cause = RollbackCause {
                    reason: RollbackReason::Regression,
                    triggered_constraint: Some("verdict".into()),
                    triggered_value: None,
                    allowed_value: None,
                    detail: verdict.map(|v| v.reason).unwrap_or_default(),
                };
                return self.roll_back(name, &cause, at_ms);
            }
            Class::Marginal => plan.marginal_needs_operator,
            Class::Inconclusive => plan.inconclusive_needs_operator,
            Class::Pass => false,
        };
        if let Some(v) = verdict {
            self.record_verdict(name, proposal_id, v, at_ms);
        }
        if held {
            let target = self.target_mut(name)?;
            if let Some(r) = target.rollout.as_mut() {
                r.awaiting_operator = true;
                let event = progress(r, at_ms, false);
                target.events.push(EventBody::Progress(event));
            }
            return Ok(moved(self.target_mut(name)?, name, proposal_id));
        }
        Ok(self.steady(name, at_ms, verdict.cloned()))
    }

    pub(super) fn steer(&mut self, name: &str, action: SteerAction, at_ms: u64) -> CommandResult {
        let target = self.target_mut(name)?;
        let Some(rollout) = target.rollout.as_mut() else {
            return Err(CommandError::NothingToRollBack(name.to_string()));
        };
        let id = rollout.proposal_id.clone();
        match action {
            SteerAction::Pause => rollout.paused = true,
            SteerAction::Resume => {
                if rollout.paused {
                    rollout.paused = false;
                    rollout.phase_started_ms = at_ms;
                }
            }
            SteerAction::Promote { full } => {
                rollout.paused = false;
                if full || rollout.in_last_phase() {
                    return Ok(self.steady(name, at_ms, None));
                }
                return Ok(self.next_phase(name, at_ms));
            }
        }
        let event = progress(rollout, at_ms, false);
        target.events.push(EventBody::Progress(event));
        Ok(moved(target, name, &id))
    }

    pub(super) fn abort_rollout(
        &mut self,
        name: &str,
        proposal_id: &str,
        cause: &RollbackCause,
        at_ms: u64,
    ) -> CommandResult {
        rollout_of(self.target_mut(name)?, name, proposal_id)?;
        self.roll_back(name, cause, at_ms)
    }

    pub(super) fn rollback_by_operator(
        &mut self,
        name: &str,
        reason: &str,
        actor: &Actor,
        at_ms: u64,
    ) -> CommandResult {
        let cause = RollbackCause {
            reason: RollbackReason::Operator,
            triggered_constraint: None,
            triggered_value: None,
            allowed_value: None,
            detail: format!("{}: {reason}", actor.identity),
        };
        self.roll_back(name, &cause, at_ms)
    }

    pub(super) fn observe(
        &mut self,
        name: &str,
        proposal_id: &str,
        observed: &BTreeMap<String, f64>,
        impact: &BTreeMap<String, f64>,
        new_violations: u32,
        at_ms: u64,
    ) -> CommandResult {
        if observed
            .values()
            .chain(impact.values())
            .any(|v| !v.is_finite())
        {
            return Err(CommandError::InvalidProposal(
                "an observed summary holds a value that is not a finite number".into(),
            ));
        }
        let target = self.target_mut(name)?;
        rollout_of(target, name, proposal_id)?;
        target.observed = Some(observed.clone());
        if let Some(r) = target.rollout.as_mut() {
            r.observed_impact = impact.clone();
            r.violations = r.violations.saturating_add(new_violations);
            let event = progress(r, at_ms, false);
            target.events.push(EventBody::Progress(event));
        }
        Ok(moved(target, name, proposal_id))
    }

    /// Rolls the target's rollout back: the candidate's changes are
    /// quarantined, the target cools down, agents go back to
    /// last-known-good, and the rollback is recorded and pushed.
    pub(super) fn roll_back(
        &mut self,
        name: &str,
        cause: &RollbackCause,
        at_ms: u64,
    ) -> CommandResult {
        let target = self.target_mut(name)?;
        let rollout = target
            .rollout
            .take()
            .ok_or_else(|| CommandError::NothingToRollBack(name.to_string()))?;
        let changed: BTreeMap<_, _> = rollout
            .candidate
            .iter()
            .filter(|(k, v)| target.last_known_good.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // A forced change replaced it: nothing failed, nothing to hold back.
        let until_ms = if cause.reason == RollbackReason::Aborted {
            at_ms
        } else {
            target.quarantine_values(&changed, at_ms)
        };
        target.live = target.last_known_good.clone();
        target.epoch += 1;
        let record = RollbackRecord {
            proposal_id: rollout.proposal_id.clone(),
            cause: cause.clone(),
            at_ms,
            epoch: target.epoch,
            restored: target.last_known_good.clone(),
        };
        push_bounded(&mut target.recent_rollbacks, record.clone());
        target.events.push(EventBody::RolledBack(record.clone()));
        self.finish(&rollout.proposal_id, Finished::RolledBack(record));
        Ok(Outcome::RolledBack {
            target: name.to_string(),
            proposal_id: rollout.proposal_id,
            quarantined: changed,
            quarantine_until_ms: until_ms,
            cause: format!(
                "{}{}",
                cause.reason.name(),
                cause
                    .triggered_constraint
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            ),
        })
    }

    fn next_phase(&mut self, name: &str, at_ms: u64) -> Outcome {
        let Some(target) = self.targets.get_mut(name) else {
            return Outcome::Recorded;
        };
        let Some(r) = target.rollout.as_mut() else {
            return Outcome::Recorded;
        };
        r.phase += 1;
        r.phase_started_ms = at_ms;
        let (id, event) = (r.proposal_id.clone(), progress(r, at_ms, false));
        target.epoch += 1;
        target.events.push(EventBody::Progress(event));
        moved(target, name, &id)
    }

    /// The candidate becomes live and last-known-good.
    fn steady(&mut self, name: &str, at_ms: u64, verdict: Option<Verdict>) -> Outcome {
        let Some(target) = self.targets.get_mut(name) else {
            return Outcome::Recorded;
        };
        let Some(mut r) = target.rollout.take() else {
            return Outcome::Recorded;
        };
        target.live = r.candidate.clone();
        target.last_known_good = r.candidate.clone();
        target.epoch += 1;
        r.phase = r.plan.phases.len() as u32;
        target
            .events
            .push(EventBody::Progress(progress(&r, at_ms, true)));
        let epoch = target.epoch;
        self.finish(&r.proposal_id, Finished::Steady { at_ms, verdict });
        Outcome::RolloutMoved {
            target: name.to_string(),
            proposal_id: r.proposal_id,
            epoch,
            phase: STEADY.to_string(),
        }
    }

    fn record_verdict(&mut self, name: &str, proposal_id: &str, verdict: &Verdict, at_ms: u64) {
        if let Some(target) = self.targets.get_mut(name) {
            let record = VerdictRecord {
                proposal_id: proposal_id.to_string(),
                at_ms,
                verdict: verdict.clone(),
            };
            push_bounded(&mut target.recent_verdicts, record);
        }
    }

    /// Records how a rollout ended on its decision.
    fn finish(&mut self, proposal_id: &str, finished: Finished) {
        if let Some(known) = self.decided.get(proposal_id) {
            let mut decision = known.decision.clone();
            decision.finished = Some(Box::new(finished));
            self.decided.update(proposal_id, decision);
        }
    }

    fn target_mut(&mut self, name: &str) -> Result<&mut Target, CommandError> {
        self.targets
            .get_mut(name)
            .ok_or_else(|| CommandError::UnknownTarget(name.to_string()))
    }
}

impl Target {
    /// Quarantines `values` and starts the cooldown; returns when the
    /// quarantine ends.
    pub(super) fn quarantine_values(
        &mut self,
        values: &BTreeMap<String, crate::value::ParamValue>,
        at_ms: u64,
    ) -> u64 {
        let af = &self.policy.anti_flapping;
        let until_ms = at_ms.saturating_add(af.quarantine_s.saturating_mul(1000));
        self.cooldown_until_ms = at_ms.saturating_add(af.cooldown_s.saturating_mul(1000));
        self.quarantine.retain(|q| q.until_ms > at_ms);
        for (parameter, value) in values {
            self.quarantine.push(super::Quarantined {
                parameter: parameter.clone(),
                value: value.clone(),
                until_ms,
            });
        }
        // Bounded: at most one entry per parameter and rollback in flight.
        while self.quarantine.len() > 4 * crate::constraints::MAX_PARAMETERS {
            self.quarantine.remove(0);
        }
        until_ms
    }
}

/// The target's rollout if it is `proposal_id`'s.
fn rollout_of<'a>(
    target: &'a Target,
    name: &str,
    proposal_id: &str,
) -> Result<&'a Rollout, CommandError> {
    target
        .rollout
        .as_ref()
        .filter(|r| r.proposal_id == proposal_id)
        .ok_or_else(|| CommandError::NothingToRollBack(name.to_string()))
}

fn moved(target: &Target, name: &str, proposal_id: &str) -> Outcome {
    Outcome::RolloutMoved {
        target: name.to_string(),
        proposal_id: proposal_id.to_string(),
        epoch: target.epoch,
        phase: target
            .rollout
            .as_ref()
            .map_or(STEADY, |r| r.phase_name())
            .to_string(),
    }
}

/// The progress event of `rollout` as of `at_ms`.
fn progress(rollout: &Rollout, at_ms: u64, steady: bool) -> Progress {
    Progress {
        proposal_id: rollout.proposal_id.clone(),
        phase: if steady {
            STEADY.to_string()
        } else {
            rollout.phase_name().to_string()
        },
        share: if steady { 100 } else { rollout.share() },
        phase_started_ms: rollout.phase_started_ms,
        at_ms,
        violations: rollout.violations,
        observed_impact: rollout.observed_impact.clone(),
        paused: rollout.paused,
        steady,
    }
}

fn push_bounded<T>(list: &mut Vec<T>, item: T) {
    list.push(item);
    if list.len() > RECENT_KEPT {
        list.remove(0);
    }
}
