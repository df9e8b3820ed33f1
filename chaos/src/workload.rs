//! The register workload: several client tasks, each with its own
//! `Client`, doing random reads, writes of unique values and
//! compare-and-sets on parameters of the chaos targets, and recording each
//! operation in the history (`invoke` before sending; `ok`, `fail` or
//! `info` after, by the rules in `chaos/README.md`). Half the reads are
//! sent first to a random node, which must redirect them to the leader (a
//! node that answered from its own replica would be caught serving stale
//! values: that is what `chaos/teeth.sh` shows).
//!
//! Each register key is one int parameter (`chaos-T/kN`). Every parameter
//! starts at its default, 0, and written values are unique and at least 1,
//! so the value 0 means "never written": the workload records a read of 0
//! as `null` and sends a compare-and-set from `null` as "expected 0". The
//! checker's model (a register that starts at `null`) then needs no
//! synthetic initial write. Consecutive blocks of `ops_per_key` operations
//! go to one key, then the workload moves to a fresh one.
//!
//! The proposal workload (`propose` events) is its sibling,
//! `proposals.rs`, recording into the same [`Recorder`].

use crate::outcome::{classify_read, classify_write, Classified};
use crate::recorder::{Event, Kind, Recorder};
use crate::rng::Rng;
use arqonbus_client::{operated, Client, ClientError};
use arqonbus_core::value::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::Request;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a read sent to a random node waits before asking the leader.
const FIRST_NODE_DEADLINE: Duration = Duration::from_secs(1);

/// Parameters per chaos target (the wire allows 256 per message).
pub const PARAMS_PER_TARGET: u64 = 200;

/// How the workload runs.
#[derive(Debug, Clone)]
pub struct WorkloadOptions {
    pub clients: u64,
    /// Operations per second over all clients.
    pub rate: f64,
    pub ops_per_key: u64,
    pub targets: Vec<String>,
    /// Each client's deadline for one request/answer exchange.
    pub request_timeout: Duration,
    /// Each client's total retry time for one call.
    pub retry_budget: Duration,
}

/// The name of the chaos target number `i`.
pub fn target_name(i: u64) -> String {
    format!("chaos-{i}")
}

/// The constraint file every chaos target gets: int parameters k0..k199,
/// 0..=1e12, default 0.
pub fn constraints_toml() -> String {
    let mut text = String::from("format = 1\n");
    for i in 0..PARAMS_PER_TARGET {
        text.push_str(&format!(
            "\n[parameters.k{i}]\nkind = \"int\"\nmin = 0\nmax = 1000000000000\ndefault = 0\n"
        ));
    }
    text
}

/// What every task shares.
struct Shared {
    options: WorkloadOptions,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
    next_op: AtomicU64,
    next_process: AtomicU64,
    next_value: AtomicI64,
    /// The newest value seen per key, for compare-and-set's `expected`.
    seen: Mutex<BTreeMap<String, i64>>,
    exhausted: AtomicBool,
}

/// The key for operation number `seq`: target, parameter, history key.
fn key_for(shared: &Shared, seq: u64) -> (String, String) {
    let capacity = shared.options.targets.len() as u64 * PARAMS_PER_TARGET;
    let mut index = seq / shared.options.ops_per_key.max(1);
    if index >= capacity {
        if !shared.exhausted.swap(true, Ordering::Relaxed) {
            eprintln!(
                "arqonbus-chaos: every key has had {} operations; staying on the last key",
                shared.options.ops_per_key
            );
        }
        index = capacity.saturating_sub(1);
    }
    let target = &shared.options.targets[(index / PARAMS_PER_TARGET) as usize];
    (target.clone(), format!("k{}", index % PARAMS_PER_TARGET))
}

/// The running workload.
pub struct Workload {
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    stop: Arc<AtomicBool>,
}

impl Workload {
    /// Starts `options.clients` tasks, each with its own client.
    pub fn start(
        options: WorkloadOptions,
        (access, user): (&crate::cluster::Access, &str),
        recorder: Arc<Recorder>,
        rng: &mut Rng,
    ) -> anyhow::Result<Workload> {
        anyhow::ensure!(!options.targets.is_empty(), "the workload needs a target");
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            next_process: AtomicU64::new(options.clients),
            options: options.clone(),
            recorder,
            stop: stop.clone(),
            next_op: AtomicU64::new(0),
            next_value: AtomicI64::new(1),
            seen: Mutex::default(),
            exhausted: AtomicBool::new(false),
        });
        let mut tasks = Vec::new();
        for process in 0..options.clients {
            let client =
                crate::tasks::client(access, user, options.request_timeout, options.retry_budget)?;
            let (shared, rng) = (shared.clone(), rng.fork());
            tasks.push(tokio::spawn(worker(shared, client, process, rng)));
        }
        Ok(Workload { tasks, stop })
    }

    /// Stops issuing operations and waits up to `bound` for the ones in
    /// flight; those still open are left without a completion (the checker
    /// treats them as `info`). Returns how many tasks had to be abandoned.
    pub async fn stop(self, bound: Duration) -> anyhow::Result<usize> {
        self.stop.store(true, Ordering::SeqCst);
        let abandoned = crate::tasks::join_within(self.tasks, bound, "workload").await?;
        Ok(abandoned)
    }
}

