//! Proposer-session figures on three local node processes: telemetry
//! samples per second accepted by the leader (batches of 1024 from several
//! senders), proposal round trips with 1 and many concurrent sessions, and
//! how long a session stays degraded after a leader SIGKILL and after a
//! lost quorum returns.

use super::cluster::{summarise, ClusterBenchError, Summary};
use arqonbus_client::{Client, Mode, ProposerSession, SessionOptions};
use arqonbus_core::ParamValue;
use arqonbus_proto::limits::MAX_SAMPLES_PER_BATCH;
use arqonbus_proto::message::{
    Cohort, Proposal, ProposedChange, TelemetryContext, TelemetrySample,
};
use arqonbus_proto::UnixMillis;
use arqonbus_testkit::LocalCluster;
use arqonbus_transport::TlsCredentials;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

const TARGET: &str = "bench-target";
const WAIT: Duration = Duration::from_secs(30);

type Result<T> = std::result::Result<T, ClusterBenchError>;

fn setup(e: impl std::fmt::Display) -> ClusterBenchError {
    ClusterBenchError::Setup(e.to_string())
}

pub fn session(c: &LocalCluster, dir: &Path, name: &str) -> Result<ProposerSession> {
    let creds = TlsCredentials::from_dir(&c.cert_dir(), "proposer").map_err(setup)?;
    let lkg = dir.join(format!("{name}-lkg.json"));
    let options = SessionOptions::new(c.endpoints(), creds, TARGET, lkg);
    ProposerSession::connect(options).map_err(setup)
}

async fn until_mode(s: &ProposerSession, what: &str, cond: impl Fn(&Mode) -> bool) -> Result<()> {
    let mut mode = s.watch_mode();
    let reached = tokio::time::timeout(WAIT, mode.wait_for(|m| cond(m)))
        .await
        .is_ok_and(|r| r.is_ok());
    if reached {
        Ok(())
    } else {
        Err(setup(format!("the session was not {what} within {WAIT:?}")))
    }
}

