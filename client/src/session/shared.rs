//! The state a session shares with its background tasks: the breaker, the
//! last-known-good store, the telemetry buffer, the time of the last
//! answer from a leader, and the mode (changed only here, announced on a
//! watch channel, a broadcast channel and the `arqonbus::client` log).

use super::mode::{DegradedReason, Mode, ModeChange};
use super::Settings;
use crate::breaker::{Breaker, BreakerState};
use crate::last_known_good::{LastKnownGood, LkgFile};
use crate::telemetry_buffer::TelemetryBuffer;
use crate::{Client, ClientError, Failure};
use arqonbus_proto::message::TelemetrySample;
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime};
use tokio::sync::{broadcast, watch};

/// Counters a session keeps (see [`super::SessionStats`]).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counters {
    pub calls_sent: u64,
    pub refused_locally: u64,
    pub telemetry_accepted: u64,
    pub telemetry_rejected: u64,
    pub telemetry_flushed: u64,
    pub telemetry_uncertain: u64,
}

pub(super) struct Core {
    pub breaker: Breaker,
    pub lkg: LastKnownGood,
    pub buffer: TelemetryBuffer<TelemetrySample>,
    pub last_contact: Instant,
    pub counters: Counters,
}

pub(super) struct Shared {
    pub client: Client,
    pub options: Settings,
    /// Writes `Core::lkg` to its file, off the runtime threads.
    pub lkg_file: LkgFile,
    core: Mutex<Core>,
    mode: watch::Sender<Mode>,
    changes: broadcast::Sender<ModeChange>,
}

impl Shared {
    pub fn new(client: Client, options: Settings, core: Core, lkg_file: LkgFile) -> Self {
        Shared {
            client,
            options,
            lkg_file,
            core: Mutex::new(core),
            mode: watch::channel(Mode::Connecting).0,
            changes: broadcast::channel(64).0,
        }
    }

    /// The core, never held across an await.
    pub fn core(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }

    pub fn watch_mode(&self) -> watch::Receiver<Mode> {
        self.mode.subscribe()
    }

    pub fn mode_changes(&self) -> broadcast::Receiver<ModeChange> {
        self.changes.subscribe()
    }

    fn set_mode(&self, to: Mode, reason: String) {
        let mut from = to;
        let changed = self.mode.send_if_modified(|m| {
            from = *m;
            let changed = *m != to;
            *m = to;
            changed
        });
        if !changed {
            return;
        }
        if to.is_degraded() {
            tracing::warn!(target: "arqonbus::client", from = %from, to = %to, %reason, "mode change");
        } else {
            tracing::info!(target: "arqonbus::client", from = %from, to = %to, %reason, "mode change");
        }
        let _ = self.changes.send(ModeChange {
            from,
            to,
            at: SystemTime::now(),
            reason,
        });
    }

    /// A leader answered (anything, a refusal included).
    pub fn on_contact(&self) {
        let was = {
            let mut core = self.core();
            core.breaker.on_success();
            core.last_contact = Instant::now();
            self.mode()
        };
        if !matches!(was, Mode::Connected) {
            self.set_mode(Mode::Connected, "a leader answered".into());
        }
    }

    /// A call or probe found no leader; may open the breaker.
    pub fn on_unreachable(&self) {
        let opened = {
            let mut core = self.core();
            let was_open = core.breaker.is_open();
            core.breaker.on_failure(Instant::now());
            core.breaker.is_open() && !was_open
        };
        if opened {
            self.set_mode(
                Mode::Degraded(DegradedReason::BreakerOpen),
                "the circuit breaker opened".into(),
            );
        }
    }

    /// Records the outcome of a call that went to the cluster.
    pub fn record<T>(&self, outcome: &Result<T, ClientError>) {
        match outcome {
            Err(e) if Failure::of_error(e).is_unreachable() => self.on_unreachable(),
            _ => self.on_contact(),
        }
    }

    /// Enters degraded mode when no leader answered for `degraded_after`
    /// or the breaker is open; called by the watchdog.
    pub fn check_silence(&self) {
        if self.mode().is_degraded() {
            return;
        }
        let (silent_for, open) = {
            let core = self.core();
            (core.last_contact.elapsed(), core.breaker.is_open())
        };
        if open {
            self.set_mode(
                Mode::Degraded(DegradedReason::BreakerOpen),
                "the circuit breaker is open".into(),
            );
        } else if silent_for >= self.options.degraded_after {
            let reason = DegradedReason::NoLeader { silent_for };
            self.set_mode(Mode::Degraded(reason), reason.to_string());
        }
    }

    /// Whether the probe may go to the network now: while the breaker is
    /// open it waits out `open_for` and then goes as the half-open trial.
    pub fn trial(&self) -> Result<(), std::time::Duration> {
        self.core().breaker.trial(Instant::now())
    }

    /// Whether a call may go to the network now (not degraded, breaker
    /// closed); counts the refusal otherwise.
    pub fn admit(&self) -> Result<(), Mode> {
        let mode = self.mode();
        let mut core = self.core();
        let closed = matches!(core.breaker.state(), BreakerState::Closed { .. });
        if mode.is_degraded() || !closed {
            core.counters.refused_locally += 1;
            return Err(match mode {
                Mode::Degraded(_) => mode,
                _ => Mode::Degraded(DegradedReason::BreakerOpen),
            });
        }
        core.counters.calls_sent += 1;
        Ok(())
    }
}
