//! The replicated state and `apply`: deterministic, no IO, no clock.
//!
//! Every replica that applies the same commands ends with the same bytes,
//! audit chain included: maps are ordered, time comes from the command, and
//! every command (refused ones too) produces its audit entry here. The node
//! persists those entries; this module only decides what they say.

use crate::audit::{AuditEntry, AuditHead, AuditRecord};
use crate::command::{Actor, Command, CommandError, CommandResult, Op, Outcome};
use crate::constraints::{check_name, ConstraintSet, Violation};
use crate::decided::DecidedTable;
use crate::events::EventLog;
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
                            self.note(inner, "invalid", err.to_string(), &mut audit);
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
        })
    }

    fn apply_one(&mut self, command: &Command, audit: &mut Vec<AuditEntry>) -> CommandResult {
        self.last_at_ms = self.last_at_ms.max(command.at_ms);
        if let Err(err) = authorize(&command.actor, &command.op) {
            self.note(command, "forbidden", err.to_string(), audit);
            return Err(err);
        }
        let result = match &command.op {
            Op::SetConstraints {
                target,
                constraints,
            } => self.set_constraints(target, constraints),
            Op::SetParameters {
                target,
                values,
                expected,
            } => self.set_parameters(target, values, expected.as_ref()),
            Op::Propose { proposal } => self.propose(proposal, command.at_ms),
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
            (Ok(outcome), _) => (command.op.action(), describe(outcome)),
            (Err(err), _) => ("refused", format!("{}: {err}", command.op.action())),
        };
        self.note(command, action, details, audit);
        result
    }

    fn set_constraints(&mut self, name: &str, constraints: &ConstraintSet) -> CommandResult {
        check_name(name).map_err(|_| CommandError::InvalidTarget(name.to_string()))?;
        let problems = constraints.problems();
        if !problems.is_empty() {
            return Err(CommandError::InvalidConstraints(problems));
        }
        let target = self.targets.entry(name.to_string()).or_default();
        let defaults = constraints.defaults();
        for values in [&mut target.live, &mut target.last_known_good] {
            values.retain(|k, _| constraints.parameters.contains_key(k));
            for (k, v) in &defaults {
                values.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        let out_of_bounds = target
            .live
            .iter()
            .filter(|(k, v)| {
                constraints.parameters[k.as_str()]
                    .check(k, (*v).clone())
                    .is_err()
            })
            .map(|(k, _)| k.clone())
            .collect();
        target.constraints = constraints.clone();
        target.constraints_version += 1;
        Ok(Outcome::ConstraintsSet {
            target: name.to_string(),
            version: target.constraints_version,
            out_of_bounds,
        })
    }

    fn set_parameters(
        &mut self,
        name: &str,
        values: &BTreeMap<String, ParamValue>,
        expected: Option<&BTreeMap<String, ParamValue>>,
    ) -> CommandResult {
        let target = self
            .targets
            .get_mut(name)
            .ok_or_else(|| CommandError::UnknownTarget(name.to_string()))?;
        let differing: Vec<Violation> = expected
            .into_iter()
            .flatten()
            .filter(|(k, want)| target.live.get(*k) != Some(*want))
            .map(|(k, want)| Violation {
                parameter: k.clone(),
                constraint: format!("expected_{k}"),
                reason: format!(
                    "live value is {}, not {want}",
                    target
                        .live
                        .get(k)
                        .map_or("unset".to_string(), ToString::to_string)
                ),
            })
            .collect();
        if !differing.is_empty() {
            return Err(CommandError::Refused(differing));
        }
        let checked = target
            .constraints
            .check_all(values)
            .map_err(CommandError::Refused)?;
        for (k, v) in &checked {
            target.live.insert(k.clone(), v.clone());
            target.last_known_good.insert(k.clone(), v.clone());
        }
        Ok(Outcome::ParametersSet {
            target: name.to_string(),
            values: checked,
        })
    }

    fn note(
        &mut self,
        command: &Command,
        action: &str,
        details: String,
        audit: &mut Vec<AuditEntry>,
    ) {
        audit.push(self.append(AuditRecord {
            at_ms: command.at_ms,
            actor: command.actor.identity.clone(),
            action: action.to_string(),
            target: command.op.target().to_string(),
            details,
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
            ..
        } => format!("version={version} out_of_bounds={out_of_bounds:?}"),
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
    }
}

mod propose;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_decided;
#[cfg(test)]
mod tests_propose;
