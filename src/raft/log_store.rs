//! The Raft log and vote, in sled.
//!
//! Durability rules openraft relies on, kept here:
//! - `append` writes the entries, flushes (fsync), and only then calls back;
//! - `save_vote` returns only after the vote is flushed;
//! - `purge` records `last_purged` durably before deleting anything.
//!
//! Log keys are big-endian indexes so sled's order is numeric order.

use crate::raft::{Entry, LogId, StorageError, StorageIOError, TypeConfig, Vote};
use crate::record;
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{OptionalSend, RaftLogReader};
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};

const VOTE: &[u8] = b"vote";
const COMMITTED: &[u8] = b"committed";
const LAST_PURGED: &[u8] = b"last_purged";

/// The log store of one node. Clones share the same trees.
#[derive(Clone)]
pub struct LogStore {
    db: sled::Db,
    log: sled::Tree,
    meta: sled::Tree,
    #[cfg(test)]
    pub(crate) probe: probe::Probe,
}

impl LogStore {
    /// Opens (or creates) the log trees in `db`.
    pub fn open(db: &sled::Db) -> Result<Self, sled::Error> {
        Ok(LogStore {
            db: db.clone(),
            log: db.open_tree("raft_log")?,
            meta: db.open_tree("raft_meta")?,
            #[cfg(test)]
            probe: probe::Probe::default(),
        })
    }

    /// fsyncs the database; returns once the data is on disk.
    async fn flush(&self) -> io::Result<()> {
        #[cfg(test)]
        self.probe.record("flush-begin");
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(io::Error::other)?
            .map_err(io::Error::other)?;
        #[cfg(test)]
        self.probe.record("flush-end");
        Ok(())
    }

    /// Writes entries, flushes, then reports to `done`: the order the
    /// append callback depends on, kept in one place.
    pub async fn append_then<I>(
        &self,
        entries: I,
        done: impl FnOnce(io::Result<()>),
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry>,
    {
        let mut batch = sled::Batch::default();
        let mut last = None;
        for entry in entries {
            let bytes = record::encode(&entry).map_err(|e| StorageIOError::write_logs(&e))?;
            batch.insert(&entry.log_id.index.to_be_bytes(), bytes);
            last = Some(entry.log_id);
        }
        if last.is_none() {
            done(Ok(()));
            return Ok(());
        }
        self.log
            .apply_batch(batch)
            .map_err(|e| StorageIOError::write_logs(&e))?;
        #[cfg(test)]
        self.probe.record("write");
        let flushed = self.flush().await;
        let failed = flushed
            .as_ref()
            .err()
            .map(|e| io::Error::new(e.kind(), e.to_string()));
        done(flushed);
        match failed {
            None => Ok(()),
            Some(e) => Err(StorageIOError::write_logs(&e).into()),
        }
    }

    fn read_meta<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, StorageError> {
        let Some(bytes) = self.meta.get(key).map_err(|e| StorageIOError::read(&e))? else {
            return Ok(None);
        };
        record::decode(&bytes)
            .map(Some)
            .map_err(|e| StorageIOError::read(&e).into())
    }

    fn write_meta<T: serde::Serialize>(&self, key: &[u8], value: &T) -> Result<(), StorageError> {
        let bytes = record::encode(value).map_err(|e| StorageIOError::write(&e))?;
        self.meta
            .insert(key, bytes)
            .map_err(|e| StorageIOError::write(&e))?;
        Ok(())
    }

    fn last_entry_id(&self) -> Result<Option<LogId>, StorageError> {
        match self.log.last().map_err(|e| StorageIOError::read_logs(&e))? {
            None => Ok(None),
            Some((_, bytes)) => {
                let entry: Entry =
                    record::decode(&bytes).map_err(|e| StorageIOError::read_logs(&e))?;
                Ok(Some(entry.log_id))
            }
        }
    }
}

impl LogStore {
    /// Deletes the entries whose keys fall in `keys`, in one batch.
    fn remove(&self, keys: impl RangeBounds<[u8; 8]>) -> Result<(), StorageError> {
        let mut batch = sled::Batch::default();
        for item in self.log.range(keys) {
            let (key, _) = item.map_err(|e| StorageIOError::write_logs(&e))?;
            batch.remove(key);
        }
        self.log
            .apply_batch(batch)
            .map_err(|e| StorageIOError::write_logs(&e))?;
        Ok(())
    }
}

fn key_bound(b: Bound<&u64>) -> Bound<[u8; 8]> {
    match b {
        Bound::Included(i) => Bound::Included(i.to_be_bytes()),
        Bound::Excluded(i) => Bound::Excluded(i.to_be_bytes()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let range = (key_bound(range.start_bound()), key_bound(range.end_bound()));
        self.log
            .range::<[u8; 8], _>(range)
            .map(|item| {
                let (_, bytes) = item.map_err(|e| StorageIOError::read_logs(&e))?;
                record::decode(&bytes).map_err(|e| StorageIOError::read_logs(&e).into())
            })
            .collect()
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged: Option<LogId> = self.read_meta(LAST_PURGED)?;
        let last = self.last_entry_id()?.or(last_purged);
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        self.write_meta(VOTE, vote)?;
        self.flush()
            .await
            .map_err(|e| StorageIOError::write_vote(&e))?;
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        self.read_meta(VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // Losing the committed id is safe (it is re-learned), so no flush.
        self.write_meta(COMMITTED, &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.read_meta::<Option<LogId>>(COMMITTED)?.flatten())
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
        self.remove(log_id.index.to_be_bytes()..)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        tracing::debug!(target: "arqonbus::raft", index = log_id.index, "purge log");
        self.write_meta(LAST_PURGED, &log_id)?;
        self.flush()
            .await
            .map_err(|e| StorageIOError::write_logs(&e))?;
        self.remove(..=log_id.index.to_be_bytes())
    }
}

#[cfg(test)]
pub(crate) mod probe {
    //! Records the order of storage events, for the flush-ordering tests.
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
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
