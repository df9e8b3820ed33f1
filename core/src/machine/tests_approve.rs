//! The approval workflow and guarded operator edits through `apply`.

use crate::command::{CommandError, Outcome};
use crate::constraint_file::parse_file;
use crate::proposal::Verdict;
use crate::role::Role;
use crate::testing::{spec, EXAMPLE, SVC};
use crate::{Actor, Command, Op, ParamValue, State};

pub(super) fn by(identity: &str, role: Role, at_ms: u64, op: Op) -> Command {
    Command {
        actor: Actor {
            identity: identity.into(),
            role,
        },
        at_ms,
        origin: None,
        seal: None,
        op,
    }
}

pub(super) fn configured() -> State {
    let file = parse_file("examples/constraints.toml", EXAMPLE).expect("parses");
    let mut s = State::default();
    let op = Op::Configure {
        target: SVC.into(),
        constraints: file.constraints,
        policy: file.policy,
        force: false,
    };
    assert!(s.apply(&by("ops", Role::Operator, 1, op)).result.is_ok());
    s
}

pub(super) fn propose(s: &mut State, id: &str, value: i64) -> crate::proposal::Decision {
    let op = Op::Propose {
        proposal: spec(id, &[("batch_size", ParamValue::Int(value))]),
    };
    match s.apply(&by("hpo", Role::Proposer, 10, op)).result {
        Ok(Outcome::Proposal { decision, .. }) => decision,
        other => panic!("{other:?}"),
    }
}

fn approve(s: &mut State, who: &str, role: Role, id: &str) -> crate::CommandResult {
    let op = Op::Approve {
        proposal_id: id.into(),
        reason: "looks fine".into(),
    };
    s.apply(&by(who, role, 20, op)).result
}

#[test]
fn a_large_change_is_approved_two_of_two_by_distinct_operators() {
    let mut s = configured();
    let d = propose(&mut s, "p1", 64);
    assert_eq!(
        (d.verdict, d.required_approvals),
        (Verdict::PendingApproval, 2)
    );
    let first = approve(&mut s, "alice", Role::Operator, "p1");
    let Ok(Outcome::ProposalUpdated { decision }) = first else {
        panic!("{first:?}")
    };
    assert_eq!(decision.verdict, Verdict::PendingApproval);
    assert!(matches!(
        approve(&mut s, "alice", Role::Operator, "p1"),
        Err(CommandError::AlreadyApproved { .. })
    ));
    let second = approve(&mut s, "bob", Role::Operator, "p1");
    let Ok(Outcome::ProposalUpdated { decision }) = second else {
        panic!("{second:?}")
    };
    assert_eq!(decision.verdict, Verdict::Approved);
    assert_eq!(decision.approvals.len(), 2);
    assert_eq!(s.decided.get("p1").expect("held").decision, decision);
    assert!(s.targets[SVC].pending.is_none());
    assert!(matches!(
        approve(&mut s, "carol", Role::Operator, "p1"),
        Err(CommandError::NotPending { .. })
    ));
}

#[test]
fn approvals_that_change_nothing_get_typed_errors() {
    let mut s = configured();
    propose(&mut s, "p1", 48);
    let before = s.targets.clone();
    type Case = (&'static str, Role, &'static str, fn(&CommandError) -> bool);
    let cases: Vec<Case> = vec![
        ("hpo", Role::Operator, "p1", |e| {
            matches!(e, CommandError::SelfApproval { .. })
        }),
        ("eve", Role::Proposer, "p1", |e| {
            matches!(e, CommandError::Forbidden { .. })
        }),
        ("vic", Role::Viewer, "p1", |e| {
            matches!(e, CommandError::Forbidden { .. })
        }),
        ("alice", Role::Operator, "nope", |e| {
            matches!(e, CommandError::UnknownProposal(_))
        }),
    ];
    for (who, role, id, want) in cases {
        let got = approve(&mut s, who, role, id);
        assert!(got.as_ref().is_err_and(want), "{who} {id}: {got:?}");
    }
    assert_eq!(s.targets, before, "nothing changed");
}

