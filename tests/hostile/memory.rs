//! Item 1 at a node: sixteen frames of minimal-size telemetry samples at
//! once, from a role allowed to send telemetry, raise the node's peak RSS
//! by at most 64 MiB; the frames that claim the most samples are answered
//! with typed errors (`too_large`, `invalid_message`, or `rate_limited`
//! once the identity's frame memory is taken).

use super::{code, hostile_test, Hostile};
use crate::common::TARGET;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::limits::{MAX_BODY_LEN, MAX_TELEMETRY_BODY_LEN};
use arqonbus_proto::Reply;
use arqonbus_testkit::frames::{minimal_batch, sample_bomb};
use tokio::task::JoinSet;

const AT_ONCE: usize = 16;
const MIB: u64 = 1 << 20;

/// Sends `frame` on `AT_ONCE` connections at once; returns the answers.
async fn at_once(h: &Hostile, frame: &[u8]) -> Vec<Reply> {
    let mut conns = Vec::new();
    for _ in 0..AT_ONCE {
        conns.push(h.raw("proposer", h.leader).await);
    }
    let mut sends = JoinSet::new();
    for conn in conns {
        let frame = frame.to_vec();
        sends.spawn(async move { conn.exchange(&frame).await });
    }
    let mut answers = Vec::new();
    while let Some(answer) = sends.join_next().await {
        match answer.expect("task") {
            Ok(reply) => answers.push(reply),
            Err(e) => panic!("a frame got no answer: {e}"),
        }
    }
    answers
}

#[test]
fn sixteen_frames_of_minimal_samples_raise_peak_rss_by_at_most_64_mib() {
    hostile_test(async {
        let h = Hostile::start(&[]).await;
        let (c, leader) = (&h.cluster, h.leader);
        c.reset_peak_memory(leader).expect("peak reset");
        let base = c.memory(leader).expect("memory").rss;

        // What the attacker sent (16 MiB of 9-byte samples in a
        // 66 KB frame), the largest such body a telemetry batch may have,
        // and valid batches of the most minimal samples.
        let cases = [
            ("16 MiB of 9-byte samples", sample_bomb(MAX_BODY_LEN)),
            (
                "4 MiB of 9-byte samples",
                sample_bomb(MAX_TELEMETRY_BODY_LEN),
            ),
            ("1024 minimal samples", minimal_batch(TARGET, 1024)),
        ];
        for (what, frame) in cases {
            for reply in at_once(&h, &frame).await {
                match (&reply, code(&reply)) {
                    (Reply::TelemetryAck(ack), _) => assert_eq!(ack.accepted, 1024, "{what}"),
                    (
                        _,
                        Ok(
                            ErrorCode::TooLarge { .. }
                            | ErrorCode::InvalidMessage { .. }
                            | ErrorCode::RateLimited { .. }
                            // The same bytes sixteen times: decoded (the
                            // memory this test bounds), then refused as
                            // replays of the first (Security I).
                            | ErrorCode::Replay { .. },
                        ),
                    ) => {}
                    (_, other) => panic!("{what}: answered {other:?}"),
                }
            }
            let peak = c.memory(leader).expect("memory").peak;
            eprintln!(
                "figure: after {AT_ONCE} x {what} ({} B each): peak RSS {} MiB above {} MiB",
                frame.len(),
                peak.saturating_sub(base) / MIB,
                base / MIB
            );
        }
        let peak = c.memory(leader).expect("memory").peak;
        assert!(
            peak.saturating_sub(base) <= 64 * MIB,
            "peak RSS rose by {} MiB",
            peak.saturating_sub(base) / MIB
        );
    });
}
