use super::*;
use crate::role::Role;
use crate::testing::{arb_command, cmd, example, with_target, SVC};
use proptest::prelude::*;

fn set(values: &[(&str, ParamValue)]) -> Op {
    Op::SetParameters {
        target: SVC.into(),
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        expected: None,
    }
}

#[test]
fn a_new_target_starts_on_its_defaults() {
    let s = with_target();
    let t = &s.targets[SVC];
    assert_eq!(t.constraints_version, 1);
    assert_eq!(t.live, example().defaults());
    assert_eq!(t.last_known_good, t.live);
    assert_eq!(s.audit.index, 1, "the constraint change was audited");
}

#[test]
fn the_override_validates_then_sets_live_and_last_known_good() {
    use ParamValue::*;
    type Case = (
        &'static str,
        Vec<(&'static str, ParamValue)>,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        ("in range", vec![("batch_size", Int(48))], None),
        ("lower bound", vec![("batch_size", Int(1))], None),
        ("upper bound", vec![("max_tokens", Int(8192))], None),
        (
            "below min",
            vec![("batch_size", Int(0))],
            Some("min_batch_size"),
        ),
        (
            "above max",
            vec![("max_tokens", Int(8193))],
            Some("max_max_tokens"),
        ),
        ("float", vec![("temperature", Float(1.5))], None),
        (
            "float below",
            vec![("temperature", Float(-0.5))],
            Some("min_temperature"),
        ),
        (
            "NaN",
            vec![("temperature", Float(f64::NAN))],
            Some("kind_temperature"),
        ),
        (
            "enum",
            vec![("request_class_routing", Enum("embedding".into()))],
            None,
        ),
        (
            "enum outside",
            vec![("request_class_routing", Enum("x".into()))],
            Some("values_request_class_routing"),
        ),
        ("bool", vec![("speculative_decoding", Bool(true))], None),
        (
            "wrong kind",
            vec![("batch_size", Bool(true))],
            Some("kind_batch_size"),
        ),
        (
            "unknown",
            vec![("colour", Int(1))],
            Some("unknown_parameter"),
        ),
        (
            "one bad spoils all",
            vec![("batch_size", Int(64)), ("temperature", Float(9.0))],
            Some("max_temperature"),
        ),
    ];
    for (case, values, want) in cases {
        let mut s = with_target();
        let before = s.targets[SVC].clone();
        let r = s.apply(&cmd(Role::Operator, 2, set(&values)));
        assert_eq!(r.audit.len(), 1, "{case}: every command appends");
        match (want, r.result) {
            (None, Ok(Outcome::ParametersSet { values: got, .. })) => {
                let t = &s.targets[SVC];
                for (k, v) in got {
                    assert_eq!(t.live[&k], v, "{case}");
                    assert_eq!(t.last_known_good[&k], v, "{case}");
                }
                assert_eq!(r.audit[0].action, "override", "{case}");
            }
            (Some(c), Err(CommandError::Refused(v))) => {
                assert!(v.iter().any(|v| v.constraint == c), "{case}: {v:?}");
                assert_eq!(s.targets[SVC], before, "{case}: nothing changed");
                assert_eq!(r.audit[0].action, "refused", "{case}");
            }
            (want, got) => panic!("{case}: wanted {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn an_unknown_target_is_an_error_and_changes_nothing() {
    let mut s = State::default();
    let r = s.apply(&cmd(
        Role::Operator,
        2,
        set(&[("batch_size", ParamValue::Int(2))]),
    ));
    assert_eq!(r.result, Err(CommandError::UnknownTarget(SVC.into())));
    assert!(s.targets.is_empty());
    assert_eq!(r.audit[0].action, "refused");
}

#[test]
fn roles_are_checked_in_apply_and_refusals_are_audited() {
    for role in [Role::Viewer, Role::Proposer, Role::Agent, Role::Node] {
        let mut s = with_target();
        let before = s.targets.clone();
        let r = s.apply(&cmd(role, 2, set(&[("batch_size", ParamValue::Int(2))])));
        assert!(
            matches!(r.result, Err(CommandError::Forbidden { .. })),
            "{role}: {r:?}"
        );
        assert_eq!(s.targets, before);
        assert_eq!(r.audit[0].action, "forbidden");
        assert_eq!(r.audit[0].actor, role.name());
    }
    let mut s = with_target();
    let r = s.apply(&cmd(
        Role::Admin,
        2,
        set(&[("batch_size", ParamValue::Int(2))]),
    ));
    assert!(r.result.is_ok());
}

#[test]
fn contradictory_constraints_are_refused_in_apply_too() {
    let mut s = with_target();
    let mut bad = example();
    bad.parameters.insert(
        "batch_size".into(),
        crate::constraints::ParamConstraint::Int {
            min: 9,
            max: 1,
            default: 5,
        },
    );
    let r = s.apply(&cmd(
        Role::Operator,
        2,
        Op::SetConstraints {
            target: SVC.into(),
            constraints: bad,
        },
    ));
    assert!(matches!(r.result, Err(CommandError::InvalidConstraints(_))));
    assert_eq!(s.targets[SVC].constraints_version, 1);
}

#[test]
fn new_constraints_that_make_live_values_illegal_are_refused() {
    let mut s = with_target();
    s.apply(&cmd(
        Role::Operator,
        2,
        set(&[("batch_size", ParamValue::Int(200))]),
    ));
    let mut tighter = example();
    tighter.parameters.insert(
        "batch_size".into(),
        crate::constraints::ParamConstraint::Int {
            min: 1,
            max: 64,
            default: 32,
        },
    );
    tighter.parameters.remove("speculative_decoding");
    let op = |constraints| Op::SetConstraints {
        target: SVC.into(),
        constraints,
    };
    let r = s.apply(&cmd(Role::Operator, 3, op(tighter.clone())));
    assert!(
        matches!(r.result, Err(CommandError::LiveOutOfBounds(ref p)) if p == &["batch_size"]),
        "{:?}",
        r.result
    );
    assert_eq!(s.targets[SVC].constraints_version, 1);
    // Once the live value is back inside, the same set applies.
    s.apply(&cmd(
        Role::Operator,
        4,
        set(&[("batch_size", ParamValue::Int(48))]),
    ));
    let r = s.apply(&cmd(Role::Operator, 5, op(tighter)));
    match r.result {
        Ok(Outcome::ConstraintsSet {
            version,
            out_of_bounds,
            ..
        }) => {
            assert_eq!(version, 2);
            assert!(out_of_bounds.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(!s.targets[SVC].live.contains_key("speculative_decoding"));
}

#[test]
fn a_batch_answers_one_result_per_command_and_audits_each() {
    let mut s = with_target();
    let batch = Op::Batch(vec![
        cmd(
            Role::Operator,
            5,
            set(&[("batch_size", ParamValue::Int(8))]),
        ),
        cmd(Role::Viewer, 5, set(&[("batch_size", ParamValue::Int(9))])),
        cmd(
            Role::Operator,
            5,
            set(&[("batch_size", ParamValue::Int(999))]),
        ),
        cmd(Role::Operator, 5, Op::Batch(vec![])),
    ]);
    let r = s.apply(&cmd(Role::Node, 5, batch));
    let Ok(Outcome::Batch(results)) = r.result else {
        panic!("expected a batch outcome: {r:?}");
    };
    assert_eq!(results.len(), 4);
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(CommandError::Forbidden { .. })));
    assert!(matches!(results[2], Err(CommandError::Refused(_))));
    assert_eq!(results[3], Err(CommandError::NestedBatch));
    assert_eq!(r.audit.len(), 4);
    assert_eq!(s.targets[SVC].live["batch_size"], ParamValue::Int(8));
    let indexes: Vec<u64> = r.audit.iter().map(|e| e.index).collect();
    assert_eq!(indexes, [2, 3, 4, 5]);
}

#[test]
fn audit_entries_carry_the_leader_timestamp_and_chain() {
    let mut s = with_target();
    let r = s.apply(&cmd(
        Role::Operator,
        42,
        set(&[("batch_size", ParamValue::Int(8))]),
    ));
    let e = &r.audit[0];
    assert_eq!(e.at_ms, 42);
    assert_eq!(e.target, SVC);
    assert_eq!(e.details, "batch_size=8");
    assert_eq!(s.audit, e.head());
    let m = s.apply_membership("voters={1,2,3}".into());
    assert_eq!(
        m.at_ms, 42,
        "membership entries reuse the newest leader time"
    );
    assert_eq!(m.prev_hash, e.hash);
}

fn encode(s: &State) -> Vec<u8> {
    bincode::serde::encode_to_vec(s, bincode::config::standard()).expect("state encodes")
}

proptest! {
    #[test]
    fn two_replicas_fed_the_same_commands_end_byte_identical(
        commands in prop::collection::vec(arb_command(), 0..40)
    ) {
        let (mut a, mut b) = (State::default(), State::default());
        let mut audit_a = Vec::new();
        let mut audit_b = Vec::new();
        for c in &commands {
            audit_a.extend(a.apply(c).audit);
            audit_b.extend(b.apply(c).audit);
        }
        prop_assert_eq!(encode(&a), encode(&b));
        prop_assert_eq!(a.audit, b.audit);
        prop_assert_eq!(audit_a.len(), commands.len());
        prop_assert_eq!(audit_a, audit_b);
    }

    #[test]
    fn replaying_from_a_snapshot_equals_replaying_from_scratch(
        commands in prop::collection::vec(arb_command(), 1..40),
        cut in 0usize..40,
    ) {
        let cut = cut.min(commands.len());
        let mut full = State::default();
        for c in &commands {
            full.apply(c);
        }
        let mut first = State::default();
        for c in &commands[..cut] {
            first.apply(c);
        }
        let (mut restored, _): (State, usize) =
            bincode::serde::decode_from_slice(&encode(&first), bincode::config::standard())
                .expect("snapshot decodes");
        for c in &commands[cut..] {
            restored.apply(c);
        }
        prop_assert_eq!(encode(&restored), encode(&full));
    }
}

#[test]
fn compare_and_set_applies_only_when_the_live_value_matches() {
    let mut s = with_target();
    let cas = |expected: i64, new: i64| Op::SetParameters {
        target: SVC.into(),
        values: BTreeMap::from([("batch_size".to_string(), ParamValue::Int(new))]),
        expected: Some(BTreeMap::from([(
            "batch_size".to_string(),
            ParamValue::Int(expected),
        )])),
    };
    let r = s.apply(&cmd(Role::Operator, 2, cas(32, 40)));
    assert!(r.result.is_ok(), "32 is the default: {r:?}");
    let r = s.apply(&cmd(Role::Operator, 3, cas(32, 50)));
    match &r.result {
        Err(CommandError::Refused(v)) => {
            assert_eq!(v[0].constraint, "expected_batch_size");
            assert!(v[0].reason.contains("live value is 40"), "{v:?}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(s.targets[SVC].live["batch_size"], ParamValue::Int(40));
    assert_eq!(r.audit[0].action, "refused");
}

#[test]
fn only_a_node_records_security_events() {
    let event = Op::SecurityEvent {
        identity: "mallory".into(),
        role: Role::Viewer,
        what: "tried set_constraints".into(),
    };
    let mut s = State::default();
    let r = s.apply(&cmd(Role::Node, 1, event.clone()));
    assert_eq!(r.result, Ok(Outcome::Recorded));
    assert_eq!(r.audit[0].action, "security_event");
    assert!(r.audit[0].details.contains("mallory (role viewer)"));
    let r = s.apply(&cmd(Role::Admin, 2, event));
    assert!(matches!(r.result, Err(CommandError::Forbidden { .. })));
}

#[test]
fn a_node_summary_is_one_audit_entry_and_nothing_else_changes() {
    use crate::security::{SecuritySummary, SummaryRow};
    let summary = SecuritySummary {
        rows: vec![SummaryRow {
            identity: "viewer".into(),
            kind: "forbidden".into(),
            count: 300,
            first_remote: "127.0.0.1:5000".into(),
        }],
        lost: 0,
    };
    let mut s = with_target();
    let before = s.clone();
    let r = s.apply(&cmd(Role::Node, 2, Op::SecuritySummary(summary.clone())));
    assert_eq!(r.result, Ok(Outcome::Recorded));
    assert_eq!(r.audit.len(), 1);
    assert_eq!(r.audit[0].action, "security_summary");
    assert_eq!(r.audit[0].details, summary.describe());
    assert_eq!(
        (s.targets.clone(), s.decided.clone()),
        (before.targets.clone(), before.decided.clone())
    );

    // Only a node may send one; one out of shape is refused and audited.
    let r = s.apply(&cmd(Role::Admin, 3, Op::SecuritySummary(summary)));
    assert!(matches!(r.result, Err(CommandError::Forbidden { .. })));
    let r = s.apply(&cmd(
        Role::Node,
        4,
        Op::SecuritySummary(SecuritySummary::default()),
    ));
    assert!(matches!(r.result, Err(CommandError::InvalidSummary(_))));
    assert_eq!(r.audit[0].action, "refused");
}
