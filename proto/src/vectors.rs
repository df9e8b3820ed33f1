//! The golden vectors: one sample of every message and every error code,
//! committed under `proto/vectors/` as `NAME.json` (the JSON view) and
//! `NAME.bin` (the complete frame). `tests/proto_vectors.rs` checks the
//! committed files against this code; only `cargo run --example
//! regen-vectors` rewrites them, so a format change shows up as a failing
//! test and then as a reviewed diff.

use std::collections::BTreeMap;
use std::path::Path;

use super::codec::{self, Message};
use super::convert;
use super::envelope::{Envelope, SigScheme, Signature, UnixMillis};
use super::error::{ErrorCode, ErrorReply};
use super::json::JsonFrame;
use super::message::*;
use super::reply::*;
use super::workflow::Allowed;
use super::SUPPORTED_VERSIONS;
use arqonbus_core::value::ParamValue;

/// 2024-01-15T10:30:00Z, the brief's first timestamp.
pub(super) const T0: i64 = 1_705_314_600_000;

pub(super) fn at(seconds_after_t0: i64) -> UnixMillis {
    UnixMillis(T0 + seconds_after_t0 * 1000)
}

pub(super) fn env(seq: u64, t: i64) -> Envelope {
    Envelope {
        session: 0x5e55_1011_cafe_f00d,
        seq,
        sent_at: at(t),
        signature: None,
    }
}

