//! The replicated state and `apply`: deterministic, no IO, no clock.
//!
//! Every replica that applies the same commands ends with the same bytes,
//! audit chain included: maps are ordered, time comes from the command, and
//! every command (refused ones too) produces its audit entry here. The node
//! persists those entries; this module only decides what they say.

use crate::audit::{AuditEntry, AuditHead, AuditRecord};
use crate::command::{Actor, Command, CommandError, CommandResult, Op, Outcome};
use crate::constraints::ConstraintSet;
use crate::decided::DecidedTable;
use crate::events::EventLog;
use crate::policy::Policy;
use crate::rollout::progress::{Assignment, RollbackRecord, Rollout, STEADY};
use crate::rollout::verdict::Verdict;
use crate::seal::Seal;
use crate::sessions::Sessions;
use crate::value::ParamValue;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One target system's replicated state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Target {
    pub constraints: ConstraintSet,
    /// Bumped on every accepted constraint change, from 1.
    pub constraints_version: u64,
    /// What the target runs now.
    pub live: BTreeMap<String, ParamValue>,
    /// What the target falls back to (and what clients serve when cut off).
    pub last_known_good: BTreeMap<String, ParamValue>,
    /// The target's numbered events (decisions), newest kept.
    pub events: EventLog,
    /// The format-2 policy of the current constraints.
    pub policy: Policy,
    /// The newest constraint versions, current included (`constraints get
    /// --version N`); at most [`VERSIONS_KEPT`].
    pub history: BTreeMap<u64, Versioned>,
    /// The proposal pending approval, if any: the target's active one.
    pub pending: Option<String>,
    /// The approved proposal rolling out, if any: the target's active one.
    pub rollout: Option<Rollout>,
    /// The assignment's epoch: bumped on every change of what agents
    /// serve (a rollout's start and phases, its end, an override).
    pub epoch: u64,
    /// The newest rollbacks, oldest first (at most [`RECENT_KEPT`]).
    pub recent_rollbacks: Vec<RollbackRecord>,
    /// The newest end-of-rollout verdicts, oldest first.
    pub recent_verdicts: Vec<VerdictRecord>,
    /// Rolled-back values a proposal may not bring back yet.
    pub quarantine: Vec<Quarantined>,
    /// No proposal is decided before this time (after a rollback).
    pub cooldown_until_ms: u64,
    /// The last committed observed summary (metric -> value), which
    /// predicted guardrail violations are judged against. Rollouts commit it.
    pub observed: Option<BTreeMap<String, f64>>,
}

pub use crate::rollout::progress::RECENT_KEPT;

/// Constraint versions kept per target.
pub const VERSIONS_KEPT: usize = 32;

/// One version of a target's constraints.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Versioned {
    pub constraints: ConstraintSet,
    pub policy: Policy,
}

/// The verdict at the end of one rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRecord {
    pub proposal_id: String,
    pub at_ms: u64,
    pub verdict: Verdict,
}

impl Target {
    /// The proposal that holds the target: pending approval, or rolling
    /// out. A new proposal, an override or a constraint change waits for
    /// it (or forces it out).
    pub fn active_proposal(&self) -> Option<&str> {
        self.pending
            .as_deref()
            .or(self.rollout.as_ref().map(|r| r.proposal_id.as_str()))
    }

    /// What the target's agents serve now.
    pub fn assignment(&self) -> Assignment {
        let baseline = self.last_known_good.clone();
        match &self.rollout {
            Some(r) => Assignment {
                epoch: self.epoch,
                proposal_id: Some(r.proposal_id.clone()),
                phase: r.phase_name().to_string(),
                share: r.share(),
                baseline,
                candidate: Some(r.candidate.clone()),
            },
            None => Assignment {
                epoch: self.epoch,
                proposal_id: None,
                phase: STEADY.to_string(),
                share: 0,
                baseline,
                candidate: None,
            },
        }
    }
}

/// A rolled-back value, refused until `until_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quarantined {
    pub parameter: String,
    pub value: ParamValue,
    pub until_ms: u64,
}

/// The whole replicated state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct State {
    pub targets: BTreeMap<String, Target>,
    pub decided: DecidedTable,
    /// The newest leader timestamp applied so far.
    pub last_at_ms: u64,
    /// Where the audit chain stands.
    pub audit: AuditHead,
    /// The sequence numbers clients' sessions have used (replays refused).
    pub sessions: Sessions,
}

/// The result of applying one log entry: the answer and its audit entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub result: CommandResult,
    pub audit: Vec<AuditEntry>,
}

