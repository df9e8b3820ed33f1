use super::*;
use crate::constraints::Violation;
use crate::value::ParamValue;
use std::collections::BTreeMap;

const EXAMPLE: &str = include_str!("../../../examples/constraints.toml");

fn problems_of(text: &str) -> Vec<String> {
    match parse("f.toml", text) {
        Err(ConstraintFileError::Invalid { problems, .. }) => {
            problems.iter().map(|p| p.to_string()).collect()
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn the_tracked_example_is_valid() {
    let set = parse("examples/constraints.toml", EXAMPLE).expect("example parses");
    assert_eq!(set.parameters.len(), 5);
    assert_eq!(
        set.parameters["batch_size"],
        ParamConstraint::Int {
            min: 1,
            max: 256,
            default: 32
        }
    );
    assert_eq!(
        set.defaults()["temperature"],
        ParamValue::Float(0.7),
        "defaults come from the file"
    );
}

#[test]
fn toml_and_json_read_the_same_schema() {
    let json = r#"{"format":1,"parameters":{
        "batch_size":{"kind":"int","min":1,"max":256,"default":32},
        "temperature":{"kind":"float","min":0,"max":2,"default":0.7},
        "mode":{"kind":"enum","values":["a","b"],"default":"a"},
        "cache":{"kind":"bool","default":true}}}"#;
    let toml = r#"
        [parameters.batch_size]
        kind = "int"
        min = 1
        max = 256
        default = 32
        [parameters.temperature]
        kind = "float"
        min = 0
        max = 2
        default = 0.7
        [parameters.mode]
        kind = "enum"
        values = ["a", "b"]
        default = "a"
        [parameters.cache]
        kind = "bool"
        default = true
    "#;
    assert_eq!(parse("c.json", json), parse("c.toml", toml));
    assert!(parse("c.json", json).is_ok());
}

#[test]
fn a_contradictory_file_is_refused_whole_listing_every_problem() {
    let problems = problems_of(
        r#"
        [parameters.a]
        kind = "int"
        min = 10
        max = 1
        default = 5
        [parameters.b]
        kind = "float"
        min = 0.0
        max = 1.0
        default = 3.0
        [parameters.c]
        kind = "matrix"
        [parameters.d]
        kind = "enum"
        values = ["x"]
        default = "y"
        [parameters.e]
        kind = "int"
        min = 1
        default = 1
        [parameters.ok]
        kind = "bool"
        default = true
    "#,
    );
    let expected = [
        "parameter `a`: min 10 is greater than max 1",
        "parameter `b`: default 3 is outside 0..=1",
        "parameter `c`: unknown kind `matrix`",
        "parameter `d`: default \"y\" is not one of `values`",
        "parameter `e`: missing `max`",
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for want in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(want)),
            "missing {want:?} in {problems:#?}"
        );
    }
}

#[test]
fn unknown_and_misplaced_fields_are_problems() {
    let problems = problems_of(
        r#"
        colour = "red"
        [parameters.a]
        kind = "int"
        min = 1
        maximum = 3
        max = 3
        default = 2
        [parameters.b]
        kind = "bool"
        min = 1
        default = true
    "#,
    );
    assert!(problems.contains(&"unknown field `colour` (line 2)".to_string()));
    assert!(problems.contains(&"parameter `a`: unknown field `maximum` (line 6)".to_string()));
    assert!(problems
        .contains(&"parameter `b`: field `min` does not apply to this kind (line 11)".to_string()));
}

#[test]
fn wrong_types_and_bad_names_are_problems() {
    let problems = problems_of(
        r#"{"parameters":{"a":{"kind":"int","min":1.5,"max":3,"default":2},
            "bad name":{"kind":"bool","default":true},
            "e":{"kind":"enum","values":[],"default":"x"}}}"#,
    );
    assert!(problems
        .iter()
        .any(|p| p.contains("`min` must be an integer")));
    assert!(problems
        .iter()
        .any(|p| p.starts_with("parameter `bad name`")));
    assert!(problems.iter().any(|p| p.contains("`values` is empty")));
}

#[test]
fn syntax_errors_name_the_line() {
    match parse("broken.toml", "[parameters.a]\nkind = \n") {
        Err(ConstraintFileError::Syntax { message, path }) => {
            assert_eq!(path, "broken.toml");
            assert!(message.contains("line 2"), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    match parse("broken.json", "{\"parameters\": {\n \"a\": }") {
        Err(ConstraintFileError::Syntax { message, .. }) => {
            assert!(message.contains("line 2"), "{message}")
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn values_are_checked_against_every_kind_and_bound() {
    let set = parse("examples/constraints.toml", EXAMPLE).expect("example parses");
    let cases: Vec<(&str, ParamValue, Option<&str>)> = vec![
        ("batch_size", ParamValue::Int(1), None),
        ("batch_size", ParamValue::Int(256), None),
        ("batch_size", ParamValue::Int(0), Some("min_batch_size")),
        ("batch_size", ParamValue::Int(257), Some("max_batch_size")),
        (
            "batch_size",
            ParamValue::Float(3.0),
            Some("kind_batch_size"),
        ),
        ("temperature", ParamValue::Float(0.0), None),
        ("temperature", ParamValue::Int(2), None),
        (
            "temperature",
            ParamValue::Float(-0.1),
            Some("min_temperature"),
        ),
        (
            "temperature",
            ParamValue::Float(2.01),
            Some("max_temperature"),
        ),
        (
            "temperature",
            ParamValue::Float(f64::NAN),
            Some("kind_temperature"),
        ),
        (
            "temperature",
            ParamValue::Float(f64::INFINITY),
            Some("kind_temperature"),
        ),
        (
            "request_class_routing",
            ParamValue::Enum("chat".into()),
            None,
        ),
        (
            "request_class_routing",
            ParamValue::Enum("video".into()),
            Some("values_request_class_routing"),
        ),
        (
            "request_class_routing",
            ParamValue::Bool(true),
            Some("kind_request_class_routing"),
        ),
        ("speculative_decoding", ParamValue::Bool(true), None),
        (
            "speculative_decoding",
            ParamValue::Int(1),
            Some("kind_speculative_decoding"),
        ),
        ("no_such", ParamValue::Int(1), Some("unknown_parameter")),
    ];
    for (name, value, want) in cases {
        let input = BTreeMap::from([(name.to_string(), value.clone())]);
        let got = set.check_all(&input);
        match (want, got) {
            (None, Ok(_)) => {}
            (Some(c), Err(v)) => {
                assert_eq!(v.len(), 1);
                assert_eq!(v[0].constraint, c, "{name} = {value:?}");
            }
            (want, got) => panic!("{name} = {value:?}: wanted {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn check_all_lists_every_violation() {
    let set = parse("examples/constraints.toml", EXAMPLE).expect("example parses");
    let input = BTreeMap::from([
        ("batch_size".to_string(), ParamValue::Int(999)),
        ("temperature".to_string(), ParamValue::Float(0.5)),
        ("zzz".to_string(), ParamValue::Bool(true)),
    ]);
    let violations: Vec<Violation> = set.check_all(&input).expect_err("two are bad");
    let names: Vec<_> = violations.iter().map(|v| v.constraint.as_str()).collect();
    assert_eq!(names, ["max_batch_size", "unknown_parameter"]);
}