pub(super) fn map<V: Clone>(kv: &[(&str, V)]) -> BTreeMap<String, V> {
    kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn params(batch: i64, temp: f64) -> Parameters {
    map(&[
        ("batch_size", ParamValue::Int(batch)),
        ("max_tokens", ParamValue::Int(2048)),
        ("temperature", ParamValue::Float(temp)),
    ])
}

fn sample(t: i64, cohort: Cohort, latency: f64) -> TelemetrySample {
    TelemetrySample {
        timestamp: at(t),
        source: "arqonhpo-host-123".into(),
        target_system: "ml-inference-service".into(),
        metrics: map(&[
            ("latency_p99", latency),
            ("throughput_rps", 1250.3),
            ("error_rate", 0.001),
            ("cost_per_request", 0.0034),
        ]),
        parameters: params(32, 0.7),
        context: TelemetryContext {
            request_class: Some("chat".into()),
            hardware: Some("a100".into()),
            load_factor: Some(0.85),
        },
        cohort,
    }
}

const PROPOSAL_ID: &str = "prop-20240115-103005-001";
pub(super) const TARGET: &str = "ml-inference-service";

fn proposal() -> Proposal {
    Proposal {
        proposal_id: PROPOSAL_ID.into(),
        source: "arqonhpo-host-123".into(),
        target_system: TARGET.into(),
        timestamp: at(5),
        changes: vec![
            ProposedChange {
                parameter: "batch_size".into(),
                current_value: ParamValue::Int(32),
                proposed_value: ParamValue::Int(48),
                reason: "increase throughput under current load".into(),
            },
            ProposedChange {
                parameter: "temperature".into(),
                current_value: ParamValue::Float(0.7),
                proposed_value: ParamValue::Float(0.6),
                reason: "reduce variance in responses".into(),
            },
        ],
        expected_impact: map(&[
            ("latency_p99", 15.0),
            ("throughput_rps", 180.0),
            ("error_rate", 0.0001),
            ("cost_per_request", -0.0002),
        ]),
        confidence: 0.75,
        duration_seconds: 300,
    }
}

pub(super) fn status() -> Status {
    Status {
        proposal_id: PROPOSAL_ID.into(),
        target_system: TARGET.into(),
        source: convert::SOURCE.into(),
        timestamp: at(300),
        status: ProposalStatus::Active,
        progress: Progress {
            rollout_percentage: 45,
            monitoring_duration: 300,
            constraint_violations: 0,
        },
        observed_impact: map(&[
            ("latency_p99", 12.0),
            ("throughput_rps", 165.0),
            ("error_rate", 0.00005),
            ("cost_per_request", -0.00015),
        ]),
    }
}

pub(super) fn approval() -> Approval {
    Approval {
        proposal_id: PROPOSAL_ID.into(),
        target_system: TARGET.into(),
        source: convert::SOURCE.into(),
        timestamp: at(6),
        decision: Decision::PartiallyApproved,
        approved_changes: vec![ApprovedChange {
            parameter: "batch_size".into(),
            approved_value: ParamValue::Int(48),
            rollout_schedule: RolloutSchedule::Gradual,
            max_change_rate: 0.1,
        }],
        rejected_changes: vec![RejectedChange {
            parameter: "temperature".into(),
            reason: "would violate response quality constraints".into(),
            constraint_violated: Some("min_temperature".into()),
            allowed: Some(Allowed::Range { min: 0.5, max: 1.5 }),
        }],
        enforcement_mode: EnforcementMode::Monitored,
        rollback_timeout: 600,
    }
}

fn rollback() -> Rollback {
    Rollback {
        proposal_id: PROPOSAL_ID.into(),
        target_system: TARGET.into(),
        source: convert::SOURCE.into(),
        timestamp: at(480),
        reason: RollbackReason::ConstraintViolation,
        triggered_constraint: Some("max_latency_p99".into()),
        triggered_value: Some(280.5),
        allowed_value: Some(275.0),
        rollback_action: RollbackAction::Immediate,
        parameters_to_restore: map(&[
            ("batch_size", ParamValue::Int(32)),
            ("temperature", ParamValue::Float(0.7)),
        ]),
    }
}

pub(super) fn error(code: ErrorCode, message: &str) -> Message {
    Message::Reply(Reply::Error(ErrorReply {
        code,
        message: message.into(),
    }))
}

/// Every vector, by file name (without extension): these, then the
/// operator messages of `vectors_operator`.
pub fn catalogue() -> Vec<(&'static str, Message)> {
    let mut all = base();
    all.extend(super::vectors_operator::catalogue());
    all.extend(super::vectors_workflow::catalogue());
    all.extend(super::vectors_rollout::catalogue());
    all
}

fn base() -> Vec<(&'static str, Message)> {
    let req = |seq, t, r| Message::Request(env(seq, t), r);
    let reply = Message::Reply;
    let big: Vec<TelemetrySample> = (0..120)
        .map(|i| {
            let cohort = if i % 2 == 0 {
                Cohort::Baseline
            } else {
                Cohort::Candidate
            };
            sample(i, cohort, 240.0 + (i % 17) as f64 * 0.5)
        })
        .collect();
    let mut signed_env = env(42, 5);
    signed_env.signature = Some(Signature {
        scheme: SigScheme::Ed25519,
        bytes: (0u8..64).collect(),
    });
    vec![
        (
            "telemetry_batch",
            req(
                1,
                0,
                Request::TelemetryBatch(TelemetryBatch {
                    samples: vec![
                        sample(0, Cohort::Baseline, 245.7),
                        sample(0, Cohort::Candidate, 251.2),
                    ],
                }),
            ),
        ),
        (
            "telemetry_batch_compressed",
            req(
                2,
                120,
                Request::TelemetryBatch(TelemetryBatch { samples: big }),
            ),
        ),
        ("proposal", req(3, 5, Request::Proposal(proposal()))),
        (
            "proposal_signed",
            Message::Request(signed_env, Request::Proposal(proposal())),
        ),
        (
            "subscribe",
            req(
                4,
                7,
                Request::Subscribe(Subscribe {
                    targets: vec![
                        SubscribeTarget {
                            target_system: TARGET.into(),
                            from_seq: Some(17),
                        },
                        SubscribeTarget {
                            target_system: "search-ranker".into(),
                            from_seq: None,
                        },
                    ],
                }),
            ),
        ),
        (
            "status_query",
            req(
                5,
                300,
                Request::StatusQuery(StatusQuery {
                    proposal_id: PROPOSAL_ID.into(),
                }),
            ),
        ),
        (
            "telemetry_ack",
            reply(Reply::TelemetryAck(TelemetryAck {
                accepted: 2,
                rejected: 0,
            })),
        ),
        ("approval", reply(Reply::Approval(approval()))),
        ("status", reply(Reply::Status(status()))),
        ("rollback", reply(Reply::Rollback(rollback()))),
        (
            "subscribed",
            reply(Reply::Subscribed(Subscribed {
                streams: vec![
                    StreamPosition {
                        target_system: TARGET.into(),
                        next_seq: 17,
                    },
                    StreamPosition {
                        target_system: "search-ranker".into(),
                        next_seq: 3,
                    },
                ],
            })),
        ),
        (
            "event_rollback",
            reply(Reply::Event(Event {
                target_system: TARGET.into(),
                seq: 17,
                body: EventBody::Rollback(rollback()),
            })),
        ),
        (
            "error_not_leader",
            error(
                ErrorCode::NotLeader {
                    leader_id: Some(2),
                    leader_addr: Some("10.0.0.2:7400".into()),
                },
                "this node is a follower",
            ),
        ),
        (
            "error_no_leader",
            error(ErrorCode::NoLeader, "election in progress"),
        ),
        (
            "error_no_quorum",
            error(ErrorCode::NoQuorum, "cannot reach a majority"),
        ),
        (
            "error_outcome_unknown",
            error(
                ErrorCode::OutcomeUnknown,
                "no answer within 5s after proposing",
            ),
        ),
        (
            "error_unauthenticated",
            error(
                ErrorCode::Unauthenticated,
                "the signature does not verify with the key of the certificate of operator-alice",
            ),
        ),
        (
            "error_forbidden",
            error(ErrorCode::Forbidden, "role viewer may not propose"),
        ),
        (
            "error_rate_limited",
            error(
                ErrorCode::RateLimited {
                    retry_after_ms: 1500,
                },
                "slow down",
            ),
        ),
        (
            "error_replay",
            error(
                ErrorCode::Replay { last_seq: 41 },
                "session 0x5e551011cafef00d: seq 41 was already accepted",
            ),
        ),
        (
            "error_stale_timestamp",
            error(
                ErrorCode::StaleTimestamp {
                    server_time: at(0),
                    max_skew_ms: 30_000,
                },
                "sent_at is 95000 ms behind the server clock (allowed skew 30000 ms)",
            ),
        ),
        (
            "error_invalid_message",
            error(
                ErrorCode::InvalidMessage {
                    field: "samples[0].metrics.latency_p99".into(),
                    reason: "not a finite number".into(),
                },
                "invalid message",
            ),
        ),
        (
            "error_too_large",
            error(
                ErrorCode::TooLarge {
                    size: 5_000_000,
                    limit: 4_194_304,
                },
                "frame too large",
            ),
        ),
        (
            "error_unsupported_version",
            error(
                ErrorCode::UnsupportedVersion {
                    received: 1,
                    supported: SUPPORTED_VERSIONS.to_vec(),
                },
                "frame version 1 is not supported: envelope version 2 (session, seq) is required",
            ),
        ),
        (
            "error_conflict",
            error(
                ErrorCode::Conflict {
                    proposal_id: PROPOSAL_ID.into(),
                },
                "proposal id reused with different content",
            ),
        ),
        (
            "error_resync_required",
            error(
                ErrorCode::ResyncRequired {
                    target_system: TARGET.into(),
                    oldest_seq: 100,
                },
                "events before 100 are no longer kept",
            ),
        ),
    ]
}

/// The committed JSON text of a message: pretty, with a final newline.
pub fn json_text(msg: &Message) -> Result<String, String> {
    let view = JsonFrame::from_wire(msg).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string_pretty(&view).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// Rewrites every vector in `dir` and removes `.json`/`.bin` files that no
/// longer belong to the catalogue. Returns the number of vectors written.
pub fn regenerate(dir: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let entries = catalogue();
    let keep: Vec<String> = entries
        .iter()
        .flat_map(|(n, _)| [format!("{n}.json"), format!("{n}.bin")])
        .collect();
    for f in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let f = f.map_err(|e| e.to_string())?;
        let name = f.file_name().to_string_lossy().into_owned();
        let ours = name.ends_with(".json") || name.ends_with(".bin");
        if ours && !keep.contains(&name) {
            std::fs::remove_file(f.path()).map_err(|e| e.to_string())?;
        }
    }
    for (name, msg) in &entries {
        let bin = codec::encode(msg).map_err(|e| format!("{name}: {e}"))?;
        std::fs::write(dir.join(format!("{name}.bin")), bin).map_err(|e| e.to_string())?;
        std::fs::write(dir.join(format!("{name}.json")), json_text(msg)?)
            .map_err(|e| e.to_string())?;
    }
    Ok(entries.len())
}
