//! Proposals in the replicated state: what a proposer asks for, and the
//! decision `apply` makes on it.
//!
//! These are state types, not wire types: the node converts a protocol
//! `Proposal` into a [`ProposalSpec`] before it goes into the log, and a
//! [`Decision`] back into an `approval` when it answers.
//!
//! The decision itself is made by `decide`: per change approved, pending
//! approval or rejected naming the constraint it breaks, with what would
//! have been allowed.

use crate::allowed::Allowed;
use crate::constraints::{ConstraintSet, Violation};
use crate::terms::RolloutTerms;
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
    /// Every change rejected (by the rules, or by an operator).
    Rejected,
    /// A change is beyond the auto-approve envelope: the proposal waits
    /// for operators, its approved changes with it.
    PendingApproval,
    /// It waited longer than the approval policy's expiry.
    Expired,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::PartiallyApproved => "partially_approved",
            Verdict::Rejected => "rejected",
            Verdict::PendingApproval => "pending_approval",
            Verdict::Expired => "expired",
        }
    }

    /// The verdict of a set of approved and rejected changes.
    pub fn of(approved: bool, rejected: bool) -> Verdict {
        match (approved, rejected) {
            (_, false) => Verdict::Approved,
            (false, true) => Verdict::Rejected,
            (true, true) => Verdict::PartiallyApproved,
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
    /// The parameter's maximum change rate when decided
    /// (`terms::max_change_rate`).
    pub max_change_rate: f64,
}

/// One operator's approval of a pending proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approver {
    pub identity: String,
    pub reason: String,
    pub at_ms: u64,
}

/// How a pending proposal was closed without approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closure {
    /// `reject` (an operator) or `expire` (the leader, past the expiry).
    pub action: String,
    pub identity: String,
    pub reason: String,
    pub at_ms: u64,
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
    /// The constraint version it was decided under.
    pub constraints_version: u64,
    /// Changes waiting for operators (while `PendingApproval`).
    pub pending: Vec<Approved>,
    /// Per rejected parameter, what would have been allowed (when the
    /// rule that refused it can say).
    pub allowed: BTreeMap<String, Allowed>,
    /// Who proposed it (no identity approves its own proposal).
    pub proposer: String,
    /// Distinct approvals needed while pending.
    pub required_approvals: u32,
    pub approvals: Vec<Approver>,
    /// When a pending proposal expires (0 when it never waited).
    pub expires_at_ms: u64,
    /// Set when an operator rejected it or it expired.
    pub closure: Option<Closure>,
    /// How its changes reach traffic, from the plan when decided.
    pub rollout: RolloutTerms,
    /// How its rollout ended (steady, or rolled back), once it has.
    pub finished: Option<Box<crate::rollout::progress::Finished>>,
}

impl Decision {
    /// Decides `spec` against hard constraints alone, every live value at
    /// its default (the format-1 behaviour; `decide` has the whole engine).
    pub fn make(spec: &ProposalSpec, constraints: &ConstraintSet, at_ms: u64) -> Decision {
        let target = crate::machine::Target {
            live: constraints.defaults(),
            constraints: constraints.clone(),
            ..Default::default()
        };
        crate::decide::decide(spec, &target, "", at_ms)
    }

    /// A decision with no change in it yet (rejected until it has one).
    pub fn new(
        proposal_id: &str,
        target: &str,
        decided_at_ms: u64,
        duration_seconds: u64,
    ) -> Decision {
        Decision {
            proposal_id: proposal_id.to_string(),
            target: target.to_string(),
            decided_at_ms,
            verdict: Verdict::Rejected,
            approved: Vec::new(),
            rejected: Vec::new(),
            duration_seconds,
            event_seq: 0,
            constraints_version: 0,
            pending: Vec::new(),
            allowed: BTreeMap::new(),
            proposer: String::new(),
            required_approvals: 0,
            approvals: Vec::new(),
            expires_at_ms: 0,
            closure: None,
            rollout: RolloutTerms::default(),
            finished: None,
        }
    }

    /// Every change that takes part in the candidate: approved and pending.
    pub fn candidate(&self) -> impl Iterator<Item = &Approved> {
        self.approved.iter().chain(&self.pending)
    }

    /// The audit details: id, verdict and every change, in a stable form.
    pub fn describe(&self) -> String {
        let list = |changes: &[Approved]| -> String {
            changes
                .iter()
                .map(|a| format!("{}={}", a.parameter, a.value))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let rejected: Vec<String> = self
            .rejected
            .iter()
            .map(|v| format!("{}:{}", v.parameter, v.constraint))
            .collect();
        let pending = if self.pending.is_empty() {
            String::new()
        } else {
            format!(
                " pending=[{}] approvals={}/{}",
                list(&self.pending),
                self.approvals.len(),
                self.required_approvals
            )
        };
        format!(
            "id={} decision={} approved=[{}] rejected=[{}]{pending} constraints_version={} event={}",
            self.proposal_id,
            self.verdict,
            list(&self.approved),
            rejected.join(" "),
            self.constraints_version,
            self.event_seq
        )
    }
}
