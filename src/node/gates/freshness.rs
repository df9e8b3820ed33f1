//! Gate 4a, staleness: a request's `sent_at` must be within the allowed
//! skew of this node's clock, either way. The error reports the server's
//! time and the skew, so an operator sees how far the client's clock is.

use super::GateError;
use arqonbus_proto::UnixMillis;
use std::time::Duration;

/// Refuses `sent_at` further than `max_skew` from `now`.
pub fn check_fresh(
    sent_at: UnixMillis,
    now: UnixMillis,
    max_skew: Duration,
) -> Result<(), GateError> {
    let skew_ms = sent_at.0.saturating_sub(now.0);
    if skew_ms.unsigned_abs() as u128 <= max_skew.as_millis() {
        return Ok(());
    }
    Err(GateError::Stale {
        server_time: now,
        skew_ms,
        max_skew_ms: max_skew.as_millis() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_the_window_either_way_passes_and_beyond_reports_the_skew() {
        let now = UnixMillis(1_000_000_000);
        let w = Duration::from_secs(30);
        assert!(check_fresh(UnixMillis(now.0 - 30_000), now, w).is_ok());
        assert!(check_fresh(UnixMillis(now.0 + 30_000), now, w).is_ok());
        match check_fresh(UnixMillis(now.0 - 600_000), now, w) {
            Err(GateError::Stale { skew_ms, .. }) => assert_eq!(skew_ms, -600_000),
            other => panic!("{other:?}"),
        }
        assert!(check_fresh(UnixMillis(now.0 + 600_000), now, w).is_err());
    }
}
