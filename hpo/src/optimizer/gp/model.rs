//! Gaussian-process regression: fit to standardised observations with a
//! Matérn 5/2 kernel and a fitted noise variance, predict the latent
//! (noise-free) mean and standard deviation. The linear algebra is
//! nalgebra's Cholesky factorisation.

use super::kernel::matern52;
use crate::optimizer::Prediction;
use nalgebra::{DMatrix, DVector};

/// Added to the diagonal so the factorisation stays stable.
const JITTER: f64 = 1e-8;

/// Kernel hyperparameters, in logs: one length scale per coordinate, the
/// signal variance and the noise variance (both of standardised values).
#[derive(Debug, Clone, PartialEq)]
pub struct Hyper {
    pub log_lengths: Vec<f64>,
    pub log_signal: f64,
    pub log_noise: f64,
}

/// A fitted process.
#[derive(Debug, Clone)]
pub struct Gp {
    x: Vec<Vec<f64>>,
    lengths: Vec<f64>,
    signal: f64,
    noise: f64,
    l: DMatrix<f64>,
    alpha: DVector<f64>,
    y_mean: f64,
    y_scale: f64,
}

impl Hyper {
    fn lengths(&self) -> Vec<f64> {
        self.log_lengths.iter().map(|l| l.exp()).collect()
    }
}

/// `y` shifted and scaled to mean 0 and standard deviation 1.
pub fn standardize(y: &[f64]) -> (Vec<f64>, f64, f64) {
    let n = y.len().max(1) as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let scale = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
    (y.iter().map(|v| (v - mean) / scale).collect(), mean, scale)
}

/// The Cholesky factor of the covariance of `x` plus noise, and `K⁻¹ y`.
fn factor(x: &[Vec<f64>], ys: &[f64], hyper: &Hyper) -> Option<(DMatrix<f64>, DVector<f64>)> {
    let n = x.len();
    let lengths = hyper.lengths();
    let signal = hyper.log_signal.exp();
    let noise = hyper.log_noise.exp();
    let k = DMatrix::from_fn(n, n, |i, j| {
        let diag = if i == j { noise + JITTER } else { 0.0 };
        matern52(&x[i], &x[j], &lengths, signal) + diag
    });
    let chol = k.cholesky()?;
    let alpha = chol.solve(&DVector::from_column_slice(ys));
    Some((chol.unpack(), alpha))
}

/// The log marginal likelihood of standardised `ys` under `hyper`.
pub fn log_likelihood(x: &[Vec<f64>], ys: &[f64], hyper: &Hyper) -> Option<f64> {
    let (l, alpha) = factor(x, ys, hyper)?;
    let fit = DVector::from_column_slice(ys).dot(&alpha);
    let log_det: f64 = l.diagonal().iter().map(|d| d.ln()).sum();
    let n = ys.len() as f64;
    let value = -0.5 * fit - log_det - 0.5 * n * (2.0 * std::f64::consts::PI).ln();
    value.is_finite().then_some(value)
}

impl Gp {
    /// Fits the process to raw values `y` at points `x`.
    pub fn fit(x: &[Vec<f64>], y: &[f64], hyper: &Hyper) -> Option<Gp> {
        let (ys, y_mean, y_scale) = standardize(y);
        let (l, alpha) = factor(x, &ys, hyper)?;
        Some(Gp {
            x: x.to_vec(),
            lengths: hyper.lengths(),
            signal: hyper.log_signal.exp(),
            noise: hyper.log_noise.exp(),
            l,
            alpha,
            y_mean,
            y_scale,
        })
    }

    /// The latent value's mean and standard deviation at `p`, in raw units.
    pub fn predict(&self, p: &[f64]) -> Prediction {
        let ks = DVector::from_iterator(
            self.x.len(),
            self.x
                .iter()
                .map(|xi| matern52(xi, p, &self.lengths, self.signal)),
        );
        let mean = ks.dot(&self.alpha);
        let explained = self
            .l
            .solve_lower_triangular(&ks)
            .map_or(0.0, |v| v.norm_squared());
        let var = (self.signal - explained).max(1e-12);
        Prediction {
            mean: self.y_mean + self.y_scale * mean,
            std: self.y_scale * var.sqrt(),
        }
    }

    /// The fitted noise standard deviation, in raw units.
    pub fn noise_std(&self) -> f64 {
        self.y_scale * self.noise.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyper(noise: f64) -> Hyper {
        Hyper {
            log_lengths: vec![0.3f64.ln()],
            log_signal: 0.0,
            log_noise: noise.ln(),
        }
    }

    #[test]
    fn interpolates_noise_free_data_and_is_unsure_far_away() {
        let x: Vec<Vec<f64>> = [0.0, 0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|v| vec![*v])
            .collect();
        let y: Vec<f64> = x.iter().map(|p| (6.0 * p[0]).sin()).collect();
        let gp = Gp::fit(&x, &y, &hyper(1e-8)).expect("fits");
        let at = gp.predict(&[0.5]);
        assert!((at.mean - y[2]).abs() < 1e-3, "{at:?}");
        assert!(at.std < 1e-2);
        let between = gp.predict(&[0.4]);
        assert!((between.mean - (2.4f64).sin()).abs() < 0.2, "{between:?}");
        assert!(between.std > at.std);
    }

    #[test]
    fn noise_is_averaged_out() {
        let x: Vec<Vec<f64>> = (0..20).map(|i| vec![0.5 + 0.001 * i as f64]).collect();
        let y: Vec<f64> = (0..20)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let gp = Gp::fit(&x, &y, &hyper(1.0)).expect("fits");
        assert!(gp.predict(&[0.51]).mean.abs() < 0.2);
        assert!(gp.noise_std() > 0.5);
    }

    #[test]
    fn likelihood_prefers_the_true_noise_level() {
        let x: Vec<Vec<f64>> = (0..15).map(|i| vec![i as f64 / 14.0]).collect();
        let y: Vec<f64> = x.iter().map(|p| (4.0 * p[0]).cos()).collect();
        let (ys, _, _) = standardize(&y);
        let clean = log_likelihood(&x, &ys, &hyper(1e-6)).expect("finite");
        let noisy = log_likelihood(&x, &ys, &hyper(1.0)).expect("finite");
        assert!(clean > noisy);
    }
}
