//! The Mann–Whitney U test of a candidate sample against a baseline
//! sample, two-sided, with average ranks for ties, the tie-corrected
//! variance and a continuity correction: what
//! `scipy.stats.mannwhitneyu(candidate, baseline, alternative='two-sided',
//! use_continuity=True, method='asymptotic')` computes, and the effect
//! sizes that come with U.
//!
//! With `n₁` candidate and `n₂` baseline values, `n = n₁ + n₂`, `R₁` the
//! candidate's rank sum in the pooled sample and `t` the size of each group
//! of tied values:
//!
//! - `U = R₁ − n₁(n₁ + 1)/2`, the pairs in which the candidate is higher
//!   (a tie counts one half);
//! - `σ² = n₁n₂/12 · ((n + 1) − Σ(t³ − t) / (n(n − 1)))`;
//! - `z = sign(U − n₁n₂/2) · max(|U − n₁n₂/2| − ½, 0) / σ`, positive when
//!   the candidate tends higher, and 0 when every value is tied (`σ = 0`);
//! - `p = min(1, 2·Φ(−|z|))` with Φ the standard normal CDF of `statrs`.
//!
//! The normal approximation is what Kayenta's judge uses too; the verdict
//! asks for enough samples (50 per cohort by default) for it to hold.

use super::{Cohort, VerdictError};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// The test's result, with the candidate first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// The candidate's U (scipy's `statistic` with the candidate first).
    pub u: f64,
    /// The normal score; positive when the candidate tends higher.
    pub z: f64,
    /// Two-sided, in [0, 1].
    pub p_value: f64,
    /// `U / (n₁n₂)`: the chance that a candidate value is higher than a
    /// baseline value, ties counting half (Vargha and Delaney's A). 0.5
    /// means no shift.
    pub common_language: f64,
    /// `2·common_language − 1`, in [−1, 1] (Cliff's delta): positive when
    /// the candidate tends higher, 0 for no shift.
    pub rank_biserial: f64,
}

/// Runs the test. Both samples must be non-empty and finite.
pub fn mann_whitney(candidate: &[f64], baseline: &[f64]) -> Result<MannWhitney, VerdictError> {
    check(Cohort::Candidate, candidate)?;
    check(Cohort::Baseline, baseline)?;
    let n1 = candidate.len() as f64;
    let n2 = baseline.len() as f64;
    let ranked = rank(candidate, baseline);
    let u = ranked.candidate_rank_sum - n1 * (n1 + 1.0) / 2.0;
    let z = z_score(u, n1, n2, ranked.tie_term);
    let common_language = u / (n1 * n2);
    Ok(MannWhitney {
        u,
        z,
        p_value: two_sided_p(z),
        common_language,
        rank_biserial: 2.0 * common_language - 1.0,
    })
}

/// Refuses an empty sample or one with NaN or an infinity.
pub(super) fn check(cohort: Cohort, samples: &[f64]) -> Result<(), VerdictError> {
    if samples.is_empty() {
        return Err(VerdictError::Empty { cohort });
    }
    match samples.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(VerdictError::NonFinite {
            cohort,
            index,
            value,
        }),
        None => Ok(()),
    }
}

/// What ranking the pooled sample yields.
struct Ranked {
    /// The candidate's sum of (average) ranks, ranks starting at 1.
    candidate_rank_sum: f64,
    /// `Σ(t³ − t)` over the groups of tied values.
    tie_term: f64,
}

/// Ranks the pooled values, tied values sharing their average rank.
fn rank(candidate: &[f64], baseline: &[f64]) -> Ranked {
    let mut pooled: Vec<(f64, bool)> = candidate
        .iter()
        .map(|&v| (v, true))
        .chain(baseline.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranked = Ranked {
        candidate_rank_sum: 0.0,
        tie_term: 0.0,
    };
    let mut below = 0usize;
    // `==`, not the sort's total order, decides a tie: -0.0 ties 0.0.
    for group in pooled.chunk_by(|a, b| a.0 == b.0) {
        let t = group.len() as f64;
        let average_rank = below as f64 + (t + 1.0) / 2.0;
        let from_candidate = group.iter().filter(|(_, c)| *c).count() as f64;
        ranked.candidate_rank_sum += average_rank * from_candidate;
        ranked.tie_term += t * t * t - t;
        below += group.len();
    }
    ranked
}

/// The continuity-corrected normal score of `u` (0 when σ is 0).
fn z_score(u: f64, n1: f64, n2: f64, tie_term: f64) -> f64 {
    let n = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    let sd = variance.max(0.0).sqrt();
    let distance = u - n1 * n2 / 2.0;
    let corrected = (distance.abs() - 0.5).max(0.0);
    if sd > 0.0 && corrected > 0.0 {
        distance.signum() * corrected / sd
    } else {
        0.0
    }
}

/// `min(1, 2·Φ(−|z|))`.
fn two_sided_p(z: f64) -> f64 {
    (2.0 * Normal::standard().cdf(-z.abs())).clamp(0.0, 1.0)
}
