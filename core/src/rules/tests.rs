//! The grammar, its types and its evaluation, table by table.

use super::*;
use crate::constraints::{ConstraintSet, ParamConstraint};
use crate::value::ParamValue;
use std::collections::BTreeMap;

fn set() -> ConstraintSet {
    let mut s = ConstraintSet::default();
    let p = &mut s.parameters;
    p.insert(
        "batch_size".into(),
        ParamConstraint::Int {
            min: 1,
            max: 256,
            default: 32,
        },
    );
    p.insert(
        "max_tokens".into(),
        ParamConstraint::Int {
            min: 256,
            max: 8192,
            default: 2048,
        },
    );
    p.insert(
        "temperature".into(),
        ParamConstraint::Float {
            min: 0.0,
            max: 2.0,
            default: 0.7,
        },
    );
    p.insert(
        "speculative_decoding".into(),
        ParamConstraint::Bool { default: false },
    );
    p.insert(
        "routing".into(),
        ParamConstraint::Enum {
            values: vec!["chat".into(), "batch".into()],
            default: "chat".into(),
        },
    );
    s
}

#[test]
fn rules_that_type_check_compile_and_evaluate() {
    let s = set();
    let defaults = s.defaults();
    let cases: &[(&str, bool)] = &[
        ("batch_size * max_tokens <= 131072", true),
        ("batch_size * max_tokens < 65536", false),
        ("speculative_decoding == true => temperature <= 1.0", true),
        ("2 * batch_size + max_tokens >= 2100", true),
        ("batch_size - 40 > -10", true),
        ("routing == \"chat\" || batch_size > 100", true),
        ("routing != \"chat\" && true", false),
        ("!(batch_size == 32)", false),
        ("-batch_size <= -32", true),
        ("temperature >= 0.7 && temperature <= 7e-1", true),
        ("1_000 == 1000", true),
        ("false => batch_size > 1000", true),
        ("true => false => true", true),
    ];
    for (text, want) in cases {
        let c = Compiled::compile(text, &s).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(c.holds(&defaults), *want, "{text}");
    }
    let c = Compiled::compile("batch_size * max_tokens <= 131072", &s).expect("compiles");
    assert_eq!(
        c.parameters.iter().map(String::as_str).collect::<Vec<_>>(),
        ["batch_size", "max_tokens"]
    );
}

#[test]
fn rules_that_do_not_type_check_are_refused_with_a_reason() {
    let s = set();
    let cases: &[(&str, &str)] = &[
        ("batch_size + 1", "must be a boolean"),
        ("batch_size && true", "`&&` takes a boolean"),
        ("speculative_decoding <= 1", "`<=` takes a number"),
        ("routing == \"stream\"", "is not a value of enum `routing`"),
        ("routing == 3", "cannot compare"),
        ("unknown_knob > 3", "unknown parameter `unknown_knob`"),
        ("batch_size > ", "ends where a value was expected"),
        ("(batch_size > 1", "expected `)`"),
        ("batch_size > 1 1", "unexpected text"),
        ("batch_size > \"x", "not closed"),
        ("batch_size > 1e999", "not a finite number"),
        ("batch_size # 1", "unexpected"),
        ("-true", "`-` takes a number"),
    ];
    for (text, want) in cases {
        let err = Compiled::compile(text, &s).expect_err(text);
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn cost_is_bounded_by_length_nodes_and_depth() {
    let s = set();
    let long = format!("batch_size > {}", "1".repeat(MAX_EXPR_LEN));
    assert!(Compiled::compile(&long, &s)
        .expect_err("long")
        .contains("at most"));
    let many = vec!["1"; MAX_NODES].join("+") + " > 0";
    assert!(Compiled::compile(&many, &s)
        .expect_err("many")
        .contains("terms"));
    let deep = format!(
        "{}true{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(Compiled::compile(&deep, &s)
        .expect_err("deep")
        .contains("nests"));
}

#[test]
fn a_missing_value_makes_a_rule_fail_without_panicking() {
    let c = Compiled::compile("batch_size > 1", &set()).expect("compiles");
    assert!(!c.holds(&BTreeMap::new()));
    let mut v = BTreeMap::new();
    v.insert("batch_size".to_string(), ParamValue::Bool(true));
    assert!(!c.holds(&v), "a value of the wrong kind fails the rule");
}
