//! How an engine is set up: the algorithm, the seed, the adaptation layer.

use crate::adapt::{Convergence, Staged};
use crate::error::HpoError;
use crate::optimizer::{GpConfig, GpOptimizer, LocalSearch, Optimizer, RandomSearch};
use crate::space::Space;
use std::str::FromStr;

/// Which optimizer proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Uniform random search (baseline).
    Random,
    /// (1+1) local search (baseline).
    Local,
    /// The Gaussian-process optimizer from the second observation on.
    Gp,
    /// Random while warming up, then the Gaussian-process optimizer.
    Auto,
}

impl FromStr for Algorithm {
    type Err = HpoError;
    fn from_str(s: &str) -> Result<Self, HpoError> {
        match s {
            "random" => Ok(Algorithm::Random),
            "local" => Ok(Algorithm::Local),
            "gp" => Ok(Algorithm::Gp),
            "auto" => Ok(Algorithm::Auto),
            other => Err(HpoError::UnknownAlgorithm(other.to_string())),
        }
    }
}

/// An engine's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Seeds every random choice; the same seed and answers give the same
    /// proposals.
    pub seed: u64,
    pub algorithm: Algorithm,
    /// Random proposals before the model (`Auto`); by default 2(d + 1) for
    /// d parameters.
    pub warmup: Option<usize>,
    /// Keep proposals in a trust region around the best point.
    pub trust_region: bool,
    /// The model keeps only the last this many observations (drift).
    pub window: Option<usize>,
    /// Rounds without a significant improvement before slowing down.
    pub patience: usize,
    /// A significant improvement: by more than this fraction of the best.
    pub min_delta_rel: f64,
    /// Stop proposing (instead of only slowing down) once converged.
    pub stop_when_converged: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            seed: 0,
            algorithm: Algorithm::Auto,
            warmup: None,
            trust_region: false,
            window: None,
            patience: 20,
            min_delta_rel: 0.01,
            stop_when_converged: false,
        }
    }
}

impl EngineConfig {
    pub(super) fn optimizer(&self, space: &Space) -> Box<dyn Optimizer> {
        let gp_config = GpConfig {
            window: self.window,
            ..GpConfig::default()
        };
        // A separate stream for the model's own search, derived from the seed.
        let gp_seed = self.seed ^ 0x9e37_79b9_7f4a_7c15;
        let gp = || Box::new(GpOptimizer::new(space, gp_config, gp_seed));
        match self.algorithm {
            Algorithm::Random => Box::new(RandomSearch),
            Algorithm::Local => Box::new(LocalSearch::default()),
            Algorithm::Gp => gp(),
            Algorithm::Auto => {
                let warmup = self.warmup.unwrap_or(2 * (space.parameters().len() + 1));
                Box::new(Staged::new(warmup, gp()))
            }
        }
    }

    pub(super) fn convergence(&self) -> Convergence {
        Convergence::new(
            self.patience,
            self.min_delta_rel,
            0.0,
            self.stop_when_converged,
        )
    }
}
