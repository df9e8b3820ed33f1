//! Engine tests: reproducibility, bad input, rejections, rollbacks, and
//! the two properties: proposals stay inside the learned bounds, and a
//! value rejected for a hard range is never proposed again.

mod properties;

use super::*;
use crate::feedback::{Allowed, Feedback, ParameterRejection, RangeAllowed, Rejection, Rollback};
use crate::space::tests::{example_space, one_float};
use crate::space::Value;

fn engine(space: Space, algorithm: Algorithm, seed: u64) -> Engine {
    let config = EngineConfig {
        seed,
        algorithm,
        warmup: Some(3),
        ..EngineConfig::default()
    };
    Engine::new(space, &config)
}

/// Proposes and answers `rounds` times with a quadratic around 0.3.
fn proposals(e: &mut Engine, rounds: usize) -> Vec<Assignment> {
    (0..rounds)
        .map(|_| {
            let p = e.propose(0).unwrap();
            let x = p.parameters.get("x").and_then(Value::as_f64).unwrap_or(0.0);
            e.observed(p.id, (x - 0.3).powi(2)).unwrap();
            p.parameters
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_proposals() {
    let a = proposals(&mut engine(one_float(), Algorithm::Auto, 11), 8);
    let b = proposals(&mut engine(one_float(), Algorithm::Auto, 11), 8);
    let c = proposals(&mut engine(one_float(), Algorithm::Auto, 12), 8);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn bad_answers_change_nothing() {
    let mut e = engine(one_float(), Algorithm::Random, 1);
    let p = e.propose(0).unwrap();
    assert_eq!(
        e.observed(p.id + 1, 1.0),
        Err(HpoError::UnknownProposal(p.id + 1))
    );
    assert!(matches!(
        e.observed(p.id, f64::NAN),
        Err(HpoError::NotFinite { .. })
    ));
    let bad_rollback = Rollback {
        proposal: p.id,
        observed: Some(f64::INFINITY),
        ..Rollback::default()
    };
    assert!(e.rolled_back(&bad_rollback).is_err());
    assert!(e.history().is_empty());
    e.observed(p.id, 1.0).unwrap();
    assert_eq!(e.history().len(), 1);
    assert_eq!(e.observed(p.id, 1.0), Err(HpoError::UnknownProposal(p.id)));
}

#[test]
fn a_rejection_narrows_every_later_proposal() {
    let mut e = engine(one_float(), Algorithm::Auto, 2);
    let p = e.propose(0).unwrap();
    let rejection = Rejection {
        proposal: p.id,
        parameters: vec![ParameterRejection {
            parameter: "x".into(),
            constraint_violated: Some("max_x".into()),
            allowed: Allowed::Range(RangeAllowed { min: 0.5, max: 0.9 }),
        }],
    };
    e.rejected(&rejection).unwrap();
    assert_eq!(e.rejected(&rejection), Err(HpoError::UnknownProposal(p.id)));
    for a in proposals(&mut e, 10) {
        let x = a["x"].as_f64().unwrap();
        assert!((0.5..=0.9).contains(&x), "{x}");
    }
}

#[test]
fn a_rollback_penalises_restores_and_quarantines() {
    let mut e = engine(one_float(), Algorithm::Local, 3);
    let x = |p: &Proposal| p.parameters["x"].as_f64().unwrap();
    let rollback = |proposal| Rollback {
        proposal,
        quarantine_until_ms: Some(1_000),
        distance: [("x".to_string(), 0.05)].into(),
        ..Rollback::default()
    };
    let p = e.propose(0).unwrap();
    // Nothing seen yet: no penalty to tell, but the quarantine holds.
    e.rolled_back(&rollback(p.id)).unwrap();
    assert!(e.history().is_empty() && e.live().is_empty());
    let q = e.propose(10).unwrap();
    e.observed(q.id, 5.0).unwrap();
    let r = e.propose(20).unwrap();
    e.rolled_back(&rollback(r.id)).unwrap();
    let last = e.history().last().unwrap();
    assert!(
        last.rolled_back && last.value == 5.0,
        "the worst value seen is the penalty"
    );
    assert_eq!(e.live()["x"].as_f64(), Some(x(&q)), "restored");
    for _ in 0..30 {
        let s = e.propose(500).unwrap();
        for old in [&p, &r] {
            let kept = x(&s) == x(&q);
            assert!(
                kept || (x(&s) - x(old)).abs() > 0.05,
                "{} is quarantined",
                x(old)
            );
        }
        e.rolled_back(&Rollback {
            proposal: s.id,
            ..Rollback::default()
        })
        .unwrap();
    }
}

#[test]
fn proposals_carry_impact_and_confidence_from_the_model() {
    let mut e = engine(one_float(), Algorithm::Auto, 4);
    proposals(&mut e, 6);
    let p = e.propose(0).unwrap();
    assert_eq!(p.algorithm, "gp");
    let confidence = p
        .confidence
        .expect("a model-based proposal has a confidence");
    assert!((0.0..=1.0).contains(&confidence));
    assert!(p.expected_impact.is_some_and(f64::is_finite));
    assert_eq!(p.changes, vec!["x".to_string()]);
}

#[test]
fn a_maximised_objective_climbs() {
    let mut x = one_float().parameters().to_vec();
    x[0].live = Some(Value::Float(0.1));
    let space = Space::new(x, crate::space::Direction::Maximize).unwrap();
    let mut e = engine(space, Algorithm::Auto, 5);
    for _ in 0..15 {
        let p = e.propose(0).unwrap();
        let x = p.parameters["x"].as_f64().unwrap();
        e.observed(p.id, -(x - 0.8).powi(2)).unwrap();
    }
    let best = e.best().unwrap().assignment["x"].as_f64().unwrap();
    assert!((best - 0.8).abs() < 0.05, "{best}");
}

#[test]
fn a_window_lets_the_model_follow_a_drifting_optimum() {
    let config = EngineConfig {
        seed: 6,
        warmup: Some(3),
        window: Some(8),
        ..EngineConfig::default()
    };
    let mut e = Engine::new(one_float(), &config);
    let mut last = Vec::new();
    for round in 0..36 {
        let centre = if round < 12 { 0.2 } else { 0.8 };
        let p = e.propose(0).unwrap();
        let x = p.parameters["x"].as_f64().unwrap();
        e.observed(p.id, (x - centre).powi(2)).unwrap();
        if round >= 30 {
            last.push(x);
        }
    }
    let near = last.iter().filter(|x| (*x - 0.8).abs() < 0.1).count();
    assert!(near >= 4, "after the drift it proposes near 0.8: {last:?}");
}

#[test]
fn convergence_slows_the_pace() {
    let config = EngineConfig {
        algorithm: Algorithm::Random,
        patience: 5,
        stop_when_converged: true,
        ..EngineConfig::default()
    };
    let mut e = Engine::new(one_float(), &config);
    let mut paces = Vec::new();
    for _ in 0..11 {
        let p = e.propose(0).unwrap();
        e.observed(p.id, 1.0).unwrap(); // a flat objective: never better
        paces.push(e.pace());
    }
    assert_eq!(paces[3], Pace::Normal);
    assert_eq!(paces[5], Pace::Slow { factor: 2 });
    assert_eq!(paces[10], Pace::Stop);
}
