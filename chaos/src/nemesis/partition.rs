//! Partition faults: the leader cut off from both followers (both ways),
//! one follower isolated, or the leader hearing nothing from its peers
//! while what it sends still arrives. The cut is held for `--partition-ms`
//! (longer if the election it should cause is still under way), then
//! mended; the fault ends 1.5 s later, once some node leads, and notes
//! whether the mend itself cost an election.

use super::watch::{find_leader, pick_other, wait_new_leader};
use super::{Fault, FaultKind, NemesisOptions};
use crate::cluster::{Cluster, Direction, NODES};
use crate::rng::Rng;
use anyhow::{bail, Context};
use std::time::{Duration, Instant};

/// How long after a mend the leadership is looked at again.
const AFTER_MEND: Duration = Duration::from_millis(1500);

pub async fn inject(
    cluster: &mut Cluster,
    kind: FaultKind,
    options: &NemesisOptions,
    start: Instant,
    rng: &mut Rng,
) -> anyhow::Result<Fault> {
    let (leader, leader_term) = find_leader(cluster, options.election_bound).await?;
    let (victim, role, term) = match kind {
        FaultKind::IsolateFollower => pick_other(cluster, leader, rng).await,
        _ => (leader, "leader", Some(leader_term)),
    };
    let direction = match kind {
        FaultKind::OneWayLeader => Direction::Inbound,
        _ => Direction::Both,
    };
    let peers: Vec<u64> = (1..=NODES).filter(|id| *id != victim).collect();
    cluster.cut(victim, &peers, direction).await?;
    // Timed from when every rule is in place (finding a container's
    // namespace and addresses takes a few docker commands).
    let hit = Instant::now();
    let mut fault = Fault::new(kind, victim, role, term, hit - start);
    if role == "leader" {
        let elected =
            wait_new_leader(cluster, victim, leader_term, hit, options.election_bound).await;
        fault.note_election(elected);
    }
    let held = hit.elapsed();
    if held < options.partition {
        tokio::time::sleep(options.partition - held).await;
    }
    if kind == FaultKind::IsolateFollower {
        let behind = check_isolated(cluster, victim, options).await;
        if let Err(e) = behind {
            cluster.mend().await?;
            return Err(e);
        }
    }
    cluster.mend().await?;
    fault.healed_s = Some(start.elapsed().as_secs_f64());
    // A node cut off kept standing for election in ever higher terms; back
    // in touch, it can depose the leader. Watch long enough to see that.
    tokio::time::sleep(AFTER_MEND).await;
    let (after, after_term) = find_leader(cluster, options.election_bound).await?;
    let before_heal = fault.new_term.unwrap_or(leader_term);
    fault.note = Some(match after_term > before_heal {
        true => format!(
            "{} ms after the mend node {after} leads in term {after_term} (elected after the mend)",
            AFTER_MEND.as_millis()
        ),
        false => format!(
            "{} ms after the mend node {after} still leads in term {after_term}",
            AFTER_MEND.as_millis()
        ),
    });
    Ok(fault)
}

/// A cut that lets traffic through would pass unnoticed when the victim is
/// a follower, so check it worked: with the workload writing, the leader
/// must have applied entries the isolated follower has not.
async fn check_isolated(
    cluster: &Cluster,
    victim: u64,
    options: &NemesisOptions,
) -> anyhow::Result<()> {
    let (leader, _) = find_leader(cluster, options.election_bound).await?;
    let applied = |id| async move {
        cluster
            .status(id)
            .await
            .with_context(|| format!("node {id} did not answer a status request"))
            .map(|s| s.last_applied.unwrap_or(0))
    };
    let (theirs, leaders) = (applied(victim).await?, applied(leader).await?);
    if theirs >= leaders {
        bail!(
            "the cut did not isolate node {victim}: it applied {theirs}, \
             leader {leader} {leaders}"
        );
    }
    Ok(())
}
