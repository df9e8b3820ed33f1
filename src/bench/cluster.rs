//! Cluster figures on three local node processes: how long a leader's
//! SIGKILL leaves the cluster without a leader and without a successful
//! write, and the latency of one acknowledged write with 1 and with many
//! concurrent clients.

use arqonbus_client::Client;
use arqonbus_core::constraint_file;
use arqonbus_core::ParamValue;
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::workflow::{WorkflowReply, WorkflowRequest};
use arqonbus_testkit::{LocalCluster, TestkitError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The target every cluster bench writes to (one integer parameter `n`).
pub const TARGET: &str = "bench-target";
const WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ClusterBenchError {
    #[error(transparent)]
    Cluster(#[from] TestkitError),
    #[error("bench: {0}")]
    Client(#[from] arqonbus_client::ClientError),
    #[error("bench: {0}")]
    Setup(String),
}

type Result<T> = std::result::Result<T, ClusterBenchError>;

/// Milliseconds, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub worst_ms: f64,
}

pub fn summarise(mut ms: Vec<f64>) -> Summary {
    ms.sort_by(f64::total_cmp);
    Summary {
        samples: ms.len(),
        p50_ms: quantile(&ms, 0.5),
        p99_ms: quantile(&ms, 0.99),
        worst_ms: ms.last().copied().unwrap_or(0.0),
    }
}

/// Milliseconds, summarised with the tail the `writes` workload reports.
#[derive(Debug, Clone, Serialize)]
pub struct TailSummary {
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub worst_ms: f64,
}

pub fn summarise_with_tail(mut ms: Vec<f64>) -> TailSummary {
    ms.sort_by(f64::total_cmp);
    let p999 = quantile(&ms, 0.999);
    let s = summarise(ms);
    TailSummary {
        samples: s.samples,
        p50_ms: s.p50_ms,
        p99_ms: s.p99_ms,
        p999_ms: p999,
        worst_ms: s.worst_ms,
    }
}

/// The `q` quantile of sorted `ms` (nearest rank), 0 when empty.
fn quantile(ms: &[f64], q: f64) -> f64 {
    if ms.is_empty() {
        return 0.0;
    }
    let i = ((ms.len() as f64 - 1.0) * q).round() as usize;
    ms[i.min(ms.len() - 1)]
}

/// The target the cluster benchmarks write to, and its one parameter.
pub const TARGET_NAME: &str = TARGET;
pub const PARAMETER: &str = "n";

/// A bootstrapped three-node cluster with one target to write to.
pub async fn start(exe: &Path, dir: &Path) -> Result<(LocalCluster, Client)> {
    start_with(exe, dir, &[], true).await
}

/// [`start`], each node given the `extra` arguments, and the target's
/// constraint file saying whether its changes must be `signed` (`[security]
/// signing_required`: the target's policy decides, not the nodes').
pub async fn start_with(
    exe: &Path,
    dir: &Path,
    extra: &[&str],
    signed: bool,
) -> Result<(LocalCluster, Client)> {
    let mut c = LocalCluster::new(exe, dir, 3, None).await?.with_args(extra);
    c.start_all()?;
    let admin = c.client("admin")?;
    c.wait_until_up(&admin, &c.ids(), WAIT).await?;
    c.bootstrap(&admin).await?;
    let text = format!(
        "format = 2\n[parameters.n]\nkind = \"int\"\nmin = 0\nmax = 1000000000000\ndefault = 0\n\
         [security]\nsigning_required = {signed}\n"
    );
    constraint_file::parse_file("bench.toml", &text)
        .map_err(|e| ClusterBenchError::Setup(e.to_string()))?;
    let operator = c.client("operator")?;
    let set = WorkflowRequest::SetConstraints {
        target_system: TARGET.into(),
        text,
        force: false,
    };
    match operator.workflow(set).await? {
        WorkflowReply::ConstraintsSet { .. } => Ok((c, operator)),
        other => Err(ClusterBenchError::Setup(format!(
            "the bench target's constraints were not set: {other:?}"
        ))),
    }
}

fn write(n: i64) -> OperatorRequest {
    OperatorRequest::SetParameters {
        target_system: TARGET.into(),
        values: BTreeMap::from([("n".to_string(), ParamValue::Int(n))]),
        expected: None,
    }
}

/// Failover figures: fault → new leader, fault → first successful write.
#[derive(Debug, Clone, Serialize)]
pub struct Failover {
    pub to_new_leader: Summary,
    pub to_first_write: Summary,
}

pub async fn failover(c: &mut LocalCluster, operator: &Client, runs: usize) -> Result<Failover> {
    let admin = c.client("admin")?;
    let (mut leader_ms, mut write_ms) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let (leader, term) = c.wait_for_leader(&admin, &c.ids(), 0, WAIT).await?;
        let others: Vec<u64> = c.ids().into_iter().filter(|&id| id != leader).collect();
        let start = Instant::now();
        c.kill(leader).await?;
        c.wait_for_leader(&admin, &others, term, WAIT).await?;
        leader_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        loop {
            if operator.operate(write(run as i64)).await.is_ok() {
                break;
            }
            if start.elapsed() > WAIT {
                return Err(ClusterBenchError::Setup(
                    "no write succeeded after the kill".into(),
                ));
            }
        }
        write_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        c.start(leader)?;
        c.wait_until_up(&admin, &[leader], WAIT).await?;
        let applied = c
            .status(&admin, others[0])
            .await
            .and_then(|s| s.last_applied)
            .unwrap_or(0);
        c.wait_for_applied(&admin, &c.ids(), applied, WAIT).await?;
    }
    Ok(Failover {
        to_new_leader: summarise(leader_ms),
        to_first_write: summarise(write_ms),
    })
}

/// Write latency with `clients` concurrent writers, `per_client` writes each.
#[derive(Debug, Clone, Serialize)]
pub struct Writes {
    pub clients: usize,
    pub latency: Summary,
    pub writes_per_sec: f64,
}

pub async fn writes(c: &LocalCluster, clients: usize, per_client: usize) -> Result<Writes> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..clients {
        let client = c.client("operator")?;
        tasks.push(tokio::spawn(async move {
            let mut ms = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let t = Instant::now();
                client.operate(write((k * per_client + i) as i64)).await?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, arqonbus_client::ClientError>(ms)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let ms = t
            .await
            .map_err(|e| ClusterBenchError::Setup(e.to_string()))??;
        all.extend(ms);
    }
    let total = all.len() as f64;
    Ok(Writes {
        clients,
        latency: summarise(all),
        writes_per_sec: total / start.elapsed().as_secs_f64().max(f64::MIN_POSITIVE),
    })
}
