//! Attack: a flood over the rate limit, and a flood of bad signatures.
//! The good client on the same node is served throughout (every request
//! answered within a generous bound; speed is a bench figure, not a pass
//! condition here).

use super::*;
use std::sync::Arc;
use tokio::task::JoinSet;

#[test]
fn a_flood_over_the_rate_limit_is_refused_with_a_retry_after() {
    security_test(async {
        let s = Suite::start(&["--reads-per-second", "20"]).await;
        let raw = Arc::new(s.raw("viewer").await);
        let mut sends = JoinSet::new();
        for n in 0..200u64 {
            let raw = raw.clone();
            let q = Request::StatusQuery(arqonbus_proto::message::StatusQuery {
                proposal_id: format!("nothing-{n}"),
            });
            let frame = arqonbus_proto::encode(&Message::Request(
                envelope(77, n + 1, UnixMillis::now()),
                q,
            ))
            .expect("encodes");
            sends.spawn(async move { raw.exchange(&frame).await });
        }
        let mut limited = 0;
        while let Some(r) = sends.join_next().await {
            let reply = r.expect("joined").expect("answered");
            if let Ok(ErrorCode::RateLimited { retry_after_ms }) = code(&reply) {
                assert!(*retry_after_ms >= 1 && *retry_after_ms <= 1000);
                limited += 1;
            }
        }
        // 200 at once against 20/s: most are over, unless sending them
        // took ten seconds; the exact share is not a pass condition.
        assert!(limited > 0, "none of 200 reads at once was limited");
        s.good_is_served("good-rate").await;
        // The client library honours retry-after: a viewer client's read
        // over the limit is retried after the wait, and served.
        let viewer = s.cluster.client("viewer").expect("viewer client");
        for n in 0..40 {
            let served = tokio::time::timeout(WAIT, viewer.status("good-rate")).await;
            assert!(matches!(served, Ok(Ok(_))), "read {n}: {served:?}");
        }
        s.summarised("viewer", "rate_limited", limited).await;
    });
}

#[test]
fn a_flood_of_bad_signatures_does_not_stop_a_good_client() {
    security_test(async {
        let s = Suite::start(&[]).await;
        let before = s.live().await;
        let raw = Arc::new(s.raw("operator").await);
        let forger = s.signer("admin"); // a real key, not the operator's
        let flood = tokio::spawn(async move {
            let mut sends = JoinSet::new();
            let mut refused = 0u64;
            for n in 0..1000u64 {
                let raw = raw.clone();
                let frame = signed(
                    &forger,
                    envelope(99, n + 1, UnixMillis::now()),
                    &set_batch(1 + (n as i64 % 200)),
                );
                sends.spawn(async move { raw.exchange(&frame).await });
                if sends.len() >= 32 {
                    let r = sends.join_next().await.expect("task").expect("joined");
                    let reply = r.expect("answered");
                    assert_eq!(code(&reply), Ok(&ErrorCode::Unauthenticated));
                    refused += 1;
                }
            }
            while let Some(r) = sends.join_next().await {
                let reply = r.expect("joined").expect("answered");
                assert_eq!(code(&reply), Ok(&ErrorCode::Unauthenticated));
                refused += 1;
            }
            refused
        });
        for n in 0..20 {
            s.good_is_served(&format!("good-flood-{n}")).await;
        }
        let refused = tokio::time::timeout(Duration::from_secs(120), flood)
            .await
            .expect("the flood ended within 120 s")
            .expect("flood task");
        assert_eq!(refused, 1000);
        assert_eq!(s.live().await, before, "nothing changed");
        s.summarised("operator", "bad_signature", 1000).await;
    });
}
