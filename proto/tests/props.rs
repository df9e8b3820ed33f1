//! Property tests: valid messages round-trip through bytes and through the
//! JSON view unchanged; arbitrary or mutated bytes never panic the decoder.

use std::collections::BTreeMap;

use arqonbus_proto::codec::{decode, encode, msg_type, Message};
use arqonbus_proto::message::*;
use arqonbus_proto::reply::*;
use arqonbus_proto::workflow::Allowed;
use arqonbus_proto::{vectors, Envelope, SigScheme, Signature};
use common::{finite, label, name, round_trips, text, time, value};
use proptest::prelude::*;

mod common;

fn allowed() -> impl Strategy<Value = Allowed> {
    prop_oneof![
        (finite(), finite()).prop_map(|(min, max)| Allowed::Range { min, max }),
        prop::collection::vec(value(), 0..3).prop_map(Allowed::Values),
        (prop::option::of(finite()), prop::option::of(finite())).prop_map(|(a, r)| {
            Allowed::Step {
                max_step_abs: a,
                max_step_rel: r,
            }
        }),
        (time(), finite()).prop_map(|(until, distance)| Allowed::Quarantine { until, distance }),
    ]
}

fn metrics() -> impl Strategy<Value = BTreeMap<String, f64>> {
    prop::collection::btree_map(name(), finite(), 0..6)
}
fn params() -> impl Strategy<Value = Parameters> {
    common::params(0)
}
fn envelope() -> impl Strategy<Value = Envelope> {
    let sig = prop::option::of(prop::collection::vec(any::<u8>(), 0..80));
    (any::<u64>(), time(), sig).prop_map(|(seq, sent_at, s)| Envelope {
        session: seq.rotate_left(17),
        seq,
        sent_at,
        signature: s.map(|bytes| Signature {
            scheme: SigScheme::Ed25519,
            bytes,
        }),
    })
}

fn sample() -> impl Strategy<Value = TelemetrySample> {
    let ctx = (
        prop::option::of(label()),
        prop::option::of(label()),
        prop::option::of(0.0..1e6f64),
    );
    (
        time(),
        name(),
        name(),
        metrics(),
        params(),
        ctx,
        any::<bool>(),
    )
        .prop_map(
            |(timestamp, source, target_system, metrics, parameters, c, cand)| TelemetrySample {
                timestamp,
                source,
                target_system,
                metrics,
                parameters,
                context: TelemetryContext {
                    request_class: c.0,
                    hardware: c.1,
                    load_factor: c.2,
                },
                cohort: if cand {
                    Cohort::Candidate
                } else {
                    Cohort::Baseline
                },
            },
        )
}

fn proposal() -> impl Strategy<Value = Proposal> {
    let change =
        (name(), value(), value(), text()).prop_map(|(parameter, c, p, reason)| ProposedChange {
            parameter,
            current_value: c,
            proposed_value: p,
            reason,
        });
    let changes = prop::collection::btree_map(name(), change, 1..5).prop_map(|m| {
        m.into_iter()
            .map(|(k, mut c)| {
                c.parameter = k;
                c
            })
            .collect()
    });
    (
        name(),
        name(),
        name(),
        time(),
        changes,
        metrics(),
        0.0..=1.0f64,
        1..u64::MAX,
    )
        .prop_map(
            |(
                proposal_id,
                source,
                target_system,
                timestamp,
                changes,
                expected_impact,
                confidence,
                d,
            )| {
                Proposal {
                    proposal_id,
                    source,
                    target_system,
                    timestamp,
                    changes,
                    expected_impact,
                    confidence,
                    duration_seconds: d,
                }
            },
        )
}

fn approval() -> impl Strategy<Value = Approval> {
    let ok = (name(), value(), any::<bool>(), 0.001..=1.0f64).prop_map(|(parameter, v, g, r)| {
        ApprovedChange {
            parameter,
            approved_value: v,
            rollout_schedule: if g {
                RolloutSchedule::Gradual
            } else {
                RolloutSchedule::Immediate
            },
            max_change_rate: r,
        }
    });
    let bad = (
        name(),
        text(),
        prop::option::of(name()),
        prop::option::of(allowed()),
    )
        .prop_map(|(parameter, reason, c, allowed)| RejectedChange {
            parameter,
            reason,
            constraint_violated: c,
            allowed,
        });
    let lists = (
        prop::collection::vec(ok, 0..4),
        prop::collection::vec(bad, 0..4),
    )
        .prop_filter("some change", |(a, r)| !a.is_empty() || !r.is_empty());
    (
        name(),
        name(),
        name(),
        time(),
        lists,
        any::<bool>(),
        any::<u64>(),
        any::<bool>(),
    )
        .prop_map(
            |(proposal_id, target_system, source, timestamp, (a, r), shadow, timeout, pend)| {
                let decision = match (pend, a.is_empty(), r.is_empty()) {
                    (true, _, _) => Decision::PendingApproval,
                    (_, false, true) => Decision::Approved,
                    (_, false, false) => Decision::PartiallyApproved,
                    _ => Decision::Rejected,
                };
                Approval {
                    proposal_id,
                    target_system,
                    source,
                    timestamp,
                    decision,
                    approved_changes: a,
                    rejected_changes: r,
                    enforcement_mode: if shadow {
                        EnforcementMode::Shadow
                    } else {
                        EnforcementMode::Monitored
                    },
                    rollback_timeout: timeout,
                }
            },
        )
}

