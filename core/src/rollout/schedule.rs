//! What the leader's scheduler does next with one rollout, from what it
//! has seen since it took over: roll it back, advance its phase, or wait.
//!
//! The order matters: a breach past a guardrail's failure limit rolls back
//! whatever else holds (even a paused rollout); then missing telemetry
//! past the plan's timeout does (a different verdict from a breach); only
//! then may a phase advance, once its minimum time is over, each cohort
//! has the phase's minimum samples, and no guardrail's last evaluation
//! breached.

use super::guardrail::Evaluation;
use super::progress::{RollbackCause, RollbackReason, Rollout};
use crate::policy::Guardrail;

/// What the leader saw of one rollout's current phase (epoch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// Samples of the current epoch in each cohort, on this leader.
    pub candidate_samples: u64,
    pub baseline_samples: u64,
    /// When the newest sample of the current epoch arrived (leader time).
    pub last_sample_ms: Option<u64>,
    /// When this leader started watching the phase: the later of its
    /// takeover and the phase's start. The no-data timer counts from here.
    pub watching_since_ms: u64,
    /// Per guardrail (in the policy's order): breaching evaluations so far
    /// on this leader, and the last evaluation.
    pub guardrails: Vec<GuardrailState>,
}

/// One guardrail's record on this leader.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GuardrailState {
    pub breaches: u32,
    pub last: Option<Evaluation>,
}

/// The scheduler's next move.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Wait(&'static str),
    Advance,
    RollBack(RollbackCause),
}

/// The next move for `rollout` at `now_ms`.
pub fn next_step(
    rollout: &Rollout,
    guardrails: &[Guardrail],
    evidence: &Evidence,
    now_ms: u64,
) -> Step {
    for (g, state) in guardrails.iter().zip(&evidence.guardrails) {
        if state.breaches >= g.failure_limit.max(1) {
            let (value, limit) = match state.last {
                Some(Evaluation::Breach { value, limit }) => (Some(value), Some(limit)),
                _ => (None, None),
            };
            return Step::RollBack(RollbackCause {
                reason: RollbackReason::Breach,
                triggered_constraint: Some(g.name.clone()),
                triggered_value: value,
                allowed_value: limit,
                detail: format!(
                    "{} breached {} time(s) (failure limit {})",
                    g.name, state.breaches, g.failure_limit
                ),
            });
        }
    }
    let timeout_ms = rollout.plan.rollback_timeout_s.saturating_mul(1000);
    let quiet_since = evidence
        .last_sample_ms
        .unwrap_or(0)
        .max(evidence.watching_since_ms);
    if now_ms.saturating_sub(quiet_since) > timeout_ms {
        return Step::RollBack(RollbackCause {
            reason: RollbackReason::NoTelemetry,
            triggered_constraint: Some("no_telemetry".into()),
            triggered_value: Some(now_ms.saturating_sub(quiet_since) as f64 / 1000.0),
            allowed_value: Some(rollout.plan.rollback_timeout_s as f64),
            detail: format!(
                "no telemetry for phase {} in {} s",
                rollout.phase_name(),
                rollout.plan.rollback_timeout_s
            ),
        });
    }
    if rollout.paused {
        return Step::Wait("paused");
    }
    if rollout.awaiting_operator {
        return Step::Wait("waiting for an operator");
    }
    if now_ms < rollout.phase_due_ms() {
        return Step::Wait("minimum time");
    }
    let need = rollout.current().map_or(0, |p| p.min_samples);
    // At 100% no traffic is left on the baseline to count.
    let baseline_need = if rollout.share() < 100 { need } else { 0 };
    if evidence.candidate_samples < need || evidence.baseline_samples < baseline_need {
        return Step::Wait("minimum samples");
    }
    let breaching = evidence
        .guardrails
        .iter()
        .any(|s| s.last.is_some_and(|e| e.is_breach()));
    if breaching {
        return Step::Wait("a guardrail's last evaluation breached");
    }
    Step::Advance
}

#[cfg(test)]
mod tests;
