use super::*;
use crate::feedback::{Allowed, ParameterRejection, RangeAllowed, Rejection, Rollback};
use crate::space::tests::example_space;

fn int(a: &Assignment, name: &str) -> i64 {
    match a.get(name) {
        Some(Value::Int(v)) => *v,
        other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn samples_respect_the_step_window_and_conditions() {
    let space = example_space();
    let bounds = LearnedBounds::from_space(&space);
    let live = space.live(); // batch = 32, max step 16
    let region = Region::new(&space, &bounds, &live, 0).unwrap();
    let mut rng = crate::seeded(1);
    let mut saw_cache = (false, false);
    for _ in 0..300 {
        let a = region.sample(&mut rng).unwrap();
        assert!(region.admits(&a));
        assert!((16..=48).contains(&int(&a, "batch")));
        let cached = matches!(&a["policy"], Value::Enum(p) if p != "none");
        assert_eq!(a.contains_key("cache_mb"), cached, "{a:?}");
        if cached {
            saw_cache.0 = true;
        } else {
            saw_cache.1 = true;
        }
    }
    assert_eq!(saw_cache, (true, true));
}

#[test]
fn small_perturbations_stay_near() {
    let space = example_space();
    let bounds = LearnedBounds::from_space(&space);
    let live = space.live();
    let region = Region::new(&space, &bounds, &live, 0).unwrap();
    let mut rng = crate::seeded(2);
    let base = region.sample(&mut rng).unwrap();
    for _ in 0..50 {
        let a = region.perturb(&base, 0.01, &mut rng).unwrap();
        let (x, y) = (a["rate"].as_f64().unwrap(), base["rate"].as_f64().unwrap());
        assert!((x - y).abs() < 0.06, "{x} vs {y}");
    }
}

#[test]
fn a_range_outside_the_step_window_leaves_no_value() {
    let space = example_space();
    let mut bounds = LearnedBounds::from_space(&space);
    let mut proposed = Assignment::new();
    proposed.insert("batch".into(), Value::Int(40));
    let rejection = Rejection {
        proposal: 1,
        parameters: vec![ParameterRejection {
            parameter: "batch".into(),
            constraint_violated: None,
            allowed: Allowed::Range(RangeAllowed {
                min: 100.0,
                max: 200.0,
            }),
        }],
    };
    bounds
        .learn_rejection(&space, &proposed, &rejection)
        .unwrap();
    let live = space.live(); // 32, so at most 48
    let err = Region::new(&space, &bounds, &live, 0).unwrap_err();
    assert!(matches!(err, HpoError::EmptyBounds { ref parameter, .. } if parameter == "batch"));
}

#[test]
fn quarantined_values_are_not_drawn_until_the_end_time() {
    let space = example_space();
    let mut bounds = LearnedBounds::from_space(&space);
    let mut rolled = Assignment::new();
    rolled.insert("policy".into(), Value::Enum("lru".into()));
    let rollback = Rollback {
        proposal: 1,
        quarantine_until_ms: Some(1_000),
        ..Rollback::default()
    };
    bounds.learn_rollback(&space, &rolled, &rollback).unwrap();
    let live = Assignment::new();
    let mut rng = crate::seeded(3);
    let during = Region::new(&space, &bounds, &live, 999).unwrap();
    let after = Region::new(&space, &bounds, &live, 1_000).unwrap();
    let lru = Value::Enum("lru".into());
    assert!((0..100).all(|_| during.sample(&mut rng).unwrap()["policy"] != lru));
    assert!((0..100).any(|_| after.sample(&mut rng).unwrap()["policy"] == lru));
}
