//! The `writes` workload: acknowledged writes at steady state. Each client
//! runs a closed loop (send a write, wait for its acknowledgement, send
//! the next) after a warm-up, so connection set-up and the first elections
//! are not counted; each concurrency level is measured on its own.
//! Clients share connections sixteen to one, as etcd's benchmark shares
//! `--conns` among `--clients`.

use super::cluster::{summarise_with_tail, TailSummary};
use arqonbus_client::{Client, ClientError};
use arqonbus_core::ParamValue;
use arqonbus_proto::operator::OperatorRequest;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(clients);
    for k in 0..clients {
        let client = pool[k % connections].clone();
        let (measuring, stop, plan) = (measuring.clone(), stop.clone(), plan.clone());
        tasks.push(tokio::spawn(async move {
            closed_loop(client, k, &plan, &measuring, &stop).await
        }));
    }
    tokio::time::sleep(plan.warmup).await;
    measuring.store(true, Ordering::SeqCst);
    let started = Instant::now();
    tokio::time::sleep(plan.duration).await;
    stop.store(true, Ordering::SeqCst);
    let seconds = started.elapsed().as_secs_f64();
    let (mut ms, mut errors) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((m, e)) = t.await {
            ms.extend(m);
            errors += e;
        }
    }
    let writes = ms.len();
    Ok(Level {
        clients,
        connections,
        seconds,
        writes,
        writes_per_sec: writes as f64 / seconds.max(f64::MIN_POSITIVE),
        latency: summarise_with_tail(ms),
        errors,
    })
}

/// One client: writes until told to stop; latencies (ms) of the writes
/// that started while measuring, and how many of those failed.
async fn closed_loop(
    client: Client,
    k: usize,
    plan: &Plan,
    measuring: &AtomicBool,
    stop: &AtomicBool,
) -> (Vec<f64>, usize) {
    let (mut ms, mut errors, mut n) = (Vec::new(), 0, 0i64);
    while !stop.load(Ordering::SeqCst) {
        let counted = measuring.load(Ordering::SeqCst);
        let t = Instant::now();
        n += 1;
        let value = (k as i64) * 1_000_000_000 + n;
        let result = client.operate(write(plan, value)).await;
        if !counted || stop.load(Ordering::SeqCst) {
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
