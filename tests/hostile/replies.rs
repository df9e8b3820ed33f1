//! Items 6 and 7: every error reply fits its own limits (a 1,000-byte
//! metric name or impact key, or a 100 KB one, gets a proper, truncated
//! `invalid_message`) and log lines quote client strings cut short; and
//! one frame per stream (bytes after the first frame are an error).

use super::{code, hostile_test, Hostile};
use crate::common::sessions::{envelope, proposal, raw_frame, sample};
use crate::common::TARGET;
use arqonbus_core::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::limits::MAX_TEXT_LEN;
use arqonbus_proto::message::TelemetryBatch;
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::{msg_type, Message, Request};

/// The longest line a node's log may hold after quoting client strings.
const MAX_LOG_LINE: usize = 4096;

fn body(request: Request) -> Vec<u8> {
    Message::Request(envelope(), request)
        .encode_body()
        .expect("encodes")
}

#[test]
fn long_client_strings_get_a_truncated_reply_and_short_log_lines() {
    hostile_test(async {
        let h = Hostile::start(&[]).await;
        let conn = h.raw("proposer", h.leader).await;
        for len in [1_000, 100_000] {
            let key = "k".repeat(len);
            let mut s = sample(TARGET, 1.0);
            s.metrics.insert(key.clone(), 2.0);
            let batch = body(Request::TelemetryBatch(TelemetryBatch { samples: vec![s] }));
            let mut p = proposal("long-key", &[("batch_size", ParamValue::Int(8))]);
            p.expected_impact.insert(key.clone(), 1.0);
            let frames = [
                raw_frame(msg_type::TELEMETRY_BATCH, &batch),
                raw_frame(msg_type::PROPOSAL, &body(Request::Proposal(p))),
            ];
            for frame in frames {
                let reply = conn.exchange(&frame).await.expect("an answer, not silence");
                let Ok(ErrorCode::InvalidMessage { field, reason }) = code(&reply) else {
                    panic!("{reply:?}")
                };
                assert!(field.len() <= MAX_TEXT_LEN && reason.len() <= MAX_TEXT_LEN);
                assert!(
                    field.contains("metrics.") || field.starts_with("expected_impact."),
                    "{field}"
                );
            }
        }
        for id in h.cluster.ids() {
            let log = h.log(id);
            let longest = log.lines().map(str::len).max().unwrap_or(0);
            assert!(
                longest <= MAX_LOG_LINE,
                "node {id} logged a line of {longest} bytes"
            );
        }
    });
}

#[test]
fn bytes_after_the_first_frame_of_a_stream_are_an_error() {
    hostile_test(async {
        let h = Hostile::start(&[]).await;
        let conn = h.raw("viewer", h.leader).await;
        let status = raw_frame(
            msg_type::OPERATE,
            &body(Request::Operate(OperatorRequest::NodeStatus)),
        );
        let mut one_byte_more = status.clone();
        one_byte_more.push(0);
        let mut two_frames = status.clone();
        two_frames.extend(&status);
        for (what, bytes) in [("one byte more", one_byte_more), ("two frames", two_frames)] {
            let reply = conn.exchange(&bytes).await.expect("answered");
            match code(&reply) {
                Ok(ErrorCode::InvalidMessage { field, .. }) => assert_eq!(field, "frame", "{what}"),
                other => panic!("{what}: {other:?}"),
            }
        }
        assert!(
            code(&conn.exchange(&status).await.expect("answered")).is_err(),
            "one frame is served"
        );
    });
}
