//! `apply` for proposals: the decided-table look-up first (a retry gets the
//! recorded decision; a different proposal under the same id, or the same
//! one stamped with another timestamp, is a conflict), then the staleness
//! check (`decided::Staleness`), then the decision, its event and its
//! record.
//!
//! An approved change starts its rollout (`rollout.rs`); a pending
//! decision makes the proposal the target's active one.

use super::State;
use crate::command::Actor;
use crate::command::{CommandError, CommandResult, Outcome};
use crate::decide::decide;
use crate::decided::{Decided, Staleness, AHEAD_MS};
use crate::events::EventBody;
use crate::proposal::{ProposalSpec, Verdict, MAX_AGE_MS};

impl State {
    pub(super) fn propose(
        &mut self,
        spec: &ProposalSpec,
        actor: &Actor,
        at_ms: u64,
    ) -> CommandResult {
        if let Some(problem) = spec.shape_problem() {
            return Err(CommandError::InvalidProposal(problem));
        }
        let fingerprint = spec.fingerprint().map_err(|e| {
            CommandError::InvalidProposal(format!("its content does not encode: {e}"))
        })?;
        if let Some(known) = self.decided.get(&spec.proposal_id) {
            return if known.fingerprint != fingerprint {
                Err(CommandError::Conflict(spec.proposal_id.clone()))
            } else if known.timestamp_ms != spec.timestamp_ms {
                Err(CommandError::RetryRestamped {
                    proposal_id: spec.proposal_id.clone(),
                    recorded_ms: known.timestamp_ms,
                })
            } else {
                Ok(Outcome::Proposal {
                    decision: known.decision.clone(),
                    first: false,
                })
            };
        }
        stale(&self.decided, spec.timestamp_ms, at_ms)?;
        let target = self
            .targets
            .get_mut(&spec.target)
            .ok_or_else(|| CommandError::UnknownTarget(spec.target.clone()))?;
        let mut decision = decide(spec, target, &actor.identity, at_ms);
        decision.event_seq = target.events.next_seq();
        match decision.verdict {
            Verdict::PendingApproval => target.pending = Some(spec.proposal_id.clone()),
            Verdict::Approved | Verdict::PartiallyApproved => {}
            Verdict::Rejected | Verdict::Expired => {}
        }
        if matches!(
            decision.verdict,
            Verdict::Approved | Verdict::PartiallyApproved
        ) {
            decision.finished =
                State::start_rollout(target, &spec.proposal_id, &decision.approved, at_ms);
        }
        target.events.push(EventBody::Decided(decision.clone()));
        State::announce_rollout(target, &spec.proposal_id, at_ms);
        self.decided.record(
            &spec.proposal_id,
            Decided {
                at_ms,
                target: spec.target.clone(),
                fingerprint,
                decision: decision.clone(),
                timestamp_ms: spec.timestamp_ms,
            },
        );
        Ok(Outcome::Proposal {
            decision,
            first: true,
        })
    }
}

/// Refuses a new id whose timestamp the staleness rule refuses.
fn stale(
    table: &crate::decided::DecidedTable,
    timestamp_ms: i64,
    at_ms: u64,
) -> Result<(), CommandError> {
    let now = i64::try_from(at_ms).unwrap_or(i64::MAX);
    match Staleness::check(table, timestamp_ms, at_ms) {
        Ok(()) => Ok(()),
        Err(Staleness::TooNew) => Err(CommandError::FutureProposal {
            timestamp_ms,
            now_ms: at_ms,
            max_ahead_ms: AHEAD_MS,
        }),
        Err(Staleness::TooOld) => Err(CommandError::StaleProposal {
            timestamp_ms,
            now_ms: at_ms,
            max_age_ms: MAX_AGE_MS,
        }),
        // What is accepted now starts just after the floor.
        Err(Staleness::Forgotten { floor_ms }) => Err(CommandError::StaleProposal {
            timestamp_ms,
            now_ms: at_ms,
            max_age_ms: now.saturating_sub(floor_ms).saturating_sub(1).max(0) as u64,
        }),
    }
}
