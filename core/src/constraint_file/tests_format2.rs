//! Format 2: the example, every section, and a self-contradicting file
//! refused whole with every problem located.

use super::*;
use crate::policy::{Direction, Limit};

const EXAMPLE: &str = include_str!("../../../examples/constraints.toml");

fn problems(path: &str, text: &str) -> Vec<String> {
    match parse_file(path, text) {
        Err(ConstraintFileError::Invalid { problems, .. }) => {
            problems.iter().map(|p| p.to_string()).collect()
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn the_example_shows_every_feature() {
    let file = parse_file("examples/constraints.toml", EXAMPLE).expect("example parses");
    let p = &file.policy;
    assert_eq!(p.format, 2);
    let b = p.limits_of("batch_size");
    assert_eq!(
        (b.max_step_abs, b.auto_approve, b.frozen),
        (Some(32.0), Some(4.0), false)
    );
    assert!(p.limits_of("request_class_routing").frozen);
    assert_eq!(p.rules.len(), 3);
    assert_eq!(p.rules[0].name, "token_budget");
    assert_eq!(p.guardrails.len(), 3);
    assert_eq!(p.guardrails[0].limit, Limit::Value(275.0));
    assert_eq!(p.guardrails[0].direction, Direction::AtMost);
    assert_eq!(p.guardrails[1].limit, Limit::BaselineFactor(1.10));
    assert_eq!(p.guardrails[2].limit, Limit::BaselineOffset(0.001));
    let shares: Vec<u8> = p.rollout.phases.iter().map(|ph| ph.share).collect();
    assert_eq!(shares, [0, 5, 25, 50, 75, 100]);
    assert_eq!(p.approval.required_large, 2);
    assert!(p.security.signing_required);
    assert_eq!(
        file.constraints.defaults()["max_tokens"],
        crate::ParamValue::Int(2048)
    );
}

#[test]
fn a_format_1_file_gets_the_permissive_default_policy() {
    let file = parse_file(
        "f.toml",
        "[parameters.a]\nkind = \"int\"\nmin = 0\nmax = 9\ndefault = 1\n",
    )
    .expect("parses");
    assert_eq!(file.policy.format, 1);
    assert_eq!(file.policy.limits_of("a"), Default::default());
    assert!(file.policy.rules.is_empty());
    let bad = problems(
        "f.toml",
        "[parameters.a]\nkind = \"int\"\nmin = 0\nmax = 9\ndefault = 1\nauto_approve = 1\n",
    );
    assert_eq!(
        bad,
        ["parameter `a`: unknown field `auto_approve` (line 6)"]
    );
}

const CONTRADICTIONS: &str = r#"format = 2
[parameters.a]
kind = "int"
min = 10
max = 1
default = 5
[parameters.flag]
kind = "bool"
default = true
auto_approve = 2
[[rules]]
name = "unknown"
expr = "ghost > 1"
[[rules]]
name = "untyped"
expr = "flag + 1 > 2"
[[guardrails]]
name = "no_limit"
metric = "latency_p99"
aggregate = "p99"
op = "<="
[rollout]
phases = [{ name = "a", share = 50 }, { name = "b", share = 25 }, { name = "c", share = 100 }]
"#;

#[test]
fn a_self_contradicting_toml_file_lists_every_problem_by_line() {
    let got = problems("c.toml", CONTRADICTIONS);
    let want = [
        "parameter `a`: min 10 is greater than max 1 (line 2)",
        "parameter `flag`: `auto_approve` applies to int and float only (line 10)",
        "rule does not check: unknown parameter `ghost` (line 13)",
        "rule does not check: `+` takes a number, `flag` is a boolean (line 16)",
        "a guardrail has exactly one limit: `value`, `baseline_factor` or `baseline_offset` (line 17)",
        "shares must increase: phase `b` (25%) follows `a` (50%) (line 23)",
    ];
    for w in want {
        assert!(got.iter().any(|g| g == w), "missing {w:?} in {got:#?}");
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
}

#[test]
fn a_self_contradicting_json_file_lists_every_problem_by_pointer() {
    let json = r#"{"format": 2,
      "parameters": {"a": {"kind": "int", "min": 0, "max": 9, "default": 12, "max_step_abs": -1}},
      "rules": [{"name": "r", "expr": "a >"}],
      "approval": {"required": 0, "roles": ["proposer"]}}"#;
    let got = problems("c.json", json);
    let want = [
        "parameter `a`: `max_step_abs` must be a number >= 0, found -1 (/parameters/a/max_step_abs)",
        "parameter `a`: default 12 is outside 0..=9 (/parameters/a)",
        "rule does not check: at byte 3: the rule ends where a value was expected (/rules/0/expr)",
        "`required` must be 1..=16 (/approval/required)",
        "role `proposer` may not approve (only operator and admin) (/approval/roles)",
    ];
    for w in want {
        assert!(got.iter().any(|g| g == w), "missing {w:?} in {got:#?}");
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
}
