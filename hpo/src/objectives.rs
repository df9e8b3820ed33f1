//! Test objectives with known optima, for the tests and the benchmark:
//! Branin (2 floats, minimum 0.397887) and a noisy three-parameter
//! quadratic over a float, an int and a log-scaled float (minimum 0, seen
//! through N(0, 1) noise). Their spaces are the files in `hpo/bench/`,
//! which the Optuna comparison reads too.

use crate::engine::{Engine, EngineConfig};
use crate::error::HpoError;
use crate::feedback::Feedback;
use crate::space::{file::parse_space, Assignment, Space};
use crate::Rng;
use rand_distr::{Distribution, Normal};
use std::f64::consts::PI;

/// An objective to minimise, with its space and known optimum.
#[derive(Debug, Clone, Copy)]
pub struct Objective {
    pub name: &'static str,
    space_toml: &'static str,
    pub optimum: f64,
    pub noise_std: f64,
    truth: fn(&Assignment) -> f64,
}

impl Objective {
    pub fn space(&self) -> Space {
        parse_space(self.space_toml).expect("the bench space files are valid")
    }

    /// The noise-free value.
    pub fn true_value(&self, a: &Assignment) -> f64 {
        (self.truth)(a)
    }

    /// The value as an evaluation sees it, with noise drawn from `rng`.
    pub fn observe(&self, a: &Assignment, rng: &mut Rng) -> f64 {
        let noise = Normal::new(0.0, self.noise_std).map_or(0.0, |n| n.sample(rng));
        self.true_value(a) + noise
    }
}

/// Branin-Hoo on x1 ∈ [-5, 10], x2 ∈ [0, 15].
pub fn branin() -> Objective {
    Objective {
        name: "branin",
        space_toml: include_str!("../bench/branin.toml"),
        optimum: 0.397_887_357_729_738_2,
        noise_std: 0.0,
        truth: |a| {
            let (x1, x2) = (num(a, "x1"), num(a, "x2"));
            let b = 5.1 / (4.0 * PI * PI);
            let c = 5.0 / PI;
            let t = 1.0 / (8.0 * PI);
            (x2 - b * x1 * x1 + c * x1 - 6.0).powi(2) + 10.0 * (1.0 - t) * x1.cos() + 10.0
        },
    }
}

/// The noisy quadratic over x (float), n (int), lr (log float).
pub fn noisy_quadratic() -> Objective {
    Objective {
        name: "quadratic",
        space_toml: include_str!("../bench/quadratic.toml"),
        optimum: 0.0,
        noise_std: 1.0,
        truth: |a| {
            (num(a, "x") - 1.3).powi(2)
                + 0.25 * (num(a, "n") - 3.0).powi(2)
                + (num(a, "lr").log10() + 2.0).powi(2)
        },
    }
}

/// The objective called `name` (`branin`, `quadratic`).
pub fn by_name(name: &str) -> Option<Objective> {
    [branin(), noisy_quadratic()]
        .into_iter()
        .find(|o| o.name == name)
}

fn num(a: &Assignment, name: &str) -> f64 {
    a.get(name).and_then(|v| v.as_f64()).unwrap_or(f64::NAN)
}

/// Runs an engine on `objective` for `budget` evaluations; returns the
/// best true value after each evaluation.
pub fn run(
    objective: &Objective,
    config: &EngineConfig,
    budget: usize,
) -> Result<Vec<f64>, HpoError> {
    let mut engine = Engine::new(objective.space(), config);
    let mut noise = crate::seeded(config.seed.wrapping_add(0x5eed));
    let mut best = f64::INFINITY;
    let mut curve = Vec::with_capacity(budget);
    for _ in 0..budget {
        let p = engine.propose(0)?;
        best = best.min(objective.true_value(&p.parameters));
        engine.observed(p.id, objective.observe(&p.parameters, &mut noise))?;
        curve.push(best);
    }
    Ok(curve)
}

#[cfg(test)]
mod tests;
