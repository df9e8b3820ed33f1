//! The adaptation layer around the optimizers:
//! - [`Staged`]: algorithm selection: random while warming up, then the model;
//! - [`TrustRegion`]: exploration strategy: proposals stay in a box around
//!   the best point, which grows on success and shrinks on failure;
//! - [`Convergence`]: no significant improvement over N rounds slows, then
//!   (if asked) stops, proposing.

mod convergence;
mod staged;
mod trust_region;

pub use convergence::{Convergence, Pace};
pub use staged::Staged;
pub use trust_region::TrustRegion;
