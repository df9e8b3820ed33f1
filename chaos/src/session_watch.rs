//! The watched proposer session: one [`ProposerSession`] (certificate
//! `proposer`, its own last-known-good file `session-lkg.json` inside
//! `--out`) that lives for the whole run, sends a telemetry sample to
//! [`PROPOSAL_TARGET`] every [`TELEMETRY_EVERY`] (buffered while
//! degraded, flushed on recovery), reads its parameters (from the leader,
//! or from the last-known-good file while degraded), and has every change
//! of its mode recorded: in memory for the degraded-mode check
//! (`degraded.rs`) and, one JSON line per change, in `modes.jsonl` (a
//! side log, not part of the history; format in `chaos/README.md`).

use crate::degraded::{self, ModeRecord, SessionSummary};
use crate::nemesis::Fault;
use crate::proposals::PROPOSAL_TARGET;
use arqonbus_client::{Mode, ModeChange, ProposerSession, SessionOptions};
use arqonbus_proto::message::{Cohort, TelemetryContext, TelemetrySample};
use arqonbus_proto::UnixMillis;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// How often the session sends a telemetry sample.
pub const TELEMETRY_EVERY: Duration = Duration::from_millis(200);

/// The session's counters at the end of the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SessionFigures {
    pub final_mode: String,
    pub telemetry_sent: u64,
    pub telemetry_accepted: u64,
    pub telemetry_rejected: u64,
    pub telemetry_uncertain: u64,
    /// Samples buffered while degraded and sent after recovery.
    pub telemetry_flushed: u64,
    pub telemetry_buffered_at_end: u64,
    pub telemetry_dropped: u64,
    /// Parameter reads served from the last-known-good file.
    pub parameters_from_lkg: u64,
    pub calls_refused_locally: u64,
}

struct Log {
    changes: Vec<ModeRecord>,
    file: Option<std::fs::File>,
}

/// The running session and the tasks that watch and drive it.
pub struct SessionWatch {
    session: Arc<ProposerSession>,
    log: Arc<Mutex<Log>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    figures: Arc<Mutex<SessionFigures>>,
    start: Instant,
}

