//! The rollout's core types as the wire carries them: a rollout's
//! progress becomes a `status` (0x83, event body 1), a rollback a
//! `rollback` (0x84, event body 2), a target's assignment an `assignment`
//! (0xb0) and its rollout a `rollout_status` (0xb1).

use super::{millis, SOURCE};
use crate::limits::{truncate, MAX_RECENT, MAX_TEXT_LEN};
use crate::reply::{Progress, ProposalStatus, Rollback, RollbackAction, RollbackReason, Status};
use crate::rollout::{
    Assignment, MetricVerdictView, RecentRollback, RolloutStatus, RolloutView, VerdictClass,
    VerdictView,
};
use arqonbus_core::events::Progress as CoreProgress;
use arqonbus_core::machine::Target;
use arqonbus_core::rollout::progress::{
    Assignment as CoreAssignment, RollbackReason as CoreReason, RollbackRecord,
};
use arqonbus_core::rollout::verdict::{Class, Verdict};

/// Metrics listed per verdict at most (the wire's bound on a map's entries).
const MAX_METRICS: usize = crate::limits::MAX_METRICS;

/// A rollout's progress as a `status` of its proposal.
pub fn progress_status(target: &str, p: &CoreProgress) -> Status {
    Status {
        proposal_id: p.proposal_id.clone(),
        target_system: target.to_string(),
        source: SOURCE.into(),
        timestamp: millis(p.at_ms),
        status: if p.steady {
            ProposalStatus::Steady
        } else {
            ProposalStatus::Active
        },
        progress: Progress {
            rollout_percentage: p.share,
            monitoring_duration: p.at_ms.saturating_sub(p.phase_started_ms) / 1000,
            constraint_violations: p.violations,
        },
        observed_impact: finite_impact(&p.observed_impact),
    }
}

/// The wire's reason for a rollback.
pub fn reason(r: CoreReason) -> RollbackReason {
    match r {
        CoreReason::Breach => RollbackReason::ConstraintViolation,
        CoreReason::Regression => RollbackReason::BaselineRegression,
        CoreReason::Operator | CoreReason::Aborted => RollbackReason::Operator,
        CoreReason::NoTelemetry => RollbackReason::MissingTelemetry,
    }
}

/// A rollback with the brief's fields.
pub fn rollback(target: &str, r: &RollbackRecord) -> Rollback {
    Rollback {
        proposal_id: r.proposal_id.clone(),
        target_system: target.to_string(),
        source: SOURCE.into(),
        timestamp: millis(r.at_ms),
        reason: reason(r.cause.reason),
        triggered_constraint: r
            .cause
            .triggered_constraint
            .clone()
            .map(|c| truncate(c, MAX_TEXT_LEN)),
        triggered_value: finite(r.cause.triggered_value),
        allowed_value: finite(r.cause.allowed_value),
        rollback_action: RollbackAction::Immediate,
        parameters_to_restore: r.restored.clone(),
    }
}

/// A target's assignment as agents receive it.
pub fn assignment(target: &str, a: &CoreAssignment) -> Assignment {
    Assignment {
        target_system: target.to_string(),
        epoch: a.epoch,
        proposal_id: a.proposal_id.clone(),
        phase: a.phase.clone(),
        share: a.share,
        baseline: a.baseline.clone(),
        candidate: a.candidate.clone(),
    }
}

fn class(c: Class) -> VerdictClass {
    match c {
        Class::Pass => VerdictClass::Pass,
        Class::Marginal => VerdictClass::Marginal,
        Class::Inconclusive => VerdictClass::Inconclusive,
        Class::Fail => VerdictClass::Fail,
    }
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

/// One end-of-rollout verdict as `rollout_status` lists it.
pub fn verdict(proposal_id: &str, at_ms: u64, v: &Verdict) -> VerdictView {
    VerdictView {
        proposal_id: proposal_id.to_string(),
        class: class(v.class),
        reason: truncate(v.reason.clone(), MAX_TEXT_LEN),
        at_ms: millis(at_ms),
        metrics: v
            .metrics
            .iter()
            .take(MAX_METRICS)
            .map(|m| MetricVerdictView {
                metric: m.metric.clone(),
                class: class(m.class),
                reason: truncate(m.reason.clone(), MAX_TEXT_LEN),
                candidate_samples: m.candidate.samples,
                baseline_samples: m.baseline.samples,
                candidate_median: finite(m.candidate.median),
                baseline_median: finite(m.baseline.median),
                p_value: finite(m.test.map(|t| t.p_value)),
                rank_biserial: finite(m.test.map(|t| t.rank_biserial)),
            })
            .collect(),
    }
}

/// A target's rollout, recent rollbacks and verdicts, newest first.
pub fn rollout_status(name: &str, t: &Target) -> RolloutStatus {
    RolloutStatus {
        target_system: name.to_string(),
        epoch: t.epoch,
        rollout: t.rollout.as_ref().map(|r| RolloutView {
            proposal_id: r.proposal_id.clone(),
            phase: r.phase_name().to_string(),
            phase_index: r.phase,
            phases: r.plan.phases.len() as u32,
            share: r.share(),
            phase_started_ms: millis(r.phase_started_ms),
            paused: r.paused,
            violations: r.violations,
            observed_impact: finite_impact(&r.observed_impact),
        }),
        recent_rollbacks: t
            .recent_rollbacks
            .iter()
            .rev()
            .take(MAX_RECENT)
            .map(|r| RecentRollback {
                proposal_id: r.proposal_id.clone(),
                reason: reason(r.cause.reason),
                triggered_constraint: r
                    .cause
                    .triggered_constraint
                    .clone()
                    .map(|c| truncate(c, MAX_TEXT_LEN)),
                at_ms: millis(r.at_ms),
            })
            .collect(),
        recent_verdicts: t
            .recent_verdicts
            .iter()
            .rev()
            .take(MAX_RECENT)
            .map(|v| verdict(&v.proposal_id, v.at_ms, &v.verdict))
            .collect(),
    }
}

/// A proposal's status with its rollout's progress: the share, the time
/// in the current phase as of `now_ms`, the violations and the observed
/// impact while it rolls out; 100% once steady.
pub fn proposal_status(
    d: &arqonbus_core::proposal::Decision,
    target: Option<&Target>,
    now_ms: u64,
) -> Status {
    let mut s = super::status(d);
    if matches!(s.status, ProposalStatus::Steady) {
        s.progress.rollout_percentage = 100;
    }
    let rolling = target
        .and_then(|t| t.rollout.as_ref())
        .filter(|r| r.proposal_id == d.proposal_id);
    if let Some(r) = rolling {
        s.progress = Progress {
            rollout_percentage: r.share(),
            monitoring_duration: now_ms.saturating_sub(r.phase_started_ms) / 1000,
            constraint_violations: r.violations,
        };
        s.observed_impact = finite_impact(&r.observed_impact);
    }
    s
}

/// The finite entries of an impact map (the wire carries no NaN or
/// infinity).
fn finite_impact(impact: &std::collections::BTreeMap<String, f64>) -> crate::message::Impact {
    impact
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}
