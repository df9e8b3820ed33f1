//! Random search: every candidate drawn uniformly from the region (log
//! parameters uniformly in their log). The baseline the model must beat.

use super::{Candidate, Observation, Optimizer};
use crate::error::HpoError;
use crate::region::Region;
use crate::Rng;

/// Uniform random search.
#[derive(Debug, Clone, Default)]
pub struct RandomSearch;

impl Optimizer for RandomSearch {
    fn name(&self) -> &'static str {
        "random"
    }

    fn ask(&mut self, region: &Region, rng: &mut Rng) -> Result<Candidate, HpoError> {
        Ok(Candidate {
            assignment: region.sample(rng)?,
            algorithm: self.name(),
        })
    }

    fn tell(&mut self, _observation: &Observation) {}
}
