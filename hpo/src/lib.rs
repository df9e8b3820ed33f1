//! ArqonHPO, the propose loop's engine: an optimizer for live, noisy,
//! drifting, constrained objectives that learns from ArqonBus's rejections
//! and rollbacks.
//!
//! - [`space`]: parameters, kinds, conditions, the space file.
//! - [`optimizer`]: the ask/tell [`Optimizer`] trait; random search, local
//!   search, and a Gaussian-process optimizer with expected improvement.
//! - [`adapt`]: the adaptation layer: warm-up then model, trust region,
//!   convergence detection.
//! - [`feedback`]: what ArqonBus tells the proposer, and the bounds learned
//!   from it.
//! - [`region`]: where a proposal may be drawn from now.
//! - [`engine`]: ties them together: proposals with expected impact and
//!   confidence, never one that what was learned says will be rejected.
//! - [`ask_tell`]: the JSON-lines protocol any language can drive.
//! - [`objectives`], [`sim`]: test objectives and a simulated enforcer.
//!
//! The engine reads no clock: time comes in with the calls, and all
//! randomness comes from one seed, so a run is reproducible.

pub mod adapt;
pub mod ask_tell;
pub mod engine;
pub mod error;
pub mod feedback;
pub mod objectives;
pub mod optimizer;
pub mod region;
pub mod sim;
pub mod space;

pub use engine::{Engine, EngineConfig, Proposal};
pub use error::HpoError;
pub use feedback::Feedback;
pub use optimizer::Optimizer;
pub use space::{Assignment, Space, Value};

/// The one random generator type: seeded, portable, reproducible.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A generator from a seed.
pub fn seeded(seed: u64) -> Rng {
    use rand::SeedableRng;
    Rng::seed_from_u64(seed)
}
