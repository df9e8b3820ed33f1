//! The `writes` workload: acknowledged writes at steady state. Each client
//! runs a closed loop (send a write, wait for its acknowledgement, send
//! the next) after a warm-up, so connection set-up and the first elections
//! are not counted; each concurrency level is measured on its own.
//! Clients share connections sixteen to one, as etcd's benchmark shares
//! `--conns` among `--clients`.

use super::cluster::TailSummary;
use super::window::{measure, Tally, Window};
use arqonbus_client::{Client, ClientError};
use arqonbus_core::ParamValue;
use arqonbus_proto::operator::OperatorRequest;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Logical clients per connection.
const CLIENTS_PER_CONNECTION: usize = 16;

/// One concurrency level's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    pub clients: usize,
    pub connections: usize,
    pub seconds: f64,
    pub writes: usize,
    pub writes_per_sec: f64,
    pub latency: TailSummary,
    /// Writes that failed (each is counted, not retried).
    pub errors: usize,
}

/// How to run a level.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: String,
    pub parameter: String,
    pub warmup: Duration,
    pub duration: Duration,
}

/// Runs `clients` closed loops over `connect()`ed clients.
pub async fn level(
    connect: &dyn Fn() -> Result<Client, ClientError>,
    clients: usize,
    plan: &Plan,
) -> Result<Level, ClientError> {
    let connections = clients.div_ceil(CLIENTS_PER_CONNECTION).max(1);
    let pool = (0..connections)
        .map(|_| connect())
        .collect::<Result<Vec<_>, _>>()?;
    let m = measure(clients, plan.warmup, plan.duration, |k, window| {
        let (client, plan) = (pool[k % connections].clone(), plan.clone());
        async move { closed_loop(client, k, &plan, &window).await }
    })
    .await;
    Ok(Level {
        clients,
        connections,
        seconds: m.seconds,
        writes: m.done,
        writes_per_sec: m.per_sec,
        latency: m.latency,
        errors: m.errors,
    })
}

/// One client: writes until told to stop; latencies (ms) of the writes
/// that started while measuring, and how many of those failed.
async fn closed_loop(client: Client, k: usize, plan: &Plan, window: &Window) -> Tally {
    let (mut ms, mut errors, mut n) = (Vec::new(), 0, 0i64);
    while !window.ended() {
        let counted = window.measuring();
        let t = Instant::now();
        n += 1;
        let value = (k as i64) * 1_000_000_000 + n;
        let result = client.operate(write(plan, value)).await;
        if !window.counts(counted) {
            continue;
        }
        match result {
            Ok(_) => ms.push(t.elapsed().as_secs_f64() * 1000.0),
            Err(_) => errors += 1,
        }
    }
    (ms, errors)
}

fn write(plan: &Plan, n: i64) -> OperatorRequest {
    OperatorRequest::SetParameters {
        target_system: plan.target.clone(),
        values: BTreeMap::from([(plan.parameter.clone(), ParamValue::Int(n))]),
        expected: None,
    }
}