#[test]
fn a_pending_proposal_blocks_others_until_rejected_or_expired() {
    let mut s = configured();
    propose(&mut s, "p1", 48);
    let d = propose(&mut s, "p2", 34);
    assert_eq!(d.rejected[0].constraint, "active_proposal");
    let no_reason = Op::RejectPending {
        proposal_id: "p1".into(),
        reason: " ".into(),
    };
    assert!(s
        .apply(&by("alice", Role::Operator, 20, no_reason))
        .result
        .is_err());
    let reject = Op::RejectPending {
        proposal_id: "p1".into(),
        reason: "too big for friday".into(),
    };
    let r = s.apply(&by("alice", Role::Operator, 20, reject));
    assert_eq!(r.audit.last().expect("audited").action, "reject");
    let Ok(Outcome::ProposalUpdated { decision }) = r.result else {
        panic!()
    };
    assert_eq!(decision.verdict, Verdict::Rejected);
    assert_eq!(decision.rejected[0].constraint, "operator_rejected");
    // Expiry: refused before its time, applied after.
    let d = propose(&mut s, "p3", 48);
    let early = Op::Expire {
        proposal_id: "p3".into(),
    };
    let r = s.apply(&by(
        "node-1",
        Role::Node,
        d.expires_at_ms - 1,
        early.clone(),
    ));
    assert!(matches!(r.result, Err(CommandError::NotExpired { .. })));
    assert_eq!(s.expired_pending(d.expires_at_ms), ["p3"]);
    let r = s.apply(&by("node-1", Role::Node, d.expires_at_ms, early));
    assert_eq!(r.audit.last().expect("audited").action, "expire");
    assert_eq!(
        s.decided.get("p3").expect("held").decision.verdict,
        Verdict::Expired
    );
    assert!(s.targets[SVC].pending.is_none());
    assert!(matches!(
        approve(&mut s, "alice", Role::Operator, "p3"),
        Err(CommandError::NotPending { .. })
    ));
}

#[test]
fn overrides_are_guarded_and_force_is_audited() {
    let mut s = configured();
    let set = |force: bool, values: &[(&str, ParamValue)]| Op::Override {
        target: SVC.into(),
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        expected: None,
        force,
    };
    // Kind, range, frozen and the rules, but not the step.
    let r = s.apply(&by(
        "ops",
        Role::Operator,
        5,
        set(false, &[("batch_size", ParamValue::Int(64))]),
    ));
    assert!(r.result.is_ok(), "a big step is the operator's call: {r:?}");
    let r = s.apply(&by(
        "ops",
        Role::Operator,
        5,
        set(false, &[("max_tokens", ParamValue::Int(4096))]),
    ));
    assert!(
        matches!(r.result, Err(CommandError::Refused(ref v)) if v[0].constraint == "token_budget")
    );
    let frozen = set(
        false,
        &[(
            "request_class_routing",
            ParamValue::Enum("completion".into()),
        )],
    );
    assert!(s
        .apply(&by("ops", Role::Operator, 5, frozen))
        .result
        .is_err());
    let r = s.apply(&by(
        "ops",
        Role::Operator,
        5,
        set(false, &[("batch_size", ParamValue::Int(32))]),
    ));
    assert!(r.result.is_ok());
    propose(&mut s, "p1", 48);
    let r = s.apply(&by(
        "ops",
        Role::Operator,
        30,
        set(false, &[("batch_size", ParamValue::Int(16))]),
    ));
    assert!(matches!(r.result, Err(CommandError::ActiveProposal { .. })));
    let r = s.apply(&by(
        "ops",
        Role::Operator,
        30,
        set(true, &[("batch_size", ParamValue::Int(16))]),
    ));
    assert!(r.result.is_ok());
    let actions: Vec<&str> = r.audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["params_forced"]);
    assert_eq!(
        s.decided.get("p1").expect("held").decision.verdict,
        Verdict::Rejected
    );
}

