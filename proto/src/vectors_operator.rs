//! Golden vectors of `operate` (0x10) and `operated` (0x90): one for every
//! `OperatorRequest` and every `OperatorReply` variant. Part of
//! [`catalogue`](super::vectors::catalogue); see `vectors` for the rules.

use super::codec::Message;
use super::message::{Parameters, Request};
use super::operator::{
    Member, NodeRole, NodeStatus, OperatorReply, OperatorRequest, ProposalSummary,
};
use super::reply::{Decision, Reply};
use super::vectors::{approval, at, env, map, status, T0, TARGET};
use arqonbus_core::audit::AuditEntry;
use arqonbus_core::constraints::{ConstraintSet, ParamConstraint, Violation};
use arqonbus_core::seal::Seal;
use arqonbus_core::sessions::Origin;
use arqonbus_core::value::ParamValue;
use arqonbus_core::{Actor, Command, Op, Role, State};
use ring::signature::{Ed25519KeyPair, KeyPair};

fn constraints() -> ConstraintSet {
    ConstraintSet {
        parameters: map(&[
            (
                "batch_size",
                ParamConstraint::Int {
                    min: 1,
                    max: 256,
                    default: 32,
                },
            ),
            (
                "decoding",
                ParamConstraint::Enum {
                    values: vec!["greedy".into(), "beam".into(), "sampling".into()],
                    default: "sampling".into(),
                },
            ),
            ("streaming", ParamConstraint::Bool { default: true }),
            (
                "temperature",
                ParamConstraint::Float {
                    min: 0.1,
                    max: 1.5,
                    default: 0.7,
                },
            ),
        ]),
    }
}

fn values(batch: i64, temp: f64) -> Parameters {
    map(&[
        ("batch_size", ParamValue::Int(batch)),
        ("temperature", ParamValue::Float(temp)),
    ])
}

fn member(node_id: u64) -> Member {
    Member {
        node_id,
        addr: format!("10.0.0.{node_id}:7400"),
    }
}

/// The audit chain of a fresh cluster after three commands, as the
/// replicated state writes it: constraints set, an override, a viewer's
/// override that `apply` refuses as forbidden, and a signed override,
/// whose entry keeps its seal (format 2). The hashes and the signature
/// are real (the key is Ed25519 from the seed 0x42 × 32) and the last
/// hash is the head.
fn audit() -> Vec<AuditEntry> {
    let command = |minutes: u64, identity: &str, role, op| Command {
        actor: Actor {
            identity: identity.into(),
            role,
        },
        at_ms: T0.unsigned_abs() + minutes * 60_000,
        origin: None,
        seal: None,
        op,
    };
    let set = |batch, temp| Op::SetParameters {
        target: TARGET.into(),
        values: values(batch, temp),
        expected: None,
    };
    let mut state = State::default();
    [
        command(
            0,
            "alice",
            Role::Operator,
            Op::SetConstraints {
                target: TARGET.into(),
                constraints: constraints(),
            },
        ),
        command(1, "alice", Role::Operator, set(48, 0.6)),
        command(2, "mallory", Role::Viewer, set(256, 1.5)),
        signed_override(command(3, "alice", Role::Operator, set(64, 0.7))),
    ]
    .iter()
    .flat_map(|c| state.apply(c).audit)
    .collect()
}

/// `command` as the node proposes the signed `set_parameters` it stands
/// for: numbered by its envelope (seq 13, sent at its own time) and sealed
/// with the signature of the request's signed bytes (PROTOCOL.md §5).
fn signed_override(command: Command) -> Command {
    let Op::SetParameters {
        target,
        values,
        expected,
    } = &command.op
    else {
        return command;
    };
    let request = Request::Operate(OperatorRequest::SetParameters {
        target_system: target.clone(),
        values: values.clone(),
        expected: expected.clone(),
    });
    let seconds = (command.at_ms as i64 - T0) / 1000;
    let envelope = env(13, seconds);
    let Ok(signed) = request.signed_bytes(&envelope) else {
        return command;
    };
    let Ok(key) = Ed25519KeyPair::from_seed_unchecked(&[0x42; 32]) else {
        return command;
    };
    Command {
        origin: Some(Origin {
            session: envelope.session,
            seq: envelope.seq,
            sent_at_ms: envelope.sent_at.0,
        }),
        seal: Some(Seal {
            key: key.public_key().as_ref().to_vec(),
            signature: key.sign(&signed).as_ref().to_vec(),
            signed,
        }),
        ..command
    }
}

