//! The Matérn 5/2 covariance with one length scale per coordinate (ARD):
//! smooth enough for tuning surfaces, rough enough not to over-extrapolate.

/// Matérn 5/2 covariance of `a` and `b`: `signal * (1 + √5 r + 5r²/3) e^{-√5 r}`
/// with `r` the length-scaled distance.
pub fn matern52(a: &[f64], b: &[f64], lengths: &[f64], signal: f64) -> f64 {
    let r2: f64 = a
        .iter()
        .zip(b)
        .zip(lengths)
        .map(|((x, y), l)| ((x - y) / l).powi(2))
        .sum();
    let s5r = (5.0 * r2).sqrt();
    signal * (1.0 + s5r + 5.0 * r2 / 3.0) * (-s5r).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_signal_at_zero_distance_and_decays() {
        let l = [0.5, 0.5];
        assert_eq!(matern52(&[0.1, 0.2], &[0.1, 0.2], &l, 2.0), 2.0);
        let near = matern52(&[0.0, 0.0], &[0.1, 0.0], &l, 1.0);
        let far = matern52(&[0.0, 0.0], &[0.9, 0.0], &l, 1.0);
        assert!(1.0 > near && near > far && far > 0.0);
        // Known value at r = 1: (1 + √5 + 5/3) e^{-√5}.
        let r1 = matern52(&[0.0], &[0.5], &[0.5], 1.0);
        let expected = (1.0 + 5f64.sqrt() + 5.0 / 3.0) * (-(5f64.sqrt())).exp();
        assert!((r1 - expected).abs() < 1e-12);
    }
}
