//! The format-1 operator commands (`operate` 0x10 on the wire:
//! `Op::SetParameters` and `Op::SetConstraints`) against a target with a
//! format-2 policy: they must meet the same guards as the workflow's
//! (`Op::Override` and `Op::Configure` without `force`), so that no client
//! skips the constraint engine by choosing the older request.

use super::tests_approve::{by, configured, propose};
use crate::command::{CommandError, Outcome};
use crate::constraint_file::parse_file;
use crate::proposal::Verdict;
use crate::role::Role;
use crate::testing::{EXAMPLE, SVC};
use crate::{Op, ParamValue, State};

fn legacy_set(values: &[(&str, ParamValue)]) -> Op {
    Op::SetParameters {
        target: SVC.into(),
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        expected: None,
    }
}

fn legacy_constraints(text: &str) -> Op {
    Op::SetConstraints {
        target: SVC.into(),
        constraints: parse_file("c.toml", text).expect("parses").constraints,
    }
}

/// Applies `op` as an operator and checks that it was refused, changed
/// no target and was audited as a refusal.
fn refused(s: &mut State, op: Op) -> CommandError {
    let before = s.targets.clone();
    let r = s.apply(&by("ops", Role::Operator, 30, op));
    assert!(s.targets == before, "a refused command changes nothing");
    assert_eq!(r.audit.len(), 1);
    assert_eq!(r.audit[0].action, "refused");
    r.result.expect_err("refused")
}

#[test]
fn a_legacy_override_meets_frozen_and_the_rules() {
    use ParamValue::*;
    let violated = |e: CommandError| -> Vec<String> {
        match e {
            CommandError::Refused(v) => v.iter().map(|v| v.constraint.clone()).collect(),
            other => panic!("not a violation: {other:?}"),
        }
    };
    type Case = (
        &'static str,
        Vec<(&'static str, ParamValue)>,
        Vec<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "frozen",
            vec![("request_class_routing", Enum("completion".into()))],
            vec!["frozen_request_class_routing"],
        ),
        (
            "product rule",
            vec![("max_tokens", Int(8192))],
            vec!["token_budget"],
        ),
        (
            "implication",
            vec![
                ("speculative_decoding", Bool(true)),
                ("temperature", Float(1.5)),
            ],
            vec![
                "speculative_needs_low_temperature",
                "speculative_needs_low_temperature",
            ],
        ),
        (
            "range",
            vec![("batch_size", Int(0))],
            vec!["min_batch_size"],
        ),
    ];
    for (name, values, want) in cases {
        let mut s = configured();
        let got = violated(refused(&mut s, legacy_set(&values)));
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn a_legacy_override_is_refused_while_a_proposal_is_pending() {
    let mut s = configured();
    assert_eq!(propose(&mut s, "p1", 48).verdict, Verdict::PendingApproval);
    let e = refused(&mut s, legacy_set(&[("batch_size", ParamValue::Int(16))]));
    assert!(
        matches!(e, CommandError::ActiveProposal { ref proposal_id } if proposal_id == "p1"),
        "{e:?}"
    );
    assert_eq!(
        s.targets[SVC].pending.as_deref(),
        Some("p1"),
        "still pending"
    );
}

#[test]
fn a_legacy_constraints_change_is_guarded_like_the_workflows() {
    // Live values the new constraints make illegal.
    let mut s = configured();
    let tight = EXAMPLE.replace("max = 256\ndefault = 32", "max = 16\ndefault = 8");
    let e = refused(&mut s, legacy_constraints(&tight));
    assert!(
        matches!(e, CommandError::LiveOutOfBounds(ref p) if p == &["batch_size"]),
        "{e:?}"
    );
    // A pending proposal is the target's active rollout.
    let mut s = configured();
    propose(&mut s, "p1", 48);
    let e = refused(&mut s, legacy_constraints(EXAMPLE));
    assert!(matches!(e, CommandError::ActiveProposal { .. }), "{e:?}");
}

#[test]
fn a_legacy_constraints_change_keeps_the_policy_it_cannot_express() {
    // Two steps through the old door: new hard constraints (the wire's
    // format-1 set cannot carry a policy), then an override. The frozen
    // flag and the rules must survive the first step.
    let mut s = configured();
    let policy = s.targets[SVC].policy.clone();
    let wider = EXAMPLE.replace("max = 256\ndefault = 32", "max = 512\ndefault = 32");
    let r = s.apply(&by("ops", Role::Operator, 30, legacy_constraints(&wider)));
    assert!(
        matches!(r.result, Ok(Outcome::ConstraintsSet { version: 2, .. })),
        "{r:?}"
    );
    assert_eq!(s.targets[SVC].policy, policy, "the policy is kept");
    let e = refused(
        &mut s,
        legacy_set(&[("request_class_routing", ParamValue::Enum("chat".into()))]),
    );
    assert!(matches!(e, CommandError::Refused(_)), "{e:?}");
    let e = refused(&mut s, legacy_set(&[("batch_size", ParamValue::Int(512))]));
    assert!(
        matches!(e, CommandError::Refused(ref v) if v[0].constraint == "token_budget"),
        "{e:?}"
    );
}

#[test]
fn a_legacy_constraints_change_that_orphans_a_rule_is_refused() {
    // Dropping a parameter a rule reads: the rule no longer checks, so the
    // whole set is refused rather than the rule silently dropped.
    let mut s = configured();
    let mut constraints = s.targets[SVC].constraints.clone();
    constraints.parameters.remove("max_tokens");
    // And a problem of the set's own: both are listed.
    constraints.parameters.insert(
        "batch_size".into(),
        crate::constraints::ParamConstraint::Int {
            min: 9,
            max: 1,
            default: 5,
        },
    );
    let op = Op::SetConstraints {
        target: SVC.into(),
        constraints,
    };
    let e = refused(&mut s, op);
    let CommandError::InvalidConstraints(problems) = &e else {
        panic!("{e:?}")
    };
    assert!(problems.len() >= 2, "{problems:?}");
    assert!(
        problems.iter().any(|p| p.message.contains("token_budget")),
        "{problems:?}"
    );
}
