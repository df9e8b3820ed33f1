//! `bench rollback`, breach to rollback: how long after a breaching tagged
//! batch is sent to the leader the agent's assignment stream delivers the
//! `rollback` frame (0x84). Per breach: an auto-approved proposal starts a
//! rollout held in shadow (an hour's min_seconds); once the agent's stream
//! shows the shadow assignment with the candidate, one candidate sample
//! over the guardrail (min_samples 1, failure_limit 1) goes straight to
//! the leader (no redirect in the measure); the clock stops when the
//! rollback frame is read. No cooldown nor quarantine: the same target
//! rolls out again at once.

use super::cluster::ClusterBenchError;
use super::rollout_setup::{configure, constraints, propose, tagged, BREACHING};
use arqonbus_client::{AssignmentStream, AssignmentUpdate, Client};
use arqonbus_proto::message::Cohort;
use arqonbus_proto::rollout::TaggedTelemetry;
use arqonbus_proto::{Reply, Request, UnixMillis};
use arqonbus_testkit::LocalCluster;
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

type Result<T> = std::result::Result<T, ClusterBenchError>;

/// The target the breaches are measured on.
pub const TARGET: &str = "rollback-bench";
const WAIT: Duration = Duration::from_secs(30);

fn setup(e: impl std::fmt::Display) -> ClusterBenchError {
    ClusterBenchError::Setup(e.to_string())
}

/// Breach-to-rollback latency, milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Breaches {
    pub breaches: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// The node the agent's assignment stream is on (the leader).
    pub watched_on: String,
}

/// Every frame of an assignment stream with the moment it was read.
pub type Frames = mpsc::UnboundedReceiver<(Instant, AssignmentUpdate)>;

/// Reads `stream` in its own task, stamping each frame as it is read.
pub fn frames(mut stream: AssignmentStream) -> Frames {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(update)) = stream.next().await {
            if tx.send((Instant::now(), update)).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next frame within [`WAIT`].
pub async fn next(rx: &mut Frames, what: &str) -> Result<(Instant, AssignmentUpdate)> {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(setup(format!(
            "the assignment stream ended waiting for {what}"
        ))),
        Err(_) => Err(setup(format!("no {what} within {WAIT:?}"))),
    }
}

/// The leader's id and endpoint.
pub async fn leader(c: &LocalCluster, admin: &Client) -> Result<(u64, String)> {
    let (id, _) = c.wait_for_leader(admin, &c.ids(), 0, WAIT).await?;
    Ok((id, c.endpoint(id)?))
}

/// Mean, p50, p99 and max of `ms` (nearest rank).
pub fn stats(mut ms: Vec<f64>) -> (f64, f64, f64, f64) {
    if ms.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    ms.sort_by(f64::total_cmp);
    let q = |x: f64| ms[((ms.len() as f64 - 1.0) * x).round() as usize];
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    (mean, q(0.5), q(0.99), ms[ms.len() - 1])
}

/// Times `n` breaches on [`TARGET`].
pub async fn breaches(c: &LocalCluster, n: usize) -> Result<Breaches> {
    let admin = c.client("admin")?;
    let operator = c.client("operator")?;
    let proposer = c.client("proposer")?;
    configure(
        &operator,
        TARGET,
        &constraints(&[("shadow", 0, 3600, 1_000_000_000), ("full", 100, 1, 1)]),
    )
    .await?;
    let (_, mut at) = leader(c, &admin).await?;
    // The agent sends to the leader only, and watches there.
    let agent = c.client_to("agent", vec![at.clone()])?;
    let mut rx = frames(agent.watch_assignment_at(&at, TARGET).await?);
    let watched_on = at.clone();
    let run = UnixMillis::now().0;
    let mut ms = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("rb-{run}-{i}");
        propose(&proposer, TARGET, &id, 33 + (i % 2) as i64).await?;
        let epoch = loop {
            if let (_, AssignmentUpdate::Assignment(a)) =
                next(&mut rx, "the shadow assignment").await?
            {
                if a.proposal_id.as_deref() == Some(id.as_str()) && a.candidate.is_some() {
                    break a.epoch;
                }
            }
        };
        let batch = Request::TaggedTelemetry(TaggedTelemetry {
            samples: vec![tagged(TARGET, epoch, Cohort::Candidate, BREACHING)],
        });
        let mut tries = 0;
        let sent = loop {
            let t = Instant::now();
            match agent.call_node(&at, &batch).await {
                Ok(Reply::TelemetryAck(a)) if a.accepted == 1 => break t,
                other if tries < 3 => {
                    // A new leader (not timed): find it and send again.
                    tries += 1;
                    tracing::warn!(?other, "breaching batch not taken; asking for the leader");
                    at = leader(c, &admin).await?.1;
                }
                other => {
                    return Err(setup(format!(
                        "the breaching batch was not taken: {other:?}"
                    )))
                }
            }
        };
        let received = loop {
            match next(&mut rx, "the rollback frame").await? {
                (t, AssignmentUpdate::Rollback(r)) if r.proposal_id == id => break t,
                (_, AssignmentUpdate::Assignment(a)) if a.epoch > epoch => {
                    return Err(setup(format!(
                        "assignment {} of phase {} came without a rollback before it",
                        a.epoch, a.phase
                    )))
                }
                _ => {}
            }
        };
        ms.push(received.duration_since(sent).as_secs_f64() * 1000.0);
        // The steady assignment the rollback made follows it.
        loop {
            if let (_, AssignmentUpdate::Assignment(a)) =
                next(&mut rx, "the steady assignment").await?
            {
                if a.epoch > epoch {
                    break;
                }
            }
        }
    }
    let (mean_ms, p50_ms, p99_ms, max_ms) = stats(ms);
    Ok(Breaches {
        breaches: n,
        p50_ms,
        p99_ms,
        max_ms,
        mean_ms,
        watched_on,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn stats_are_mean_and_nearest_rank_quantiles() {
        let ms: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(super::stats(ms), (50.5, 51.0, 99.0, 100.0));
        assert_eq!(super::stats(Vec::new()), (0.0, 0.0, 0.0, 0.0));
    }
}
