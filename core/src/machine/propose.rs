//! `apply` for proposals: the decided-table look-up first (a retry gets the
//! recorded decision, a different proposal under the same id is a
//! conflict), then the staleness check, then the decision, its event and
//! its record.
//!
//! An approved change is only recorded here: rollouts (a later issue) will
//! move live parameters. Nothing in `live` or `last_known_good` changes.

use super::State;
use crate::command::{CommandError, CommandResult, Outcome};
use crate::decided::Decided;
use crate::events::EventBody;
use crate::proposal::{Decision, ProposalSpec, MAX_AGE_MS};

impl State {
    pub(super) fn propose(&mut self, spec: &ProposalSpec, at_ms: u64) -> CommandResult {
        if let Some(problem) = spec.shape_problem() {
            return Err(CommandError::InvalidProposal(problem));
        }
        let fingerprint = spec.fingerprint();
        if let Some(known) = self.decided.get(&spec.proposal_id) {
            return if known.fingerprint == fingerprint {
                Ok(Outcome::Proposal {
                    decision: known.decision.clone(),
                    first: false,
                })
            } else {
                Err(CommandError::Conflict(spec.proposal_id.clone()))
            };
        }
        let horizon = i64::try_from(at_ms.saturating_sub(MAX_AGE_MS)).unwrap_or(i64::MAX);
        if spec.timestamp_ms < horizon {
            return Err(CommandError::StaleProposal {
                timestamp_ms: spec.timestamp_ms,
                now_ms: at_ms,
                max_age_ms: MAX_AGE_MS,
            });
        }
        let target = self
            .targets
            .get_mut(&spec.target)
            .ok_or_else(|| CommandError::UnknownTarget(spec.target.clone()))?;
        let mut decision = Decision::make(spec, &target.constraints, at_ms);
        decision.event_seq = target.events.next_seq();
        target.events.push(EventBody::Decided(decision.clone()));
        self.decided.record(
            &spec.proposal_id,
            Decided {
                at_ms,
                target: spec.target.clone(),
                fingerprint,
                decision: decision.clone(),
            },
        );
        Ok(Outcome::Proposal {
            decision,
            first: true,
        })
    }
}