fn status() -> impl Strategy<Value = Status> {
    let st = prop::sample::select(vec![
        ProposalStatus::PendingApproval,
        ProposalStatus::Active,
        ProposalStatus::Steady,
        ProposalStatus::Rejected,
        ProposalStatus::RolledBack,
        ProposalStatus::Expired,
    ]);
    (
        name(),
        name(),
        name(),
        time(),
        st,
        0..=100u8,
        any::<u64>(),
        any::<u32>(),
        metrics(),
    )
        .prop_map(
            |(
                proposal_id,
                target_system,
                source,
                timestamp,
                status,
                pct,
                dur,
                v,
                observed_impact,
            )| {
                Status {
                    proposal_id,
                    target_system,
                    source,
                    timestamp,
                    status,
                    progress: Progress {
                        rollout_percentage: pct,
                        monitoring_duration: dur,
                        constraint_violations: v,
                    },
                    observed_impact,
                }
            },
        )
}

fn rollback() -> impl Strategy<Value = Rollback> {
    let reason = prop::sample::select(vec![
        RollbackReason::ConstraintViolation,
        RollbackReason::BaselineRegression,
        RollbackReason::Operator,
        RollbackReason::MissingTelemetry,
    ]);
    let trig = (
        prop::option::of(name()),
        prop::option::of(finite()),
        prop::option::of(finite()),
    );
    (
        name(),
        name(),
        name(),
        time(),
        reason,
        trig,
        any::<bool>(),
        params(),
    )
        .prop_map(
            |(
                proposal_id,
                target_system,
                source,
                timestamp,
                reason,
                t,
                g,
                parameters_to_restore,
            )| {
                Rollback {
                    proposal_id,
                    target_system,
                    source,
                    timestamp,
                    reason,
                    triggered_constraint: t.0,
                    triggered_value: t.1,
                    allowed_value: t.2,
                    rollback_action: if g {
                        RollbackAction::Gradual
                    } else {
                        RollbackAction::Immediate
                    },
                    parameters_to_restore,
                }
            },
        )
}

fn any_message() -> impl Strategy<Value = Message> {
    let req = prop_oneof![
        prop::collection::vec(sample(), 0..4)
            .prop_map(|samples| Request::TelemetryBatch(TelemetryBatch { samples })),
        proposal().prop_map(Request::Proposal),
        prop::collection::btree_map(name(), prop::option::of(any::<u64>()), 0..4).prop_map(|m| {
            Request::Subscribe(Subscribe {
                targets: m
                    .into_iter()
                    .map(|(target_system, from_seq)| SubscribeTarget {
                        target_system,
                        from_seq,
                    })
                    .collect(),
            })
        }),
        name().prop_map(|proposal_id| Request::StatusQuery(StatusQuery { proposal_id })),
    ];
    let event = (
        any::<u64>(),
        prop_oneof![
            approval().prop_map(EventBody::Approval),
            status().prop_map(EventBody::Status),
            rollback().prop_map(EventBody::Rollback),
        ],
    )
        .prop_map(|(seq, body)| {
            let target_system = match &body {
                EventBody::Approval(a) => a.target_system.clone(),
                EventBody::Status(s) => s.target_system.clone(),
                EventBody::Rollback(r) => r.target_system.clone(),
            };
            Reply::Event(Event {
                target_system,
                seq,
                body,
            })
        });
    prop_oneof![
        (envelope(), req).prop_map(|(e, r)| Message::Request(e, r)),
        approval().prop_map(|a| Message::Reply(Reply::Approval(a))),
        status().prop_map(|s| Message::Reply(Reply::Status(s))),
        rollback().prop_map(|r| Message::Reply(Reply::Rollback(r))),
        (any::<u32>(), any::<u32>()).prop_map(|(accepted, rejected)| {
            Message::Reply(Reply::TelemetryAck(TelemetryAck { accepted, rejected }))
        }),
        event.prop_map(Message::Reply),
    ]
}

proptest! {
    #[test]
    fn valid_messages_round_trip_through_bytes_and_json(msg in any_message()) {
        round_trips(&msg)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn arbitrary_bodies_behind_a_valid_header_never_panic(
        t in prop::sample::select(msg_type::ALL.to_vec()),
        compressed in any::<bool>(),
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut f = vec![0, 0, 0, 0, 1, u8::from(compressed), t];
        f.extend_from_slice(&body);
        let len = (f.len() - 4) as u32;
        f[..4].copy_from_slice(&len.to_le_bytes());
        let _ = decode(&f);
    }

    #[test]
    fn mutated_vectors_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8),
        fix_len in any::<bool>(),
    ) {
        let all = vectors::catalogue();
        let (_, msg) = &all[pick.index(all.len())];
        let mut f = encode(msg).unwrap();
        for (at, byte, op) in edits {
            if f.is_empty() { break; }
            let i = at.index(f.len());
            match op {
                0 => f[i] = byte,
                1 => { f.remove(i); }
                _ => f.insert(i, byte),
            }
        }
        if fix_len && f.len() >= 4 {
            let len = (f.len() - 4) as u32;
            f[..4].copy_from_slice(&len.to_le_bytes());
        }
        let _ = decode(&f);
    }
}