impl Drop for SessionWatch {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn record(log: &Mutex<Log>, start: Instant, change: ModeRecord) {
    let Ok(mut log) = log.lock() else { return };
    if let Some(file) = log.file.as_mut() {
        let line = serde_json::json!({
            "time_ns": start.elapsed().as_nanos() as u64,
            "at_s": change.at_s,
            "from": change.from,
            "to": change.to,
            "reason": change.reason,
        });
        if writeln!(file, "{line}").is_err() {
            log.file = None;
        }
    }
    log.changes.push(change);
}

fn to_record(start: Instant, from: Mode, to: Mode, reason: String) -> ModeRecord {
    ModeRecord {
        at_s: start.elapsed().as_secs_f64(),
        from: from.to_string(),
        to: to.to_string(),
        degraded: to.is_degraded(),
        reason,
    }
}

/// Follows the broadcast of mode changes; after a lag (changes lost),
/// records the current mode so that the log ends in the right state.
async fn watch(session: Arc<ProposerSession>, log: Arc<Mutex<Log>>, start: Instant) {
    let mut changes = session.mode_changes();
    let mut last = session.mode();
    loop {
        match changes.recv().await {
            Ok(ModeChange {
                from, to, reason, ..
            }) => {
                last = to;
                record(&log, start, to_record(start, from, to, reason));
            }
            Err(RecvError::Lagged(n)) => {
                let now = session.mode();
                let reason = format!("{n} mode changes were missed");
                record(&log, start, to_record(start, last, now, reason));
                last = now;
            }
            Err(RecvError::Closed) => return,
        }
    }
}

fn sample(n: u64) -> TelemetrySample {
    TelemetrySample {
        timestamp: UnixMillis::now(),
        source: "chaos-session".into(),
        target_system: PROPOSAL_TARGET.into(),
        metrics: BTreeMap::from([("latency_p99".to_string(), 40.0 + (n % 10) as f64)]),
        parameters: BTreeMap::new(),
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort: Cohort::Baseline,
    }
}

/// Sends telemetry and reads parameters, as a proposer would.
async fn drive(session: Arc<ProposerSession>, figures: Arc<Mutex<SessionFigures>>) {
    for n in 0u64.. {
        let sent = session.send_telemetry(vec![sample(n)]).await;
        let from_lkg = if n % 5 == 0 {
            let params = session.parameters().await;
            matches!(params, Ok(p) if p.source == arqonbus_client::ParameterSource::LastKnownGood)
        } else {
            false
        };
        if let Ok(mut f) = figures.lock() {
            f.telemetry_sent += u64::from(sent.is_ok());
            f.parameters_from_lkg += u64::from(from_lkg);
        }
        tokio::time::sleep(TELEMETRY_EVERY).await;
    }
}

impl SessionWatch {
    /// Connects the session (it succeeds with the cluster down) and starts
    /// watching and driving it. `start` is the run's time origin.
    pub fn start(
        access: &crate::cluster::Access,
        out: &Path,
        start: Instant,
    ) -> anyhow::Result<SessionWatch> {
        let credentials = arqonbus_transport::TlsCredentials::from_dir(&access.certs, "proposer")?;
        let mut options = SessionOptions::new(
            access.endpoints.clone(),
            credentials,
            PROPOSAL_TARGET,
            out.join("session-lkg.json"),
        );
        options.client.resolve = access.resolve.clone();
        let session = Arc::new(ProposerSession::connect(options)?);
        let log = Arc::new(Mutex::new(Log {
            changes: Vec::new(),
            file: Some(std::fs::File::create(out.join("modes.jsonl"))?),
        }));
        let figures = Arc::new(Mutex::new(SessionFigures::default()));
        let tasks = vec![
            tokio::spawn(watch(session.clone(), log.clone(), start)),
            tokio::spawn(drive(session.clone(), figures.clone())),
        ];
        Ok(SessionWatch {
            session,
            log,
            tasks,
            figures,
            start,
        })
    }

    /// Seconds since the run started.
    pub fn now_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Watches until `bound_s` past the last heal of `faults`, then stops
    /// and runs the degraded-mode check (`degraded.rs`): the summary's
    /// figures and the violations.
    pub async fn finish(self, faults: &[Fault], bound_s: f64) -> (SessionSummary, Vec<String>) {
        let heals = degraded::heals(faults);
        let last = heals.iter().map(|h| h.at_s).fold(0.0, f64::max);
        let wait = last + bound_s + 0.5 - self.now_s();
        if wait > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
        let (changes, end_s, session) = self.stop();
        let (degraded, violations) = degraded::check(&changes, &heals, bound_s, end_s);
        let summary = SessionSummary {
            bound_s,
            degraded,
            session,
        };
        (summary, violations)
    }

    /// Stops the tasks; the mode changes seen (in order), the end of the
    /// observation (seconds since the start) and the counters.
    pub fn stop(self) -> (Vec<ModeRecord>, f64, SessionFigures) {
        let end_s = self.now_s();
        let stats = self.session.stats();
        let mut figures = self.figures.lock().map(|f| f.clone()).unwrap_or_default();
        figures.final_mode = stats.mode.to_string();
        figures.telemetry_accepted = stats.telemetry_accepted;
        figures.telemetry_rejected = stats.telemetry_rejected;
        figures.telemetry_uncertain = stats.telemetry_uncertain;
        figures.telemetry_flushed = stats.flushed;
        figures.telemetry_buffered_at_end = stats.buffered;
        figures.telemetry_dropped = stats.dropped;
        figures.calls_refused_locally = stats.refused_locally;
        let changes = self
            .log
            .lock()
            .map(|l| l.changes.clone())
            .unwrap_or_default();
        (changes, end_s, figures)
    }
}
