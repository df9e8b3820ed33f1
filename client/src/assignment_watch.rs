//! `AssignmentWatch`: the agent's resilient view of its target's
//! assignment. It keeps an assignment stream open on some node, moves to
//! another (with capped exponential backoff and jitter) whenever the
//! stream ends, and applies only an assignment whose epoch is above the
//! last one applied (a node that lags behind the previous one sends older
//! ones: PROTOCOL.md §6.15).
//!
//! - The latest assignment is a `tokio::sync::watch` value
//!   ([`AssignmentWatch::subscribe`], [`AssignmentWatch::current`]). It is
//!   never cleared: when the cluster is lost the agent keeps running the
//!   last assignment it applied.
//! - Each applied assignment, and a rollback just before the assignment it
//!   produced, is broadcast in order ([`AssignmentWatch::next_update`]).
//!   A rollback whose assignment was already applied (seen again on
//!   another node) is not repeated.
//! - With a last-known-good file ([`WatchOptions::last_known_good`], the
//!   same file and format as [`ProposerSession`](crate::ProposerSession)'s),
//!   each assignment's baseline is written to it, and an agent that starts
//!   while the cluster is unreachable begins with a steady assignment of
//!   those values at epoch 0, replaced by the first assignment the cluster
//!   sends whatever its epoch.

use crate::assignment::AssignmentUpdate;
use crate::cohort::CohortSplit;
use crate::last_known_good::{LastKnownGood, LastKnownGoodError, LkgFile};
use crate::{Client, ClientError};
use arqonbus_proto::limits::MAX_SAMPLES_PER_BATCH;
use arqonbus_proto::message::TelemetrySample;
use arqonbus_proto::reply::{Rollback, TelemetryAck};
use arqonbus_proto::rollout::{Assignment, STEADY};
use backoff::backoff::Backoff;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// How an [`AssignmentWatch`] behaves.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub target_system: String,
    /// Deadline of opening one stream (connection and first frame).
    pub open_timeout: Duration,
    /// The cap of the backoff between attempts.
    pub retry_max_interval: Duration,
    /// Where to keep the baseline (last-known-good) values; none: memory only.
    pub last_known_good: Option<PathBuf>,
}

impl WatchOptions {
    pub fn new(target_system: &str) -> Self {
        WatchOptions {
            target_system: target_system.to_string(),
            open_timeout: Duration::from_secs(3),
            retry_max_interval: Duration::from_secs(1),
            last_known_good: None,
        }
    }
}

/// Why an agent-side call failed.
#[derive(Debug, thiserror::Error)]
pub enum AssignmentWatchError {
    #[error(transparent)]
    LastKnownGood(#[from] LastKnownGoodError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("no assignment of {0} yet (never connected, no last-known-good values)")]
    NoAssignment(String),
}

/// Decides what of the stream to apply: assignments with growing epochs,
/// and a rollback only together with the newer assignment it produced.
#[derive(Debug, Default)]
pub struct EpochGate {
    applied: Option<u64>,
    held: Option<Rollback>,
}

impl EpochGate {
    /// The epoch of the last assignment applied.
    pub fn applied(&self) -> Option<u64> {
        self.applied
    }

    /// A new stream begins: a rollback held from the last one is dropped.
    pub fn new_stream(&mut self) {
        self.held = None;
    }

