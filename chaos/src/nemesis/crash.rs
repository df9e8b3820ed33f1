//! Crash faults: SIGKILL the leader or a random node and restart it, or
//! freeze the leader past the election timeout and thaw it.

use super::watch::{find_leader, wait_new_leader};
use super::{Fault, FaultKind, NemesisOptions};
use crate::cluster::{role_name, Cluster, NODES};
use crate::rng::Rng;
use std::time::{Duration, Instant};

/// How long a restarted or resumed node may take to answer again.
const BACK_BOUND: Duration = Duration::from_secs(30);

pub async fn inject(
    cluster: &mut Cluster,
    kind: FaultKind,
    options: &NemesisOptions,
    start: Instant,
    rng: &mut Rng,
) -> anyhow::Result<Fault> {
    let (victim, role, term) = match kind {
        FaultKind::KillRandom => {
            let id = rng.below(NODES) + 1;
            let own = cluster.status(id).await;
            (
                id,
                role_name(own.as_ref().map(|s| s.role)),
                own.map(|s| s.term),
            )
        }
        _ => {
            let (id, term) = find_leader(cluster, options.election_bound).await?;
            (id, "leader", Some(term))
        }
    };
    let hit = Instant::now();
    let mut fault = Fault::new(kind, victim, role, term, hit - start);
    let measure = role == "leader";
    if kind == FaultKind::PauseLeader {
        cluster.pause(victim).await?;
        let bound = options.pause.max(options.election_bound);
        let elected = wait_new_leader(cluster, victim, term.unwrap_or(0), hit, bound).await;
        fault.note_election(elected);
        let paused = hit.elapsed();
        if paused < options.pause {
            tokio::time::sleep(options.pause - paused).await;
        }
        cluster.resume(victim).await?;
    } else {
        cluster.kill(victim).await?;
        if let (true, Some(term)) = (measure, term) {
            let elected = wait_new_leader(cluster, victim, term, hit, options.election_bound).await;
            fault.note_election(elected);
        }
        cluster.restart(victim).await?;
    }
    fault.healed_s = Some(start.elapsed().as_secs_f64());
    cluster.wait_answering(victim, BACK_BOUND).await?;
    Ok(fault)
}
