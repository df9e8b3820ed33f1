//! `ProposerSession`: the resilient client a proposer uses. On top of
//! [`Client`] (leader discovery, redirects, backoff with jitter, retries of
//! idempotent calls only) it adds the circuit breaker, the last-known-good
//! file and **degraded mode** (DESIGN, "Failure behaviour the user relies
//! on"):
//!
//! - degraded mode is entered when no leader answered for
//!   `degraded_after` (1 s by default) or the breaker opens;
//! - while degraded, [`parameters`](ProposerSession::parameters) serves the
//!   last-known-good parameters from the local file (a restarted proposer
//!   has them too), [`propose`](ProposerSession::propose) fails at once with
//!   [`SessionError::Degraded`] (no network), and
//!   [`send_telemetry`](ProposerSession::send_telemetry) buffers samples in
//!   a bounded queue that counts what it drops;
//! - a background probe asks the leader for the parameters (every
//!   `heartbeat` while connected, refreshing the file; with capped
//!   exponential backoff and jitter while degraded); its first answer ends
//!   degraded mode, flushes the buffer and resumes the event stream from
//!   its position.
//!
//! While the breaker is open nothing reaches the network until `open_for`
//! has passed; then the probe goes as the half-open trial: its answer
//! closes the breaker, its failure opens it again. Mode changes come as
//! a `watch` of [`Mode`], a broadcast of [`ModeChange`] and `tracing` lines
//! with target `arqonbus::client`.

mod background;
mod mode;
mod shared;

pub use mode::{DegradedReason, Mode, ModeChange};

use super::breaker::{Breaker, BreakerSettings};
use super::last_known_good::{LastKnownGood, LastKnownGoodError, LkgFile, Parameters};
use super::telemetry_buffer::TelemetryBuffer;
use super::{Client, ClientError, ClientOptions};
use crate::Failure;
use arqonbus_proto::limits::MAX_SAMPLES_PER_BATCH;
use arqonbus_proto::message::{Proposal, TelemetrySample};
use arqonbus_proto::reply::{Approval, Event};
use arqonbus_transport::TlsCredentials;
use shared::{Core, Shared};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

/// How a session connects and when it degrades.
pub struct SessionOptions {
    /// Endpoints, identity and per-attempt deadlines of the client.
    pub client: ClientOptions,
    /// The target system this proposer tunes.
    pub target_system: String,
    /// The local last-known-good file.
    pub last_known_good: PathBuf,
    /// No answer from a leader for this long → degraded.
    pub degraded_after: Duration,
    pub breaker: BreakerSettings,
    /// Samples kept while degraded; the oldest go first (and are counted).
    pub telemetry_capacity: usize,
    /// The probe's interval while connected.
    pub heartbeat: Duration,
    /// The cap of the probe's backoff while degraded.
    pub probe_max_interval: Duration,
    /// Deadline of one probe.
    pub probe_timeout: Duration,
    /// The first event number wanted (streams start at 0); `None`: events
    /// from now on.
    pub events_from: Option<u64>,
}

impl SessionOptions {
    pub fn new(
        endpoints: Vec<String>,
        credentials: TlsCredentials,
        target_system: &str,
        last_known_good: PathBuf,
    ) -> Self {
        let mut client = ClientOptions::new(endpoints, credentials);
        client.request_timeout = Duration::from_secs(3);
        client.retry_budget = Duration::from_secs(3);
        SessionOptions {
            client,
            target_system: target_system.to_string(),
            last_known_good,
            degraded_after: Duration::from_secs(1),
            breaker: BreakerSettings::default(),
            telemetry_capacity: 100_000,
            heartbeat: Duration::from_millis(250),
            probe_max_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_secs(1),
            events_from: None,
        }
    }
}

/// The options the background tasks read.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub target_system: String,
    pub degraded_after: Duration,
    pub heartbeat: Duration,
    pub probe_max_interval: Duration,
    pub probe_timeout: Duration,
    pub events_from: Option<u64>,
}

/// Why a session call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    /// Refused locally, nothing was sent: the session is degraded.
    #[error("refused locally: the session is {0}")]
    Degraded(Mode),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    LastKnownGood(String),
    #[error("no parameters known for {0} (never connected, no last-known-good file)")]
    NoParameters(String),
}

impl From<LastKnownGoodError> for SessionError {
    fn from(e: LastKnownGoodError) -> Self {
        SessionError::LastKnownGood(e.to_string())
    }
}

/// Where parameters came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterSource {
    /// The leader's live values.
    Cluster,
    /// The local last-known-good file (degraded, or the leader did not answer).
    LastKnownGood,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSet {
    pub values: Parameters,
    pub source: ParameterSource,
}

/// What happened to samples given to [`ProposerSession::send_telemetry`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TelemetryOutcome {
    pub accepted: u64,
    pub rejected: u64,
    /// Kept in the buffer, to be sent on recovery.
    pub buffered: u64,
    /// Sent but unanswered: maybe counted, not re-sent.
    pub uncertain: u64,
}

/// Counters of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStats {
    pub mode: Mode,
    /// Samples waiting in the buffer.
    pub buffered: u64,
    /// Samples the full buffer dropped.
    pub dropped: u64,
    /// Samples sent from the buffer after recovery.
    pub flushed: u64,
    pub telemetry_accepted: u64,
    pub telemetry_rejected: u64,
    pub telemetry_uncertain: u64,
    /// Proposals and telemetry calls that went to the network.
    pub calls_sent: u64,
    /// Calls refused locally (degraded or breaker open).
    pub refused_locally: u64,
}