#[test]
fn constraints_that_make_live_values_illegal_need_force() {
    let mut s = configured();
    let tight = EXAMPLE.replace("max = 256\ndefault = 32", "max = 16\ndefault = 8");
    let file = parse_file("c.toml", &tight).expect("parses");
    let op = |force| Op::Configure {
        target: SVC.into(),
        constraints: file.constraints.clone(),
        policy: file.policy.clone(),
        force,
    };
    let r = s.apply(&by("ops", Role::Operator, 5, op(false)));
    assert!(matches!(r.result, Err(CommandError::LiveOutOfBounds(ref p)) if p == &["batch_size"]));
    assert_eq!(s.targets[SVC].constraints_version, 1);
    let r = s.apply(&by("ops", Role::Operator, 5, op(true)));
    assert_eq!(r.audit[0].action, "constraints_forced");
    assert_eq!(s.targets[SVC].constraints_version, 2);
    assert_eq!(
        s.targets[SVC].history.keys().copied().collect::<Vec<_>>(),
        [1, 2]
    );
}

#[test]
fn a_rolled_back_value_is_quarantined_and_the_target_cools_down() {
    let mut s = configured();
    let d = propose(&mut s, "p1", 34);
    assert_eq!(d.verdict, Verdict::Approved);
    let rollback = Op::Rollback {
        target: SVC.into(),
        reason: "latency".into(),
    };
    let r = s.apply(&by("ops", Role::Operator, 100, rollback.clone()));
    assert!(matches!(r.result, Ok(Outcome::RolledBack { .. })), "{r:?}");
    assert!(matches!(
        s.apply(&by("ops", Role::Operator, 100, rollback)).result,
        Err(CommandError::NothingToRollBack(_))
    ));
    let during = Op::Propose {
        proposal: spec("p2", &[("batch_size", ParamValue::Int(36))]),
    };
    let r = s.apply(&by("hpo", Role::Proposer, 200, during));
    let Ok(Outcome::Proposal { decision, .. }) = r.result else {
        panic!()
    };
    assert_eq!(decision.rejected[0].constraint, "cooldown");
    let mut after = spec("p3", &[("batch_size", ParamValue::Int(34))]);
    after.timestamp_ms = 400_000;
    let r = s.apply(&by(
        "hpo",
        Role::Proposer,
        400_000,
        Op::Propose { proposal: after },
    ));
    let Ok(Outcome::Proposal { decision, .. }) = r.result else {
        panic!()
    };
    assert_eq!(decision.rejected[0].constraint, "quarantine_batch_size");
}

#[test]
fn two_replicas_applying_the_workflow_end_byte_identical() {
    let run = || {
        let mut s = configured();
        propose(&mut s, "p1", 64);
        let _ = approve(&mut s, "alice", Role::Operator, "p1");
        let _ = approve(&mut s, "bob", Role::Operator, "p1");
        propose(&mut s, "p2", 90);
        bincode::serde::encode_to_vec(&s, bincode::config::standard()).expect("encodes")
    };
    assert_eq!(run(), run());
}

#[test]
fn a_pending_proposal_outlives_a_full_decided_table() {
    let mut s = configured();
    s.decided = crate::decided::DecidedTable::with_limits(crate::decided::Limits {
        entries: 4,
        bytes: u64::MAX,
    });
    assert_eq!(propose(&mut s, "p1", 48).verdict, Verdict::PendingApproval);
    // Each of these is decided (rejected: p1 is active) and remembered,
    // pushing the table past its bound with p1 the oldest.
    for i in 0..10 {
        let mut proposal = spec(
            &format!("other-{i}"),
            &[("batch_size", ParamValue::Int(33))],
        );
        proposal.timestamp_ms = 2 + i;
        let r = s.apply(&by("hpo", Role::Proposer, 10, Op::Propose { proposal }));
        let Ok(Outcome::Proposal { decision, .. }) = r.result else {
            panic!("{:?}", r.result)
        };
        assert_eq!(decision.rejected[0].constraint, "active_proposal");
    }
    assert!(s.decided.len() <= 5);
    let r = approve(&mut s, "alice", Role::Operator, "p1");
    assert!(
        matches!(r, Ok(Outcome::ProposalUpdated { ref decision }) if decision.verdict == Verdict::Approved),
        "{r:?}"
    );
}
