//! The membership change under load: a random follower is removed from the
//! cluster while the workloads run, kept out for `--partition-ms`, and
//! added back under its own id with its data (openraft 0.9 cannot take a
//! wiped node back under its old id). Adding it back returns once it has
//! caught up as a learner and been promoted to voter; the fault then checks
//! the leader's membership lists all three voters again.

use super::watch::{find_leader, pick_other};
use super::{Fault, FaultKind, NemesisOptions};
use crate::cluster::{Cluster, NODES};
use crate::rng::Rng;
use anyhow::{bail, Context};
use arqonbus::client::Client;
use arqonbus::proto::operator::{Member, OperatorRequest};
use std::time::{Duration, Instant};

/// A membership request may wait for a learner to catch up.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn inject(
    cluster: &mut Cluster,
    options: &NemesisOptions,
    start: Instant,
    rng: &mut Rng,
) -> anyhow::Result<Fault> {
    let (leader, _) = find_leader(cluster, options.election_bound).await?;
    let (victim, role, term) = pick_other(cluster, leader, rng).await;
    let mut admin = cluster.access().options("admin")?;
    admin.request_timeout = CHANGE_TIMEOUT;
    admin.retry_budget = CHANGE_TIMEOUT;
    let admin = Client::new(admin)?;
    let member = Member {
        node_id: victim,
        addr: cluster.endpoint(victim)?.to_string(),
    };
    let hit = Instant::now();
    let mut fault = Fault::new(FaultKind::Membership, victim, role, term, hit - start);
    admin
        .operate(OperatorRequest::RemoveNode { node_id: victim })
        .await
        .with_context(|| format!("removing node {victim}"))?;
    let removed = hit.elapsed();
    let voters = voters_seen_by_leader(cluster, options).await?;
    if voters.contains(&victim) {
        bail!("after removing node {victim} the leader's voters are {voters:?}");
    }
    tokio::time::sleep(options.partition).await;
    let adding = Instant::now();
    admin
        .operate(OperatorRequest::AddNode { member })
        .await
        .with_context(|| format!("adding node {victim} back"))?;
    let added = adding.elapsed();
    fault.healed_s = Some(start.elapsed().as_secs_f64());
    let voters = voters_seen_by_leader(cluster, options).await?;
    if voters.len() != NODES as usize || !voters.contains(&victim) {
        bail!("after adding node {victim} back the leader's voters are {voters:?}");
    }
    fault.note = Some(format!(
        "removed in {} ms, out for {} ms, added back (caught up and promoted) in {} ms",
        removed.as_millis(),
        options.partition.as_millis(),
        added.as_millis()
    ));
    Ok(fault)
}

/// The voter ids in the current leader's own status.
async fn voters_seen_by_leader(
    cluster: &Cluster,
    options: &NemesisOptions,
) -> anyhow::Result<Vec<u64>> {
    let (leader, _) = find_leader(cluster, options.election_bound).await?;
    let status = cluster
        .status(leader)
        .await
        .with_context(|| format!("leader {leader} did not answer a status request"))?;
    Ok(status.voters.iter().map(|m| m.node_id).collect())
}
