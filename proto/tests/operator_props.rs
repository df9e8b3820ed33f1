//! Property test of `operate` (0x10) and `operated` (0x90): valid messages
//! round-trip through bytes and through the JSON view unchanged. (Apart
//! from `proto_props.rs`, which covers the other message types; malformed
//! operator messages are in `proto_operator_malformed.rs`.)

use arqonbus_core::audit::{AuditEntry, AuditHead, AuditRecord};
use arqonbus_core::constraints::{ConstraintSet, ParamConstraint, Violation};
use arqonbus_proto::codec::Message;
use arqonbus_proto::limits::MAX_TIMESTAMP_MS;
use arqonbus_proto::message::Request;
use arqonbus_proto::operator::*;
use arqonbus_proto::{Envelope, Reply, UnixMillis};
use common::{finite, label, name, params, round_trips, text};
use proptest::prelude::*;

mod common;

fn constraint() -> impl Strategy<Value = ParamConstraint> {
    prop_oneof![
        (any::<i64>(), any::<i64>(), any::<i64>())
            .prop_map(|(min, max, default)| ParamConstraint::Int { min, max, default }),
        (finite(), finite(), finite()).prop_map(|(min, max, default)| ParamConstraint::Float {
            min,
            max,
            default
        }),
        (prop::collection::vec(label(), 0..4), label())
            .prop_map(|(values, default)| ParamConstraint::Enum { values, default }),
        any::<bool>().prop_map(|default| ParamConstraint::Bool { default }),
    ]
}
fn constraints() -> impl Strategy<Value = ConstraintSet> {
    prop::collection::btree_map(name(), constraint(), 0..5)
        .prop_map(|parameters| ConstraintSet { parameters })
}
/// Distinct ids, hence distinct addresses; `split` sends some to a second
/// list (learners).
fn members(min: usize, max: usize) -> impl Strategy<Value = (Vec<Member>, Vec<Member>)> {
    let host = "[a-z][a-z0-9-]{0,12}";
    prop::collection::btree_map(1..u64::MAX, (host, 1..=u16::MAX, any::<bool>()), min..max)
        .prop_map(|m| {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for (node_id, (host, port, second)) in m {
                let member = Member {
                    node_id,
                    addr: format!("n{node_id}.{host}:{port}"),
                };
                if second {
                    b.push(member)
                } else {
                    a.push(member)
                }
            }
            (a, b)
        })
}
fn member() -> impl Strategy<Value = Member> {
    (1..u64::MAX, 1..=u16::MAX).prop_map(|(node_id, port)| Member {
        node_id,
        addr: format!("[fd00::{node_id:x}]:{port}"),
    })
}
fn audit() -> impl Strategy<Value = (Vec<AuditEntry>, u64)> {
    let record = (
        0..=MAX_TIMESTAMP_MS.unsigned_abs(),
        text(),
        name(),
        prop_oneof![Just(String::new()), name()],
        text(),
    );
    (0..1000u64, prop::collection::vec(record, 0..4), 0..5u64).prop_map(
        |(start, records, ahead)| {
            let mut head = AuditHead {
                index: start,
                hash: [7; 32],
            };
            let mut entries = Vec::new();
            for (at_ms, actor, action, target, details) in records {
                let e = AuditEntry::after(
                    &head,
                    AuditRecord {
                        at_ms,
                        actor,
                        action,
                        target,
                        details,
                        seal: None,
                    },
                );
                head = e.head();
                entries.push(e);
            }
            (entries, head.index + ahead)
        },
    )
}

fn operator_request() -> impl Strategy<Value = OperatorRequest> {
    prop_oneof![
        (name(), constraints()).prop_map(|(target_system, constraints)| {
            OperatorRequest::SetConstraints {
                target_system,
                constraints,
            }
        }),
        (name(), any::<bool>()).prop_map(|(target_system, stale)| {
            OperatorRequest::GetConstraints {
                target_system,
                stale,
            }
        }),
        (name(), params(1), prop::option::of(params(0))).prop_map(|(t, values, expected)| {
            OperatorRequest::SetParameters {
                target_system: t,
                values,
                expected,
            }
        }),
        (name(), any::<bool>()).prop_map(|(target_system, stale)| {
            OperatorRequest::GetParameters {
                target_system,
                stale,
            }
        }),
        (any::<u64>(), 1..=u32::MAX, any::<bool>()).prop_map(|(from_index, limit, stale)| {
            OperatorRequest::AuditRange {
                from_index,
                limit,
                stale,
            }
        }),
        Just(OperatorRequest::NodeStatus),
        members(1, 6).prop_map(|(mut a, b)| {
            a.extend(b);
            OperatorRequest::ClusterInit { members: a }
        }),
        member().prop_map(|member| OperatorRequest::AddNode { member }),
        (1..u64::MAX).prop_map(|node_id| OperatorRequest::RemoveNode { node_id }),
        (prop::option::of(name()), 1..=u32::MAX, any::<bool>()).prop_map(
            |(target_system, limit, stale)| OperatorRequest::ListProposals {
                target_system,
                limit,
                stale,
            }
        ),
        (name(), any::<bool>())
            .prop_map(|(proposal_id, stale)| OperatorRequest::ShowProposal { proposal_id, stale }),
    ]
}

