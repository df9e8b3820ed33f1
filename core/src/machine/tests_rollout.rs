//! Rollouts through `apply`: an approved proposal rolls out phase by phase
//! to steady, or is rolled back exactly once; the live parameters stay
//! last-known-good until steady.

use super::tests_approve::{by, configured, propose};
use crate::command::{CommandError, Outcome, SteerAction};
use crate::role::Role;
use crate::rollout::progress::{Finished, RollbackCause, RollbackReason, STEADY};
use crate::rollout::verdict::{Class, Verdict};
use crate::testing::SVC;
use crate::{Op, ParamValue, State};
use proptest::prelude::*;

/// A state whose target `SVC` rolls out `p1` (batch_size 32 -> 34).
fn rolling() -> State {
    let mut s = configured();
    let d = propose(&mut s, "p1", 34);
    assert_eq!(d.verdict, crate::proposal::Verdict::Approved, "{d:?}");
    s
}

fn node(s: &mut State, at_ms: u64, op: Op) -> crate::CommandResult {
    s.apply(&by("node-1", Role::Node, at_ms, op)).result
}

fn advance(
    s: &mut State,
    at_ms: u64,
    from_phase: u32,
    verdict: Option<Verdict>,
) -> crate::CommandResult {
    let op = Op::AdvancePhase {
        target: SVC.into(),
        proposal_id: "p1".into(),
        from_phase,
        verdict,
    };
    node(s, at_ms, op)
}

fn breach() -> RollbackCause {
    RollbackCause {
        reason: RollbackReason::Breach,
        triggered_constraint: Some("max_latency_p99".into()),
        triggered_value: Some(900.0),
        allowed_value: Some(500.0),
        detail: String::new(),
    }
}

fn abort(s: &mut State, at_ms: u64) -> crate::CommandResult {
    let op = Op::AbortRollout {
        target: SVC.into(),
        proposal_id: "p1".into(),
        cause: breach(),
    };
    node(s, at_ms, op)
}

fn verdict(class: Class) -> Verdict {
    Verdict {
        class,
        reason: format!("{class}"),
        metrics: vec![],
    }
}

/// Advances `p1` through every phase but the last, each at its due time.
fn to_last_phase(s: &mut State) -> u64 {
    let mut at = 0;
    loop {
        let r = s.targets[SVC].rollout.clone().expect("rolling");
        if r.in_last_phase() {
            return r.phase_due_ms();
        }
        at = at.max(r.phase_due_ms());
        advance(s, at, r.phase, None).expect("advances");
    }
}

#[test]
fn an_approved_proposal_starts_in_shadow_and_live_stays_last_known_good() {
    let s = rolling();
    let t = &s.targets[SVC];
    assert_eq!(t.live["batch_size"], ParamValue::Int(32));
    assert_eq!(t.live, t.last_known_good);
    let a = t.assignment();
    assert_eq!((a.phase.as_str(), a.share, a.epoch), ("shadow", 0, 1));
    assert_eq!(a.proposal_id.as_deref(), Some("p1"));
    let candidate = a.candidate.expect("a candidate during a rollout");
    assert_eq!(candidate["batch_size"], ParamValue::Int(34));
    assert_eq!(candidate["max_tokens"], t.live["max_tokens"]);
    assert_eq!(t.active_proposal(), Some("p1"));
}

#[test]
fn a_rollout_blocks_other_proposals_and_plain_overrides() {
    let mut s = rolling();
    let d = propose(&mut s, "p2", 30);
    assert_eq!(d.verdict, crate::proposal::Verdict::Rejected);
    assert!(d.rejected[0].reason.contains("rolling out"), "{d:?}");
    let op = Op::Override {
        target: SVC.into(),
        values: [("batch_size".to_string(), ParamValue::Int(16))].into(),
        expected: None,
        force: false,
    };
    let r = s.apply(&by("ops", Role::Operator, 20, op)).result;
    assert!(
        matches!(r, Err(CommandError::ActiveProposal { .. })),
        "{r:?}"
    );
}

