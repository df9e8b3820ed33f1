//! Exploration strategy: a trust region. Proposals stay within a box of
//! side `length` (in unit-cube units) around the best point so far. The box
//! doubles after `success_tolerance` improvements in a row and halves after
//! `failure_tolerance` misses in a row; when it has shrunk below its
//! minimum it starts again at its initial size (a restart). Together with
//! the step limits around the live value this keeps a live service's
//! parameters from jumping across the space.

use crate::region::Region;
use crate::space::Assignment;

/// A TuRBO-style trust region.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustRegion {
    length: f64,
    initial: f64,
    min: f64,
    max: f64,
    success_tolerance: usize,
    failure_tolerance: usize,
    successes: usize,
    failures: usize,
    best: Option<f64>,
}

impl TrustRegion {
    /// A trust region for a space of `dims` unit-cube coordinates, with
    /// TuRBO's defaults (initial side 0.8, between 2⁻⁷ and 1.6).
    pub fn new(dims: usize) -> TrustRegion {
        TrustRegion {
            length: 0.8,
            initial: 0.8,
            min: 0.5f64.powi(7),
            max: 1.6,
            success_tolerance: 3,
            failure_tolerance: dims.max(4),
            successes: 0,
            failures: 0,
            best: None,
        }
    }

    pub fn length(&self) -> f64 {
        self.length
    }

    /// Records an observed value (lower is better) and resizes the box.
    pub fn record(&mut self, value: f64) {
        let improved = self.best.is_none_or(|b| value < b - 1e-3 * b.abs());
        if improved {
            self.best = Some(value);
            (self.successes, self.failures) = (self.successes + 1, 0);
        } else {
            (self.successes, self.failures) = (0, self.failures + 1);
        }
        if self.successes >= self.success_tolerance {
            self.length = (self.length * 2.0).min(self.max);
            self.successes = 0;
        }
        if self.failures >= self.failure_tolerance {
            self.length /= 2.0;
            self.failures = 0;
        }
        if self.length < self.min {
            self.length = self.initial;
        }
    }

    /// Cuts the region's numeric parameters to the box around `centre`.
    pub fn apply(&self, region: &mut Region, centre: &Assignment) {
        let space = region.space();
        for p in space.parameters() {
            if let Some(x) = centre.get(&p.name).and_then(|v| v.as_f64()) {
                region.narrow(&p.name, p.kind.to_unit(x), self.length / 2.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_on_success_shrinks_on_failure_and_restarts() {
        let mut tr = TrustRegion::new(2);
        for v in [3.0, 2.0, 1.0] {
            tr.record(v);
        }
        assert_eq!(tr.length(), 1.6);
        for _ in 0..4 {
            tr.record(5.0);
        }
        assert_eq!(tr.length(), 0.8);
        for _ in 0..4 * 7 {
            tr.record(5.0);
        }
        assert_eq!(tr.length(), 0.8, "shrunk below 2^-7 and restarted");
    }

    #[test]
    fn narrows_the_region_around_the_centre() {
        let space = crate::space::tests::one_float();
        let bounds = crate::feedback::LearnedBounds::from_space(&space);
        let live = Assignment::new();
        let mut region = Region::new(&space, &bounds, &live, 0).unwrap();
        let mut tr = TrustRegion::new(1);
        for _ in 0..4 {
            tr.record(1.0); // 1 success, 3 failures
        }
        tr.record(1.0); // fourth failure: 0.4
        let mut centre = Assignment::new();
        centre.insert("x".into(), crate::Value::Float(0.5));
        tr.apply(&mut region, &centre);
        let mut rng = crate::seeded(3);
        for _ in 0..50 {
            let a = region.sample(&mut rng).unwrap();
            let x = a["x"].as_f64().unwrap();
            assert!((0.3..=0.7).contains(&x), "{x}");
        }
    }
}
