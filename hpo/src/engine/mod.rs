//! The engine: one proposer's optimizer with its adaptation layer and what
//! it has learned from ArqonBus. It proposes (with the model's expected
//! impact and confidence) only what the learned bounds admit, and learns
//! from outcomes, rejections and rollbacks through [`Feedback`].
//!
//! [`Feedback`]: crate::feedback::Feedback

mod config;
mod learn;
mod proposal;

pub use config::{Algorithm, EngineConfig};
pub use proposal::Proposal;

use crate::adapt::{Convergence, Pace, TrustRegion};
use crate::error::HpoError;
use crate::feedback::{LearnedBounds, Millis, ProposalId};
use crate::optimizer::Optimizer;
use crate::region::Region;
use crate::space::{Assignment, Space};
use crate::Rng;
use std::collections::BTreeMap;

/// A proposal sent and not yet answered.
#[derive(Debug, Clone, PartialEq)]
struct Pending {
    assignment: Assignment,
    live_before: Assignment,
}

/// One answered proposal that produced a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub proposal: ProposalId,
    pub assignment: Assignment,
    /// The objective value, in the objective's own direction.
    pub value: f64,
    /// Whether it was rolled back (the value is then the penalty told).
    pub rolled_back: bool,
}

/// The propose loop's engine for one target system.
pub struct Engine {
    space: Space,
    bounds: LearnedBounds,
    live: Assignment,
    optimizer: Box<dyn Optimizer>,
    trust: Option<TrustRegion>,
    convergence: Convergence,
    pending: BTreeMap<ProposalId, Pending>,
    history: Vec<Record>,
    rejections: usize,
    next_id: ProposalId,
    rng: Rng,
}

impl Engine {
    /// An engine over `space`, starting from the space's live values.
    pub fn new(space: Space, config: &EngineConfig) -> Engine {
        Engine {
            bounds: LearnedBounds::from_space(&space),
            live: space.live(),
            optimizer: config.optimizer(&space),
            trust: config.trust_region.then(|| TrustRegion::new(space.dims())),
            convergence: config.convergence(),
            pending: BTreeMap::new(),
            history: Vec::new(),
            rejections: 0,
            next_id: 1,
            rng: crate::seeded(config.seed),
            space,
        }
    }

    pub fn space(&self) -> &Space {
        &self.space
    }

    pub fn bounds(&self) -> &LearnedBounds {
        &self.bounds
    }

    /// The values the target system runs now, as far as the engine knows.
    pub fn live(&self) -> &Assignment {
        &self.live
    }

    pub fn history(&self) -> &[Record] {
        &self.history
    }

    pub fn rejections(&self) -> usize {
        self.rejections
    }

    pub fn pace(&self) -> Pace {
        self.convergence.pace()
    }

    /// The best value observed and kept (not rolled back).
    pub fn best(&self) -> Option<&Record> {
        let sign = self.space.direction().sign();
        self.history
            .iter()
            .filter(|r| !r.rolled_back)
            .min_by(|a, b| (sign * a.value).total_cmp(&(sign * b.value)))
    }

    /// Tells the engine what runs now (for example after a restart).
    pub fn set_live(&mut self, live: &Assignment) -> Result<(), HpoError> {
        let checked = self.checked(live)?;
        self.live = checked;
        Ok(())
    }

    /// The next proposal at time `now`: inside what was learned, or an
    /// error; never one the learned bounds say will be rejected.
    pub fn propose(&mut self, now: Millis) -> Result<Proposal, HpoError> {
        self.bounds.expire(now);
        let mut region = Region::new(&self.space, &self.bounds, &self.live, now)?;
        if let (Some(trust), Some(centre)) = (&self.trust, self.centre()) {
            trust.apply(&mut region, &centre);
        }
        let candidate = self.optimizer.ask(&region, &mut self.rng)?;
        if let Some(why) = self
            .bounds
            .violation(&candidate.assignment, &self.live, now)
        {
            return Err(HpoError::WouldBeRejected(why));
        }
        let id = self.next_id;
        self.next_id += 1;
        let proposal = self.proposal(id, candidate);
        self.pending.insert(
            id,
            Pending {
                assignment: proposal.parameters.clone(),
                live_before: self.live.clone(),
            },
        );
        Ok(proposal)
    }

    /// The trust region's centre: the best kept point, else the live values.
    fn centre(&self) -> Option<Assignment> {
        match self.best() {
            Some(r) => Some(r.assignment.clone()),
            None if !self.live.is_empty() => Some(self.live.clone()),
            None => None,
        }
    }

    /// `a` with every value checked and coerced to its parameter's kind.
    fn checked(&self, a: &Assignment) -> Result<Assignment, HpoError> {
        a.iter()
            .map(|(name, v)| Ok((name.clone(), self.space.coerce(name, v)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests;
