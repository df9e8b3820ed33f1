//! Builders and proptest strategies for tests of the state machine, here
//! and in the crates that store and replicate it (enabled by the
//! `testing` feature outside this crate's own tests).

use crate::audit::{AuditEntry, AuditHead, AuditRecord};
use crate::constraint_file;
use crate::constraints::ConstraintSet;
use crate::proposal::{Change, ProposalSpec};
use crate::role::Role;
use crate::security::{SecuritySummary, SummaryRow};
use crate::sessions::Origin;
use crate::{Actor, Command, Op, ParamValue, State};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// The README's example constraints.
pub const EXAMPLE: &str = include_str!("../../examples/constraints.toml");
pub const SVC: &str = "ml-inference-service";

fn actor(role: Role) -> Actor {
    Actor {
        identity: role.name().to_string(),
        role,
    }
}

pub fn cmd(role: Role, at_ms: u64, op: Op) -> Command {
    Command {
        actor: actor(role),
        at_ms,
        origin: None,
        seal: None,
        op,
    }
}

pub fn example() -> ConstraintSet {
    constraint_file::parse("examples/constraints.toml", EXAMPLE).expect("example parses")
}

pub fn with_target() -> State {
    let mut s = State::default();
    let r = s.apply(&cmd(
        Role::Operator,
        1,
        Op::SetConstraints {
            target: SVC.into(),
            constraints: example(),
        },
    ));
    assert!(r.result.is_ok(), "{r:?}");
    s
}

/// A proposal of `changes` to [`SVC`].
pub fn spec(id: &str, changes: &[(&str, ParamValue)]) -> ProposalSpec {
    ProposalSpec {
        proposal_id: id.into(),
        source: "hpo".into(),
        target: SVC.into(),
        timestamp_ms: 1,
        changes: changes
            .iter()
            .map(|(p, v)| Change {
                parameter: p.to_string(),
                current_value: ParamValue::Int(0),
                proposed_value: v.clone(),
                reason: "test".into(),
            })
            .collect(),
        expected_impact: BTreeMap::from([("latency_p99".to_string(), 15.0)]),
        confidence: 0.75,
        duration_seconds: 300,
    }
}

/// Random proposals: a few ids (so retries and conflicts happen), random
/// changes, valid and not.
pub fn arb_proposal(
    target: impl Strategy<Value = &'static str>,
) -> impl Strategy<Value = ProposalSpec> {
    let id = prop::sample::select(vec!["p1", "p2", "p3", "p4"]);
    let change = (
        prop::sample::select(vec!["batch_size", "temperature", "colour"]),
        prop_oneof![
            (-10i64..300).prop_map(ParamValue::Int),
            (-1.0f64..3.0).prop_map(ParamValue::Float),
        ],
    );
    let changes = prop::collection::btree_map(change.0, change.1, 1..3);
    (id, target, changes, 0i64..2_000_000).prop_map(|(id, target, changes, ts)| {
        let list: Vec<(&str, ParamValue)> = changes.into_iter().collect();
        let mut p = spec(id, &list);
        p.target = target.into();
        p.timestamp_ms = ts;
        p
    })
}

