//! `bench rollback`, load: the leader's CPU with many targets in active
//! rollouts under a high tagged-sample rate. `targets` targets each get a
//! rollout held in shadow (an hour's min_seconds); a few senders then send
//! healthy tagged samples of every target in turn, batches of 1024 straight
//! to the leader, paced to `rate` samples/s in total; over the measured
//! window the leader's CPU time is read from `/proc/<pid>/stat`. The
//! senders run on the same machine and compete with the nodes for CPU:
//! the achieved rate is reported with the CPU figure.

use super::cluster::ClusterBenchError;
use super::cpu::cpu_time;
use super::rollout_setup::{configure, constraints, propose, tagged, HEALTHY};
use arqonbus_client::Client;
use arqonbus_proto::limits::MAX_SAMPLES_PER_BATCH;
use arqonbus_proto::message::Cohort;
use arqonbus_proto::rollout::{RolloutRequest, TaggedTelemetry};
use arqonbus_proto::{Reply, Request, UnixMillis};
use arqonbus_testkit::LocalCluster;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, ClusterBenchError>;

/// Concurrent senders, and concurrent set-up workers.
pub const SENDERS: usize = 4;
const SETUP_WORKERS: usize = 16;
/// Sending before the window opens.
const WARMUP: Duration = Duration::from_secs(2);

fn setup(e: impl std::fmt::Display) -> ClusterBenchError {
    ClusterBenchError::Setup(e.to_string())
}

/// What the window measured.
#[derive(Debug, Clone, Serialize)]
pub struct Load {
    pub targets: usize,
    pub senders: usize,
    pub batch: usize,
    pub requested_rate: f64,
    pub seconds: f64,
    pub achieved_rate: f64,
    pub accepted: u64,
    pub rejected: u64,
    pub failed_batches: u64,
    /// Leader CPU time over the window, in % of one core.
    pub leader_cpu_percent: f64,
    /// Targets still in a rollout after the window (all, unless a
    /// healthy sample rolled one back).
    pub rollouts_active_after: usize,
}

#[derive(Default)]
struct Counts {
    accepted: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
}

impl Counts {
    fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.accepted.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

fn name(i: usize) -> String {
    format!("load-bench-{i}")
}

/// The epoch and whether a rollout is active, from the leader.
async fn status(client: &Client, target: &str) -> Result<(u64, bool)> {
    let s = client
        .rollout(RolloutRequest::Status {
            target_system: target.into(),
            stale: false,
        })
        .await?;
    Ok((s.epoch, s.rollout.is_some()))
}

/// Runs `f(i)` for every target, `SETUP_WORKERS` at a time.
async fn for_every_target<T, F, Fut>(targets: usize, f: F) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<T>> + Send,
{
    let tasks: Vec<_> = (0..SETUP_WORKERS)
        .map(|w| {
            let f = f.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                for i in (w..targets).step_by(SETUP_WORKERS) {
                    out.push((i, f(i).await?));
                }
                Ok::<_, ClusterBenchError>(out)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(targets);
    for t in tasks {
        all.extend(t.await.map_err(setup)??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, x)| x).collect())
}

pub async fn load(c: &mut LocalCluster, targets: usize, rate: f64, seconds: f64) -> Result<Load> {
    let admin = c.client("admin")?;
    let operator = c.client("operator")?;
    let proposer = c.client("proposer")?;
    let text = Arc::new(constraints(&[
        ("shadow", 0, 3600, 1_000_000_000),
        ("full", 100, 1, 1),
    ]));
    let run = UnixMillis::now().0;
    let epochs: Vec<u64> = for_every_target(targets, move |i| {
        let (operator, proposer, text) = (operator.clone(), proposer.clone(), text.clone());
        async move {
            let target = name(i);
            configure(&operator, &target, &text).await?;
            propose(&proposer, &target, &format!("ld-{run}-{i}"), 40).await?;
            let (epoch, active) = status(&operator, &target).await?;
            match active {
                true => Ok(epoch),
                false => Err(setup(format!("{target} has no rollout after its proposal"))),
            }
        }
    })
    .await?;
    let (leader, _) = c
        .wait_for_leader(&admin, &c.ids(), 0, Duration::from_secs(30))
        .await?;
    let at = c.endpoint(leader)?;
    let pid = c
        .processes()
        .process_id(leader)
        .ok_or_else(|| setup("the leader has no process id"))?;
    let names: Arc<Vec<String>> = Arc::new((0..targets).map(name).collect());
    let epochs = Arc::new(epochs);
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let per_sender = rate / SENDERS as f64;
    let interval = Duration::from_secs_f64(MAX_SAMPLES_PER_BATCH as f64 / per_sender.max(1.0));
    let mut senders = Vec::new();
    for k in 0..SENDERS {
        let client = c.client_to("agent", vec![at.clone()])?;
        let (names, epochs, counts, stop, at) = (
            names.clone(),
            epochs.clone(),
            counts.clone(),
            stop.clone(),
            at.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut cursor = k * names.len() / SENDERS;
            let mut next_at = tokio::time::Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let samples = (0..MAX_SAMPLES_PER_BATCH)
                    .map(|j| {
                        let i = cursor % names.len();
                        cursor += 1;
                        let cohort = if j % 2 == 0 {
                            Cohort::Baseline
                        } else {
                            Cohort::Candidate
                        };
                        tagged(&names[i], epochs[i], cohort, HEALTHY + (j % 10) as f64)
                    })
                    .collect();
                let batch = Request::TaggedTelemetry(TaggedTelemetry { samples });
                match client.call_node(&at, &batch).await {
                    Ok(Reply::TelemetryAck(a)) => {
                        counts
                            .accepted
                            .fetch_add(u64::from(a.accepted), Ordering::Relaxed);
                        counts
                            .rejected
                            .fetch_add(u64::from(a.rejected), Ordering::Relaxed);
                    }
                    _ => {
                        counts.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                next_at += interval;
                let now = tokio::time::Instant::now();
                if next_at > now {
                    tokio::time::sleep_until(next_at).await;
                } else {
                    // Behind: send at once, without a burst to catch up.
                    next_at = now;
                }
            }
        }));
    }
    tokio::time::sleep(WARMUP).await;
    let (a0, r0, f0) = counts.snapshot();
    let cpu0 = cpu_time(pid).map_err(setup)?;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    let cpu1 = cpu_time(pid).map_err(setup)?;
    let (a1, r1, f1) = counts.snapshot();
    let window = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        let _ = s.await;
    }
    let check = c.client_to("operator", vec![at.clone()])?;
    let active = for_every_target(targets, move |i| {
        let check = check.clone();
        async move { status(&check, &name(i)).await.map(|(_, a)| a) }
    })
    .await?;
    Ok(Load {
        targets,
        senders: SENDERS,
        batch: MAX_SAMPLES_PER_BATCH,
        requested_rate: rate,
        seconds: window,
        achieved_rate: (a1 - a0 + r1 - r0) as f64 / window,
        accepted: a1 - a0,
        rejected: r1 - r0,
        failed_batches: f1 - f0,
        leader_cpu_percent: (cpu1 - cpu0).as_secs_f64() / window * 100.0,
        rollouts_active_after: active.into_iter().filter(|a| *a).count(),
    })
}
