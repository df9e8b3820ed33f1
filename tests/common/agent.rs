//! A test agent for rollouts: it learns its target's epoch and phase from
//! `rollout` status, and sends tagged telemetry for both cohorts (the
//! candidate evaluated in shadow too) with latencies a test chooses per
//! phase. Values repeat a fixed pattern, the same in both cohorts when the
//! test gives both the same base, so the verdict sees identical samples.

use arqonbus_client::{Client, Retry};
use arqonbus_proto::message::Cohort;
use arqonbus_proto::rollout::{RolloutRequest, RolloutStatus, TaggedSample, TaggedTelemetry};
use arqonbus_proto::{Reply, Request};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A cohort's latency in a phase (`None`: send nothing for it).
pub type Latency = Arc<dyn Fn(Cohort, &str) -> Option<f64> + Send + Sync>;

/// The target's rollout status, from the leader.
pub async fn status(client: &Client, target: &str) -> Option<RolloutStatus> {
    status_read(client, target, false).await
}

/// The status from the leader, or (`stale`) from any node's replica.
async fn status_read(client: &Client, target: &str, stale: bool) -> Option<RolloutStatus> {
    let request = Request::Rollout(RolloutRequest::Status {
        target_system: target.into(),
        stale,
    });
    match client.call(request, Retry::Safe).await {
        Ok(Reply::RolloutStatus(s)) => Some(s),
        _ => None,
    }
}

/// A running agent; stopped on drop.
pub struct Agent {
    stop: Arc<AtomicBool>,
    wake: Arc<Notify>,
    acked: Arc<AtomicU64>,
    task: Option<JoinHandle<()>>,
}

impl Agent {
    /// Sends `per_batch` samples per cohort every `every` until stopped.
    pub fn spawn(
        client: Client,
        target: &str,
        per_batch: usize,
        every: Duration,
        latency: Latency,
    ) -> Agent {
        let stop = Arc::new(AtomicBool::new(false));
        let target = target.to_string();
        let flag = stop.clone();
        let wake = Arc::new(Notify::new());
        let woken = wake.clone();
        let acked = Arc::new(AtomicU64::new(0));
        let sent = acked.clone();
        let task = tokio::spawn(async move {
            // Per cohort, so both cohorts send the same pattern.
            let mut i = [0u64; 2];
            while !flag.load(Ordering::Relaxed) {
                // A replica's view is enough: a sample of an epoch the
                // leader has moved past is rejected, and the next is not.
                if let Some(s) = status_read(&client, &target, true).await {
                    let phase = s
                        .rollout
                        .as_ref()
                        .map_or("steady", |r| r.phase.as_str())
                        .to_string();
                    let mut samples = Vec::new();
                    for cohort in [Cohort::Baseline, Cohort::Candidate] {
                        let Some(base) = latency(cohort, &phase) else {
                            continue;
                        };
                        for _ in 0..per_batch {
                            let n = &mut i[cohort as usize];
                            *n += 1;
                            let mut sample =
                                super::sessions::sample(&target, base + (*n % 10) as f64);
                            sample.cohort = cohort;
                            samples.push(TaggedSample {
                                epoch: s.epoch,
                                sample,
                            });
                        }
                    }
                    if !samples.is_empty() {
                        let n = samples.len() as u64;
                        let batch = Request::TaggedTelemetry(TaggedTelemetry { samples });
                        if let Ok(Reply::TelemetryAck(_)) = client.call(batch, Retry::Safe).await {
                            sent.fetch_add(n, Ordering::Relaxed);
                        }
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = woken.notified() => {}
                }
            }
        });
        Agent {
            stop,
            wake,
            acked,
            task: Some(task),
        }
    }

    /// Samples acknowledged so far.
    pub fn acknowledged(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }

    /// Stops it; returns how many samples were acknowledged.
    pub async fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.wake.notify_one();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.acknowledged()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
