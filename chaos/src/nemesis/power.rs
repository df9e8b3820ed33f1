//! Power losses: nodes whose data directories sit on power-loss
//! filesystems are SIGKILLed and lose every write they had not synced,
//! then restarted. Three kinds, taken in turn by `--power-losses`:
//! - one node, chosen at random;
//! - the leader (the election after it is timed, as after a kill);
//! - a majority at once (the leader and one follower): the cluster has no
//!   quorum until they come back, and must come back with everything it
//!   acknowledged, every vote it gave, and no second leader in a term.
//!   The third node is paused from just before the power loss until the
//!   two restarted nodes have elected a leader, so that what *they* made
//!   durable decides the cluster's future: a survivor that campaigns first
//!   would hand its own log back to them and hide a lost write. (Every
//!   acknowledged entry is on one of the two, so a correct build loses
//!   nothing.) The time to a leader is measured from the power loss,
//!   restarts included.

use super::watch::{find_leader, pick_other, wait_new_leader};
use super::{Fault, FaultKind, NemesisOptions};
use crate::cluster::{role_name, Cluster, NODES};
use crate::rng::Rng;
use std::time::{Duration, Instant};

/// How long a node restarted after a power loss may take to answer.
const BACK_BOUND: Duration = Duration::from_secs(30);

pub async fn inject(
    cluster: &mut Cluster,
    kind: FaultKind,
    options: &NemesisOptions,
    start: Instant,
    rng: &mut Rng,
) -> anyhow::Result<Fault> {
    let (leader, term) = find_leader(cluster, options.election_bound).await?;
    let (victims, role) = match kind {
        FaultKind::PowerLossNode => {
            let id = rng.below(NODES) + 1;
            let own = cluster.status(id).await;
            (vec![id], role_name(own.as_ref().map(|s| s.role)))
        }
        FaultKind::PowerLossLeader => (vec![leader], "leader"),
        _ => {
            let (other, _, _) = pick_other(cluster, leader, rng).await;
            (vec![leader, other], "leader")
        }
    };
    let survivor = (victims.len() > 1)
        .then(|| (1..=NODES).find(|id| !victims.contains(id)))
        .flatten();
    if let Some(id) = survivor {
        cluster.pause(id).await?;
    }
    let hit = Instant::now();
    let mut fault = Fault::new(kind, victims[0], role, Some(term), hit - start);
    cluster.power_loss(&victims).await?;
    // With one node down the other two elect; with two down nobody can.
    if victims.len() == 1 && victims[0] == leader {
        let elected = wait_new_leader(cluster, leader, term, hit, options.election_bound).await;
        fault.note_election(elected);
    }
    for &id in &victims {
        cluster.restart(id).await?;
    }
    let mut note = format!("power lost on nodes {victims:?}");
    if let Some(paused) = survivor {
        // A restarted node whose own vote was committed may lead again in
        // the same term (openraft restores it); any leader will do.
        let elected = find_leader(cluster, options.election_bound + BACK_BOUND).await;
        if let Ok((id, t)) = elected {
            fault.note_election(Some((id, t, hit.elapsed())));
        }
        cluster.resume(paused).await?;
        note.push_str(&format!("; node {paused} paused until they elected"));
        if elected.is_err() {
            note.push_str(" (they did not, within the bound; resumed)");
        }
    }
    fault.healed_s = Some(start.elapsed().as_secs_f64());
    fault.note = Some(note);
    for &id in &victims {
        cluster.wait_answering(id, BACK_BOUND).await?;
    }
    Ok(fault)
}
