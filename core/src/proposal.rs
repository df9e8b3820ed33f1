//! Proposals in the replicated state: what a proposer asks for, and the
//! decision `apply` makes on it.
//!
//! These are state types, not wire types: the node converts a protocol
//! `Proposal` into a [`ProposalSpec`] before it goes into the log, and a
//! [`Decision`] back into an `approval` when it answers.
//!
//! The decision is per change: a change inside its parameter's hard
//! constraints is approved, any other is rejected naming the constraint it
//! breaks (`min_<p>`, `max_<p>`, `values_<p>`, `kind_<p>`,
//! `unknown_parameter`). Until rollouts exist (a later issue), an approval
//! is only recorded: live and last-known-good parameters do not change.

use crate::constraints::{ConstraintSet, Violation};
use crate::value::ParamValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// Most changes in one proposal (the wire limit too).
pub const MAX_CHANGES: usize = crate::constraints::MAX_PARAMETERS;

/// A new proposal older than this (by its own timestamp, against the
/// leader's time) is refused as stale (`decided::Staleness` has the whole
/// rule, the table's floor included).
pub const MAX_AGE_MS: u64 = crate::decided::WINDOW_MS;

/// One proposed change, as the proposer sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub parameter: String,
    /// What the proposer believes is live (informational; the state's own
    /// live value is what counts).
    pub current_value: ParamValue,
    pub proposed_value: ParamValue,
    pub reason: String,
}

/// A proposal as the state keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalSpec {
    pub proposal_id: String,
    /// The proposer's label (informational, not part of the content).
    pub source: String,
    pub target: String,
    /// When the proposer made it, Unix milliseconds. Not part of the
    /// content, but a retry repeats it: it is what the staleness check
    /// reads once the id is forgotten.
    pub timestamp_ms: i64,
    pub changes: Vec<Change>,
    pub expected_impact: BTreeMap<String, f64>,
    pub confidence: f64,
    pub duration_seconds: u64,
}

/// SHA-256 of what a proposal asks for.
pub type Fingerprint = [u8; 32];

/// Feeds what is written into a SHA-256.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ProposalSpec {
    /// The fingerprint of the content: target, changes, expected impact,
    /// confidence and duration. Two proposals under one id are "the same"
    /// when these are equal (`source` may differ; a retry repeats
    /// `timestamp_ms`, which the decided table compares on its own). The
    /// encoding streams into the hash, and a content that does not encode
    /// is an error, never the hash of nothing.
    pub fn fingerprint(&self) -> Result<Fingerprint, bincode::error::EncodeError> {
        let content = (
            &self.target,
            &self.changes,
            &self.expected_impact,
            self.confidence.to_bits(),
            self.duration_seconds,
        );
        let mut h = HashWriter(Sha256::new());
        h.0.update(b"arqonbus-proposal-v1\0");
        bincode::serde::encode_into_std_write(content, &mut h, bincode::config::standard())?;
        Ok(h.0.finalize().into())
    }

    /// What is wrong with its shape, if anything (the codec checks the
    /// same on the wire; `apply` checks again for commands from elsewhere).
    pub fn shape_problem(&self) -> Option<String> {
        if self.changes.is_empty() {
            return Some("a proposal has at least one change".into());
        }
        if self.changes.len() > MAX_CHANGES {
            return Some(format!("more than {MAX_CHANGES} changes"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.changes {
            if !seen.insert(c.parameter.as_str()) {
                return Some(format!("parameter `{}` is changed twice", c.parameter));
            }
        }
        None
    }
}

/// The outcome of a proposal as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Every change approved.
    Approved,
    /// Some approved, some rejected.
    PartiallyApproved,
    /// Every change rejected.
    Rejected,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::PartiallyApproved => "partially_approved",
            Verdict::Rejected => "rejected",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One approved change: the value in the parameter's kind (an int given
/// for a float parameter is widened).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approved {
    pub parameter: String,
    pub value: ParamValue,
}

/// The recorded decision on one proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub proposal_id: String,
    pub target: String,
    /// The leader's time of the command that decided it.
    pub decided_at_ms: u64,
    pub verdict: Verdict,
    pub approved: Vec<Approved>,
    /// One violation per rejected change, in the proposal's order.
    pub rejected: Vec<Violation>,
    /// How long the proposer asked for the change to be observed.
    pub duration_seconds: u64,
    /// The event number this decision got in its target's stream.
    pub event_seq: u64,
}

impl Decision {
    /// Decides `spec` against `constraints`, change by change.
    pub fn make(spec: &ProposalSpec, constraints: &ConstraintSet, at_ms: u64) -> Decision {
        let mut approved = Vec::new();
        let mut rejected = Vec::new();
        for c in &spec.changes {
            let checked = match constraints.parameters.get(&c.parameter) {
                None => Err(Violation {
                    parameter: c.parameter.clone(),
                    constraint: "unknown_parameter".into(),
                    reason: "no such parameter in the target's constraints".into(),
                }),
                Some(constraint) => constraint.check(&c.parameter, c.proposed_value.clone()),
            };
            match checked {
                Ok(value) => approved.push(Approved {
                    parameter: c.parameter.clone(),
                    value,
                }),
                Err(v) => rejected.push(v),
            }
        }
        let verdict = match (approved.is_empty(), rejected.is_empty()) {
            (_, true) => Verdict::Approved,
            (true, false) => Verdict::Rejected,
            (false, false) => Verdict::PartiallyApproved,
        };
        Decision {
            proposal_id: spec.proposal_id.clone(),
            target: spec.target.clone(),
            decided_at_ms: at_ms,
            verdict,
            approved,
            rejected,
            duration_seconds: spec.duration_seconds,
            event_seq: 0,
        }
    }

    /// The audit details: id, verdict and every change, in a stable form.
    pub fn describe(&self) -> String {
        let approved: Vec<String> = self
            .approved
            .iter()
            .map(|a| format!("{}={}", a.parameter, a.value))
            .collect();
        let rejected: Vec<String> = self
            .rejected
            .iter()
            .map(|v| format!("{}:{}", v.parameter, v.constraint))
            .collect();
        format!(
            "id={} decision={} approved=[{}] rejected=[{}] event={}",
            self.proposal_id,
            self.verdict,
            approved.join(" "),
            rejected.join(" "),
            self.event_seq
        )
    }
}
