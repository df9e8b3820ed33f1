//! Space checks shared by the module's tests and other modules' tests.

use super::*;

/// A small mixed space: log int with a step limit, conditional int, bool,
/// enum, float.
pub(crate) fn example_space() -> Space {
    let p = |name: &str, kind: Kind| Parameter {
        name: name.into(),
        kind,
        when: None,
        step: StepLimit::default(),
        live: None,
    };
    let mut batch = p(
        "batch",
        Kind::Int {
            min: 1,
            max: 256,
            log: true,
        },
    );
    batch.live = Some(Value::Int(32));
    batch.step.max_step_abs = Some(16.0);
    let mut cache = p(
        "cache_mb",
        Kind::Int {
            min: 16,
            max: 4096,
            log: true,
        },
    );
    cache.when = Some(Condition {
        parameter: "policy".into(),
        values: vec![Value::Enum("lru".into()), Value::Enum("lfu".into())],
    });
    let policy = p(
        "policy",
        Kind::Enum {
            values: vec!["lru".into(), "lfu".into(), "none".into()],
        },
    );
    let rate = p(
        "rate",
        Kind::Float {
            min: 0.0,
            max: 1.0,
            log: false,
        },
    );
    Space::new(
        vec![rate, policy, p("compress", Kind::Bool), cache, batch],
        Direction::Minimize,
    )
    .expect("example space is valid")
}

#[test]
fn conditional_parameter_follows_its_parent() {
    let space = example_space();
    let mut a = Assignment::new();
    a.insert("policy".into(), Value::Enum("none".into()));
    a.insert("cache_mb".into(), Value::Int(64));
    assert!(!space.is_active("cache_mb", &a));
    space.prune_inactive(&mut a);
    assert!(!a.contains_key("cache_mb"));
    a.insert("policy".into(), Value::Enum("lru".into()));
    assert!(space.is_active("cache_mb", &a));
}

#[test]
fn coerce_widens_ints_and_refuses_the_rest() {
    let space = example_space();
    assert_eq!(space.coerce("rate", &Value::Int(1)), Ok(Value::Float(1.0)));
    assert!(matches!(
        space.coerce("rate", &Value::Float(f64::NAN)),
        Err(HpoError::NotFinite { .. })
    ));
    assert!(matches!(
        space.coerce("policy", &Value::Enum("fifo".into())),
        Err(HpoError::KindMismatch { .. })
    ));
    assert!(matches!(
        space.coerce("nope", &Value::Int(1)),
        Err(HpoError::UnknownParameter(_))
    ));
}

#[test]
fn cycles_and_bad_parents_are_refused() {
    let mut a = example_space().parameters().to_vec();
    for p in &mut a {
        if p.name == "policy" {
            p.when = Some(Condition {
                parameter: "compress".into(),
                values: vec![Value::Bool(true)],
            });
        }
        if p.name == "compress" {
            p.when = Some(Condition {
                parameter: "policy".into(),
                values: vec![Value::Enum("lru".into())],
            });
        }
    }
    let Err(HpoError::InvalidSpace(problems)) = Space::new(a, Direction::Minimize) else {
        panic!("a cycle must be refused");
    };
    assert!(problems.iter().any(|p| p.contains("cycle")), "{problems:?}");
}

#[test]
fn live_values_are_checked() {
    let mut a = example_space().parameters().to_vec();
    a[0].live = Some(Value::Int(1000)); // batch
    assert!(Space::new(a, Direction::Minimize).is_err());
}

/// One float `x` in [0, 1].
pub(crate) fn one_float() -> Space {
    let x = Parameter {
        name: "x".into(),
        kind: Kind::Float {
            min: 0.0,
            max: 1.0,
            log: false,
        },
        when: None,
        step: StepLimit::default(),
        live: None,
    };
    Space::new(vec![x], Direction::Minimize).expect("valid")
}
