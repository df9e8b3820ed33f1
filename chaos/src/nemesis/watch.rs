//! Watching the cluster's leadership while a fault is in place: the current
//! leader (waiting, bounded, for one) and the time until another node leads
//! in a higher term.

use crate::cluster::{leader_of, role_name, Cluster, NODES};
use crate::rng::Rng;
use std::time::{Duration, Instant};

/// The current leader and its term, waiting (bounded) for one to be elected.
pub async fn find_leader(cluster: &Cluster, bound: Duration) -> anyhow::Result<(u64, u64)> {
    let start = Instant::now();
    loop {
        if let Some(leader) = leader_of(&cluster.statuses().await) {
            return Ok(leader);
        }
        if start.elapsed() > bound {
            anyhow::bail!("no node reported itself leader within {bound:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A random node that is not `leader`, with its role and term as it sees them.
pub async fn pick_other(
    cluster: &Cluster,
    leader: u64,
    rng: &mut Rng,
) -> (u64, &'static str, Option<u64>) {
    let mut id = rng.below(NODES - 1) + 1;
    if id >= leader {
        id += 1;
    }
    let own = cluster.status(id).await;
    (
        id,
        role_name(own.as_ref().map(|s| s.role)),
        own.map(|s| s.term),
    )
}

/// Polls the nodes other than `victim` until one leads in a term above
/// `term`; `None` if that does not happen within `bound` of `since`.
pub async fn wait_new_leader(
    cluster: &Cluster,
    victim: u64,
    term: u64,
    since: Instant,
    bound: Duration,
) -> Option<(u64, u64, Duration)> {
    loop {
        let others: Vec<_> = cluster
            .statuses()
            .await
            .into_iter()
            .filter(|(id, _)| *id != victim)
            .collect();
        if let Some((id, t)) = leader_of(&others).filter(|(_, t)| *t > term) {
            return Some((id, t, since.elapsed()));
        }
        if since.elapsed() > bound {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