#[test]
fn phases_advance_only_when_due_and_in_order_then_steady_makes_the_candidate_live() {
    let mut s = rolling();
    let due = s.targets[SVC]
        .rollout
        .as_ref()
        .expect("rolling")
        .phase_due_ms();
    assert!(matches!(
        advance(&mut s, due - 1, 0, None),
        Err(CommandError::PhaseNotDue { .. })
    ));
    assert!(matches!(
        advance(&mut s, due, 1, None),
        Err(CommandError::StalePhase { phase: 0, .. })
    ));
    advance(&mut s, due, 0, None).expect("due");
    assert!(
        matches!(
            advance(&mut s, due, 0, None),
            Err(CommandError::StalePhase { .. })
        ),
        "the same command twice moves it once"
    );
    assert_eq!(s.targets[SVC].assignment().phase, "canary");
    let last_due = to_last_phase(&mut s);
    let last = s.targets[SVC].rollout.as_ref().expect("rolling").phase;
    assert_eq!(s.targets[SVC].live["batch_size"], ParamValue::Int(32));
    let op = Op::AdvancePhase {
        target: SVC.into(),
        proposal_id: "p1".into(),
        from_phase: last,
        verdict: Some(verdict(Class::Pass)),
    };
    let applied = s.apply(&by("node-1", Role::Node, last_due, op));
    let r = applied.result;
    assert!(
        matches!(r, Ok(Outcome::RolloutMoved { ref phase, .. }) if phase == STEADY),
        "{r:?}"
    );
    assert!(
        applied.audit[0].details.contains("verdict=pass"),
        "the audit log keeps the verdict: {}",
        applied.audit[0].details
    );
    let t = &s.targets[SVC];
    assert_eq!(t.live["batch_size"], ParamValue::Int(34));
    assert_eq!(t.live, t.last_known_good);
    assert!(t.rollout.is_none());
    assert_eq!(t.assignment().candidate, None);
    assert_eq!(t.recent_verdicts.len(), 1);
    let finished = s
        .decided
        .get("p1")
        .expect("kept")
        .decision
        .finished
        .clone()
        .map(|f| *f);
    assert!(matches!(
        finished,
        Some(Finished::Steady {
            verdict: Some(_),
            ..
        })
    ));
}

#[test]
fn a_rollback_is_committed_once_and_restores_last_known_good() {
    let mut s = rolling();
    let epoch = s.targets[SVC].epoch;
    let r = abort(&mut s, 30);
    assert!(matches!(r, Ok(Outcome::RolledBack { .. })), "{r:?}");
    assert!(
        matches!(abort(&mut s, 31), Err(CommandError::NothingToRollBack(_))),
        "a second leader's rollback of the same breach changes nothing"
    );
    let t = &s.targets[SVC];
    let a = t.assignment();
    assert_eq!((a.candidate, a.epoch), (None, epoch + 1));
    assert_eq!(a.baseline, t.last_known_good);
    assert_eq!(t.recent_rollbacks.len(), 1);
    assert_eq!(t.recent_rollbacks[0].cause, breach());
    assert!(t.cooldown_until_ms > 30);
    assert!(t.quarantine.iter().any(|q| q.value == ParamValue::Int(34)));
    let finished = s
        .decided
        .get("p1")
        .expect("kept")
        .decision
        .finished
        .clone()
        .map(|f| *f);
    assert!(matches!(finished, Some(Finished::RolledBack(_))));
}

#[test]
fn pause_holds_the_phase_and_promote_moves_it_on() {
    let mut s = rolling();
    let steer = |s: &mut State, action| {
        let op = Op::Steer {
            target: SVC.into(),
            action,
            reason: "watching".into(),
        };
        s.apply(&by("ops", Role::Operator, 100, op)).result
    };
    steer(&mut s, SteerAction::Pause).expect("pauses");
    let due = s.targets[SVC]
        .rollout
        .as_ref()
        .expect("rolling")
        .phase_due_ms();
    assert!(matches!(
        advance(&mut s, due, 0, None),
        Err(CommandError::RolloutPaused(_))
    ));
    steer(&mut s, SteerAction::Promote { full: false }).expect("promotes");
    assert_eq!(s.targets[SVC].assignment().phase, "canary");
    let r = s.apply(&by(
        "hpo",
        Role::Proposer,
        100,
        Op::Steer {
            target: SVC.into(),
            action: SteerAction::Pause,
            reason: String::new(),
        },
    ));
    assert!(matches!(r.result, Err(CommandError::Forbidden { .. })));
    steer(&mut s, SteerAction::Promote { full: true }).expect("promotes");
    assert_eq!(s.targets[SVC].live["batch_size"], ParamValue::Int(34));
    assert!(matches!(
        steer(&mut s, SteerAction::Pause),
        Err(CommandError::NothingToRollBack(_))
    ));
}

#[test]
fn the_verdict_decides_the_end_fail_rolls_back_marginal_waits_for_an_operator() {
    let mut s = rolling();
    let due = to_last_phase(&mut s);
    let last = s.targets[SVC].rollout.as_ref().expect("rolling").phase;
    advance(&mut s, due, last, Some(verdict(Class::Marginal))).expect("held");
    assert!(
        s.targets[SVC]
            .rollout
            .as_ref()
            .expect("held")
            .awaiting_operator
    );
    assert!(matches!(
        advance(&mut s, due, last, Some(verdict(Class::Pass))),
        Err(CommandError::AwaitingOperator(_))
    ));

    let mut s = rolling();
    let due = to_last_phase(&mut s);
    let r = advance(&mut s, due, last, Some(verdict(Class::Fail)));
    assert!(matches!(r, Ok(Outcome::RolledBack { .. })), "{r:?}");
    let t = &s.targets[SVC];
    assert_eq!(
        t.recent_rollbacks[0].cause.reason,
        RollbackReason::Regression
    );
    assert_eq!(t.live["batch_size"], ParamValue::Int(32));
}