pub(super) fn catalogue() -> Vec<(&'static str, Message)> {
    let op = |seq, t, r| Message::Request(env(seq, t), Request::Operate(r));
    let done = |r| Message::Reply(Reply::Operated(r));
    vec![
        (
            "operate_set_constraints",
            op(
                10,
                600,
                OperatorRequest::SetConstraints {
                    target_system: TARGET.into(),
                    constraints: constraints(),
                },
            ),
        ),
        (
            "operate_get_constraints",
            op(
                11,
                601,
                OperatorRequest::GetConstraints {
                    target_system: TARGET.into(),
                    stale: false,
                },
            ),
        ),
        (
            "operate_set_parameters",
            op(
                12,
                602,
                OperatorRequest::SetParameters {
                    target_system: TARGET.into(),
                    values: values(48, 0.6),
                    expected: Some(map(&[("batch_size", ParamValue::Int(32))])),
                },
            ),
        ),
        (
            "operate_get_parameters",
            op(
                13,
                603,
                OperatorRequest::GetParameters {
                    target_system: TARGET.into(),
                    stale: true,
                },
            ),
        ),
        (
            "operate_audit_range",
            op(
                14,
                604,
                OperatorRequest::AuditRange {
                    from_index: 1,
                    limit: 100,
                    stale: false,
                },
            ),
        ),
        (
            "operate_node_status",
            op(15, 605, OperatorRequest::NodeStatus),
        ),
        (
            "operate_cluster_init",
            op(
                16,
                606,
                OperatorRequest::ClusterInit {
                    members: vec![member(1), member(2), member(3)],
                },
            ),
        ),
        (
            "operate_add_node",
            op(17, 607, OperatorRequest::AddNode { member: member(4) }),
        ),
        (
            "operate_remove_node",
            op(18, 608, OperatorRequest::RemoveNode { node_id: 3 }),
        ),
        (
            "operate_list_proposals",
            op(
                19,
                609,
                OperatorRequest::ListProposals {
                    target_system: Some(TARGET.into()),
                    limit: 20,
                    stale: false,
                },
            ),
        ),
        (
            "operate_show_proposal",
            op(
                20,
                610,
                OperatorRequest::ShowProposal {
                    proposal_id: "prop-20240115-103005-001".into(),
                    stale: true,
                },
            ),
        ),
        (
            "operated_constraints",
            done(OperatorReply::Constraints {
                target_system: TARGET.into(),
                version: 1,
                constraints: constraints(),
            }),
        ),
        (
            "operated_constraints_set",
            done(OperatorReply::ConstraintsSet {
                target_system: TARGET.into(),
                version: 2,
                out_of_bounds: vec!["batch_size".into()],
            }),
        ),
        (
            "operated_parameters",
            done(OperatorReply::Parameters {
                target_system: TARGET.into(),
                live: values(48, 0.6),
                last_known_good: values(32, 0.7),
            }),
        ),
        (
            "operated_parameters_set",
            done(OperatorReply::ParametersSet {
                target_system: TARGET.into(),
                values: values(48, 0.6),
            }),
        ),
        (
            "operated_refused",
            done(OperatorReply::Refused {
                reason: "refused by the constraints: batch_size: 512 is above the maximum 256 \
                         (constraint max_batch_size)"
                    .into(),
                violations: vec![Violation {
                    parameter: "batch_size".into(),
                    constraint: "max_batch_size".into(),
                    reason: "512 is above the maximum 256".into(),
                }],
            }),
        ),
        (
            "operated_audit_entries",
            done(OperatorReply::AuditEntries {
                entries: audit(),
                head_index: 4,
            }),
        ),
        (
            "operated_node_status",
            done(OperatorReply::NodeStatus(NodeStatus {
                node_id: 1,
                advertise: "127.0.0.1:7101".into(),
                role: NodeRole::Leader,
                term: 3,
                leader_id: Some(1),
                last_log_index: Some(42),
                last_applied: Some(42),
                voters: vec![member(1), member(2), member(3)],
                learners: vec![member(4)],
            })),
        ),
        (
            "operated_done",
            done(OperatorReply::Done {
                message: "node 4 added as a learner and promoted to voter".into(),
            }),
        ),
        (
            "operated_proposals",
            done(OperatorReply::Proposals {
                proposals: vec![
                    ProposalSummary {
                        proposal_id: "prop-20240115-103005-001".into(),
                        target_system: TARGET.into(),
                        timestamp: at(6),
                        decision: Decision::PartiallyApproved,
                        approved: 1,
                        rejected: 1,
                    },
                    ProposalSummary {
                        proposal_id: "prop-20240115-102900-007".into(),
                        target_system: TARGET.into(),
                        timestamp: at(-60),
                        decision: Decision::Rejected,
                        approved: 0,
                        rejected: 2,
                    },
                ],
            }),
        ),
        (
            "operated_proposal",
            done(OperatorReply::Proposal {
                approval: approval(),
                status: status(),
            }),
        ),
    ]
}