    /// What to apply, in order, after this frame.
    pub fn offer(&mut self, update: AssignmentUpdate) -> Vec<AssignmentUpdate> {
        match update {
            AssignmentUpdate::Rollback(r) => {
                self.held = Some(r);
                Vec::new()
            }
            AssignmentUpdate::Assignment(a) => {
                let held = self.held.take();
                if self.applied.is_some_and(|e| a.epoch <= e) {
                    return Vec::new();
                }
                self.applied = Some(a.epoch);
                let mut out: Vec<_> = held.map(AssignmentUpdate::Rollback).into_iter().collect();
                out.push(AssignmentUpdate::Assignment(a));
                out
            }
        }
    }
}

/// The agent's view of its target's assignment, kept across failovers.
pub struct AssignmentWatch {
    client: Client,
    target: String,
    latest: watch::Receiver<Option<Assignment>>,
    serving: watch::Receiver<Option<String>>,
    updates_tx: broadcast::Sender<AssignmentUpdate>,
    updates: tokio::sync::Mutex<broadcast::Receiver<AssignmentUpdate>>,
    task: JoinHandle<()>,
}

impl Drop for AssignmentWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AssignmentWatch {
    /// Starts watching; succeeds with the cluster down (the watch then
    /// retries, and serves the last-known-good values if a file has them).
    pub fn start(client: Client, options: WatchOptions) -> Result<Self, AssignmentWatchError> {
        let target = options.target_system.clone();
        let lkg = match &options.last_known_good {
            Some(path) => Some((LastKnownGood::open(path)?, LkgFile::new(path))),
            None => None,
        };
        let initial = lkg
            .as_ref()
            .and_then(|(l, _)| l.get(&target).cloned())
            .map(|baseline| Assignment {
                target_system: target.clone(),
                epoch: 0,
                proposal_id: None,
                phase: STEADY.to_string(),
                share: 0,
                baseline,
                candidate: None,
            });
        let (latest_tx, latest) = watch::channel(initial);
        let (serving_tx, serving) = watch::channel(None);
        let (updates_tx, updates) = broadcast::channel(256);
        let task = tokio::spawn(run(
            client.clone(),
            options,
            lkg,
            latest_tx,
            serving_tx,
            updates_tx.clone(),
        ));
        Ok(AssignmentWatch {
            client,
            target,
            latest,
            serving,
            updates_tx,
            updates: tokio::sync::Mutex::new(updates),
            task,
        })
    }

    /// The assignment to run now (the last applied, or the last-known-good
    /// values at epoch 0); `None` before any.
    pub fn current(&self) -> Option<Assignment> {
        self.latest.borrow().clone()
    }

    /// The latest assignment, updated on every change.
    pub fn subscribe(&self) -> watch::Receiver<Option<Assignment>> {
        self.latest.clone()
    }

    /// The node serving the stream now; `None` while reconnecting.
    pub fn serving(&self) -> watch::Receiver<Option<String>> {
        self.serving.clone()
    }

