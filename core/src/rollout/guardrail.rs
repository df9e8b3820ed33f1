//! A guardrail evaluated over a window of samples: the candidate cohort's
//! aggregate against an absolute limit, or against the baseline cohort's
//! aggregate times a factor (or plus an offset). Too few samples is its own
//! answer, never a breach: a single noisy sample does not roll back a
//! guardrail that asks for a minimum count.

use crate::policy::{Aggregate, Guardrail, Limit};

/// What one evaluation of a guardrail found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evaluation {
    /// Fewer samples than `min_samples` in a cohort the limit needs.
    TooFew {
        have: u64,
        need: u64,
    },
    Holds {
        value: f64,
        limit: f64,
    },
    Breach {
        value: f64,
        limit: f64,
    },
}

impl Evaluation {
    pub fn is_breach(&self) -> bool {
        matches!(self, Evaluation::Breach { .. })
    }
}

/// The aggregate of `values` (`None` when empty). Percentiles are by
/// nearest rank: the smallest value with at least p% of values at or
/// below it.
pub fn aggregate(how: Aggregate, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = |p: f64| {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let k = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[k - 1]
    };
    Some(match how {
        Aggregate::Mean => values.iter().sum::<f64>() / values.len() as f64,
        Aggregate::P50 => rank(0.50),
        Aggregate::P90 => rank(0.90),
        Aggregate::P99 => rank(0.99),
        Aggregate::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// Evaluates `guardrail` over the samples of its window in each cohort.
pub fn evaluate(guardrail: &Guardrail, candidate: &[f64], baseline: &[f64]) -> Evaluation {
    let need = guardrail.min_samples.max(1);
    let relative = !matches!(guardrail.limit, Limit::Value(_));
    let have = if relative {
        candidate.len().min(baseline.len())
    } else {
        candidate.len()
    } as u64;
    if have < need {
        return Evaluation::TooFew { have, need };
    }
    let (Some(value), base) = (
        aggregate(guardrail.aggregate, candidate),
        aggregate(guardrail.aggregate, baseline),
    ) else {
        return Evaluation::TooFew { have: 0, need };
    };
    let limit = guardrail.limit.resolve(base.unwrap_or(0.0));
    if guardrail.direction.holds(value, limit) {
        Evaluation::Holds { value, limit }
    } else {
        Evaluation::Breach { value, limit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Direction;

    fn rail(limit: Limit, min_samples: u64) -> Guardrail {
        Guardrail {
            name: "latency".into(),
            metric: "latency_p99".into(),
            aggregate: Aggregate::Mean,
            window_s: 60,
            direction: Direction::AtMost,
            limit,
            min_samples,
            failure_limit: 1,
        }
    }

    #[test]
    fn one_noisy_sample_under_the_minimum_is_not_a_breach() {
        let g = rail(Limit::Value(100.0), 5);
        assert_eq!(
            evaluate(&g, &[10_000.0], &[]),
            Evaluation::TooFew { have: 1, need: 5 }
        );
        let five = [10.0, 10.0, 10.0, 10.0, 10_000.0];
        assert!(evaluate(&g, &five, &[]).is_breach(), "five samples judge");
    }

    #[test]
    fn a_relative_limit_needs_both_cohorts_and_scales_the_baseline() {
        let g = rail(Limit::BaselineFactor(1.5), 2);
        assert!(matches!(
            evaluate(&g, &[20.0, 20.0], &[10.0]),
            Evaluation::TooFew { have: 1, .. }
        ));
        assert_eq!(
            evaluate(&g, &[14.0, 16.0], &[10.0, 10.0]),
            Evaluation::Holds {
                value: 15.0,
                limit: 15.0
            }
        );
        assert!(evaluate(&g, &[16.0, 16.0], &[10.0, 10.0]).is_breach());
    }

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(aggregate(Aggregate::P50, &v), Some(50.0));
        assert_eq!(aggregate(Aggregate::P90, &v), Some(90.0));
        assert_eq!(aggregate(Aggregate::P99, &v), Some(99.0));
        assert_eq!(aggregate(Aggregate::Max, &v), Some(100.0));
        assert_eq!(aggregate(Aggregate::P99, &[3.0]), Some(3.0));
        assert_eq!(aggregate(Aggregate::Mean, &[]), None);
    }
}