impl State {
    /// Applies one command from the log.
    pub fn apply(&mut self, command: &Command) -> Applied {
        let mut audit = Vec::new();
        let result = match &command.op {
            Op::Batch(commands) => Ok(Outcome::Batch(
                commands
                    .iter()
                    .map(|inner| match inner.op {
                        Op::Batch(_) => {
                            let err = CommandError::NestedBatch;
                            self.note(inner, "invalid", err.to_string(), None, &mut audit);
                            Err(err)
                        }
                        _ => self.apply_one(inner, &mut audit),
                    })
                    .collect(),
            )),
            _ => self.apply_one(command, &mut audit),
        };
        Applied { result, audit }
    }

    /// Records a change of cluster membership in the audit chain.
    pub fn apply_membership(&mut self, details: String) -> AuditEntry {
        self.append(AuditRecord {
            at_ms: self.last_at_ms,
            actor: "raft".into(),
            action: "membership".into(),
            target: String::new(),
            details,
            seal: None,
        })
    }

    fn apply_one(&mut self, command: &Command, audit: &mut Vec<AuditEntry>) -> CommandResult {
        self.last_at_ms = self.last_at_ms.max(command.at_ms);
        if let Err(err) = authorize(&command.actor, &command.op) {
            self.note(command, "forbidden", err.to_string(), None, audit);
            return Err(err);
        }
        if let Err(err) = self.check_sender(command) {
            // Not verified (or refused): the chain keeps no seal of it.
            let details = format!("{}: {err}", command.op.action());
            self.note(command, "refused", details, None, audit);
            return Err(err);
        }
        let result = match &command.op {
            // The format-1 commands meet the same guards as the workflow's,
            // without `force`: there is one rule and no second door.
            Op::SetConstraints {
                target,
                constraints,
            } => self.configure_hard(target, constraints, command.at_ms),
            Op::Configure {
                target,
                constraints,
                policy,
                force,
            } => self.configure(target, constraints, policy, *force, command.at_ms),
            Op::SetParameters {
                target,
                values,
                expected,
            } => self.set_parameters(target, values, expected.as_ref(), false, command.at_ms),
            Op::Override {
                target,
                values,
                expected,
                force,
            } => self.set_parameters(target, values, expected.as_ref(), *force, command.at_ms),
            Op::Propose { proposal } => self.propose(proposal, &command.actor, command.at_ms),
            Op::Approve {
                proposal_id,
                reason,
            } => self.approve(proposal_id, reason, &command.actor, command.at_ms),
            Op::RejectPending {
                proposal_id,
                reason,
            } => self.reject_pending(proposal_id, reason, &command.actor, command.at_ms),
            Op::Expire { proposal_id } => self.expire(proposal_id, &command.actor, command.at_ms),
            Op::Rollback { target, reason } => {
                self.rollback_by_operator(target, reason, &command.actor, command.at_ms)
            }
            Op::AdvancePhase {
                target,
                proposal_id,
                from_phase,
                verdict,
            } => self.advance(
                target,
                proposal_id,
                *from_phase,
                verdict.as_ref(),
                command.at_ms,
            ),
            Op::Steer {
                target,
                action,
                reason: _,
            } => self.steer(target, *action, command.at_ms),
            Op::AbortRollout {
                target,
                proposal_id,
                cause,
            } => self.abort_rollout(target, proposal_id, cause, command.at_ms),
            Op::Observe {
                target,
                proposal_id,
                observed,
                impact,
                new_violations,
            } => self.observe(
                target,
                proposal_id,
                observed,
                impact,
                *new_violations,
                command.at_ms,
            ),
            Op::SecurityEvent { .. } => Ok(Outcome::Recorded),
            Op::SecuritySummary(summary) => match summary.problem() {
                None => Ok(Outcome::Recorded),
                Some(problem) => Err(CommandError::InvalidSummary(problem)),
            },
            Op::Batch(_) => Err(CommandError::NestedBatch),
        };
        let (action, details) = match (&result, &command.op) {
            (
                Ok(_),
                Op::SecurityEvent {
                    identity,
                    role,
                    what,
                },
            ) => (
                "security_event",
                format!("{identity} (role {role}): {what}"),
            ),
            (Ok(_), Op::SecuritySummary(summary)) => ("security_summary", summary.describe()),
            (Ok(outcome), op) if forced(outcome, op) => (
                match op {
                    Op::Configure { .. } => "constraints_forced",
                    _ => "params_forced",
                },
                describe(outcome),
            ),
            (Ok(outcome), op) => (command.op.action(), with_reason(describe(outcome), op)),
            (Err(err), _) => ("refused", format!("{}: {err}", command.op.action())),
        };
        // Verified by `check_sender`: the entry keeps it (format 2).
        self.note(command, action, details, command.seal.clone(), audit);
        result
    }

