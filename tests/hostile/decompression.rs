//! Item 5: bursts of compressed frames from any role do not stall a node.
//! Eleven bursts of 64 LZ4 frames (each as large as its type allows, and
//! the 16 MiB ones) at a follower and at the leader, from a
//! viewer and from a proposer: every frame gets a typed answer, no
//! election happens, and `node_status` on another connection keeps
//! answering (its latency is printed; the bench holds the figure).

use super::{code, hostile_test, Hostile};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::limits::{max_body_len, MAX_BODY_LEN};
use arqonbus_proto::msg_type as t;
use arqonbus_proto::operator::OperatorReply;
use arqonbus_proto::Reply;
use arqonbus_testkit::frames::{node_status, sample_bomb, zero_bomb};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const BURSTS: usize = 11;
const PER_BURST: usize = 64;

/// The frames of one burst: every request type, as large as allowed once
/// decompressed, and the 16 MiB bombs.
fn burst_frames() -> Vec<Vec<u8>> {
    let mut kinds = vec![
        sample_bomb(MAX_BODY_LEN),
        sample_bomb(max_body_len(t::TELEMETRY_BATCH)),
    ];
    for ty in [
        t::TELEMETRY_BATCH,
        t::PROPOSAL,
        t::OPERATE,
        t::SUBSCRIBE,
        t::STATUS_QUERY,
    ] {
        kinds.push(zero_bomb(ty, max_body_len(ty)));
        kinds.push(zero_bomb(ty, MAX_BODY_LEN));
    }
    kinds.into_iter().cycle().take(PER_BURST).collect()
}

fn typed_refusal(reply: &Reply) -> bool {
    matches!(
        code(reply),
        Ok(ErrorCode::TooLarge { .. }
            | ErrorCode::InvalidMessage { .. }
            | ErrorCode::Forbidden
            | ErrorCode::RateLimited { .. })
    )
}

#[test]
fn bursts_of_compressed_frames_cause_no_election() {
    hostile_test(async {
        let h = Hostile::start(&[]).await;
        let before = h.terms().await;
        let frames = Arc::new(burst_frames());
        let mut senders = Vec::new();
        for (user, id) in [
            ("viewer", h.follower),
            ("proposer", h.follower),
            ("viewer", h.leader),
        ] {
            senders.push(Arc::new(h.raw(user, id).await));
        }
        let watcher = h.raw("operator", h.follower).await;
        let mut status_ms = Vec::new();
        let mut refused = 0usize;
        for _ in 0..BURSTS {
            let mut burst = JoinSet::new();
            for sender in &senders {
                for i in 0..PER_BURST {
                    let (sender, frames) = (sender.clone(), frames.clone());
                    burst.spawn(async move { sender.exchange(&frames[i]).await });
                }
            }
            while !burst.is_empty() {
                let asked = Instant::now();
                let status = watcher.exchange(&node_status()).await;
                assert!(matches!(
                    status,
                    Ok(Reply::Operated(OperatorReply::NodeStatus(_)))
                ));
                status_ms.push(asked.elapsed().as_secs_f64() * 1000.0);
                if let Ok(Some(done)) =
                    tokio::time::timeout(Duration::from_millis(50), burst.join_next()).await
                {
                    let reply = done.expect("task").expect("every frame is answered");
                    assert!(typed_refusal(&reply), "{reply:?}");
                    refused += 1;
                }
            }
        }
        status_ms.sort_by(f64::total_cmp);
        eprintln!(
            "figure: {refused} compressed frames refused; node_status during bursts: {} asked, median {:.1} ms, worst {:.1} ms",
            status_ms.len(),
            status_ms[status_ms.len() / 2],
            status_ms.last().copied().unwrap_or(0.0)
        );
        h.assert_no_election(&before).await;
    });
}
