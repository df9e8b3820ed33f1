//! What ArqonBus tells the proposer, as data: a rejection (per parameter,
//! the constraint it broke and what is `allowed`), a rollback (the values
//! rolled back, the outcome that tripped it, and a quarantine around them),
//! and the observed outcome of a rollout that held.
//!
//! These mirror the constraint engine's rejection payload; the proposer
//! runtime maps between the two. The engine learns from them through the
//! [`Feedback`] trait, so it is tested without a cluster (see `sim`).

mod bounds;

pub use bounds::LearnedBounds;

use crate::error::HpoError;
use crate::space::{Assignment, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The engine's id of one proposal.
pub type ProposalId = u64;

/// A time in milliseconds on the clock ArqonBus stamps its messages with.
pub type Millis = u64;

/// What a rejected parameter may be, as the constraint engine says it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Allowed {
    /// A hard range: `{"min": 1, "max": 64}`.
    Range(RangeAllowed),
    /// The members allowed: `{"values": ["lru", "lfu"]}`.
    Values(ValuesAllowed),
    /// A quarantine until a time: `{"quarantine_until_ms": 1700000000000}`.
    Quarantine(QuarantineAllowed),
    /// The largest move from the live value: `{"max_step_abs": 8}` and/or
    /// `{"max_step_rel": 0.25}`.
    Step(StepAllowed),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeAllowed {
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuesAllowed {
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAllowed {
    pub max_step_abs: Option<f64>,
    pub max_step_rel: Option<f64>,
}

/// The rejected value is quarantined (it, or one within `distance` of it)
/// until `quarantine_until_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantineAllowed {
    pub quarantine_until_ms: Millis,
    #[serde(default)]
    pub distance: f64,
}

/// One rejected parameter of a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterRejection {
    pub parameter: String,
    /// The constraint's name (`max_batch_size`), kept for reports.
    #[serde(default)]
    pub constraint_violated: Option<String>,
    pub allowed: Allowed,
}

/// A proposal ArqonBus refused. It closes the proposal: no outcome follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub proposal: ProposalId,
    pub parameters: Vec<ParameterRejection>,
}

/// A rollout ArqonBus rolled back on a telemetry breach.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Rollback {
    pub proposal: ProposalId,
    /// The objective value observed when it was rolled back, if known;
    /// otherwise the engine records the worst value it has seen.
    #[serde(default)]
    pub observed: Option<f64>,
    /// The values now live again (last-known-good); by default the live
    /// values from before the proposal.
    #[serde(default)]
    pub restored: Option<Assignment>,
    /// Until when the rolled-back values are quarantined, if they are.
    #[serde(default)]
    pub quarantine_until_ms: Option<Millis>,
    /// Per parameter, how far around the rolled-back value the quarantine
    /// reaches (0, the value itself, when not given).
    #[serde(default)]
    pub distance: BTreeMap<String, f64>,
}

/// How the engine learns from ArqonBus. Each call checks its input whole
/// and, on an error, changes nothing.
pub trait Feedback {
    /// The proposal ran (its rollout held) and the objective took `value`.
    fn observed(&mut self, proposal: ProposalId, value: f64) -> Result<(), HpoError>;
    /// ArqonBus rejected the proposal.
    fn rejected(&mut self, rejection: &Rejection) -> Result<(), HpoError>;
    /// ArqonBus rolled the proposal back.
    fn rolled_back(&mut self, rollback: &Rollback) -> Result<(), HpoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_forms_parse_from_the_constraint_engines_json() {
        let parse = |s: &str| serde_json::from_str::<Allowed>(s).unwrap();
        assert!(matches!(
            parse(r#"{"min": 1, "max": 64}"#),
            Allowed::Range(_)
        ));
        assert!(matches!(
            parse(r#"{"values": ["lru"]}"#),
            Allowed::Values(_)
        ));
        assert!(matches!(
            parse(r#"{"max_step_rel": 0.25}"#),
            Allowed::Step(_)
        ));
        assert!(matches!(
            parse(r#"{"quarantine_until_ms": 5, "distance": 2}"#),
            Allowed::Quarantine(_)
        ));
        assert!(serde_json::from_str::<Allowed>(r#"{"maximum": 3}"#).is_err());
    }
}
