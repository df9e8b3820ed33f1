//! Golden vectors of gradual rollouts (PROTOCOL.md §6.15): `watch_assignment`
//! (0x30), `tagged_telemetry` (0x31), `rollout` (0x32), `assignment` (0xb0),
//! `rollout_status` (0xb1), and error code 24 (`no_rollout`).

use super::codec::Message;
use super::error::ErrorCode;
use super::message::{Cohort, Request, TelemetryContext, TelemetrySample};
use super::reply::{Reply, RollbackReason};
use super::rollout::{
    Assignment, MetricVerdictView, RecentRollback, RolloutRequest, RolloutStatus, RolloutView,
    TaggedSample, TaggedTelemetry, VerdictClass, VerdictView, WatchAssignment, STEADY,
};
use super::vectors::{at, env, error, map, TARGET};
use arqonbus_core::value::ParamValue;

const ID: &str = "prop-20240115-110000-007";
const EARLIER: &str = "prop-20240115-103005-001";
const EPOCH: u64 = 12;

fn baseline() -> super::message::Parameters {
    map(&[
        ("batch_size", ParamValue::Int(32)),
        ("temperature", ParamValue::Float(0.7)),
    ])
}

fn candidate() -> super::message::Parameters {
    map(&[
        ("batch_size", ParamValue::Int(48)),
        ("temperature", ParamValue::Float(0.7)),
    ])
}

fn sample(cohort: Cohort, latency: f64, batch: i64) -> TelemetrySample {
    TelemetrySample {
        timestamp: at(1810),
        source: "agent-7".into(),
        target_system: TARGET.into(),
        metrics: map(&[("error_rate", 0.001), ("latency_p99", latency)]),
        parameters: map(&[
            ("batch_size", ParamValue::Int(batch)),
            ("temperature", ParamValue::Float(0.7)),
        ]),
        context: TelemetryContext {
            request_class: Some("chat".into()),
            hardware: None,
            load_factor: None,
        },
        cohort,
    }
}

fn status() -> RolloutStatus {
    RolloutStatus {
        target_system: TARGET.into(),
        epoch: EPOCH,
        rollout: Some(RolloutView {
            proposal_id: ID.into(),
            phase: "p25".into(),
            phase_index: 2,
            phases: 6,
            share: 25,
            phase_started_ms: at(1800),
            paused: false,
            violations: 0,
            observed_impact: map(&[("error_rate", 0.0001), ("latency_p99", 3.5)]),
        }),
        recent_rollbacks: vec![RecentRollback {
            proposal_id: EARLIER.into(),
            reason: RollbackReason::ConstraintViolation,
            triggered_constraint: Some("max_latency_p99".into()),
            at_ms: at(480),
        }],
        recent_verdicts: vec![VerdictView {
            proposal_id: "prop-20240114-090000-003".into(),
            class: VerdictClass::Pass,
            reason: "no metric is worse".into(),
            at_ms: at(-3600),
            metrics: vec![
                MetricVerdictView {
                    metric: "latency_p99".into(),
                    class: VerdictClass::Pass,
                    reason: "median 241.5 vs 243.0 (p = 0.41)".into(),
                    candidate_samples: 512,
                    baseline_samples: 1024,
                    candidate_median: Some(241.5),
                    baseline_median: Some(243.0),
                    p_value: Some(0.41),
                    rank_biserial: Some(-0.03),
                },
                MetricVerdictView {
                    metric: "error_rate".into(),
                    class: VerdictClass::Inconclusive,
                    reason: "12 candidate samples, 50 needed".into(),
                    candidate_samples: 12,
                    baseline_samples: 1024,
                    candidate_median: Some(0.001),
                    baseline_median: Some(0.001),
                    p_value: None,
                    rank_biserial: None,
                },
            ],
        }],
    }
}

