//! The typed errors of the engine. Every one leaves the engine unchanged:
//! input is checked whole before anything is learned from it.

use thiserror::Error;

/// What went wrong, in terms a proposer runtime or an ask-tell driver can act on.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum HpoError {
    /// The space file is not valid TOML or has the wrong shape.
    #[error("space file {path}: {message}")]
    SpaceSyntax { path: String, message: String },
    /// The space parses but contradicts itself; every problem is listed.
    #[error("invalid space: {}", .0.join("; "))]
    InvalidSpace(Vec<String>),
    /// A parameter the space does not have.
    #[error("unknown parameter `{0}`")]
    UnknownParameter(String),
    /// A proposal id that is not waiting for an answer.
    #[error("unknown proposal id {0} (never proposed, or already answered)")]
    UnknownProposal(u64),
    /// A NaN or infinite number where a finite one is needed.
    #[error("{what} is not a finite number")]
    NotFinite { what: String },
    /// A value or bound of the wrong kind for its parameter.
    #[error("parameter `{parameter}`: expected {expected}, got {got}")]
    KindMismatch {
        parameter: String,
        expected: String,
        got: String,
    },
    /// What was learned leaves a parameter no value at all.
    #[error("parameter `{parameter}`: {reason}")]
    EmptyBounds { parameter: String, reason: String },
    /// No candidate that what was learned admits could be found.
    #[error("no admissible proposal found after {tries} tries")]
    NoAdmissibleProposal { tries: usize },
    /// The chosen candidate breaks what was learned; it is not sent.
    #[error("candidate would be rejected: {0}")]
    WouldBeRejected(String),
    /// An algorithm name the engine does not know.
    #[error("unknown algorithm `{0}` (known: random, local, gp, auto)")]
    UnknownAlgorithm(String),
}

impl HpoError {
    /// A short machine-readable name of the error, for protocol replies.
    pub fn kind(&self) -> &'static str {
        match self {
            HpoError::SpaceSyntax { .. } | HpoError::InvalidSpace(_) => "invalid_space",
            HpoError::UnknownParameter(_) => "unknown_parameter",
            HpoError::UnknownProposal(_) => "unknown_id",
            HpoError::NotFinite { .. } => "not_finite",
            HpoError::KindMismatch { .. } => "kind_mismatch",
            HpoError::EmptyBounds { .. } => "empty_bounds",
            HpoError::NoAdmissibleProposal { .. } => "no_admissible_proposal",
            HpoError::WouldBeRejected(_) => "would_be_rejected",
            HpoError::UnknownAlgorithm(_) => "unknown_algorithm",
        }
    }
}
