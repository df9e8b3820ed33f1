//! Where an approved change stands on its way to all traffic: the
//! replicated [`Rollout`] of a target, the [`Assignment`] agents serve from
//! it, and what a rollback leaves behind ([`RollbackRecord`]).
//!
//! The rules that move a rollout live in `machine/rollout.rs` (`apply`);
//! this module holds the data and the questions asked of it, all pure.
//! Until steady the target's `live` parameters stay its last-known-good;
//! the candidate exists only here, served to a share of traffic.

use crate::policy::{Phase, RolloutPlan};
use crate::value::ParamValue;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The name of the assignment's phase when no rollout is active.
pub const STEADY: &str = "steady";

/// Rollbacks and verdicts kept per target (the newest).
pub const RECENT_KEPT: usize = 16;

/// An approved proposal's rollout in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub proposal_id: String,
    /// The whole parameter set the candidate cohort runs: the baseline
    /// with the approved changes applied.
    pub candidate: BTreeMap<String, ParamValue>,
    /// The plan as it was when the rollout started (a constraint change
    /// later does not move a rollout under way).
    pub plan: RolloutPlan,
    /// Index into `plan.phases`.
    pub phase: u32,
    /// The leader's time when the current phase started.
    pub phase_started_ms: u64,
    pub started_ms: u64,
    /// Set by an operator: the phase does not advance until resumed.
    pub paused: bool,
    /// Breaching guardrail evaluations the leader reported.
    pub violations: u32,
    /// Candidate minus baseline, per metric (the leader's last summary).
    pub observed_impact: BTreeMap<String, f64>,
    /// The verdict said `marginal` and the policy asks an operator: the
    /// last phase holds until an operator promotes it.
    pub awaiting_operator: bool,
}

impl Rollout {
    /// A rollout of `candidate` starting in the plan's first phase.
    pub fn start(
        proposal_id: &str,
        candidate: BTreeMap<String, ParamValue>,
        plan: &RolloutPlan,
        at_ms: u64,
    ) -> Rollout {
        Rollout {
            proposal_id: proposal_id.to_string(),
            candidate,
            plan: plan.clone(),
            phase: 0,
            phase_started_ms: at_ms,
            started_ms: at_ms,
            paused: false,
            violations: 0,
            observed_impact: BTreeMap::new(),
            awaiting_operator: false,
        }
    }

    /// The current phase (`None` only for a plan with no phase, which
    /// never starts a rollout).
    pub fn current(&self) -> Option<&Phase> {
        self.plan.phases.get(self.phase as usize)
    }

    /// The candidate's share of traffic now, 0..=100.
    pub fn share(&self) -> u8 {
        self.current().map_or(100, |p| p.share)
    }

    /// The current phase's name.
    pub fn phase_name(&self) -> &str {
        self.current().map_or(STEADY, |p| p.name.as_str())
    }

    /// Whether the current phase is the plan's last.
    pub fn in_last_phase(&self) -> bool {
        self.phase as usize + 1 >= self.plan.phases.len()
    }

    /// When the current phase's minimum time is over.
    pub fn phase_due_ms(&self) -> u64 {
        let min_s = self.current().map_or(0, |p| p.min_seconds);
        self.phase_started_ms
            .saturating_add(min_s.saturating_mul(1000))
    }
}

/// What agents of a target serve: the baseline to everyone, and during a
/// rollout the candidate to `share` percent of traffic. `epoch` grows with
/// every change of it, so a telemetry sample says which one it measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub epoch: u64,
    pub proposal_id: Option<String>,
    pub phase: String,
    pub share: u8,
    pub baseline: BTreeMap<String, ParamValue>,
    pub candidate: Option<BTreeMap<String, ParamValue>>,
}

/// Why a rollout was rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RollbackReason {
    /// A guardrail was breached (`triggered_*` say which and by how much).
    Breach,
    /// The verdict at the end found the candidate worse than the baseline.
    Regression,
    /// An operator asked for it.
    Operator,
    /// No telemetry arrived for the plan's rollback timeout.
    NoTelemetry,
    /// A forced override or constraint change replaced it.
    Aborted,
}

impl RollbackReason {
    pub fn name(self) -> &'static str {
        match self {
            RollbackReason::Breach => "breach",
            RollbackReason::Regression => "regression",
            RollbackReason::Operator => "operator",
            RollbackReason::NoTelemetry => "no_telemetry",
            RollbackReason::Aborted => "aborted",
        }
    }
}

/// What set off a rollback, as the leader (or an operator) stated it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackCause {
    pub reason: RollbackReason,
    /// The guardrail (or `verdict`, `no_telemetry`) that triggered it.
    pub triggered_constraint: Option<String>,
    pub triggered_value: Option<f64>,
    pub allowed_value: Option<f64>,
    /// Free text for people (an operator's reason, the verdict's line).
    pub detail: String,
}

/// A rollback that happened: pushed to the proposer and every agent, and
/// kept (the newest [`RECENT_KEPT`]) for `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackRecord {
    pub proposal_id: String,
    pub cause: RollbackCause,
    pub at_ms: u64,
    /// The assignment epoch the rollback produced.
    pub epoch: u64,
    /// What the target went back to (its last-known-good).
    pub restored: BTreeMap<String, ParamValue>,
}

/// How a rollout ended, recorded on its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Finished {
    /// The candidate became live and last-known-good.
    Steady {
        at_ms: u64,
        /// The end-of-rollout verdict (`None`: promoted by an operator, or
        /// nothing to judge).
        verdict: Option<crate::rollout::verdict::Verdict>,
    },
    RolledBack(RollbackRecord),
}

/// The rollout plan of a target whose policy asks for none (format 1):
/// an approved change becomes live at once.
pub fn immediate(plan: &RolloutPlan) -> bool {
    plan.phases.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollout_reads_its_phase_from_the_plan_it_started_with() {
        let plan = RolloutPlan::default();
        let mut r = Rollout::start("p1", BTreeMap::new(), &plan, 1_000);
        assert_eq!((r.phase_name(), r.share()), ("shadow", 0));
        assert_eq!(r.phase_due_ms(), 1_000 + 60_000);
        assert!(!r.in_last_phase());
        r.phase = plan.phases.len() as u32 - 1;
        assert_eq!((r.phase_name(), r.share()), ("full", 100));
        assert!(r.in_last_phase());
    }
}
