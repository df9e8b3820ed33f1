//! Item 5: bursts of compressed frames from any role do not stall a node.
//! Eleven bursts of 64 LZ4 frames per sender (every request type as large
//! as it may be once decompressed, and the 16 MiB ones), from a
//! viewer and a proposer at a follower and a viewer at the leader: every
//! frame gets a typed refusal, no election happens, and `node_status` on
//! another connection keeps answering (its latency is printed here and
//! measured by `arqonbus bench bursts`).

use super::{hostile_test, Hostile};
use arqonbus_testkit::flood::bursts;

const BURSTS: usize = 11;
const PER_BURST: usize = 64;

#[test]
fn bursts_of_compressed_frames_cause_no_election() {
    hostile_test(async {
        let h = Hostile::start(&[]).await;
        let out = bursts::run(&h.cluster, BURSTS, PER_BURST)
            .await
            .expect("the bursts ran");
        let mut ms = out.node_status_ms.clone();
        ms.sort_by(f64::total_cmp);
        eprintln!(
            "figure: {:?} refused; node_status during bursts: {} asked, median {:.1} ms, worst {:.1} ms",
            out.refused,
            ms.len(),
            ms.get(ms.len() / 2).copied().unwrap_or(0.0),
            ms.last().copied().unwrap_or(0.0)
        );
        assert!(out.unexpected.is_empty(), "{:?}", out.unexpected);
        let refused: u64 = out.refused.values().sum();
        assert_eq!(
            refused as usize,
            3 * BURSTS * PER_BURST,
            "{:?}",
            out.refused
        );
        let typed = ["too_large", "invalid_message", "forbidden", "rate_limited"];
        assert!(
            out.refused.keys().all(|k| typed.contains(&k.as_str())),
            "{:?}",
            out.refused
        );
        assert!(
            !ms.is_empty() && out.node_status_failed == 0,
            "node_status kept answering"
        );
        assert_eq!(out.terms_after, out.terms_before, "an election happened");
        assert_eq!(out.leader_after, out.leader_before);
    });
}
