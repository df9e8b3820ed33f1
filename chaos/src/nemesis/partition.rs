//! Partition faults: the leader cut off from both followers (both ways),
//! one follower isolated, or the leader hearing nothing from its peers
//! while what it sends still arrives. The cut is held for `--partition-ms`
//! (longer if the election it should cause is still under way), then
//! mended; the fault ends once some node leads again, and notes whether
//! the mend itself cost an election.

use super::watch::{find_leader, pick_other, wait_new_leader};
use super::{Fault, FaultKind, NemesisOptions};
use crate::cluster::{Cluster, Direction, NODES};
use crate::rng::Rng;
use std::time::Instant;

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
    cluster.mend().await?;
    fault.healed_s = Some(start.elapsed().as_secs_f64());
    let (after, after_term) = find_leader(cluster, options.election_bound).await?;
    let before_heal = fault.new_term.unwrap_or(leader_term);
    fault.note = Some(match after_term > before_heal {
        true => format!("after the mend node {after} leads in term {after_term} (a new election)"),
        false => format!("after the mend node {after} still leads in term {after_term}"),
    });
    Ok(fault)
}
