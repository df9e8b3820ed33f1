//! Fitting the kernel's hyperparameters: the maximum of the log marginal
//! likelihood plus weak log-normal priors (which keep length scales and
//! noise sensible on a handful of points), found by a few random starts and
//! a compass (pattern) search in log space, warm-started from the last fit.

use super::model::{log_likelihood, Hyper};
use crate::Rng;
use rand::Rng as _;

/// Box of each log hyperparameter: length scales in the unit cube, signal
/// and noise variance of standardised values.
const LOG_LENGTH: (f64, f64) = (-4.6, 3.0); // 0.01 ..= 20
const LOG_SIGNAL: (f64, f64) = (-3.0, 3.0);
const LOG_NOISE: (f64, f64) = (-13.8, 0.7); // 1e-6 ..= 2

/// Prior centres and widths (log-normal): length 0.5, signal 1, noise 1e-2.
const PRIOR_LENGTH: (f64, f64) = (-0.69, 1.5);
const PRIOR_SIGNAL: (f64, f64) = (0.0, 1.5);
const PRIOR_NOISE: (f64, f64) = (-4.6, 3.0);

/// How hard to search.
#[derive(Debug, Clone, Copy)]
pub struct Effort {
    pub random_starts: usize,
    pub first_step: f64,
    pub halvings: usize,
}

/// The full search, used while data are few or every few tells.
pub const FULL: Effort = Effort {
    random_starts: 12,
    first_step: 1.0,
    halvings: 4,
};

/// A short refinement around the last fit.
pub const REFINE: Effort = Effort {
    random_starts: 0,
    first_step: 0.25,
    halvings: 2,
};

/// The default starting point for `dims` coordinates.
pub fn initial(dims: usize) -> Hyper {
    Hyper {
        log_lengths: vec![PRIOR_LENGTH.0; dims],
        log_signal: 0.0,
        log_noise: PRIOR_NOISE.0,
    }
}

/// The best hyperparameters found for standardised `ys` at `x`.
pub fn fit(x: &[Vec<f64>], ys: &[f64], start: &Hyper, effort: Effort, rng: &mut Rng) -> Hyper {
    let dims = start.log_lengths.len();
    let score =
        |h: &Hyper| log_likelihood(x, ys, h).map_or(f64::NEG_INFINITY, |l| l + log_prior(h));
    let mut best = start.clone();
    let mut best_score = score(&best);
    for _ in 0..effort.random_starts {
        let h = random_hyper(dims, rng);
        let s = score(&h);
        if s > best_score {
            (best, best_score) = (h, s);
        }
    }
    let mut step = effort.first_step;
    for _ in 0..=effort.halvings {
        let mut improved = true;
        while improved {
            improved = false;
            for i in 0..dims + 2 {
                for dir in [step, -step] {
                    let h = moved(&best, i, dir);
                    let s = score(&h);
                    if s > best_score {
                        (best, best_score, improved) = (h, s, true);
                    }
                }
            }
        }
        step /= 2.0;
    }
    best
}

fn log_prior(h: &Hyper) -> f64 {
    let normal = |v: f64, (centre, width): (f64, f64)| -0.5 * ((v - centre) / width).powi(2);
    h.log_lengths
        .iter()
        .map(|l| normal(*l, PRIOR_LENGTH))
        .sum::<f64>()
        + normal(h.log_signal, PRIOR_SIGNAL)
        + normal(h.log_noise, PRIOR_NOISE)
}

fn random_hyper(dims: usize, rng: &mut Rng) -> Hyper {
    let mut draw = |(lo, hi): (f64, f64)| rng.random_range(lo..hi);
    Hyper {
        log_lengths: (0..dims).map(|_| draw(LOG_LENGTH)).collect(),
        log_signal: draw(LOG_SIGNAL),
        log_noise: draw(LOG_NOISE),
    }
}

/// `h` with coordinate `i` (lengths, then signal, then noise) moved by
/// `delta`, kept in its box.
fn moved(h: &Hyper, i: usize, delta: f64) -> Hyper {
    let mut h = h.clone();
    let dims = h.log_lengths.len();
    let clamp = |v: f64, (lo, hi): (f64, f64)| (v + delta).clamp(lo, hi);
    match i {
        i if i < dims => h.log_lengths[i] = clamp(h.log_lengths[i], LOG_LENGTH),
        i if i == dims => h.log_signal = clamp(h.log_signal, LOG_SIGNAL),
        _ => h.log_noise = clamp(h.log_noise, LOG_NOISE),
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::gp::model::standardize;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn finds_a_long_length_for_an_irrelevant_coordinate_and_the_noise() {
        let mut rng = crate::seeded(7);
        let noise = Normal::new(0.0, 0.3).unwrap();
        let x: Vec<Vec<f64>> = (0..30)
            .map(|_| vec![rng.random::<f64>(), rng.random::<f64>()])
            .collect();
        let y: Vec<f64> = x
            .iter()
            .map(|p| (5.0 * p[0]).sin() + noise.sample(&mut rng))
            .collect();
        let (ys, _, scale) = standardize(&y);
        let h = fit(&x, &ys, &initial(2), FULL, &mut rng);
        assert!(h.log_lengths[1] > h.log_lengths[0] + 1.0, "{h:?}");
        let noise_std = scale * h.log_noise.exp().sqrt();
        assert!((0.15..0.6).contains(&noise_std), "noise {noise_std}");
    }
}