/// A summary whose decision agrees with its counts.
fn summary() -> impl Strategy<Value = ProposalSummary> {
    use arqonbus_proto::reply::Decision;
    (name(), name(), 0..=MAX_TIMESTAMP_MS, 0u32..=256, 0u32..=256)
        .prop_filter("some change", |(.., a, r)| a + r > 0)
        .prop_map(|(proposal_id, target_system, ms, approved, rejected)| {
            let decision = match (approved > 0, rejected > 0) {
                (true, false) => Decision::Approved,
                (true, true) => Decision::PartiallyApproved,
                _ => Decision::Rejected,
            };
            ProposalSummary {
                proposal_id,
                target_system,
                timestamp: UnixMillis(ms),
                decision,
                approved,
                rejected,
            }
        })
}

fn operator_reply() -> impl Strategy<Value = OperatorReply> {
    let violation =
        (name(), "[a-z_]{1,30}", text()).prop_map(|(parameter, constraint, reason)| Violation {
            parameter,
            constraint,
            reason,
        });
    let status = (
        (1..u64::MAX, any::<u64>(), prop::option::of(1..u64::MAX)),
        (
            prop::option::of(any::<u64>()),
            prop::option::of(any::<u64>()),
        ),
        prop::sample::select(vec![
            NodeRole::Leader,
            NodeRole::Follower,
            NodeRole::Learner,
            NodeRole::Candidate,
            NodeRole::Shutdown,
        ]),
        members(0, 6),
    )
        .prop_map(
            |(
                (node_id, term, leader_id),
                (last_log_index, last_applied),
                role,
                (voters, learners),
            )| {
                NodeStatus {
                    node_id,
                    advertise: format!("127.0.0.1:{}", 7100 + node_id % 100),
                    role,
                    term,
                    leader_id,
                    last_log_index,
                    last_applied,
                    voters,
                    learners,
                }
            },
        );
    prop_oneof![
        (name(), any::<u64>(), constraints()).prop_map(|(target_system, version, constraints)| {
            OperatorReply::Constraints {
                target_system,
                version,
                constraints,
            }
        }),
        (name(), any::<u64>(), prop::collection::vec(name(), 0..4)).prop_map(
            |(target_system, version, out_of_bounds)| OperatorReply::ConstraintsSet {
                target_system,
                version,
                out_of_bounds,
            }
        ),
        (name(), params(0), params(0)).prop_map(|(target_system, live, last_known_good)| {
            OperatorReply::Parameters {
                target_system,
                live,
                last_known_good,
            }
        }),
        (name(), params(0)).prop_map(|(target_system, values)| OperatorReply::ParametersSet {
            target_system,
            values,
        }),
        (text(), prop::collection::vec(violation, 0..4))
            .prop_map(|(reason, violations)| OperatorReply::Refused { reason, violations }),
        audit().prop_map(|(entries, head_index)| OperatorReply::AuditEntries {
            entries,
            head_index,
        }),
        status.prop_map(OperatorReply::NodeStatus),
        text().prop_map(|message| OperatorReply::Done { message }),
        prop::collection::vec(summary(), 0..4)
            .prop_map(|proposals| OperatorReply::Proposals { proposals }),
    ]
}

fn any_operator_message() -> impl Strategy<Value = Message> {
    let env = (any::<u64>(), 0..=MAX_TIMESTAMP_MS).prop_map(|(seq, t)| Envelope {
        session: seq.rotate_left(17),
        seq,
        sent_at: UnixMillis(t),
        signature: None,
    });
    prop_oneof![
        (env, operator_request()).prop_map(|(e, r)| Message::Request(e, Request::Operate(r))),
        operator_reply().prop_map(|r| Message::Reply(Reply::Operated(r))),
    ]
}

proptest! {
    #[test]
    fn operator_messages_round_trip_through_bytes_and_json(msg in any_operator_message()) {
        round_trips(&msg)?;
    }
}
