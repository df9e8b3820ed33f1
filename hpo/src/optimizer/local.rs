//! Local search: a (1+1) evolution strategy. Each candidate is the best
//! point so far moved by a normal step; the step grows after an improvement
//! and shrinks after a miss (the one-fifth rule), so it settles into a
//! basin. A baseline, and the cheapest optimizer that follows a live value.

use super::{best_of, Candidate, Observation, Optimizer};
use crate::error::HpoError;
use crate::region::Region;
use crate::Rng;

const INITIAL_SCALE: f64 = 0.2;
const MIN_SCALE: f64 = 0.002;
const MAX_SCALE: f64 = 0.5;

/// (1+1) evolution strategy with the one-fifth success rule.
#[derive(Debug, Clone)]
pub struct LocalSearch {
    observations: Vec<Observation>,
    scale: f64,
}

impl Default for LocalSearch {
    fn default() -> Self {
        LocalSearch {
            observations: Vec::new(),
            scale: INITIAL_SCALE,
        }
    }
}

impl Optimizer for LocalSearch {
    fn name(&self) -> &'static str {
        "local"
    }

    fn ask(&mut self, region: &Region, rng: &mut Rng) -> Result<Candidate, HpoError> {
        let assignment = match best_of(&self.observations) {
            Some(best) => region
                .perturb(&best.assignment, self.scale, rng)
                .or_else(|_| region.sample(rng))?,
            None => region.sample(rng)?,
        };
        Ok(Candidate {
            assignment,
            algorithm: self.name(),
        })
    }

    fn tell(&mut self, observation: &Observation) {
        let improved = best_of(&self.observations).is_none_or(|b| observation.value < b.value);
        // One success in five keeps the scale steady: 1.5 * 0.9^4 ≈ 1.
        self.scale = if improved {
            self.scale * 1.5
        } else {
            self.scale * 0.9
        }
        .clamp(MIN_SCALE, MAX_SCALE);
        self.observations.push(observation.clone());
    }
}
