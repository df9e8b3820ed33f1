//! `arqonbus-sim`: a simulated agent of a target system, for trying
//! rollouts end to end without the real system. [`Model`] says how the
//! system's metrics respond to its parameters (with seeded noise and
//! knobs that make a candidate breach a guardrail); [`Agent`] follows the
//! assignment, splits synthetic requests into cohorts exactly as a real
//! agent must (PROTOCOL.md §6.15), and reports tagged telemetry. The
//! binary wraps both; tests use them in process.

pub mod agent;
pub mod model;

pub use agent::{Agent, AgentError, AgentOptions, AgentStats};
pub use model::{Degrade, Model, ModelError};
