//! Convergence detection: when no observation has improved on the best by
//! a significant margin for `patience` rounds, the proposer slows down
//! (the pace factor doubles every further `patience` rounds, up to 16) and,
//! if asked to, stops after twice `patience`. A significant improvement
//! resumes the normal pace.

/// How fast to propose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Propose at the normal interval.
    Normal,
    /// Converged: propose `factor` times less often.
    Slow { factor: u32 },
    /// Converged and told to stop: propose no more.
    Stop,
}

/// Tracks rounds since the last significant improvement.
#[derive(Debug, Clone, PartialEq)]
pub struct Convergence {
    patience: usize,
    min_delta_rel: f64,
    min_delta_abs: f64,
    stop: bool,
    best: Option<f64>,
    since_improvement: usize,
}

impl Convergence {
    /// Converged after `patience` rounds without an improvement larger
    /// than `min_delta_rel` of the best (or `min_delta_abs`, if larger).
    pub fn new(patience: usize, min_delta_rel: f64, min_delta_abs: f64, stop: bool) -> Convergence {
        Convergence {
            patience: patience.max(1),
            min_delta_rel,
            min_delta_abs,
            stop,
            best: None,
            since_improvement: 0,
        }
    }

    /// Records one round's observed value (lower is better).
    pub fn record(&mut self, value: f64) {
        let significant = self.best.is_none_or(|b| {
            let margin = (self.min_delta_rel * b.abs()).max(self.min_delta_abs);
            value < b - margin
        });
        if significant {
            self.best = Some(value);
            self.since_improvement = 0;
        } else {
            self.since_improvement += 1;
        }
    }

    pub fn rounds_without_improvement(&self) -> usize {
        self.since_improvement
    }

    pub fn pace(&self) -> Pace {
        let periods = self.since_improvement / self.patience;
        match periods {
            0 => Pace::Normal,
            p if self.stop && p >= 2 => Pace::Stop,
            p => Pace::Slow {
                factor: 1 << p.min(4),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slows_then_stops_and_resumes_on_improvement() {
        let mut c = Convergence::new(3, 0.01, 0.0, true);
        c.record(10.0);
        for _ in 0..3 {
            c.record(9.95); // within 1 %: not significant
        }
        assert_eq!(c.pace(), Pace::Slow { factor: 2 });
        for _ in 0..3 {
            c.record(10.0);
        }
        assert_eq!(c.pace(), Pace::Stop);
        c.record(5.0);
        assert_eq!(c.pace(), Pace::Normal);
    }

    #[test]
    fn without_stop_it_only_slows_down_to_a_limit() {
        let mut c = Convergence::new(1, 0.0, 0.0, false);
        c.record(1.0);
        for _ in 0..10 {
            c.record(1.0);
        }
        assert_eq!(c.pace(), Pace::Slow { factor: 16 });
    }
}
