//! The Raft log and vote, on the write-ahead log of `raft/wal`.
//!
//! Durability rules openraft relies on, kept here and in the WAL:
//! - `append` writes the entries and `fdatasync`s them, and only then calls
//!   back;
//! - `save_vote` returns only after the vote is durable (written to a
//!   temporary file, synced, renamed, directory synced);
//! - `purge` records `last_purged` durably before it deletes anything.
//!
//! The WAL does blocking I/O; every call runs it on tokio's blocking pool,
//! under one lock, so the append order is the log order.
//!
//! Replication reads through `limited_get_log_entries`, which stops at
//! [`APPEND_BYTES`]: openraft 0.9 must send an append within one
//! heartbeat, and a follower far behind would otherwise be sent up to
//! `max_payload_entries` entries at once, however large.

use crate::raft::wal::{Wal, WalError};
use crate::raft::{Entry, LogId, StorageError, StorageIOError, TypeConfig, Vote};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{OptionalSend, RaftLogReader};
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The most bytes of entries (as stored) one append to a follower carries,
/// unless a single entry is larger (entries are at most 4 MiB: `batcher`).
pub const APPEND_BYTES: u64 = 4 * 1024 * 1024;

/// The log store of one node. Clones share the same log.
#[derive(Clone)]
pub struct LogStore {
    wal: Arc<Mutex<Wal>>,
    #[cfg(test)]
    pub(crate) probe: probe::Probe,
}

impl LogStore {
    /// Opens (or creates) the log in `dir`.
    pub fn open(dir: &Path) -> Result<Self, WalError> {
        let wal = Wal::open(dir)?;
        #[cfg(test)]
        let probe = wal.probe.clone();
        Ok(LogStore {
            wal: Arc::new(Mutex::new(wal)),
            #[cfg(test)]
            probe,
        })
    }

    /// Runs `f` on the WAL on the blocking pool.
    async fn with_wal<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Wal) -> Result<T, WalError> + Send + 'static,
    ) -> Result<T, WalError> {
        let wal = self.wal.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = wal.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| WalError::Io {
            path: Default::default(),
            source: io::Error::other(e),
        })?
    }

    /// Writes entries and syncs them, then reports to `done`: the order
    /// the append callback depends on, kept in one place.
    pub async fn append_then<I>(
        &self,
        entries: I,
        done: impl FnOnce(io::Result<()>),
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry>,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let result = self.with_wal(move |w| w.append(entries)).await;
        let report = match &result {
            Ok(()) => Ok(()),
            Err(e) => Err(io::Error::other(e.to_string())),
        };
        done(report);
        result.map_err(|e| StorageIOError::write_logs(&e).into())
    }
}

fn index_bound(b: Bound<&u64>, start: bool) -> u64 {
    match (b, start) {
        (Bound::Included(i), true) => *i,
        (Bound::Excluded(i), true) => i.saturating_add(1),
        (Bound::Included(i), false) => i.saturating_add(1),
        (Bound::Excluded(i), false) => *i,
        (Bound::Unbounded, true) => 0,
        (Bound::Unbounded, false) => u64::MAX,
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let from = index_bound(range.start_bound(), true);
        let to = index_bound(range.end_bound(), false);
        self.with_wal(move |w| w.read(from, to))
            .await
            .map_err(|e| StorageIOError::read_logs(&e).into())
    }

    async fn limited_get_log_entries(
        &mut self,
        start: u64,
        end: u64,
    ) -> Result<Vec<Entry>, StorageError> {
        self.with_wal(move |w| w.read_limited(start, end, APPEND_BYTES))
            .await
            .map_err(|e| StorageIOError::read_logs(&e).into())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        self.with_wal(|w| {
            Ok(LogState {
                last_purged_log_id: w.hard_state().last_purged,
                last_log_id: w.last_log_id(),
            })
        })
        .await
        .map_err(|e| StorageIOError::read_logs(&e).into())
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let vote = *vote;
        self.with_wal(move |w| w.save_vote(&vote))
            .await
            .map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        self.with_wal(|w| Ok(w.hard_state().vote))
            .await
            .map_err(|e| StorageIOError::read_vote(&e).into())
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // Losing the committed id is safe (it is re-learned), so no sync.
        self.with_wal(move |w| w.save_committed(committed))
            .await
            .map_err(|e| StorageIOError::write(&e).into())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        self.with_wal(|w| Ok(w.committed()))
            .await
            .map_err(|e| StorageIOError::read(&e).into())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        self.append_then(entries, |r| callback.log_io_completed(r))
            .await
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        tracing::debug!(target: "arqonbus::raft", index = log_id.index, "truncate log");
        self.with_wal(move |w| w.truncate(log_id.index))
            .await
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        tracing::debug!(target: "arqonbus::raft", index = log_id.index, "purge log");
        self.with_wal(move |w| w.purge(log_id))
            .await
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }
}

#[cfg(test)]
pub(crate) mod probe {
    //! Records the order of storage events, for the flush-ordering tests.
    use std::sync::{Arc, Mutex};

    #[derive(Debug, Clone, Default)]
    pub struct Probe(Arc<Mutex<Vec<&'static str>>>);

    impl Probe {
        pub fn record(&self, event: &'static str) {
            if let Ok(mut v) = self.0.lock() {
                v.push(event);
            }
        }

        pub fn take(&self) -> Vec<&'static str> {
            self.0
                .lock()
                .map(|mut v| std::mem::take(&mut *v))
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests;