#[test]
fn under_a_format_1_policy_an_approved_change_is_live_at_once() {
    let mut s = crate::testing::with_target();
    let op = Op::Propose {
        proposal: crate::testing::spec("q1", &[("batch_size", ParamValue::Int(64))]),
    };
    let r = s.apply(&by("hpo", Role::Proposer, 10, op)).result;
    assert!(matches!(r, Ok(Outcome::Proposal { .. })), "{r:?}");
    let t = &s.targets[SVC];
    assert_eq!(t.live["batch_size"], ParamValue::Int(64));
    assert_eq!(t.live, t.last_known_good);
    assert!(t.rollout.is_none());
    assert_eq!(t.epoch, 1);
}

/// One step of a random rollout history.
#[derive(Debug, Clone)]
enum Step {
    Advance {
        dt: u64,
        phase: u32,
        class: Option<u8>,
    },
    Pause,
    Resume,
    Promote(bool),
    Abort,
    Observe(u32),
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u64..400_000, 0u32..7, proptest::option::of(0u8..4))
            .prop_map(|(dt, phase, class)| Step::Advance { dt, phase, class }),
        1 => Just(Step::Pause),
        1 => Just(Step::Resume),
        1 => any::<bool>().prop_map(Step::Promote),
        1 => Just(Step::Abort),
        1 => (0u32..3).prop_map(Step::Observe),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn live_is_last_known_good_share_never_falls_and_a_rollback_restores(
        steps in proptest::collection::vec(arb_step(), 1..40)
    ) {
        let mut s = rolling();
        let candidate = s.targets[SVC].rollout.clone().expect("rolling").candidate;
        let before = s.targets[SVC].last_known_good.clone();
        let (mut at, mut share, mut epoch) = (10u64, 0u8, s.targets[SVC].epoch);
        for step in steps {
            let op = match step {
                Step::Advance { dt, phase, class } => {
                    at += dt;
                    let classes = [Class::Pass, Class::Marginal, Class::Inconclusive, Class::Fail];
                    Op::AdvancePhase {
                        target: SVC.into(),
                        proposal_id: "p1".into(),
                        from_phase: phase,
                        verdict: class.map(|c| verdict(classes[c as usize])),
                    }
                }
                Step::Pause => Op::Steer { target: SVC.into(), action: SteerAction::Pause, reason: String::new() },
                Step::Resume => Op::Steer { target: SVC.into(), action: SteerAction::Resume, reason: String::new() },
                Step::Promote(full) => Op::Steer { target: SVC.into(), action: SteerAction::Promote { full }, reason: String::new() },
                Step::Abort => Op::AbortRollout { target: SVC.into(), proposal_id: "p1".into(), cause: breach() },
                Step::Observe(n) => Op::Observe {
                    target: SVC.into(),
                    proposal_id: "p1".into(),
                    observed: [("latency_p99".to_string(), 10.0)].into(),
                    impact: [("latency_p99".to_string(), 1.0)].into(),
                    new_violations: n,
                },
            };
            let role = if matches!(op, Op::Steer { .. }) { Role::Operator } else { Role::Node };
            let _ = s.apply(&by("someone", role, at, op));
            let t = &s.targets[SVC];
            prop_assert_eq!(&t.live, &t.last_known_good);
            prop_assert!(t.epoch >= epoch, "the epoch never goes back");
            epoch = t.epoch;
            let finished = s.decided.get("p1").expect("kept").decision.finished.clone().map(|f| *f);
            match (&t.rollout, finished) {
                (Some(r), None) => {
                    prop_assert!(r.share() >= share, "share fell from {} to {}", share, r.share());
                    share = r.share();
                    prop_assert_eq!(&t.live, &before, "live moves only at steady");
                }
                (None, Some(Finished::Steady { .. })) => {
                    prop_assert_eq!(&t.live, &candidate);
                }
                (None, Some(Finished::RolledBack(_))) => {
                    let a = t.assignment();
                    prop_assert_eq!(a.candidate, None);
                    prop_assert_eq!(&a.baseline, &before);
                    prop_assert_eq!(&t.live, &before);
                }
                (r, f) => prop_assert!(false, "rollout {:?} with finished {:?}", r, f),
            }
        }
    }
}
