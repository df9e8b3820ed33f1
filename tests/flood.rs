//! The flood of issue 13 against three real nodes at once: on every node
//! a viewer sends the largest frames it can, thousands of streams send one
//! byte and wait, slow-loris streams trickle, and forbidden requests come
//! at full speed, while a well-behaved proposer proposes one proposal at a
//! time. No election may happen and every proposal must be decided. The
//! proposer's latency, `node_status`'s, each node's peak memory and the
//! audit entries are printed here and measured by `arqonbus bench flood`.

mod common;

use arqonbus_testkit::flood::{self, Plan};
use common::{one_cluster_at_a_time, three_nodes, TARGET};
use std::time::Duration;

const MIB: u64 = 1 << 20;

fn percentile(ms: &[f64], q: f64) -> f64 {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

#[test]
fn a_flood_on_every_node_causes_no_election_and_every_proposal_is_decided() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = three_nodes(dir.path(), &[]).await;
        let plan = Plan::new(Duration::from_secs(20), TARGET, "batch_size");
        let out = flood::run(&c, &plan).await.expect("the flood ran");

        let p = &out.proposals;
        eprintln!(
            "figure: proposer: {} sent, {} decided, p50 {:.1} ms, p99 {:.1} ms, worst {:.1} ms",
            p.sent,
            p.decided,
            percentile(&p.latency_ms, 0.5),
            percentile(&p.latency_ms, 0.99),
            percentile(&p.latency_ms, 1.0)
        );
        eprintln!(
            "figure: node_status: {} asked, {} failed, p50 {:.1} ms, p99 {:.1} ms, worst {:.1} ms",
            out.node_status_ms.len(),
            out.node_status_failed,
            percentile(&out.node_status_ms, 0.5),
            percentile(&out.node_status_ms, 0.99),
            percentile(&out.node_status_ms, 1.0)
        );
        for (id, m) in &out.memory {
            eprintln!(
                "figure: node {id}: RSS {} MiB before, peak {} MiB",
                m.before / MIB,
                m.peak / MIB
            );
        }
        eprintln!("figure: audit entries left by the flood: {:?}", out.audit);
        eprintln!("figure: attack: {:?}", out.attack);
        eprintln!("figure: unanswered: {:?}", out.unanswered);

        assert_eq!(out.terms_after, out.terms_before, "an election happened");
        assert_eq!(out.leader_after, out.leader_before, "the leader changed");
        assert!(p.sent > 0, "the proposer proposed");
        assert_eq!(p.decided, p.sent, "undecided proposals: {:?}", p.failures);

        // The attack happened, at the scale the issue asks for.
        let a = &out.attack;
        assert!(
            a["idle_streams_opened"] >= 2000,
            "thousands of idle streams: {a:?}"
        );
        assert!(a["idle_streams_reset"] >= 1000, "idle streams reset: {a:?}");
        assert!(
            a["slow_loris_reset"] > 0 && a["answered_forbidden"] > 100,
            "{a:?}"
        );
        assert!(
            a["answered_served"] > 0 && a["answered_too_large"] > 0,
            "{a:?}"
        );

        // Refused attempts were summarised, not audited one by one.
        let intervals = out.elapsed.as_secs() / 10 + 3;
        let summaries = out.audit.get("security_summary").copied().unwrap_or(0);
        assert!(
            summaries > 0 && summaries <= 3 * intervals,
            "{:?}",
            out.audit
        );
        assert!(!out.audit.contains_key("security_event"), "{:?}", out.audit);
        let audited = out.audit.get("proposal").copied().unwrap_or(0);
        assert!(audited >= p.decided as u64, "{:?}", out.audit);
    });
}
