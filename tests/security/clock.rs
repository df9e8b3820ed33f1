//! Attack: a request stamped ten minutes in the past, or in the future.

use super::*;

#[test]
fn stale_and_future_timestamps_are_refused_with_the_server_time_and_change_nothing() {
    security_test(async {
        let s = Suite::start(&[]).await;
        let before = s.live().await;
        let operator = s.signer("operator");
        let raw = s.raw("operator").await;
        let ten_minutes = 600_000;
        for (n, shift) in [-ten_minutes, ten_minutes].into_iter().enumerate() {
            let at = UnixMillis(UnixMillis::now().0 + shift);
            let frame = signed(
                &operator,
                envelope(Envelope::random_session(), 1, at),
                &set_batch(200),
            );
            let reply = raw.exchange(&frame).await.expect("answered");
            let Reply::Error(e) = &reply else {
                panic!("refused: {reply:?}")
            };
            let ErrorCode::StaleTimestamp {
                server_time,
                max_skew_ms,
            } = e.code
            else {
                panic!("stale_timestamp: {reply:?}")
            };
            assert_eq!(max_skew_ms, 30_000);
            let skew = (at.0 - server_time.0).abs();
            assert!((590_000..=610_000).contains(&skew), "skew {skew}");
            let side = if shift < 0 { "behind" } else { "ahead" };
            assert!(
                e.message.contains(side),
                "the skew is reported: {}",
                e.message
            );
            s.good_is_served(&format!("good-clock-{n}")).await;
        }
        assert_eq!(s.live().await, before, "nothing changed");
        s.summarised("operator", "stale_timestamp", 2).await;
    });
}