fn sample(i: usize) -> TelemetrySample {
    TelemetrySample {
        timestamp: UnixMillis::now(),
        source: "bench".into(),
        target_system: TARGET.into(),
        metrics: BTreeMap::from([("latency_ms".to_string(), (i % 100) as f64)]),
        parameters: BTreeMap::new(),
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort: if i % 2 == 0 {
            Cohort::Baseline
        } else {
            Cohort::Candidate
        },
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Telemetry {
    pub senders: usize,
    pub batch: usize,
    pub samples_accepted: u64,
    pub samples_per_sec: f64,
}

/// `senders` clients each send batches of 1024 for `seconds`.
pub async fn telemetry(c: &LocalCluster, senders: usize, seconds: f64) -> Result<Telemetry> {
    let batch: Vec<TelemetrySample> = (0..MAX_SAMPLES_PER_BATCH).map(sample).collect();
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let client: Client = c.client("proposer")?;
        let batch = batch.clone();
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0u64;
            while Instant::now() < until {
                accepted += u64::from(client.send_telemetry(batch.clone()).await?.accepted);
            }
            Ok::<_, arqonbus_client::ClientError>(accepted)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.map_err(setup)??;
    }
    Ok(Telemetry {
        senders,
        batch: MAX_SAMPLES_PER_BATCH,
        samples_accepted: total,
        samples_per_sec: total as f64 / start.elapsed().as_secs_f64(),
    })
}

fn proposal(id: String, n: i64) -> Proposal {
    Proposal {
        proposal_id: id,
        source: "bench".into(),
        target_system: TARGET.into(),
        timestamp: UnixMillis::now(),
        changes: vec![ProposedChange {
            parameter: "n".into(),
            current_value: ParamValue::Int(0),
            proposed_value: ParamValue::Int(n),
            reason: "bench".into(),
        }],
        expected_impact: BTreeMap::new(),
        confidence: 0.5,
        duration_seconds: 60,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Proposals {
    pub sessions: usize,
    pub round_trip: Summary,
    pub proposals_per_sec: f64,
}

/// `sessions` concurrent sessions, `each` proposals each, round trips timed.
pub async fn proposals(
    c: &LocalCluster,
    dir: &Path,
    sessions: usize,
    each: usize,
) -> Result<Proposals> {
    let run = UnixMillis::now().0;
    let mut ready = Vec::new();
    for k in 0..sessions {
        let s = session(c, dir, &format!("p{k}"))?;
        until_mode(&s, "connected", |m| *m == Mode::Connected).await?;
        ready.push(s);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (k, s) in ready.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut ms = Vec::with_capacity(each);
            for i in 0..each {
                let p = proposal(format!("bench-{run}-{sessions}-{k}-{i}"), (i % 1000) as i64);
                let t = Instant::now();
                s.propose(p).await.map_err(setup)?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, ClusterBenchError>(ms)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(setup)??);
    }
    let n = all.len() as f64;
    Ok(Proposals {
        sessions,
        round_trip: summarise(all),
        proposals_per_sec: n / start.elapsed().as_secs_f64(),
    })
}

/// Time degraded (0 when the session never degraded) and time to the
/// first decision after the fault, per run.
#[derive(Debug, Clone, Serialize)]
pub struct Degraded {
    pub leader_kill_degraded: Summary,
    pub leader_kill_first_decision: Summary,
    pub quorum_loss_to_degraded: Summary,
    pub quorum_return_to_connected: Summary,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Sum of the degraded intervals among the changes received so far.
fn degraded_time(
    changes: &mut tokio::sync::broadcast::Receiver<arqonbus_client::ModeChange>,
) -> Duration {
    let (mut total, mut since): (Duration, Option<SystemTime>) = (Duration::ZERO, None);
    while let Ok(c) = changes.try_recv() {
        match (c.to.is_degraded(), since) {
            (true, None) => since = Some(c.at),
            (false, Some(at)) => {
                total += c.at.duration_since(at).unwrap_or_default();
                since = None;
            }
            _ => {}
        }
    }
    total
}

pub async fn degraded(c: &mut LocalCluster, dir: &Path, runs: usize) -> Result<Degraded> {
    let admin = c.client("admin")?;
    let s = session(c, dir, "failover")?;
    until_mode(&s, "connected", |m| *m == Mode::Connected).await?;
    let run_id = UnixMillis::now().0;
    let (mut kill_degraded, mut kill_decision, mut lost, mut back) =
        (vec![], vec![], vec![], vec![]);
    for run in 0..runs {
        let (leader, _) = c.wait_for_leader(&admin, &c.ids(), 0, WAIT).await?;
        let mut changes = s.mode_changes();
        let killed = Instant::now();
        c.kill(leader).await?;
        let p = proposal(format!("failover-{run_id}-{run}"), run as i64);
        loop {
            if s.propose(p.clone()).await.is_ok() {
                break;
            }
            if killed.elapsed() > WAIT {
                return Err(setup("no decision after the leader kill"));
            }
            until_mode(&s, "out of degraded mode", |m| !m.is_degraded()).await?;
        }
        kill_decision.push(ms(killed.elapsed()));
        until_mode(&s, "connected", |m| *m == Mode::Connected).await?;
        kill_degraded.push(ms(degraded_time(&mut changes)));
        c.start(leader)?;
        c.wait_until_up(&admin, &[leader], WAIT).await?;

        let (leader, _) = c.wait_for_leader(&admin, &c.ids(), 0, WAIT).await?;
        let follower = c
            .ids()
            .into_iter()
            .find(|&id| id != leader)
            .unwrap_or(leader);
        let paused = Instant::now();
        c.pause(leader)?;
        c.pause(follower)?;
        until_mode(&s, "degraded", |m| m.is_degraded()).await?;
        lost.push(ms(paused.elapsed()));
        let resumed = Instant::now();
        c.resume(leader)?;
        c.resume(follower)?;
        until_mode(&s, "connected", |m| *m == Mode::Connected).await?;
        back.push(ms(resumed.elapsed()));
    }
    Ok(Degraded {
        leader_kill_degraded: summarise(kill_degraded),
        leader_kill_first_decision: summarise(kill_decision),
        quorum_loss_to_degraded: summarise(lost),
        quorum_return_to_connected: summarise(back),
    })
}