/// Random commands, valid and not, for the determinism properties.
pub fn arb_command() -> impl Strategy<Value = Command> {
    let role = prop::sample::select(Role::ALL.to_vec());
    let value = prop_oneof![
        (-10i64..300).prop_map(ParamValue::Int),
        (-1.0f64..3.0).prop_map(ParamValue::Float),
        Just(ParamValue::Enum("chat".into())),
        Just(ParamValue::Enum("nope".into())),
        any::<bool>().prop_map(ParamValue::Bool),
    ];
    let name = prop::sample::select(vec![
        "batch_size",
        "max_tokens",
        "temperature",
        "request_class_routing",
        "speculative_decoding",
        "unknown",
    ]);
    let target = prop::sample::select(vec![SVC, "other-service"]);
    let values = prop::collection::btree_map(name.prop_map(String::from), value, 1..4);
    let op = prop_oneof![
        (target.clone(), values).prop_map(|(t, values)| Op::SetParameters {
            target: t.into(),
            values,
            expected: None,
        }),
        target.clone().prop_map(|t| Op::SetConstraints {
            target: t.into(),
            constraints: example()
        }),
        arb_proposal(target).prop_map(|proposal| Op::Propose { proposal }),
        arb_summary().prop_map(Op::SecuritySummary),
    ];
    // Sometimes a client's numbering: few sessions and small numbers, so
    // replays (and sent_at too far from the stamp) happen.
    let origin = prop::option::of((0u64..3, 0u64..8, -400_000i64..400_000));
    (role, 0u64..1_000_000, op, origin).prop_map(|(role, at_ms, op, origin)| Command {
        origin: origin.map(|(session, seq, skew)| Origin {
            session,
            seq,
            sent_at_ms: at_ms as i64 + skew,
        }),
        ..cmd(role, at_ms, op)
    })
}

/// `command` numbered like [`numbered`] and signed with the Ed25519 key
/// of `seed`, over bytes laid out as PROTOCOL.md §5 says (a stand-in for
/// the request's body at their end).
pub fn signed(command: Command, session: u64, seq: u64, seed: u8) -> Command {
    use ring::signature::{Ed25519KeyPair, KeyPair};
    let command = numbered(command, session, seq);
    let Some(o) = command.origin else {
        panic!("numbered commands have an origin")
    };
    let key = Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).expect("a key from a seed");
    let mut signed = crate::seal::SIGNING_CONTEXT.to_vec();
    signed.extend_from_slice(&[2, 0x20]);
    let head = (o.session, o.seq, o.sent_at_ms);
    signed
        .extend(bincode::serde::encode_to_vec(head, bincode::config::standard()).expect("encodes"));
    signed.extend_from_slice(b"the request's body");
    Command {
        seal: Some(crate::seal::Seal {
            key: key.public_key().as_ref().to_vec(),
            signature: key.sign(&signed).as_ref().to_vec(),
            signed,
        }),
        ..command
    }
}

/// `command` as a client numbered it: `session`, `seq`, sent at its stamp.
pub fn numbered(command: Command, session: u64, seq: u64) -> Command {
    Command {
        origin: Some(Origin {
            session,
            seq,
            sent_at_ms: command.at_ms as i64,
        }),
        ..command
    }
}

/// A node's security summary: a few rows (sometimes none, which `apply`
/// refuses) and sometimes a lost count.
pub fn arb_summary() -> impl Strategy<Value = SecuritySummary> {
    let kind = prop::sample::select(vec!["forbidden", "malformed", "over_limit", "deadline"]);
    let row = ("[a-z]{1,8}", kind, 0u64..1000).prop_map(|(identity, kind, count)| SummaryRow {
        identity,
        kind: kind.into(),
        count,
        first_remote: "127.0.0.1:9".into(),
    });
    (prop::collection::vec(row, 0..4), 0u64..3)
        .prop_map(|(rows, lost)| SecuritySummary { rows, lost })
}

/// A valid override by an operator, the `n`th of a series.
pub fn sample_override(n: usize) -> Command {
    cmd(
        Role::Operator,
        n as u64,
        Op::SetParameters {
            target: SVC.into(),
            values: BTreeMap::from([(
                "batch_size".to_string(),
                ParamValue::Int(1 + (n as i64 % 200)),
            )]),
            expected: None,
        },
    )
}

/// A valid audit chain of `n` overrides.
pub fn audit_chain(n: u64) -> Vec<AuditEntry> {
    let mut head = AuditHead::default();
    (1..=n)
        .map(|i| {
            let e = AuditEntry::after(&head, audit_record(i));
            head = e.head();
            e
        })
        .collect()
}

pub fn audit_record(n: u64) -> AuditRecord {
    AuditRecord {
        at_ms: n,
        actor: "operator".into(),
        action: "override".into(),
        target: "svc".into(),
        seal: None,
        details: format!("batch_size={n}"),
    }
}
