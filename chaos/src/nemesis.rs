//! The nemesis: faults on a schedule. Kinds: SIGKILL the leader and restart
//! it, SIGKILL a random node and restart it, SIGSTOP the leader past the
//! election timeout and SIGCONT it. Each fault is logged with the role its
//! victim had at that moment; when the victim led, the election is timed:
//! from the signal to another node reporting itself leader in a higher term.
//!
//! The schedule holds the required minimum of leader kills and pauses plus
//! random faults from the allowed mix, shuffled, one per interval. Random
//! faults due after the run's end are skipped; required ones are always
//! injected (the run is extended), so a run meets its minimums or fails.

use crate::cluster::{leader_of, role_name, Cluster};
use crate::rng::Rng;
use serde::Serialize;
use std::time::{Duration, Instant};

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    KillLeader,
    KillRandom,
    PauseLeader,
}

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillLeader => "kill-leader",
            FaultKind::KillRandom => "kill-random",
            FaultKind::PauseLeader => "pause-leader",
        }
    }
}

/// How the nemesis behaves.
#[derive(Debug, Clone)]
pub struct NemesisOptions {
    pub interval: Duration,
    /// How long a paused leader stays paused.
    pub pause: Duration,
    pub min_leader_kills: usize,
    pub min_leader_pauses: usize,
    /// Kinds the rest of the schedule is drawn from (empty: none).
    pub mix: Vec<FaultKind>,
    /// How long a new leader may take before it is a violation.
    pub election_bound: Duration,
}

/// One injected fault.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    pub kind: FaultKind,
    pub node: u64,
    /// The victim's role when it was hit.
    pub victim_role: &'static str,
    /// Seconds since the run started.
    pub at_s: f64,
    pub term_before: Option<u64>,
    /// Time from the signal to a new leader, when the victim led.
    pub election_ms: Option<u64>,
    pub new_leader: Option<u64>,
    pub new_term: Option<u64>,
    /// When the victim was restarted (kill) or resumed (pause), in seconds
    /// since the run started: the heal the degraded-mode check times from.
    pub healed_s: Option<f64>,
}

/// What the nemesis did and saw.
#[derive(Debug, Default, Serialize)]
pub struct NemesisReport {
    pub faults: Vec<Fault>,
    /// Broken promises: no new leader in time, a node that died by itself.
    pub violations: Vec<String>,
    /// Faults that could not be injected: the run cannot pass.
    pub errors: Vec<String>,
    /// Seconds the run went past its duration to meet the minimums.
    pub extended_s: f64,
}

/// The schedule: required faults and random ones, shuffled.
pub fn plan(duration: Duration, options: &NemesisOptions, rng: &mut Rng) -> Vec<(FaultKind, bool)> {
    let slots = (duration.as_secs_f64() / options.interval.as_secs_f64().max(0.001)) as usize;
    let mut faults: Vec<(FaultKind, bool)> =
        std::iter::repeat_n((FaultKind::KillLeader, true), options.min_leader_kills)
            .chain(std::iter::repeat_n(
                (FaultKind::PauseLeader, true),
                options.min_leader_pauses,
            ))
            .collect();
    while faults.len() < slots && !options.mix.is_empty() {
        let kind = options.mix[rng.below(options.mix.len() as u64) as usize];
        faults.push((kind, false));
    }
    rng.shuffle(&mut faults);
    faults
}

/// Runs the schedule from `start` until `end` (later for required faults).
/// `stop` ends it early (the harness is failing anyway).
pub async fn run(
    cluster: &mut Cluster,
    schedule: Vec<(FaultKind, bool)>,
    options: &NemesisOptions,
    (start, end): (Instant, Instant),
    rng: &mut Rng,
) -> NemesisReport {
    let mut report = NemesisReport::default();
    let mut next = start;
    for (kind, required) in schedule {
        next += options.interval;
        let now = Instant::now();
        if now.max(next) >= end && !required {
            continue;
        }
        if next > now {
            tokio::time::sleep(next - now).await;
        }
        report.violations.extend(cluster.exited());
        match inject(cluster, kind, options, start, rng).await {
            Ok(fault) => {
                if fault.victim_role == "leader" && fault.election_ms.is_none() {
                    report.violations.push(format!(
                        "{} of node {} at {:.1} s: no new leader within {:?}",
                        kind.name(),
                        fault.node,
                        fault.at_s,
                        options.election_bound
                    ));
                }
                report.faults.push(fault);
            }
            Err(e) => {
                report.errors.push(format!("{}: {e:#}", kind.name()));
                // Leave the cluster whole for the next fault.
                if let Err(e) = cluster.heal() {
                    report
                        .errors
                        .push(format!("healing after a failed fault: {e:#}"));
                    break;
                }
            }
        }
    }
    let done = Instant::now();
    if done > end {
        report.extended_s = (done - end).as_secs_f64();
    }
    report.violations.extend(cluster.exited());
    report
}