    /// Refuses a client request whose signature does not verify (again:
    /// whichever node proposed it), an unsigned one where the target's
    /// policy requires signing, and a replayed or stale one; records a new
    /// one's sequence number. The exact re-send of a decided proposal
    /// passes unrecorded: `propose` answers it with the recorded decision.
    fn check_sender(&mut self, command: &Command) -> Result<(), CommandError> {
        self.sessions.expire(self.last_at_ms);
        let Some(origin) = &command.origin else {
            return Ok(());
        };
        match &command.seal {
            Some(seal) => seal
                .check(Some(origin))
                .map_err(|e| CommandError::Unauthenticated(e.to_string()))?,
            None if self.signing_required(&command.op) => {
                return Err(CommandError::Unauthenticated(
                    "the target's policy requires state changes to be signed".into(),
                ))
            }
            None => {}
        }
        let identity = &command.actor.identity;
        match self.sessions.accept(identity, origin, command.at_ms) {
            Err(CommandError::Replay { .. })
                if matches!(&command.op, Op::Propose { proposal }
                    if self.decided.get(&proposal.proposal_id).is_some()) =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// Whether the target a command is about requires signed changes
    /// (`[security] signing_required`). A target not known yet has no
    /// policy: the node that proposed the command judged it.
    fn signing_required(&self, op: &Op) -> bool {
        let target = match op {
            Op::Approve { proposal_id, .. } | Op::RejectPending { proposal_id, .. } => {
                self.decided.get(proposal_id).map(|d| d.target.as_str())
            }
            op => Some(op.target()),
        };
        target
            .and_then(|t| self.targets.get(t))
            .is_some_and(|t| t.policy.security.signing_required)
    }

    fn note(
        &mut self,
        command: &Command,
        action: &str,
        details: String,
        seal: Option<Seal>,
        audit: &mut Vec<AuditEntry>,
    ) {
        audit.push(self.append(AuditRecord {
            at_ms: command.at_ms,
            actor: command.actor.identity.clone(),
            action: action.to_string(),
            target: command.op.target().to_string(),
            details,
            seal,
        }));
    }

    fn append(&mut self, record: AuditRecord) -> AuditEntry {
        let entry = AuditEntry::after(&self.audit, record);
        self.audit = entry.head();
        entry
    }
}

fn authorize(actor: &Actor, op: &Op) -> Result<(), CommandError> {
    let allowed = op.permission().is_none_or(|p| actor.role.may(p));
    if allowed {
        Ok(())
    } else {
        Err(CommandError::Forbidden {
            identity: actor.identity.clone(),
            role: actor.role,
            action: op.action().to_string(),
        })
    }
}

/// The audit details of a successful command, in a stable order.
fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::ConstraintsSet {
            version,
            out_of_bounds,
            forced,
            ..
        } => format!(
            "version={version} out_of_bounds={out_of_bounds:?}{}",
            if *forced { " forced" } else { "" }
        ),
        Outcome::ParametersSet { values, .. } => values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
        Outcome::Batch(results) => format!("{} commands", results.len()),
        Outcome::Proposal {
            decision,
            first: true,
        } => decision.describe(),
        Outcome::Proposal {
            decision,
            first: false,
        } => format!("duplicate, recorded {}", decision.describe()),
        Outcome::Recorded => String::new(),
        Outcome::ProposalUpdated { decision } => decision.describe(),
        Outcome::RolloutMoved {
            proposal_id,
            epoch,
            phase,
            ..
        } => format!("id={proposal_id} phase={phase} epoch={epoch}"),
        Outcome::RolledBack {
            proposal_id,
            quarantined,
            quarantine_until_ms,
            cause,
            ..
        } => format!(
            "id={proposal_id} cause={cause} quarantined=[{}] until={quarantine_until_ms}",
            quarantined
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// The details with the reason a person (or the leader) gave, for the
/// commands that carry one, and the verdict that ended a rollout.
fn with_reason(details: String, op: &Op) -> String {
    if let Op::AdvancePhase {
        verdict: Some(v), ..
    } = op
    {
        let metrics: Vec<String> = v
            .metrics
            .iter()
            .map(|m| format!("{}={}", m.metric, m.class))
            .collect();
        return format!(
            "{details} verdict={} [{}] reason={:?}",
            v.class,
            metrics.join(" "),
            v.reason
        );
    }
    let reason = match op {
        Op::Steer { reason, .. } | Op::Rollback { reason, .. } => reason.as_str(),
        Op::AbortRollout { cause, .. } => cause.detail.as_str(),
        _ => "",
    };
    if reason.is_empty() {
        details
    } else {
        format!("{details} reason={reason:?}")
    }
}

/// Whether a successful command was forced past a guard.
fn forced(outcome: &Outcome, _op: &Op) -> bool {
    matches!(
        outcome,
        Outcome::ConstraintsSet { forced: true, .. } | Outcome::ParametersSet { forced: true, .. }
    )
}

mod approve;
mod configure;
mod propose;
mod rollout;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_approve;
#[cfg(test)]
mod tests_decided;
#[cfg(test)]
mod tests_legacy;
#[cfg(test)]
mod tests_propose;
#[cfg(test)]
mod tests_rollout;
