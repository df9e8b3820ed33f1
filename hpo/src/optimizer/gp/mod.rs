//! The Gaussian-process optimizer: after each observation it refits a GP
//! (Matérn 5/2, fitted noise) to the points in its window, and asks for the
//! candidate with the highest expected improvement. The window (the last
//! `window` observations) lets it follow a drifting objective; the fitted
//! noise and the posterior-mean incumbent let it work on a noisy one.

mod acquisition;
mod hyper;
mod kernel;
mod model;

pub use acquisition::{expected_improvement, Search};
pub use model::{Gp, Hyper};

use super::{Candidate, Observation, Optimizer, Prediction};
use crate::error::HpoError;
use crate::region::Region;
use crate::space::{Assignment, Space};
use crate::Rng;

/// Refit from random starts every this many observations; refine otherwise.
const FULL_FIT_EVERY: usize = 5;

/// How the GP optimizer works.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GpConfig {
    /// Keep only the last this many observations (for drifting objectives).
    pub window: Option<usize>,
    /// How many candidates the acquisition looks at.
    pub search: Search,
}

/// Gaussian-process optimizer with expected improvement.
#[derive(Debug, Clone)]
pub struct GpOptimizer {
    space: Space,
    config: GpConfig,
    observations: Vec<Observation>,
    hyper: Hyper,
    model: Option<Gp>,
    told: usize,
    rng: Rng,
}

impl GpOptimizer {
    /// A GP optimizer for `space`; `seed` drives its hyperparameter search.
    pub fn new(space: &Space, config: GpConfig, seed: u64) -> GpOptimizer {
        GpOptimizer {
            space: space.clone(),
            config,
            observations: Vec::new(),
            hyper: hyper::initial(space.dims()),
            model: None,
            told: 0,
            rng: crate::seeded(seed),
        }
    }

    /// The fitted model, once there are two observations.
    pub fn model(&self) -> Option<&Gp> {
        self.model.as_ref()
    }

    fn refit(&mut self) {
        if self.observations.len() < 2 {
            return;
        }
        let x: Vec<Vec<f64>> = self
            .observations
            .iter()
            .map(|o| self.space.encode(&o.assignment))
            .collect();
        let y: Vec<f64> = self.observations.iter().map(|o| o.value).collect();
        let (ys, _, _) = model::standardize(&y);
        let effort = if self.told <= 20 || self.told % FULL_FIT_EVERY == 0 {
            hyper::FULL
        } else {
            hyper::REFINE
        };
        self.hyper = hyper::fit(&x, &ys, &self.hyper, effort, &mut self.rng);
        self.model = Gp::fit(&x, &y, &self.hyper);
    }

    /// The observed points by posterior mean, best first, with that mean.
    fn ranked(&self, gp: &Gp) -> Vec<(f64, Assignment)> {
        let mut ranked: Vec<(f64, Assignment)> = self
            .observations
            .iter()
            .map(|o| {
                (
                    gp.predict(&self.space.encode(&o.assignment)).mean,
                    o.assignment.clone(),
                )
            })
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
        ranked
    }
}

impl Optimizer for GpOptimizer {
    fn name(&self) -> &'static str {
        "gp"
    }

    fn ask(&mut self, region: &Region, rng: &mut Rng) -> Result<Candidate, HpoError> {
        let Some(gp) = &self.model else {
            return Ok(Candidate {
                assignment: region.sample(rng)?,
                algorithm: "random",
            });
        };
        let ranked = self.ranked(gp);
        let best = ranked.first().map_or(f64::INFINITY, |r| r.0);
        let seeds: Vec<Assignment> = ranked.into_iter().map(|r| r.1).collect();
        let chosen = acquisition::maximize(gp, region, &seeds, best, self.config.search, rng);
        Ok(Candidate {
            assignment: match chosen {
                Some(a) => a,
                None => region.sample(rng)?,
            },
            algorithm: self.name(),
        })
    }

    fn tell(&mut self, observation: &Observation) {
        self.observations.push(observation.clone());
        if let Some(w) = self.config.window {
            let excess = self.observations.len().saturating_sub(w.max(2));
            self.observations.drain(..excess);
        }
        self.told += 1;
        self.refit();
    }

    fn predict(&self, a: &Assignment) -> Option<Prediction> {
        self.model
            .as_ref()
            .map(|gp| gp.predict(&self.space.encode(a)))
    }
}