/// The current leader, waiting (bounded) for one to be elected.
async fn find_leader(cluster: &Cluster, bound: Duration) -> anyhow::Result<(u64, u64)> {
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

/// Polls the nodes other than `victim` until one leads in a term above
/// `term`; `None` if that does not happen within `bound` of `since`.
async fn wait_new_leader(
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

async fn inject(
    cluster: &mut Cluster,
    kind: FaultKind,
    options: &NemesisOptions,
    start: Instant,
    rng: &mut Rng,
) -> anyhow::Result<Fault> {
    let (victim, role, term) = match kind {
        FaultKind::KillLeader | FaultKind::PauseLeader => {
            let (id, term) = find_leader(cluster, options.election_bound).await?;
            (id, "leader", Some(term))
        }
        FaultKind::KillRandom => {
            let statuses = cluster.statuses().await;
            let id = rng.below(crate::cluster::NODES) + 1;
            let own = statuses
                .iter()
                .find(|(n, _)| *n == id)
                .and_then(|(_, s)| s.as_ref());
            (id, role_name(own.map(|s| s.role)), own.map(|s| s.term))
        }
    };
    let hit = Instant::now();
    let mut fault = Fault {
        kind,
        node: victim,
        victim_role: role,
        at_s: (hit - start).as_secs_f64(),
        term_before: term,
        election_ms: None,
        new_leader: None,
        new_term: None,
        healed_s: None,
    };
    let measure = role == "leader";
    match kind {
        FaultKind::KillLeader | FaultKind::KillRandom => {
            cluster.kill(victim).await?;
            if let (true, Some(term)) = (measure, term) {
                let elected =
                    wait_new_leader(cluster, victim, term, hit, options.election_bound).await;
                note_election(&mut fault, elected);
            }
            cluster.spawn(victim)?;
            fault.healed_s = Some(start.elapsed().as_secs_f64());
            cluster
                .wait_answering(victim, Duration::from_secs(30))
                .await?;
        }
        FaultKind::PauseLeader => {
            cluster.pause(victim)?;
            let term = term.unwrap_or(0);
            let elected = wait_new_leader(
                cluster,
                victim,
                term,
                hit,
                options.pause.max(options.election_bound),
            )
            .await;
            note_election(&mut fault, elected);
            let paused = hit.elapsed();
            if paused < options.pause {
                tokio::time::sleep(options.pause - paused).await;
            }
            cluster.resume(victim)?;
            fault.healed_s = Some(start.elapsed().as_secs_f64());
            cluster
                .wait_answering(victim, Duration::from_secs(30))
                .await?;
        }
    }
    Ok(fault)
}

fn note_election(fault: &mut Fault, elected: Option<(u64, u64, Duration)>) {
    if let Some((id, term, took)) = elected {
        fault.election_ms = Some(took.as_millis() as u64);
        fault.new_leader = Some(id);
        fault.new_term = Some(term);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(kills: usize, pauses: usize, mix: Vec<FaultKind>) -> NemesisOptions {
        NemesisOptions {
            interval: Duration::from_secs(4),
            pause: Duration::from_secs(2),
            min_leader_kills: kills,
            min_leader_pauses: pauses,
            mix,
            election_bound: Duration::from_secs(10),
        }
    }

    #[test]
    fn the_plan_holds_the_minimums_and_fills_the_slots() {
        let mut rng = Rng::new(3);
        let all = vec![
            FaultKind::KillLeader,
            FaultKind::KillRandom,
            FaultKind::PauseLeader,
        ];
        let plan = plan(Duration::from_secs(180), &options(10, 3, all), &mut rng);
        assert_eq!(plan.len(), 45);
        let required = |k| plan.iter().filter(|(kind, req)| *kind == k && *req).count();
        assert_eq!(required(FaultKind::KillLeader), 10);
        assert_eq!(required(FaultKind::PauseLeader), 3);
    }

    #[test]
    fn minimums_above_the_slots_are_kept() {
        let mut rng = Rng::new(3);
        let plan = plan(Duration::from_secs(8), &options(3, 2, Vec::new()), &mut rng);
        assert_eq!(plan.len(), 5);
        assert!(plan.iter().all(|(_, required)| *required));
    }
}
