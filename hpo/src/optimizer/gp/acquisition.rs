//! Expected improvement and its maximisation over the region. The
//! incumbent is the best posterior mean at an observed point, not the best
//! noisy observation, so one lucky draw does not freeze the search.
//! Candidates: uniform draws over the region, perturbations of the best
//! observed points, then a few rounds of refinement around the leaders;
//! every one is admitted by the region.

use super::model::Gp;
use crate::optimizer::Prediction;
use crate::region::Region;
use crate::space::Assignment;
use crate::Rng;
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

/// How many candidates the maximisation looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// Uniform draws over the region.
    pub uniform: usize,
    /// Perturbations of each seed point, at each of three scales.
    pub per_seed: usize,
    /// How many of the best observed points seed local candidates.
    pub seeds: usize,
    /// Rounds of refinement around the three leading candidates.
    pub refine_rounds: usize,
}

impl Default for Search {
    fn default() -> Self {
        Search {
            uniform: 300,
            per_seed: 20,
            seeds: 4,
            refine_rounds: 4,
        }
    }
}

/// Expected improvement below `best` of a value predicted as `p`, and the
/// standardised distance `z` that breaks ties where it underflows to 0.
pub fn expected_improvement(p: Prediction, best: f64) -> (f64, f64) {
    let gain = best - p.mean;
    if p.std <= 1e-12 {
        return (gain.max(0.0), gain.signum() * f64::MAX);
    }
    let z = gain / p.std;
    let n = standard_normal();
    (gain * n.cdf(z) + p.std * n.pdf(z), z)
}

fn standard_normal() -> Normal {
    Normal::standard()
}

/// The admissible assignment with the highest expected improvement.
pub fn maximize(
    gp: &Gp,
    region: &Region,
    seeds: &[Assignment],
    best: f64,
    search: Search,
    rng: &mut Rng,
) -> Option<Assignment> {
    let space = region.space();
    let score = |a: &Assignment| expected_improvement(gp.predict(&space.encode(a)), best);
    let mut scored: Vec<((f64, f64), Assignment)> = Vec::new();
    let mut push = |a: Assignment| scored.push((score(&a), a));
    for _ in 0..search.uniform {
        region.sample(rng).map(&mut push).ok();
    }
    for seed in seeds.iter().take(search.seeds) {
        for scale in [0.2, 0.05, 0.01] {
            for _ in 0..search.per_seed {
                region.perturb(seed, scale, rng).map(&mut push).ok();
            }
        }
    }
    let mut scale = 0.05;
    for _ in 0..search.refine_rounds {
        sort_best_first(&mut scored);
        let leaders: Vec<Assignment> = scored.iter().take(3).map(|(_, a)| a.clone()).collect();
        for leader in &leaders {
            for _ in 0..search.per_seed {
                if let Ok(a) = region.perturb(leader, scale, rng) {
                    scored.push((score(&a), a));
                }
            }
        }
        scale /= 3.0;
    }
    sort_best_first(&mut scored);
    scored.into_iter().next().map(|(_, a)| a)
}

fn sort_best_first(scored: &mut [((f64, f64), Assignment)]) {
    scored.sort_by(|(a, _), (b, _)| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ei_matches_the_closed_form() {
        let p = Prediction {
            mean: 1.0,
            std: 2.0,
        };
        let (ei, z) = expected_improvement(p, 1.0);
        // At z = 0, EI = σ φ(0) = 2 / √(2π).
        assert!((ei - 2.0 / (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-12);
        assert_eq!(z, 0.0);
    }

    #[test]
    fn ei_prefers_lower_means_and_more_doubt() {
        let ei = |mean, std| expected_improvement(Prediction { mean, std }, 0.0).0;
        assert!(ei(-1.0, 0.5) > ei(0.0, 0.5));
        assert!(ei(0.5, 2.0) > ei(0.5, 0.1));
        assert_eq!(ei(1.0, 0.0), 0.0);
    }
}
