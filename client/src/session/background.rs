//! The session's background tasks: the watchdog (enters degraded mode when
//! no leader answered for `degraded_after`), the probe (asks the leader for
//! the target's parameters — a heartbeat while connected, a backed-off
//! retry while degraded — and refreshes the last-known-good file), the
//! flush of buffered telemetry on recovery, and the event stream that
//! resumes from its position after every interruption.

use super::shared::Shared;
use crate::last_known_good::Parameters;
use crate::ClientError;
use crate::Failure;
use arqonbus_proto::limits::MAX_SAMPLES_PER_BATCH;
use arqonbus_proto::message::SubscribeTarget;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::reply::Event;
use backoff::backoff::Backoff;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn backoff(shared: &Shared) -> backoff::ExponentialBackoff {
    backoff::ExponentialBackoffBuilder::new()
        .with_initial_interval(Duration::from_millis(50))
        .with_max_interval(shared.options.probe_max_interval)
        .with_max_elapsed_time(None)
        .build()
}

/// Ticks often enough to notice `degraded_after` passing.
pub(super) async fn watchdog(shared: Arc<Shared>) {
    let tick = (shared.options.degraded_after / 20)
        .clamp(Duration::from_millis(5), Duration::from_millis(50));
    loop {
        tokio::time::sleep(tick).await;
        shared.check_silence();
    }
}

/// The target's parameters from the leader (a linearizable read), with the
/// last-known-good file refreshed from them.
pub(super) async fn fetch_parameters(
    shared: &Shared,
) -> Result<(Parameters, Parameters), ClientError> {
    let op = OperatorRequest::GetParameters {
        target_system: shared.options.target_system.clone(),
        stale: false,
    };
    let outcome =
        match tokio::time::timeout(shared.options.probe_timeout, shared.client.operate(op)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                endpoint: "any".into(),
                timeout: shared.options.probe_timeout,
            }),
        };
    shared.record(&outcome);
    match outcome? {
        OperatorReply::Parameters {
            live,
            last_known_good,
            ..
        } => {
            let changed = shared
                .core()
                .lkg
                .set(&shared.options.target_system, last_known_good.clone());
            if changed {
                let saved = shared.lkg_file.write(|| shared.core().lkg.render()).await;
                if let Err(e) = saved {
                    tracing::warn!(target: "arqonbus::client", error = %e, "cannot refresh the last-known-good file");
                }
            }
            Ok((live, last_known_good))
        }
        other => Err(ClientError::Protocol {
            endpoint: String::new(),
            reason: format!("expected parameters, got {other:?}"),
        }),
    }
}

/// Heartbeat while connected, backed-off probe while degraded, and the
/// breaker's half-open trial while it is open (nothing before `open_for`
/// has passed); flushes the telemetry buffer whenever a probe succeeds
/// and samples wait.
pub(super) async fn probe(shared: Arc<Shared>) {
    let mut retry = backoff(&shared);
    loop {
        if let Err(wait) = shared.trial() {
            tokio::time::sleep(wait).await;
            continue;
        }
        match fetch_parameters(&shared).await {
            Ok(_) => {
                retry.reset();
                flush(&shared).await;
                tokio::time::sleep(shared.options.heartbeat).await;
            }
            Err(e) => {
                let wait = retry
                    .next_backoff()
                    .unwrap_or(shared.options.probe_max_interval);
                tracing::debug!(target: "arqonbus::client", error = %e, wait_ms = wait.as_millis() as u64, "probe failed");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Sends buffered samples, oldest first, until the buffer is empty or a
/// send fails (samples surely not sent go back into the buffer).
pub(super) async fn flush(shared: &Shared) {
    loop {
        if shared.mode().is_degraded() {
            return;
        }
        let batch = shared.core().buffer.take(MAX_SAMPLES_PER_BATCH);
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        let outcome = shared.client.send_telemetry(batch.clone()).await;
        shared.record(&outcome);
        let mut core = shared.core();
        match outcome {
            Ok(ack) => {
                core.counters.telemetry_flushed += n;
                core.counters.telemetry_accepted += u64::from(ack.accepted);
                core.counters.telemetry_rejected += u64::from(ack.rejected);
            }
            Err(ClientError::Timeout { .. }) => {
                core.counters.telemetry_uncertain += n;
                return;
            }
            Err(e) => {
                if Failure::of_error(&e).is_unreachable() {
                    core.buffer.put_back(batch);
                } else {
                    core.counters.telemetry_rejected += n;
                }
                return;
            }
        }
    }
}

/// Follows the target's event stream on any node, resubscribing from the
/// next unseen event number after every interruption (never while
/// degraded), and forwards each event once.
pub(super) async fn events(shared: Arc<Shared>, tx: mpsc::Sender<Event>) {
    let mut next: Option<u64> = shared.options.events_from;
    let mut mode = shared.watch_mode();
    let mut retry = backoff(&shared);
    loop {
        if mode.wait_for(|m| !m.is_degraded()).await.is_err() {
            return;
        }
        let target = SubscribeTarget {
            target_system: shared.options.target_system.clone(),
            from_seq: next,
        };
        let sub = tokio::time::timeout(
            shared.options.probe_timeout,
            shared.client.subscribe(vec![target]),
        )
        .await;
        let mut sub = match sub {
            Ok(Ok(sub)) => sub,
            Ok(Err(e)) => {
                if matches!(
                    e.code(),
                    Some(arqonbus_proto::error::ErrorCode::ResyncRequired { .. })
                ) {
                    tracing::warn!(target: "arqonbus::client", error = %e, "events were lost; resuming from now");
                    next = None;
                }
                let wait = retry
                    .next_backoff()
                    .unwrap_or(shared.options.probe_max_interval);
                tokio::time::sleep(wait).await;
                continue;
            }
            Err(_) => continue,
        };
        retry.reset();
        if next.is_none() {
            next = sub.streams().first().map(|p| p.next_seq);
        }
        tracing::debug!(target: "arqonbus::client", endpoint = sub.endpoint(), from = ?next, "event stream open");
        while let Ok(Some(event)) = sub.next().await {
            if next.is_some_and(|n| event.seq < n) {
                continue;
            }
            next = Some(event.seq + 1);
            if tx.send(event).await.is_err() {
                return;
            }
        }
    }
}
