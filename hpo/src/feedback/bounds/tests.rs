use super::*;
use crate::feedback::Allowed;
use crate::feedback::{
    ParameterRejection, QuarantineAllowed, RangeAllowed, StepAllowed, ValuesAllowed,
};
use crate::space::tests::example_space;

fn rejection(parts: Vec<(&str, Allowed)>) -> Rejection {
    Rejection {
        proposal: 1,
        parameters: parts
            .into_iter()
            .map(|(p, allowed)| ParameterRejection {
                parameter: p.into(),
                constraint_violated: Some(format!("c_{p}")),
                allowed,
            })
            .collect(),
    }
}

fn assignment(parts: &[(&str, Value)]) -> Assignment {
    parts
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn range(min: f64, max: f64) -> Allowed {
    Allowed::Range(RangeAllowed { min, max })
}

#[test]
fn a_range_rejection_narrows_and_forbids_the_value() {
    let space = example_space();
    let mut b = LearnedBounds::from_space(&space);
    let proposed = assignment(&[("batch", Value::Int(200))]);
    b.learn_rejection(
        &space,
        &proposed,
        &rejection(vec![("batch", range(1.0, 128.0))]),
    )
    .unwrap();
    assert_eq!(b.range("batch"), Some((1.0, 128.0)));
    let none = Assignment::new();
    assert!(b.violation(&proposed, &none, 0).is_some());
    assert!(b
        .violation(&assignment(&[("batch", Value::Int(100))]), &none, 0)
        .is_none());
}

#[test]
fn values_and_steps_narrow_and_steps_follow_the_live_value() {
    let space = example_space();
    let mut b = LearnedBounds::from_space(&space);
    let proposed = assignment(&[
        ("policy", Value::Enum("none".into())),
        ("rate", Value::Float(0.9)),
    ]);
    let values = Allowed::Values(ValuesAllowed {
        values: vec![Value::Enum("lru".into()), Value::Enum("lfu".into())],
    });
    let step = Allowed::Step(StepAllowed {
        max_step_abs: Some(0.1),
        max_step_rel: None,
    });
    b.learn_rejection(
        &space,
        &proposed,
        &rejection(vec![("policy", values), ("rate", step)]),
    )
    .unwrap();
    assert_eq!(b.values("policy").map(<[Value]>::len), Some(2));
    let (lo, hi) = b.interval("rate", Some(0.5)).unwrap();
    assert!((lo - 0.4).abs() < 1e-12 && (hi - 0.6).abs() < 1e-12);
    assert_eq!(b.interval("rate", None), Some((0.0, 1.0)));
}

#[test]
fn a_bad_rejection_changes_nothing() {
    let space = example_space();
    let mut b = LearnedBounds::from_space(&space);
    let before = b.clone();
    let proposed = assignment(&[("batch", Value::Int(200))]);
    let cases = vec![
        rejection(vec![("batch", range(1.0, 64.0)), ("nope", range(0.0, 1.0))]),
        rejection(vec![("batch", range(1.0, f64::NAN))]),
        rejection(vec![("policy", range(0.0, 1.0))]),
        rejection(vec![("batch", range(300.0, 400.0))]),
        rejection(vec![(
            "rate",
            Allowed::Step(StepAllowed {
                max_step_abs: None,
                max_step_rel: None,
            }),
        )]),
        rejection(vec![(
            "policy",
            Allowed::Values(ValuesAllowed {
                values: vec![Value::Enum("fifo".into())],
            }),
        )]),
    ];
    for r in cases {
        assert!(b.learn_rejection(&space, &proposed, &r).is_err(), "{r:?}");
        assert_eq!(b, before);
    }
}

#[test]
fn quarantines_cover_a_distance_and_expire() {
    let space = example_space();
    let mut b = LearnedBounds::from_space(&space);
    let proposed = assignment(&[("rate", Value::Float(0.5))]);
    let q = Allowed::Quarantine(QuarantineAllowed {
        quarantine_until_ms: 100,
        distance: 0.05,
    });
    b.learn_rejection(&space, &proposed, &rejection(vec![("rate", q)]))
        .unwrap();
    let none = Assignment::new();
    let near = assignment(&[("rate", Value::Float(0.54))]);
    let far = assignment(&[("rate", Value::Float(0.56))]);
    assert!(b.violation(&near, &none, 99).is_some());
    assert!(b.violation(&far, &none, 99).is_none());
    assert!(b.violation(&near, &none, 100).is_none());
    b.expire(100);
    assert_eq!(b, LearnedBounds::from_space(&space));
}