/// A proposer's connection to the cluster that survives failover.
pub struct ProposerSession {
    shared: Arc<Shared>,
    events: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ProposerSession {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl ProposerSession {
    /// Opens the last-known-good file and starts the background tasks;
    /// succeeds with the cluster down (the session then degrades).
    pub fn connect(options: SessionOptions) -> Result<ProposerSession, SessionError> {
        let lkg = LastKnownGood::open(&options.last_known_good)?;
        let core = Core {
            breaker: Breaker::new(options.breaker),
            lkg,
            buffer: TelemetryBuffer::new(options.telemetry_capacity),
            last_contact: Instant::now(),
            counters: Default::default(),
        };
        let settings = Settings {
            target_system: options.target_system,
            degraded_after: options.degraded_after,
            heartbeat: options.heartbeat,
            probe_max_interval: options.probe_max_interval,
            probe_timeout: options.probe_timeout,
            events_from: options.events_from,
        };
        let client = Client::new(options.client)?;
        let lkg_file = LkgFile::new(&options.last_known_good);
        let shared = Arc::new(Shared::new(client, settings, core, lkg_file));
        let (tx, rx) = mpsc::channel(1024);
        let tasks = vec![
            tokio::spawn(background::watchdog(shared.clone())),
            tokio::spawn(background::probe(shared.clone())),
            tokio::spawn(background::events(shared.clone(), tx)),
        ];
        Ok(ProposerSession {
            shared,
            events: tokio::sync::Mutex::new(rx),
            tasks,
        })
    }

    pub fn mode(&self) -> Mode {
        self.shared.mode()
    }

    /// The current mode, updated on every change.
    pub fn watch_mode(&self) -> watch::Receiver<Mode> {
        self.shared.watch_mode()
    }

    /// Every change of mode from now on.
    pub fn mode_changes(&self) -> broadcast::Receiver<ModeChange> {
        self.shared.mode_changes()
    }

    /// The last-known-good parameters held locally (no network).
    pub fn last_known_good(&self) -> Option<Parameters> {
        let target = &self.shared.options.target_system;
        self.shared.core().lkg.get(target).cloned()
    }

    /// The parameters to run with: the leader's live values when it
    /// answers, else the last-known-good ones from the local file.
    pub async fn parameters(&self) -> Result<ParameterSet, SessionError> {
        if self.shared.admit().is_ok() {
            match background::fetch_parameters(&self.shared).await {
                Ok((live, _)) => {
                    return Ok(ParameterSet {
                        values: live,
                        source: ParameterSource::Cluster,
                    })
                }
                Err(e) if !Failure::of_error(&e).is_unreachable() => return Err(e.into()),
                Err(_) => {}
            }
        }
        self.last_known_good()
            .map(|values| ParameterSet {
                values,
                source: ParameterSource::LastKnownGood,
            })
            .ok_or_else(|| SessionError::NoParameters(self.shared.options.target_system.clone()))
    }

    /// Submits a proposal and returns the decision. Refused locally with
    /// [`SessionError::Degraded`] while degraded. Retried automatically
    /// (the id makes it idempotent); on an unknown outcome, re-send the
    /// same proposal (same `proposal_id`) to learn the one decision.
    pub async fn propose(&self, proposal: Proposal) -> Result<Approval, SessionError> {
        self.shared.admit().map_err(SessionError::Degraded)?;
        let outcome = self.shared.client.propose(proposal).await;
        self.shared.record(&outcome);
        Ok(outcome?)
    }

    /// Sends samples to the leader in batches; buffers them while degraded
    /// or when the leader cannot be reached (surely not sent).
    pub async fn send_telemetry(
        &self,
        samples: Vec<TelemetrySample>,
    ) -> Result<TelemetryOutcome, SessionError> {
        let mut out = TelemetryOutcome::default();
        let mut rest = samples.into_iter().peekable();
        while rest.peek().is_some() {
            if self.shared.admit().is_err() {
                let mut core = self.shared.core();
                for s in rest.by_ref() {
                    core.buffer.push(s);
                    out.buffered += 1;
                }
                break;
            }
            let batch: Vec<_> = rest.by_ref().take(MAX_SAMPLES_PER_BATCH).collect();
            let n = batch.len() as u64;
            let outcome = self.shared.client.send_telemetry(batch.clone()).await;
            self.shared.record(&outcome);
            let mut core = self.shared.core();
            match outcome {
                Ok(ack) => {
                    out.accepted += u64::from(ack.accepted);
                    out.rejected += u64::from(ack.rejected);
                    core.counters.telemetry_accepted += u64::from(ack.accepted);
                    core.counters.telemetry_rejected += u64::from(ack.rejected);
                }
                Err(ClientError::Timeout { .. }) => {
                    out.uncertain += n;
                    core.counters.telemetry_uncertain += n;
                }
                Err(e) if Failure::of_error(&e).is_unreachable() => {
                    for s in batch {
                        core.buffer.push(s);
                    }
                    out.buffered += n;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// The next event of the target's stream (approvals, status changes,
    /// rollbacks), each once, resumed across failovers.
    pub async fn next_event(&self) -> Option<Event> {
        self.events.lock().await.recv().await
    }

    pub fn stats(&self) -> SessionStats {
        let mode = self.shared.mode();
        let core = self.shared.core();
        let c = core.counters;
        SessionStats {
            mode,
            buffered: core.buffer.len() as u64,
            dropped: core.buffer.dropped(),
            flushed: c.telemetry_flushed,
            telemetry_accepted: c.telemetry_accepted,
            telemetry_rejected: c.telemetry_rejected,
            telemetry_uncertain: c.telemetry_uncertain,
            calls_sent: c.calls_sent,
            refused_locally: c.refused_locally,
        }
    }

    /// The underlying client, for calls the session does not wrap.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }
}