    /// The next applied update (a rollback, then the assignment it
    /// produced), from the start of the watch; `None` if the watch ended.
    /// An update lost because this reader fell 256 behind is skipped (each
    /// assignment replaces the previous) and logged.
    pub async fn next_update(&self) -> Option<AssignmentUpdate> {
        let mut rx = self.updates.lock().await;
        loop {
            match rx.recv().await {
                Ok(u) => return Some(u),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(target: "arqonbus::client", skipped = n, "assignment updates skipped");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Every applied update from now on, for another reader.
    pub fn updates(&self) -> broadcast::Receiver<AssignmentUpdate> {
        self.updates_tx.subscribe()
    }

    /// Sends samples measured under the current assignment, each tagged
    /// with its epoch (each sample's `cohort` says which side it measured),
    /// in batches of at most 1024. Samples measured under an earlier
    /// assignment should be tagged when measured ([`CohortSplit::tag`])
    /// and sent with [`Client::send_tagged`].
    pub async fn send_telemetry(
        &self,
        samples: Vec<TelemetrySample>,
    ) -> Result<TelemetryAck, AssignmentWatchError> {
        let current = self
            .current()
            .ok_or_else(|| AssignmentWatchError::NoAssignment(self.target.clone()))?;
        let mut total = TelemetryAck {
            accepted: 0,
            rejected: 0,
        };
        let mut rest = samples.into_iter().map(|s| current.tag(s)).peekable();
        while rest.peek().is_some() {
            let batch: Vec<_> = rest.by_ref().take(MAX_SAMPLES_PER_BATCH).collect();
            let ack = self.client.send_tagged(batch).await?;
            total.accepted += ack.accepted;
            total.rejected += ack.rejected;
        }
        Ok(total)
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// A stream that lived this long was not a failing attempt.
const HEALTHY: Duration = Duration::from_secs(1);

async fn run(
    client: Client,
    options: WatchOptions,
    mut lkg: Option<(LastKnownGood, LkgFile)>,
    latest: watch::Sender<Option<Assignment>>,
    serving: watch::Sender<Option<String>>,
    updates: broadcast::Sender<AssignmentUpdate>,
) {
    let target = options.target_system.clone();
    let mut retry = backoff::ExponentialBackoffBuilder::new()
        .with_initial_interval(Duration::from_millis(50))
        .with_max_interval(options.retry_max_interval)
        .with_max_elapsed_time(None)
        .build();
    let mut gate = EpochGate::default();
    loop {
        let opened = match tokio::time::timeout(
            options.open_timeout,
            client.watch_assignment(&target),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                endpoint: "any".into(),
                timeout: options.open_timeout,
            }),
        };
        let opened_at = Instant::now();
        match opened {
            Ok(mut stream) => {
                let endpoint = stream.endpoint().to_string();
                tracing::info!(target: "arqonbus::client", %endpoint, target_system = %target, "assignment stream open");
                serving.send_replace(Some(endpoint.clone()));
                gate.new_stream();
                let ended = loop {
                    match stream.next().await {
                        Ok(Some(frame)) => {
                            for u in gate.offer(frame) {
                                apply(&u, &mut lkg, &latest, &target).await;
                                let _ = updates.send(u);
                            }
                        }
                        Ok(None) => break None,
                        Err(e) => break Some(e),
                    }
                };
                serving.send_replace(None);
                if let Some(e) = &ended {
                    if matches!(
                        e,
                        ClientError::Connection { .. }
                            | ClientError::Timeout { .. }
                            | ClientError::Unanswered { .. }
                    ) {
                        client.forget(&endpoint);
                    }
                }
                tracing::info!(target: "arqonbus::client", %endpoint, error = ?ended.map(|e| e.to_string()), "assignment stream ended; watching again");
                if opened_at.elapsed() >= HEALTHY {
                    retry.reset();
                }
            }
            Err(e) => {
                tracing::debug!(target: "arqonbus::client", error = %e, "cannot open the assignment stream");
            }
        }
        let wait = retry.next_backoff().unwrap_or(options.retry_max_interval);
        tokio::time::sleep(wait).await;
    }
}

/// Makes an assignment the current one (and its baseline last-known-good).
async fn apply(
    update: &AssignmentUpdate,
    lkg: &mut Option<(LastKnownGood, LkgFile)>,
    latest: &watch::Sender<Option<Assignment>>,
    target: &str,
) {
    let AssignmentUpdate::Assignment(a) = update else {
        return;
    };
    tracing::info!(target: "arqonbus::client", target_system = %target, epoch = a.epoch, phase = %a.phase, share = a.share, "assignment applied");
    latest.send_replace(Some(a.clone()));
    if let Some((store, file)) = lkg {
        if store.set(target, a.baseline.clone()) {
            let rendered = store.render();
            if let Err(e) = file.write(|| rendered).await {
                tracing::warn!(target: "arqonbus::client", error = %e, "cannot write the last-known-good file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_proto::reply::{RollbackAction, RollbackReason};
    use arqonbus_proto::UnixMillis;

    fn a(epoch: u64) -> AssignmentUpdate {
        AssignmentUpdate::Assignment(Assignment {
            target_system: "svc".into(),
            epoch,
            proposal_id: None,
            phase: STEADY.into(),
            share: 0,
            baseline: Default::default(),
            candidate: None,
        })
    }

    fn rb() -> AssignmentUpdate {
        AssignmentUpdate::Rollback(Rollback {
            proposal_id: "p1".into(),
            target_system: "svc".into(),
            source: "arqonbus".into(),
            timestamp: UnixMillis(1),
            reason: RollbackReason::Operator,
            triggered_constraint: None,
            triggered_value: None,
            allowed_value: None,
            rollback_action: RollbackAction::Immediate,
            parameters_to_restore: Default::default(),
        })
    }

    #[test]
    fn only_assignments_above_the_last_applied_epoch_are_applied() {
        let mut g = EpochGate::default();
        assert_eq!(g.offer(a(3)), [a(3)]);
        assert_eq!(g.offer(a(5)), [a(5)]);
        // A lagging node after a failover: older and equal epochs are ignored.
        g.new_stream();
        assert!(g.offer(a(4)).is_empty());
        assert!(g.offer(a(5)).is_empty());
        assert_eq!(g.offer(a(6)), [a(6)]);
        assert_eq!(g.applied(), Some(6));
    }

    #[test]
    fn a_rollback_comes_with_its_assignment_and_only_once() {
        let mut g = EpochGate::default();
        assert_eq!(g.offer(a(1)), [a(1)]);
        assert!(g.offer(rb()).is_empty());
        assert_eq!(g.offer(a(2)), [rb(), a(2)]);
        // Another node repeats the rollback before the same assignment.
        g.new_stream();
        assert!(g.offer(rb()).is_empty());
        assert!(g.offer(a(2)).is_empty());
        // A held rollback does not survive a new stream.
        assert!(g.offer(rb()).is_empty());
        g.new_stream();
        assert_eq!(g.offer(a(3)), [a(3)]);
    }
}