pub(super) fn catalogue() -> Vec<(&'static str, Message)> {
    let req = |seq, t, r| Message::Request(env(seq, t), r);
    let rollout = |seq, t, r| req(seq, t, Request::Rollout(r));
    let reply = Message::Reply;
    vec![
        (
            "watch_assignment",
            req(
                30,
                1790,
                Request::WatchAssignment(WatchAssignment {
                    target_system: TARGET.into(),
                }),
            ),
        ),
        (
            "tagged_telemetry",
            req(
                31,
                1811,
                Request::TaggedTelemetry(TaggedTelemetry {
                    samples: vec![
                        TaggedSample {
                            epoch: EPOCH,
                            sample: sample(Cohort::Baseline, 243.0, 32),
                        },
                        TaggedSample {
                            epoch: EPOCH,
                            sample: sample(Cohort::Candidate, 246.5, 48),
                        },
                    ],
                }),
            ),
        ),
        (
            "rollout_status_query",
            rollout(
                32,
                1820,
                RolloutRequest::Status {
                    target_system: TARGET.into(),
                    stale: true,
                },
            ),
        ),
        (
            "rollout_pause",
            rollout(
                33,
                1830,
                RolloutRequest::Pause {
                    target_system: TARGET.into(),
                    reason: "hold during the traffic peak".into(),
                },
            ),
        ),
        (
            "rollout_promote",
            rollout(
                34,
                1840,
                RolloutRequest::Promote {
                    target_system: TARGET.into(),
                    full: false,
                    reason: "canary metrics look good".into(),
                },
            ),
        ),
        (
            "assignment",
            reply(Reply::Assignment(Assignment {
                target_system: TARGET.into(),
                epoch: EPOCH,
                proposal_id: Some(ID.into()),
                phase: "p25".into(),
                share: 25,
                baseline: baseline(),
                candidate: Some(candidate()),
            })),
        ),
        (
            "assignment_steady",
            reply(Reply::Assignment(Assignment {
                target_system: TARGET.into(),
                epoch: 9,
                proposal_id: None,
                phase: STEADY.into(),
                share: 0,
                baseline: baseline(),
                candidate: None,
            })),
        ),
        ("rollout_status", reply(Reply::RolloutStatus(status()))),
        (
            "error_no_rollout",
            error(
                ErrorCode::NoRollout {
                    target_system: TARGET.into(),
                },
                "no rollout is in progress on ml-inference-service",
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode, encode};
    use crate::error::CodecError;
    use crate::json::JsonFrame;

    fn vector(name: &str) -> Message {
        catalogue()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m)
            .expect("a vector of that name")
    }

    /// The path of the `invalid_message` encoding `msg` fails with.
    fn refused(msg: &Message) -> String {
        match encode(msg) {
            Err(CodecError::Invalid { field, .. }) | Err(CodecError::NonFinite { field }) => field,
            other => panic!("expected an invalid_message, got {other:?}"),
        }
    }

    fn reply_status(f: impl FnOnce(&mut RolloutStatus)) -> Message {
        let mut s = status();
        f(&mut s);
        Message::Reply(Reply::RolloutStatus(s))
    }

    fn reply_assignment(name: &str, f: impl FnOnce(&mut Assignment)) -> Message {
        let Message::Reply(Reply::Assignment(mut a)) = vector(name) else {
            panic!("{name} is an assignment");
        };
        f(&mut a);
        Message::Reply(Reply::Assignment(a))
    }

    #[test]
    fn every_rollout_message_round_trips_through_bytes_and_json() {
        for (name, msg) in catalogue() {
            let bytes = encode(&msg).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(decode(&bytes), Ok(msg.clone()), "{name}");
            let view = JsonFrame::from_wire(&msg).expect("a JSON view");
            let text = serde_json::to_string(&view).expect("JSON text");
            let back: JsonFrame = serde_json::from_str(&text).expect("parses");
            assert_eq!(back.to_wire(), Ok(msg), "{name}");
        }
    }

    #[test]
    fn the_permissions_and_names_are_the_tables() {
        use crate::convert::{action, changes_state, permission};
        use arqonbus_core::role::Permission;
        let expect = [
            ("watch_assignment", Permission::Read, "watch_assignment"),
            (
                "tagged_telemetry",
                Permission::Telemetry,
                "tagged_telemetry",
            ),
            ("rollout_status_query", Permission::Read, "rollout"),
            ("rollout_pause", Permission::Configure, "rollout"),
            ("rollout_promote", Permission::Configure, "rollout"),
        ];
        for (name, perm, act) in expect {
            let Message::Request(_, r) = vector(name) else {
                panic!("{name} is a request");
            };
            assert_eq!(permission(&r), perm, "{name}");
            assert_eq!(action(&r), act, "{name}");
            assert_eq!(changes_state(&r), perm == Permission::Configure, "{name}");
        }
    }

    #[test]
    fn a_share_over_100_is_refused_by_path() {
        let over = reply_assignment("assignment", |a| a.share = 101);
        assert_eq!(refused(&over), "share");
        let over = reply_status(|s| {
            if let Some(r) = s.rollout.as_mut() {
                r.share = 101;
            }
        });
        assert_eq!(refused(&over), "rollout.share");
    }

    #[test]
    fn non_finite_numbers_are_refused_by_path() {
        let nan = reply_status(|s| {
            if let Some(r) = s.rollout.as_mut() {
                r.observed_impact.insert("latency_p99".into(), f64::NAN);
            }
        });
        assert_eq!(refused(&nan), "rollout.observed_impact.latency_p99");
        let inf = reply_status(|s| s.recent_verdicts[0].metrics[1].p_value = Some(f64::INFINITY));
        assert_eq!(refused(&inf), "recent_verdicts[0].metrics[1].p_value");
        let nan = reply_assignment("assignment", |a| {
            if let Some(c) = a.candidate.as_mut() {
                c.insert("temperature".into(), ParamValue::Float(f64::NAN));
            }
        });
        assert_eq!(refused(&nan), "candidate.temperature");
    }

    #[test]
    fn too_many_recent_entries_are_refused() {
        let many = reply_status(|s| {
            let one = s.recent_rollbacks[0].clone();
            s.recent_rollbacks = vec![one; crate::limits::MAX_RECENT + 1];
        });
        assert_eq!(refused(&many), "recent_rollbacks");
        let many = reply_status(|s| {
            let one = s.recent_verdicts[0].clone();
            s.recent_verdicts = vec![one; crate::limits::MAX_RECENT + 1];
        });
        assert_eq!(refused(&many), "recent_verdicts");
        let many = reply_status(|s| {
            let one = s.recent_verdicts[0].metrics[0].clone();
            s.recent_verdicts[0].metrics = vec![one; crate::limits::MAX_METRICS + 1];
        });
        assert_eq!(refused(&many), "recent_verdicts[0].metrics");
    }

    #[test]
    fn an_assignment_is_steady_exactly_when_no_rollout_is_active() {
        let no_candidate = reply_assignment("assignment", |a| a.candidate = None);
        assert_eq!(refused(&no_candidate), "candidate");
        let stray = reply_assignment("assignment_steady", |a| a.candidate = Some(candidate()));
        assert_eq!(refused(&stray), "candidate");
        let phase = reply_assignment("assignment_steady", |a| a.phase = "canary".into());
        assert_eq!(refused(&phase), "phase");
        let share = reply_assignment("assignment_steady", |a| a.share = 5);
        assert_eq!(refused(&share), "share");
        let steady = reply_assignment("assignment", |a| a.phase = STEADY.into());
        assert_eq!(refused(&steady), "phase");
    }

    #[test]
    fn a_phase_index_past_the_plan_is_refused() {
        let past = reply_status(|s| {
            if let Some(r) = s.rollout.as_mut() {
                r.phase_index = r.phases;
            }
        });
        assert_eq!(refused(&past), "rollout.phase_index");
    }

    #[test]
    fn tagged_samples_are_checked_like_a_telemetry_batch() {
        let Message::Request(e, Request::TaggedTelemetry(mut t)) = vector("tagged_telemetry")
        else {
            panic!("a tagged_telemetry");
        };
        t.samples[1]
            .sample
            .metrics
            .insert("x".into(), f64::NEG_INFINITY);
        let bad = Message::Request(e.clone(), Request::TaggedTelemetry(t.clone()));
        assert_eq!(refused(&bad), "samples[1].sample.metrics.x");
        let one = t.samples[0].clone();
        t.samples = vec![one; crate::limits::MAX_SAMPLES_PER_BATCH + 1];
        let many = Message::Request(e, Request::TaggedTelemetry(t));
        assert_eq!(refused(&many), "samples");
    }

    #[test]
    fn rollout_requests_check_their_names_and_reasons() {
        let bad = Message::Request(
            env(1, 0),
            Request::Rollout(RolloutRequest::Pause {
                target_system: "no spaces".into(),
                reason: String::new(),
            }),
        );
        assert_eq!(refused(&bad), "target_system");
        let bad = Message::Request(
            env(1, 0),
            Request::Rollout(RolloutRequest::Promote {
                target_system: TARGET.into(),
                full: true,
                reason: "x".repeat(crate::limits::MAX_TEXT_LEN + 1),
            }),
        );
        assert_eq!(refused(&bad), "reason");
        let bad = Message::Request(
            env(1, 0),
            Request::WatchAssignment(WatchAssignment {
                target_system: String::new(),
            }),
        );
        assert_eq!(refused(&bad), "target_system");
    }

    #[test]
    fn a_json_sample_without_its_epoch_or_an_unknown_action_is_refused() {
        let JsonFrame {
            envelope,
            message: crate::json::JsonMessage::TaggedTelemetry { samples },
        } = JsonFrame::from_wire(&vector("tagged_telemetry")).expect("a view")
        else {
            panic!("a tagged_telemetry view");
        };
        let mut value = serde_json::to_value(JsonFrame {
            envelope,
            message: crate::json::JsonMessage::TaggedTelemetry { samples },
        })
        .expect("JSON");
        if let Some(s) = value["message"]["samples"][0].as_object_mut() {
            s.remove("epoch");
        }
        assert!(serde_json::from_value::<JsonFrame>(value.clone()).is_err());
        value["message"] = serde_json::json!({
            "type": "rollout", "action": "rollback", "target_system": TARGET, "reason": ""
        });
        assert!(serde_json::from_value::<JsonFrame>(value.clone()).is_err());
        // `stale` may be left out of a status query.
        value["message"] = serde_json::json!({
            "type": "rollout", "action": "status", "target_system": TARGET
        });
        let frame: JsonFrame = serde_json::from_value(value).expect("stale defaults");
        let Ok(Message::Request(_, Request::Rollout(RolloutRequest::Status { stale, .. }))) =
            frame.to_wire()
        else {
            panic!("a rollout status query");
        };
        assert!(!stale);
    }

    /// What decoding says of a frame built without validation: the
    /// decoder, not only the encoder, must refuse it.
    fn decode_refuses(msg: &Message) -> String {
        let body = msg.encode_body().expect("encodes unchecked");
        let frame = crate::frame::assemble(crate::FRAME_VERSION, msg.msg_type(), &body, false)
            .expect("a frame");
        match decode(&frame) {
            Err(CodecError::Invalid { field, .. }) | Err(CodecError::NonFinite { field }) => field,
            other => panic!("expected an invalid_message, got {other:?}"),
        }
    }

    #[test]
    fn the_decoder_refuses_what_the_encoder_refuses() {
        let over = reply_assignment("assignment", |a| a.share = 101);
        assert_eq!(decode_refuses(&over), "share");
        let nan = reply_status(|s| {
            if let Some(r) = s.rollout.as_mut() {
                r.observed_impact.insert("error_rate".into(), f64::NAN);
            }
        });
        assert_eq!(decode_refuses(&nan), "rollout.observed_impact.error_rate");
        let many = reply_status(|s| {
            let one = s.recent_rollbacks[0].clone();
            s.recent_rollbacks = vec![one; crate::limits::MAX_RECENT + 1];
        });
        assert_eq!(decode_refuses(&many), "recent_rollbacks");
        // Past MAX_ELEMENTS the bounded decoder refuses at the count,
        // before the first element.
        let huge = reply_status(|s| {
            let one = s.recent_rollbacks[0].clone();
            s.recent_rollbacks = vec![one; crate::limits::MAX_ELEMENTS + 1];
        });
        assert_eq!(decode_refuses(&huge), "recent_rollbacks");
    }

    #[test]
    fn error_24_is_no_rollout_and_23_is_reserved() {
        let Message::Reply(Reply::Error(e)) = vector("error_no_rollout") else {
            panic!("an error");
        };
        let bytes = encode(&vector("error_no_rollout")).expect("encodes");
        assert_eq!(bytes[7], 24, "the variant index is the code");
        assert_eq!(e.code.name(), "no_rollout");
        assert_eq!(ErrorCode::Reserved23.name(), "reserved_23");
        let body = crate::codec::bincode_encode(&ErrorCode::Reserved23).expect("encodes");
        assert_eq!(body, [23]);
    }
}