async fn worker(
    shared: Arc<Shared>,
    client: Client,
    first: u64,
    mut rng: Rng,
) -> anyhow::Result<()> {
    let mut process = first;
    let mut pace = crate::tasks::pace(shared.options.clients, shared.options.rate);
    while crate::tasks::next_tick(&mut pace, &shared.stop).await {
        let seq = shared.next_op.fetch_add(1, Ordering::Relaxed);
        let (target, param) = key_for(&shared, seq);
        let key = format!("{target}/{param}");
        let choice = rng.below(100);
        let result = if choice < 50 {
            // Half the reads ask a random node first (a follower must send
            // them to the leader); the rest go to the leader directly.
            let first = (choice < 25).then(|| {
                let endpoints = client.endpoints();
                endpoints[rng.below(endpoints.len() as u64) as usize].clone()
            });
            let at = (&target[..], &param[..], &key[..]);
            read(&shared, &client, process, at, first).await?
        } else {
            let new = shared.next_value.fetch_add(1, Ordering::Relaxed);
            let expected = if choice < 80 {
                None
            } else {
                Some(shared.seen.lock().ok().and_then(|s| s.get(&key).copied()))
            };
            write(
                &shared,
                &client,
                process,
                (&target, &param, &key),
                expected,
                new,
            )
            .await?
        };
        if result == Kind::Info {
            process = shared.next_process.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

fn record(
    shared: &Shared,
    process: u64,
    kind: Kind,
    f: &str,
    key: &str,
    value: Value,
    error: Option<String>,
) -> anyhow::Result<()> {
    shared.recorder.record(Event {
        process,
        kind,
        f,
        key,
        value,
        error,
    })?;
    Ok(())
}

/// A node that says another leads (or none does) served nothing.
fn redirected(e: &ClientError) -> bool {
    matches!(
        e.code(),
        Some(ErrorCode::NotLeader { .. } | ErrorCode::NoLeader)
    )
}

fn remember(shared: &Shared, key: &str, value: Option<i64>) {
    if let (Some(v), Ok(mut seen)) = (value, shared.seen.lock()) {
        seen.insert(key.to_string(), v);
    }
}

async fn read(
    shared: &Shared,
    client: &Client,
    process: u64,
    (target, param, key): (&str, &str, &str),
    first: Option<String>,
) -> anyhow::Result<Kind> {
    record(
        shared,
        process,
        Kind::Invoke,
        "read",
        key,
        Value::Null,
        None,
    )?;
    let request = OperatorRequest::GetParameters {
        target_system: target.to_string(),
        stale: false,
    };
    let reply = match first {
        Some(endpoint) => {
            let wire = Request::Operate(request.clone());
            let ask = client.call_node(&endpoint, &wire);
            // A read changes nothing, so a node that is dead or paused
            // may be given up on early and the leader asked instead.
            match tokio::time::timeout(FIRST_NODE_DEADLINE, ask).await {
                Ok(Ok(reply)) => operated(reply),
                Ok(Err(e)) if redirected(&e) => client.operate(request).await,
                Ok(Err(e)) => Err(e),
                Err(_) => client.operate(request).await,
            }
        }
        None => client.operate(request).await,
    };
    let Classified { kind, value, error } = classify_read(reply, param);
    if kind == Kind::Ok {
        remember(shared, key, value.as_i64());
    }
    record(shared, process, kind, "read", key, value, error)?;
    Ok(kind)
}

async fn write(
    shared: &Shared,
    client: &Client,
    process: u64,
    (target, param, key): (&str, &str, &str),
    expected: Option<Option<i64>>,
    new: i64,
) -> anyhow::Result<Kind> {
    let (f, value) = match expected {
        None => ("write", json!(new)),
        Some(e) => ("cas", json!([e, new])),
    };
    record(shared, process, Kind::Invoke, f, key, value.clone(), None)?;
    let one = |v: i64| BTreeMap::from([(param.to_string(), ParamValue::Int(v))]);
    let reply = client
        .operate(OperatorRequest::SetParameters {
            target_system: target.to_string(),
            values: one(new),
            expected: expected.map(|e| one(e.unwrap_or(0))),
        })
        .await;
    let Classified { kind, error, .. } = classify_write(reply);
    if kind == Kind::Ok {
        remember(shared, key, Some(new));
    }
    record(shared, process, kind, f, key, value, error)?;
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constraints_file_parses_with_every_parameter() {
        let set = arqonbus_core::constraint_file::parse("c.toml", &constraints_toml())
            .expect("valid constraints");
        assert_eq!(set.parameters.len() as u64, PARAMS_PER_TARGET);
    }
}
