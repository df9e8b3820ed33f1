//! How the engine learns from ArqonBus (the [`Feedback`] trait): an
//! outcome is told to the model and makes the proposal live; a rejection
//! narrows the learned bounds; a rollback tells the model the observed (or
//! a penalty) value, quarantines the values it changed, and restores the
//! live values. Each checks its input before it changes anything.

use super::{Engine, Record};
use crate::error::HpoError;
use crate::feedback::{Feedback, ProposalId, Rejection, Rollback};
use crate::optimizer::Observation;
use crate::space::Assignment;

impl Feedback for Engine {
    fn observed(&mut self, proposal: ProposalId, value: f64) -> Result<(), HpoError> {
        finite(value, "observed value")?;
        let pending = self
            .pending
            .remove(&proposal)
            .ok_or(HpoError::UnknownProposal(proposal))?;
        self.learn_value(proposal, pending.assignment.clone(), value, false);
        self.live.extend(pending.assignment);
        Ok(())
    }

    fn rejected(&mut self, rejection: &Rejection) -> Result<(), HpoError> {
        let pending = self
            .pending
            .get(&rejection.proposal)
            .ok_or(HpoError::UnknownProposal(rejection.proposal))?;
        self.bounds
            .learn_rejection(&self.space, &pending.assignment, rejection)?;
        self.pending.remove(&rejection.proposal);
        self.rejections += 1;
        Ok(())
    }

    fn rolled_back(&mut self, rollback: &Rollback) -> Result<(), HpoError> {
        let pending = self
            .pending
            .get(&rollback.proposal)
            .ok_or(HpoError::UnknownProposal(rollback.proposal))?;
        if let Some(v) = rollback.observed {
            finite(v, "rollback's observed value")?;
        }
        let restored = match &rollback.restored {
            Some(r) => self.checked(r)?,
            None => pending.live_before.clone(),
        };
        let changed: Assignment = pending
            .assignment
            .iter()
            .filter(|(name, v)| pending.live_before.get(*name) != Some(*v))
            .map(|(name, v)| (name.clone(), v.clone()))
            .collect();
        self.bounds
            .learn_rollback(&self.space, &changed, rollback)?;
        let assignment = pending.assignment.clone();
        self.pending.remove(&rollback.proposal);
        if let Some(value) = rollback.observed.or_else(|| self.worst()) {
            self.learn_value(rollback.proposal, assignment, value, true);
        }
        self.live.extend(restored);
        Ok(())
    }
}

impl Engine {
    /// Tells the model and the adaptation layer one value of `assignment`.
    fn learn_value(
        &mut self,
        proposal: ProposalId,
        assignment: Assignment,
        value: f64,
        rolled_back: bool,
    ) {
        let minimised = self.space.direction().sign() * value;
        self.optimizer.tell(&Observation {
            assignment: assignment.clone(),
            value: minimised,
        });
        if let Some(trust) = &mut self.trust {
            trust.record(minimised);
        }
        self.convergence.record(minimised);
        self.history.push(Record {
            proposal,
            assignment,
            value,
            rolled_back,
        });
    }

    /// The worst value seen, the penalty for a rollback that names none.
    fn worst(&self) -> Option<f64> {
        let sign = self.space.direction().sign();
        self.history
            .iter()
            .map(|r| r.value)
            .max_by(|a, b| (sign * a).total_cmp(&(sign * b)))
    }
}

fn finite(v: f64, what: &str) -> Result<(), HpoError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(HpoError::NotFinite { what: what.into() })
    }
}
