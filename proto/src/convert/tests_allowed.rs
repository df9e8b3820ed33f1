//! The approval (0x82) gives each rejected change what would have been
//! allowed, as data: the proposer reads it from the answer it already
//! has, not from a second request.

use super::approval;
use super::tests_terms::{spec, target, EXAMPLE};
use crate::workflow::Allowed;
use arqonbus_core::decide::decide;
use arqonbus_core::ParamValue;

fn decided(changes: &[(&str, ParamValue)]) -> crate::reply::Approval {
    approval(&decide(&spec(changes), &target(EXAMPLE), "hpo", 1))
}

#[test]
fn a_rejected_change_carries_what_was_allowed() {
    use ParamValue::*;
    // (parameter, proposed, the allowed the approval must carry)
    let cases = [
        // Beyond max_step_abs 32 from the live 32 (and inside the range).
        (
            "batch_size",
            Int(100),
            Allowed::Step {
                max_step_abs: Some(32.0),
                max_step_rel: None,
            },
        ),
        // Outside the hard range.
        (
            "max_tokens",
            Int(9000),
            Allowed::Range {
                min: 256.0,
                max: 8192.0,
            },
        ),
    ];
    for (parameter, value, want) in cases {
        let a = decided(&[(parameter, value)]);
        let rejected = a
            .rejected_changes
            .iter()
            .find(|r| r.parameter == parameter)
            .unwrap_or_else(|| panic!("{parameter} is rejected: {a:?}"));
        assert_eq!(rejected.allowed.as_ref(), Some(&want), "{parameter}");
    }
}

#[test]
fn a_rule_rejection_carries_the_range_the_rule_leaves() {
    use ParamValue::*;
    // token_budget: batch_size * max_tokens <= 131072; 60 * 3000 breaks
    // it, and its rejection gives the range the rule leaves the parameter
    // with the other held at its proposed value.
    let a = decided(&[("batch_size", Int(60)), ("max_tokens", Int(3000))]);
    let rejected: Vec<_> = a
        .rejected_changes
        .iter()
        .filter(|r| r.constraint_violated.as_deref() == Some("token_budget"))
        .collect();
    assert!(!rejected.is_empty(), "token_budget rejects: {a:?}");
    for r in rejected {
        assert!(
            matches!(r.allowed, Some(Allowed::Range { .. })),
            "a rule's rejection gives a range: {r:?}"
        );
    }
}
