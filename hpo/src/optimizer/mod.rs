//! The ask/tell optimizer interface and the optimizers: random search and
//! local search as baselines, and a Gaussian-process optimizer with
//! expected improvement (`gp`) as the model.
//!
//! Values told are always to be minimised: the engine flips the sign of a
//! maximised objective before an optimizer sees it.

pub mod gp;
mod local;
mod random;

pub use gp::{GpConfig, GpOptimizer};
pub use local::LocalSearch;
pub use random::RandomSearch;

use crate::error::HpoError;
use crate::region::Region;
use crate::space::Assignment;
use crate::Rng;

/// One evaluated point: the assignment and the value (lower is better).
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub assignment: Assignment,
    pub value: f64,
}

/// What a model expects of an assignment: mean and standard deviation of
/// its (noise-free) value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub mean: f64,
    pub std: f64,
}

/// What an optimizer proposes next.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub assignment: Assignment,
    /// The optimizer that chose it (`random`, `local`, `gp`).
    pub algorithm: &'static str,
}

/// An optimizer: asked for a candidate inside a region, told observations.
pub trait Optimizer {
    fn name(&self) -> &'static str;
    /// The next candidate; it is inside `region` and admitted by it.
    fn ask(&mut self, region: &Region, rng: &mut Rng) -> Result<Candidate, HpoError>;
    /// An observed value (finite; lower is better).
    fn tell(&mut self, observation: &Observation);
    /// What the optimizer's model expects of `a`, if it has a model.
    fn predict(&self, _a: &Assignment) -> Option<Prediction> {
        None
    }
}

/// The best observation (lowest value) of a list.
pub fn best_of(observations: &[Observation]) -> Option<&Observation> {
    observations
        .iter()
        .min_by(|a, b| a.value.total_cmp(&b.value))
}
