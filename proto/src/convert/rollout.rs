//! The rollout's core types as the wire carries them: a rollout's
//! progress becomes a `status` (0x83, event body 1), a rollback a
//! `rollback` (0x84, event body 2).

use super::{millis, SOURCE};
use crate::limits::{truncate, MAX_TEXT_LEN};
use crate::reply::{
    Progress, ProposalStatus, Rollback, RollbackAction, RollbackReason, Status,
};
use arqonbus_core::events::Progress as CoreProgress;
use arqonbus_core::rollout::progress::{RollbackReason as CoreReason, RollbackRecord};

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
        observed_impact: p
            .observed_impact
            .iter()
            .filter(|(_, v)| v.is_finite())
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
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
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
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
