//! `apply` for the approval workflow: approve, reject and expire a pending
//! proposal.
//!
//! An approval counts distinct identities holding one of the policy's
//! roles (and, when the policy names identities, one of those). The
//! proposal's own identity never approves it, nor does the proposer role.
//! With enough approvals the pending changes join the approved ones and
//! the decision becomes `approved` (or `partially_approved`). Expiry is
//! proposed by the leader once the leader's time passes `expires_at_ms`;
//! `apply` checks that against the command's time, never a clock. The
//! deciding approval starts the rollout (`rollout.rs`).

use super::State;
use crate::command::{Actor, CommandError, CommandResult, Outcome};
use crate::proposal::{Approver, Decision, Verdict};
use crate::role::Role;

impl State {
    /// The pending decision `id`, or why it is not one.
    fn pending_decision(&self, id: &str) -> Result<Decision, CommandError> {
        let decided = self
            .decided
            .get(id)
            .ok_or_else(|| CommandError::UnknownProposal(id.to_string()))?;
        let d = &decided.decision;
        if d.verdict != Verdict::PendingApproval {
            return Err(CommandError::NotPending {
                proposal_id: id.to_string(),
                verdict: d.verdict,
            });
        }
        Ok(d.clone())
    }

    pub(super) fn approve(
        &mut self,
        id: &str,
        reason: &str,
        actor: &Actor,
        at_ms: u64,
    ) -> CommandResult {
        let mut d = self.pending_decision(id)?;
        let target = self
            .targets
            .get(&d.target)
            .ok_or_else(|| CommandError::UnknownTarget(d.target.clone()))?;
        let policy = &target.policy.approval;
        let listed = policy.identities.is_empty() || policy.identities.contains(&actor.identity);
        if actor.role == Role::Proposer || !policy.roles.contains(&actor.role) || !listed {
            return Err(CommandError::NotAnApprover {
                identity: actor.identity.clone(),
                role: actor.role,
            });
        }
        if actor.identity == d.proposer {
            return Err(CommandError::SelfApproval {
                identity: actor.identity.clone(),
                proposal_id: id.to_string(),
            });
        }
        if d.approvals.iter().any(|a| a.identity == actor.identity) {
            return Err(CommandError::AlreadyApproved {
                identity: actor.identity.clone(),
                proposal_id: id.to_string(),
            });
        }
        d.approvals.push(Approver {
            identity: actor.identity.clone(),
            reason: reason.to_string(),
            at_ms,
        });
        let Some(target) = self.targets.get_mut(&d.target) else {
            return Err(CommandError::UnknownTarget(d.target.clone()));
        };
        if d.approvals.len() as u64 >= u64::from(d.required_approvals) {
            let pending: Vec<_> = d.pending.drain(..).collect();
            d.approved.extend(pending);
            d.verdict = Verdict::of(!d.approved.is_empty(), !d.rejected.is_empty());
            target.pending = None;
            d.finished = State::start_rollout(target, id, &d.approved, at_ms);
        }
        // Every approval is pushed on the target's stream, the deciding
        // one and those before it.
        d.event_seq = target.events.next_seq();
        target
            .events
            .push(crate::events::EventBody::Decided(d.clone()));
        State::announce_rollout(target, id, at_ms);
        self.decided.update(id, d.clone());
        Ok(Outcome::ProposalUpdated { decision: d })
    }

    pub(super) fn reject_pending(
        &mut self,
        id: &str,
        reason: &str,
        actor: &Actor,
        at_ms: u64,
    ) -> CommandResult {
        let d = self.pending_decision(id)?;
        let policy = self
            .targets
            .get(&d.target)
            .map(|t| t.policy.approval.clone())
            .unwrap_or_default();
        if actor.role == Role::Proposer || !policy.roles.contains(&actor.role) {
            return Err(CommandError::NotAnApprover {
                identity: actor.identity.clone(),
                role: actor.role,
            });
        }
        if reason.trim().is_empty() {
            return Err(CommandError::InvalidProposal(
                "a rejection needs a reason".into(),
            ));
        }
        let decision = self
            .close_pending(id, "reject", &actor.identity, reason, at_ms)
            .ok_or_else(|| CommandError::UnknownProposal(id.to_string()))?;
        Ok(Outcome::ProposalUpdated { decision })
    }

    pub(super) fn expire(&mut self, id: &str, actor: &Actor, at_ms: u64) -> CommandResult {
        let d = self.pending_decision(id)?;
        if at_ms < d.expires_at_ms {
            return Err(CommandError::NotExpired {
                proposal_id: id.to_string(),
                expires_at_ms: d.expires_at_ms,
            });
        }
        let reason = format!(
            "pending since {} ms; expired at {} ms",
            d.decided_at_ms, d.expires_at_ms
        );
        let decision = self
            .close_pending(id, "expire", &actor.identity, &reason, at_ms)
            .ok_or_else(|| CommandError::UnknownProposal(id.to_string()))?;
        Ok(Outcome::ProposalUpdated { decision })
    }

    /// Pending proposals whose expiry is at or before `now_ms`, for the
    /// leader to propose `Expire` (read side; changes nothing).
    pub fn expired_pending(&self, now_ms: u64) -> Vec<String> {
        self.targets
            .values()
            .filter_map(|t| t.pending.as_ref())
            .filter(|id| {
                self.decided
                    .get(id.as_str())
                    .is_some_and(|d| d.decision.expires_at_ms <= now_ms)
            })
            .cloned()
            .collect()
    }
}
