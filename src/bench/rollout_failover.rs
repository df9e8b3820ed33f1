//! `bench rollback`, leader kill: how long after the leader's SIGKILL the
//! new leader's first phase decision reaches an agent. Per kill, a fresh
//! target's rollout starts in `shadow` (min_seconds 1, 5 samples per
//! cohort) with an agent sending healthy tagged telemetry through its
//! `AssignmentWatch` (which follows the cluster across the kill); as soon
//! as the watch shows the shadow assignment the leader is killed, and the
//! clock stops when the watch's epoch moves on (the new leader advanced
//! to `full`). The figure includes the phase's min_seconds counted again
//! from the takeover: a new leader judges only from its own samples.

use super::cluster::ClusterBenchError;
use super::rollout_setup::{configure, constraints, propose, HEALTHY, METRIC};
use arqonbus_client::{AssignmentWatch, WatchOptions};
use arqonbus_proto::message::{Cohort, TelemetryContext, TelemetrySample};
use arqonbus_proto::rollout::Assignment;
use arqonbus_proto::UnixMillis;
use arqonbus_testkit::LocalCluster;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

type Result<T> = std::result::Result<T, ClusterBenchError>;

const WAIT: Duration = Duration::from_secs(60);
/// The shadow phase's min_seconds: part of every figure.
pub const PHASE_MIN_SECONDS: u64 = 1;
/// How often the agent sends a batch (5 samples per cohort).
const EVERY: Duration = Duration::from_millis(50);

fn setup(e: impl std::fmt::Display) -> ClusterBenchError {
    ClusterBenchError::Setup(e.to_string())
}

/// Leader kill → the next phase at the agent, milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Failovers {
    pub kills: usize,
    pub each_ms: Vec<f64>,
    pub median_ms: f64,
    pub phase_min_seconds: u64,
}

fn sample(target: &str, cohort: Cohort, i: u64) -> TelemetrySample {
    TelemetrySample {
        timestamp: UnixMillis::now(),
        source: "bench-agent".into(),
        target_system: target.into(),
        metrics: BTreeMap::from([(METRIC.to_string(), HEALTHY + (i % 10) as f64)]),
        parameters: BTreeMap::new(),
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort,
    }
}

async fn wait_assignment(
    rx: &mut watch::Receiver<Option<Assignment>>,
    what: &str,
    cond: impl Fn(&Assignment) -> bool,
) -> Result<Assignment> {
    match tokio::time::timeout(WAIT, rx.wait_for(|a| a.as_ref().is_some_and(&cond))).await {
        Ok(Ok(a)) => a.clone().ok_or_else(|| setup("no assignment")),
        Ok(Err(_)) => Err(setup(format!("the watch ended waiting for {what}"))),
        Err(_) => Err(setup(format!("no {what} within {WAIT:?}"))),
    }
}

/// Kills the leader `kills` times, each during a fresh rollout's shadow.
pub async fn failovers(c: &mut LocalCluster, kills: usize) -> Result<Failovers> {
    let text = constraints(&[
        ("shadow", 0, PHASE_MIN_SECONDS, 5),
        ("full", 100, PHASE_MIN_SECONDS, 5),
    ]);
    let run = UnixMillis::now().0;
    let mut each_ms = Vec::with_capacity(kills);
    for k in 0..kills {
        let target = format!("failover-bench-{k}");
        // Fresh connections: none left to the node the last kill took.
        let admin = c.client("admin")?;
        let operator = c.client("operator")?;
        let proposer = c.client("proposer")?;
        configure(&operator, &target, &text).await?;
        let watch = Arc::new(
            AssignmentWatch::start(c.client("agent")?, WatchOptions::new(&target))
                .map_err(setup)?,
        );
        let mut latest = watch.subscribe();
        wait_assignment(&mut latest, "the steady assignment", |_| true).await?;
        let agent = {
            let (watch, target) = (watch.clone(), target.clone());
            tokio::spawn(async move {
                let mut i = 0u64;
                loop {
                    let samples = (0..10)
                        .map(|j| {
                            i += 1;
                            let cohort = if j % 2 == 0 {
                                Cohort::Baseline
                            } else {
                                Cohort::Candidate
                            };
                            sample(&target, cohort, i)
                        })
                        .collect();
                    let _ = watch.send_telemetry(samples).await;
                    tokio::time::sleep(EVERY).await;
                }
            })
        };
        let id = format!("fo-{run}-{k}");
        propose(&proposer, &target, &id, 40).await?;
        let shadow = wait_assignment(&mut latest, "the shadow assignment", |a| {
            a.proposal_id.as_deref() == Some(id.as_str()) && a.phase == "shadow"
        })
        .await?;
        let (leader, _) = c.wait_for_leader(&admin, &c.ids(), 0, WAIT).await?;
        let start = Instant::now();
        c.kill(leader).await?;
        let moved = wait_assignment(&mut latest, "the next phase after the kill", |a| {
            a.epoch > shadow.epoch
        })
        .await;
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        agent.abort();
        let moved = moved?;
        if moved.phase != "full" {
            return Err(setup(format!(
                "after the kill the rollout went to {} (epoch {}), not full",
                moved.phase, moved.epoch
            )));
        }
        each_ms.push(elapsed);
        drop(latest);
        drop(watch);
        // Back to three nodes, caught up, before the next kill.
        c.start(leader)?;
        c.wait_until_up(&admin, &[leader], WAIT).await?;
        let others: Vec<u64> = c.ids().into_iter().filter(|&i| i != leader).collect();
        let applied = c
            .status(&admin, others[0])
            .await
            .and_then(|s| s.last_applied)
            .unwrap_or(0);
        c.wait_for_applied(&admin, &c.ids(), applied, WAIT).await?;
    }
    let (_, median_ms, _, _) = super::rollback::stats(each_ms.clone());
    Ok(Failovers {
        kills,
        each_ms,
        median_ms,
        phase_min_seconds: PHASE_MIN_SECONDS,
    })
}
