//! Property tests of what the engine learns from ArqonBus.

use super::*;
use crate::feedback::{QuarantineAllowed, StepAllowed, ValuesAllowed};
use crate::sim::Enforcer;
use crate::space::{numeric_range, Condition, Direction, Kind, Parameter, StepLimit};
use proptest::prelude::*;

/// One round: how to answer the proposal, and two numbers to shape it.
#[derive(Debug, Clone)]
struct Round {
    answer: u8,
    parameter: usize,
    a: f64,
    b: f64,
}

fn rounds() -> impl Strategy<Value = Vec<Round>> {
    prop::collection::vec(
        (0u8..5, 0usize..8, 0.0..1.0f64, 0.0..1.0f64).prop_map(|(answer, parameter, a, b)| Round {
            answer,
            parameter,
            a,
            b,
        }),
        1..10,
    )
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Random),
        Just(Algorithm::Local),
        Just(Algorithm::Auto)
    ]
}

/// What ArqonBus might say about `name`, shaped by the round's numbers.
fn allowed_for(space: &Space, name: &str, round: &Round, now: Millis) -> Allowed {
    let p = space.parameter(name).expect("a proposed parameter exists");
    if round.answer == 3 {
        return Allowed::Quarantine(QuarantineAllowed {
            quarantine_until_ms: now + (round.a * 100.0) as u64,
            distance: round.b * 0.1,
        });
    }
    match (&p.kind, numeric_range(&p.kind)) {
        (_, Some((lo, hi))) if round.answer == 1 => {
            let min = lo + round.a * (hi - lo) * 0.5;
            let max = min + (0.2 + round.b) * (hi - min);
            Allowed::Range(RangeAllowed { min, max })
        }
        (_, Some((lo, hi))) => Allowed::Step(StepAllowed {
            max_step_abs: Some((0.05 + round.a) * (hi - lo) * 0.3),
            max_step_rel: (round.b > 0.5).then_some(round.b),
        }),
        (Kind::Enum { values }, None) => {
            let keep = 1 + (round.a * values.len() as f64) as usize % values.len();
            let values = values.iter().take(keep).cloned().map(Value::Enum).collect();
            Allowed::Values(ValuesAllowed { values })
        }
        (_, None) => Allowed::Values(ValuesAllowed {
            values: vec![Value::Bool(round.a > 0.5)],
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever ArqonBus said, a proposal is inside what was learned (or
    /// the engine says the learned bounds leave nothing; it never sends one
    /// they say will be rejected).
    #[test]
    fn a_proposal_never_leaves_the_learned_bounds(seed in 0u64..1000, algo in algorithm(), rounds in rounds()) {
        let space = example_space();
        let mut e = engine(space.clone(), algo, seed);
        for (i, round) in rounds.iter().enumerate() {
            let now = 10 * i as Millis;
            let live = e.live().clone();
            let p = match e.propose(now) {
                Ok(p) => p,
                Err(HpoError::EmptyBounds { .. }) => break,
                Err(other) => return Err(TestCaseError::fail(format!("{other}"))),
            };
            prop_assert_eq!(e.bounds().violation(&p.parameters, &live, now), None);
            let mut active = p.parameters.clone();
            space.prune_inactive(&mut active);
            prop_assert_eq!(&active, &p.parameters);
            let names: Vec<&String> = p.parameters.keys().collect();
            let name = names[round.parameter % names.len()];
            let answered = match round.answer {
                1..=3 => e.rejected(&Rejection {
                    proposal: p.id,
                    parameters: vec![ParameterRejection {
                        parameter: name.clone(),
                        constraint_violated: None,
                        allowed: allowed_for(&space, name, round, now),
                    }],
                }),
                4 => e.rolled_back(&Rollback {
                    proposal: p.id,
                    observed: Some(10.0 * round.a),
                    quarantine_until_ms: Some(now + 50),
                    ..Rollback::default()
                }),
                _ => Err(HpoError::UnknownProposal(0)),
            };
            if answered.is_err() {
                e.observed(p.id, round.a).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
        }
    }

    /// Against an enforcer with hidden hard ranges and members, a value it
    /// rejected for a hard range is never proposed again.
    #[test]
    fn a_value_rejected_for_a_hard_range_is_never_proposed_again(
        seed in 0u64..1000,
        algo in algorithm(),
        a_lo in 0i64..10, a_len in 0i64..10,
        b_lo in -10i64..0, b_len in 0i64..10,
    ) {
        let space = int_space();
        let mut enforcer = Enforcer::default();
        enforcer.ranges.insert("a".into(), (a_lo as f64, (a_lo + a_len) as f64));
        enforcer.ranges.insert("b".into(), (b_lo as f64, (b_lo + b_len) as f64));
        enforcer.members.insert("mode".into(), vec![Value::Enum("fast".into())]);
        let mut e = engine(space, algo, seed);
        let mut rejected: Vec<(String, Value)> = Vec::new();
        for _ in 0..12 {
            let p = e.propose(0).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (name, v) in &rejected {
                prop_assert_ne!(p.parameters.get(name), Some(v), "{} proposed again", name);
            }
            match enforcer.review(p.id, &p.parameters, 0) {
                Some(r) => {
                    for pr in &r.parameters {
                        if matches!(pr.allowed, Allowed::Range(_)) {
                            rejected.push((pr.parameter.clone(), p.parameters[&pr.parameter].clone()));
                        }
                    }
                    e.rejected(&r).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
                None => {
                    let x = p.parameters["a"].as_f64().unwrap_or(0.0);
                    e.observed(p.id, x).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
            }
        }
    }
}

/// Two ints and an enum; `b` exists only in `slow` mode.
fn int_space() -> Space {
    let p = |name: &str, kind: Kind| Parameter {
        name: name.into(),
        kind,
        when: None,
        step: StepLimit::default(),
        live: None,
    };
    let mut b = p(
        "b",
        Kind::Int {
            min: -10,
            max: 10,
            log: false,
        },
    );
    b.when = Some(Condition {
        parameter: "mode".into(),
        values: vec![Value::Enum("slow".into()), Value::Enum("fast".into())],
    });
    let mode = p(
        "mode",
        Kind::Enum {
            values: vec!["slow".into(), "fast".into(), "off".into()],
        },
    );
    Space::new(
        vec![
            p(
                "a",
                Kind::Int {
                    min: 0,
                    max: 20,
                    log: false,
                },
            ),
            b,
            mode,
        ],
        Direction::Minimize,
    )
    .expect("valid")
}
