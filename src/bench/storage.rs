//! How fast the Raft log store persists, against the disk's own floor.
//!
//! Three figures, each over `count` operations in a fresh directory:
//! - the raw `fdatasync` rate of a small write to a file (the floor: no
//!   store can acknowledge durable writes faster than the disk syncs);
//! - appends per second through [`LogStore`] with one command per entry,
//!   each synced (`fdatasync`) before it is acknowledged;
//! - commands per second with 64 commands packed in each `Batch` entry.

use arqonbus::raft::{Entry, LogId, LogStore};
use arqonbus_core::{Actor, Command, Op, ParamValue, Role};
use openraft::{CommittedLeaderId, EntryPayload};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Commands per `Batch` entry in the batched figure.
pub const BATCH: usize = 64;

/// The measured rates, per second.
#[derive(Debug, Clone, Serialize)]
pub struct StorageFigures {
    pub count: u64,
    pub fdatasync_per_sec: f64,
    pub appends_per_sec: f64,
    pub batched_appends_per_sec: f64,
    pub batched_commands_per_sec: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("benchmark io: {0}")]
    Io(#[from] std::io::Error),
    #[error("benchmark storage: {0}")]
    Log(#[from] arqonbus::raft::wal::WalError),
    #[error("benchmark storage: {0}")]
    Storage(#[from] Box<arqonbus::raft::StorageError>),
}

fn command(n: u64) -> Command {
    Command {
        actor: Actor {
            identity: "operator".into(),
            role: Role::Operator,
        },
        at_ms: n,
        origin: None,
        seal: None,
        op: Op::SetParameters {
            target: "ml-inference-service".into(),
            values: BTreeMap::from([("batch_size".to_string(), ParamValue::Int((n % 256) as i64))]),
            expected: None,
        },
    }
}

fn entry(index: u64, payload: Command) -> Entry {
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
        payload: EntryPayload::Normal(payload),
    }
}

fn rate(count: u64, start: Instant) -> f64 {
    count as f64 / start.elapsed().as_secs_f64().max(f64::MIN_POSITIVE)
}

/// The raw small-write + fdatasync rate in `dir`.
pub fn fdatasync_rate(dir: &Path, count: u64) -> Result<f64, BenchError> {
    let mut file = std::fs::File::create(dir.join("fdatasync.bench"))?;
    let block = [7u8; 256];
    let start = Instant::now();
    for _ in 0..count {
        file.write_all(&block)?;
        file.sync_data()?;
    }
    Ok(rate(count, start))
}

/// Appends `count` entries one at a time, each built by `payload`.
async fn append_rate(
    dir: &Path,
    count: u64,
    payload: impl Fn(u64) -> Command,
) -> Result<f64, BenchError> {
    let store = LogStore::open(dir)?;
    let start = Instant::now();
    for i in 1..=count {
        store
            .append_then([entry(i, payload(i))], |_| {})
            .await
            .map_err(Box::new)?;
    }
    Ok(rate(count, start))
}

/// Runs all three measurements under `dir`.
pub async fn run(dir: &Path, count: u64) -> Result<StorageFigures, BenchError> {
    std::fs::create_dir_all(dir)?;
    let fdatasync_per_sec = fdatasync_rate(dir, count)?;
    let appends_per_sec = append_rate(&dir.join("single"), count, command).await?;
    let batched_appends_per_sec = append_rate(&dir.join("batched"), count, |i| Command {
        op: Op::Batch(
            (0..BATCH as u64)
                .map(|j| command(i * BATCH as u64 + j))
                .collect(),
        ),
        ..command(i)
    })
    .await?;
    Ok(StorageFigures {
        count,
        fdatasync_per_sec,
        appends_per_sec,
        batched_appends_per_sec,
        batched_commands_per_sec: batched_appends_per_sec * BATCH as f64,
    })
}
