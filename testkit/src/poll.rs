//! Bounded waiting, and free ports.

use crate::error::{Result, TestkitError};
use std::time::{Duration, Instant};

/// Picks `n` distinct free UDP ports on loopback (held together, then freed).
pub fn free_ports(n: usize) -> Result<Vec<u16>> {
    let sockets = (0..n)
        .map(|_| std::net::UdpSocket::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    Ok(sockets
        .iter()
        .map(|s| s.local_addr().map(|a| a.port()))
        .collect::<std::io::Result<Vec<_>>>()?)
}

/// Polls `check` until it succeeds; after `within`, fails saying what the
/// last check found missing.
pub async fn poll<T, F, Fut>(within: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return Ok(v),
            Err(what) if start.elapsed() > within => {
                return Err(TestkitError::Timeout { what, within })
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct() {
        let ports = free_ports(5).expect("ports");
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 5, "{ports:?}");
    }

    #[tokio::test]
    async fn a_poll_that_never_succeeds_says_what_was_missing() {
        let err = poll(Duration::from_millis(50), || async {
            Err::<(), _>("the moon".to_string())
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("the moon"), "{err}");
    }
}
