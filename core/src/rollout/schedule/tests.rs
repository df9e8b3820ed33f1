use super::*;
use crate::policy::{Aggregate, Direction, Limit, RolloutPlan};
use std::collections::BTreeMap;

fn rollout() -> Rollout {
    Rollout::start("p1", BTreeMap::new(), &RolloutPlan::default(), 0)
}

fn rail(failure_limit: u32) -> Guardrail {
    Guardrail {
        name: "latency".into(),
        metric: "latency_p99".into(),
        aggregate: Aggregate::Mean,
        window_s: 60,
        direction: Direction::AtMost,
        limit: Limit::Value(100.0),
        min_samples: 5,
        failure_limit,
    }
}

fn evidence(samples: u64, at_ms: u64) -> Evidence {
    Evidence {
        candidate_samples: samples,
        baseline_samples: samples,
        last_sample_ms: Some(at_ms),
        watching_since_ms: 0,
        guardrails: vec![GuardrailState::default()],
    }
}

const BREACH: Evaluation = Evaluation::Breach {
    value: 150.0,
    limit: 100.0,
};

#[test]
fn a_phase_advances_after_its_time_with_its_samples_in_both_cohorts() {
    let r = rollout();
    let due = r.phase_due_ms();
    let g = [rail(1)];
    assert_eq!(
        next_step(&r, &g, &evidence(100, due - 1), due - 1),
        Step::Wait("minimum time")
    );
    let mut few = evidence(100, due);
    few.baseline_samples = 99;
    assert_eq!(next_step(&r, &g, &few, due), Step::Wait("minimum samples"));
    assert_eq!(next_step(&r, &g, &evidence(100, due), due), Step::Advance);
}

#[test]
fn at_full_share_only_the_candidate_is_counted() {
    let mut r = rollout();
    r.phase = r.plan.phases.len() as u32 - 1;
    let due = r.phase_due_ms();
    let mut e = evidence(200, due);
    e.baseline_samples = 0;
    assert_eq!(next_step(&r, &[rail(1)], &e, due), Step::Advance);
}

#[test]
fn a_breach_rolls_back_at_the_failure_limit_and_holds_the_phase_before() {
    let r = rollout();
    let due = r.phase_due_ms();
    let mut e = evidence(100, due);
    e.guardrails[0] = GuardrailState {
        breaches: 1,
        last: Some(BREACH),
    };
    assert_eq!(
        next_step(&r, &[rail(2)], &e, due),
        Step::Wait("a guardrail's last evaluation breached"),
        "under the limit: no rollback, no advance"
    );
    let Step::RollBack(cause) = next_step(&r, &[rail(1)], &e, due) else {
        panic!("a breach at the limit rolls back");
    };
    assert_eq!(cause.reason, RollbackReason::Breach);
    assert_eq!(cause.triggered_constraint.as_deref(), Some("latency"));
    assert_eq!(
        (cause.triggered_value, cause.allowed_value),
        (Some(150.0), Some(100.0))
    );
}

#[test]
fn a_paused_rollout_still_rolls_back_on_a_breach() {
    let mut r = rollout();
    r.paused = true;
    let mut e = evidence(100, 0);
    assert_eq!(next_step(&r, &[rail(1)], &e, 1), Step::Wait("paused"));
    e.guardrails[0] = GuardrailState {
        breaches: 1,
        last: Some(BREACH),
    };
    assert!(matches!(
        next_step(&r, &[rail(1)], &e, 1),
        Step::RollBack(_)
    ));
}

#[test]
fn no_telemetry_past_the_timeout_counts_from_the_takeover() {
    let r = rollout();
    let timeout = r.plan.rollback_timeout_s * 1000;
    let mut e = evidence(0, 0);
    e.last_sample_ms = None;
    e.watching_since_ms = 50_000;
    assert_eq!(
        next_step(&r, &[rail(1)], &e, 50_000 + timeout),
        Step::Wait("minimum samples"),
        "at the timeout exactly, not yet"
    );
    let Step::RollBack(cause) = next_step(&r, &[rail(1)], &e, 50_001 + timeout) else {
        panic!("past the timeout: rolled back");
    };
    assert_eq!(cause.reason, RollbackReason::NoTelemetry);
    e.last_sample_ms = Some(60_000);
    assert!(!matches!(
        next_step(&r, &[rail(1)], &e, 50_001 + timeout),
        Step::RollBack(_)
    ));
}
