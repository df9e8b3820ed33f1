//! A proposal as the engine makes it, with what the model expects of it:
//! `expected_impact`, the predicted change of the objective against the
//! live values (or the best point, when the live values are not all
//! known), and `confidence`, the model's probability that the proposal is
//! better than that reference.

use super::Engine;
use crate::feedback::ProposalId;
use crate::optimizer::{Candidate, Prediction};
use crate::space::Assignment;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

/// One proposal for the target system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub id: ProposalId,
    /// The value of every active parameter.
    pub parameters: Assignment,
    /// The parameters whose value differs from the live one.
    pub changes: Vec<String>,
    /// Predicted change of the objective, in its units (`None` before the
    /// model has data).
    pub expected_impact: Option<f64>,
    /// Probability, by the model, that this beats the reference.
    pub confidence: Option<f64>,
    /// The optimizer that chose it.
    pub algorithm: &'static str,
}

impl Engine {
    pub(super) fn proposal(&self, id: ProposalId, candidate: Candidate) -> Proposal {
        let parameters = candidate.assignment;
        let changes = parameters
            .iter()
            .filter(|(name, v)| self.live.get(*name) != Some(*v))
            .map(|(name, _)| name.clone())
            .collect();
        let sign = self.space.direction().sign();
        let predicted = self.optimizer.predict(&parameters);
        let reference = self.reference().and_then(|r| self.optimizer.predict(&r));
        let (expected_impact, confidence) = match (predicted, reference) {
            (Some(p), Some(r)) => (
                Some(sign * (p.mean - r.mean)),
                Some(better_probability(p, r)),
            ),
            _ => (None, None),
        };
        Proposal {
            id,
            parameters,
            changes,
            expected_impact,
            confidence,
            algorithm: candidate.algorithm,
        }
    }

    /// What a proposal is compared with: the live values when they cover
    /// every active parameter, else the best point so far.
    fn reference(&self) -> Option<Assignment> {
        let mut live = self.live.clone();
        self.space.prune_inactive(&mut live);
        let complete = self
            .space
            .parameters()
            .iter()
            .all(|p| live.contains_key(&p.name) || !self.space.is_active(&p.name, &live));
        if complete && !live.is_empty() {
            Some(live)
        } else {
            self.best().map(|r| r.assignment.clone())
        }
    }
}

/// P(candidate < reference) for independent normal predictions (values to
/// minimise).
fn better_probability(candidate: Prediction, reference: Prediction) -> f64 {
    let spread = (candidate.std.powi(2) + reference.std.powi(2)).sqrt();
    if spread <= 1e-12 {
        return if candidate.mean < reference.mean {
            1.0
        } else {
            0.5
        };
    }
    Normal::standard().cdf((reference.mean - candidate.mean) / spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_is_a_probability_of_improvement() {
        let p = |mean, std| Prediction { mean, std };
        assert_eq!(better_probability(p(1.0, 1.0), p(1.0, 1.0)), 0.5);
        assert!(better_probability(p(0.0, 0.1), p(1.0, 0.1)) > 0.99);
        assert!(better_probability(p(2.0, 0.1), p(1.0, 0.1)) < 0.01);
    }
}
