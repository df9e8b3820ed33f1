//! The membership change under load: a random follower is removed from the
//! cluster while the workloads run, kept out for `--partition-ms`, and
//! added back under its own id with its data (openraft 0.9 cannot take a
//! wiped node back under its old id). Adding it back returns once it has
//! caught up as a learner and been promoted to voter; the fault then checks
//! the leader's membership lists all three voters again. Both requests are
//! sent again when an election gets in their way.

use super::watch::{find_leader, pick_other};
use super::{Fault, FaultKind, NemesisOptions};
use crate::cluster::{Cluster, NODES};
use crate::rng::Rng;
use anyhow::{bail, Context};
use arqonbus_client::Client;
use arqonbus_proto::operator::{Member, OperatorRequest};
use arqonbus_proto::ErrorCode;
use std::time::{Duration, Instant};

/// A membership request may wait for a learner to catch up.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(60);
/// The pause before a membership request is sent again.
const RESEND_AFTER: Duration = Duration::from_millis(200);

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
    let remove = OperatorRequest::RemoveNode { node_id: victim };
    let mut attempts = change(&admin, remove, &format!("removing node {victim}")).await?;
    let removed = hit.elapsed();
    let voters = voters_seen_by_leader(cluster, options).await?;
    if voters.contains(&victim) {
        bail!("after removing node {victim} the leader's voters are {voters:?}");
    }
    tokio::time::sleep(options.partition).await;
    let adding = Instant::now();
    let add = OperatorRequest::AddNode { member };
    attempts += change(&admin, add, &format!("adding node {victim} back")).await?;
    let added = adding.elapsed();
    fault.healed_s = Some(start.elapsed().as_secs_f64());
    let voters = voters_seen_by_leader(cluster, options).await?;
    if voters.len() != NODES as usize || !voters.contains(&victim) {
        bail!("after adding node {victim} back the leader's voters are {voters:?}");
    }
    fault.note = Some(format!(
        "removed in {} ms, out for {} ms, added back (caught up and promoted) in {} ms{}",
        removed.as_millis(),
        options.partition.as_millis(),
        added.as_millis(),
        match attempts {
            2 => String::new(),
            n => format!(" ({} requests re-sent)", n - 2),
        }
    ));
    Ok(fault)
}

/// Sends one membership request until it is done: both are idempotent
/// (removing a non-member or adding a voter changes nothing), so one whose
/// outcome is unknown, or that met an election, is sent again until
/// `CHANGE_TIMEOUT`. A refusal for any other reason fails at once. Returns
/// how many requests it took.
async fn change(admin: &Client, request: OperatorRequest, what: &str) -> anyhow::Result<u32> {
    let start = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match admin.operate(request.clone()).await {
            Ok(_) => return Ok(attempts),
            Err(e) => e,
        };
        let retryable = match error.code() {
            None => true,
            Some(code) => matches!(
                code,
                ErrorCode::NotLeader { .. }
                    | ErrorCode::NoLeader
                    | ErrorCode::NoQuorum
                    | ErrorCode::OutcomeUnknown
            ),
        };
        if !retryable || start.elapsed() > CHANGE_TIMEOUT {
            return Err(error).with_context(|| format!("{what} ({attempts} requests)"));
        }
        tokio::time::sleep(RESEND_AFTER).await;
    }
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
