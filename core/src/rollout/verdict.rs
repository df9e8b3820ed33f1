//! The verdict at the end of a rollout (post-deployment validation): per
//! metric, is the candidate cohort worse than the baseline cohort? So far
//! the statistical test it rests on, [`mann_whitney`].

mod mann_whitney;

pub use mann_whitney::{mann_whitney, MannWhitney};

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// One side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cohort {
    Candidate,
    Baseline,
}

impl fmt::Display for Cohort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cohort::Candidate => "candidate",
            Cohort::Baseline => "baseline",
        })
    }
}

/// Why no verdict could be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum VerdictError {
    #[error("{cohort} sample {index} is {value}, not a finite number")]
    NonFinite {
        cohort: Cohort,
        index: usize,
        value: f64,
    },
    #[error("the {cohort} sample is empty")]
    Empty { cohort: Cohort },
}

#[cfg(test)]
mod tests;
