//! The state store: openraft's state machine on this node. It applies
//! committed entries to the pure [`State`] (whose rules are
//! `arqonbus_core::machine`), persists their audit entries, and builds,
//! stores and installs snapshot files.
//!
//! The state lives in memory; what makes it durable is the log plus the last
//! snapshot file (`snapshots/current.snap`): on open, the snapshot is loaded
//! and openraft re-applies the committed log after it. Audit entries are
//! written to sled in the same step as the state changes, under one lock, so
//! readers and snapshot builders always see the two agree.
//!
//! After every apply (and every installed snapshot) the store wakes the
//! event streams watching the targets the entries touched (`wakeups`; all
//! of them after a snapshot), so streams wake up on any node, follower or
//! leader, as soon as its replica moves, and only those with news.

use super::snapshot_builder::SnapshotBuilder;
use super::wakeups::{touched, Wakeups};
use crate::audit::store::{AuditStore, Retention};
use crate::raft::snapshot::{self, Header, SnapshotError};
use crate::raft::{
    Entry, LogId, Response, SnapshotMeta, StorageError, StorageIOError, StoredMembership,
    TypeConfig,
};
use arqonbus_core::audit::AuditEntry;
use arqonbus_core::State;
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, OptionalSend};
use std::collections::BTreeSet;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::io::AsyncSeekExt;

const CURRENT: &str = "current.snap";

/// This node's replica of the state: what has been applied, and up to
/// which log entry, guarded together.
#[derive(Debug, Default, Clone)]
pub struct Replica {
    pub state: State,
    pub last_applied: Option<LogId>,
    pub last_membership: StoredMembership,
}

/// The state machine of one node. Clones share everything.
#[derive(Clone)]
pub struct StateStore {
    applied: Arc<RwLock<Replica>>,
    pub(super) audit: AuditStore,
    pub(super) snapshots: PathBuf,
    /// Held while a snapshot streams audit entries, so archival waits.
    pub(super) audit_guard: Arc<tokio::sync::Mutex<()>>,
    /// Serialises replacing `current.snap`.
    current_guard: Arc<Mutex<()>>,
    pub(super) counter: Arc<AtomicU64>,
    /// The event streams to wake after an apply, by target.
    wakeups: Arc<Wakeups>,
}

fn io_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_state_machine(&e).into()
}

pub(super) fn snap_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_snapshot(None, &e).into()
}

impl StateStore {
    /// Opens the store in `dir`, loading the last snapshot if there is one.
    pub fn open(db: &sled::Db, dir: &Path, retention: Retention) -> Result<Self, StorageError> {
        let snapshots = dir.join("snapshots");
        crate::durable::create_dir_all(&snapshots).map_err(snap_err)?;
        let audit = AuditStore::open(db, dir, retention).map_err(io_err)?;
        let store = StateStore {
            applied: Arc::default(),
            audit,
            snapshots,
            audit_guard: Arc::default(),
            current_guard: Arc::default(),
            counter: Arc::default(),
            wakeups: Arc::default(),
        };
        let current = store.snapshots.join(CURRENT);
        if current.exists() {
            store.load_snapshot_file(&current)?;
        }
        Ok(store)
    }

    /// Runs `f` on the applied state (for reads; never hold it across IO).
    pub fn read<T>(&self, f: impl FnOnce(&Replica) -> T) -> T {
        match self.applied.read() {
            Ok(guard) => f(&guard),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    pub fn audit(&self) -> &AuditStore {
        &self.audit
    }

    /// Where event streams register the targets they watch.
    pub fn wakeups(&self) -> &Wakeups {
        &self.wakeups
    }

    fn write_applied(&self) -> std::sync::RwLockWriteGuard<'_, Replica> {
        self.applied.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads and checks a whole snapshot file, staging its audit entries.
    fn read_snapshot_file(
        &self,
        path: &Path,
    ) -> Result<(Header, State, sled::Batch), StorageError> {
        let file = std::fs::File::open(path).map_err(snap_err)?;
        let mut batch = sled::Batch::default();
        let (header, state) = snapshot::read(BufReader::new(file), |e| {
            self.audit
                .stage(std::slice::from_ref(&e), &mut batch)
                .map_err(|e| SnapshotError::Io(std::io::Error::other(e)))
        })
        .map_err(snap_err)?;
        Ok((header, state, batch))
    }

    /// Replaces state and audit with a checked snapshot, in one step.
    fn commit_snapshot(
        &self,
        header: &Header,
        state: State,
        batch: sled::Batch,
    ) -> Result<(), StorageError> {
        let mut applied = self.write_applied();
        self.audit.apply(batch).map_err(io_err)?;
        *applied = Replica {
            state,
            last_applied: header.meta.last_log_id,
            last_membership: header.meta.last_membership.clone(),
        };
        drop(applied);
        self.wakeups.wake_all();
        Ok(())
    }

    fn load_snapshot_file(&self, path: &Path) -> Result<(), StorageError> {
        let (header, state, batch) = self.read_snapshot_file(path)?;
        self.commit_snapshot(&header, state, batch)
    }

    fn apply_entry(
        &self,
        applied: &mut Replica,
        entry: Entry,
        audit: &mut Vec<AuditEntry>,
        targets: &mut BTreeSet<String>,
    ) -> Response {
        applied.last_applied = Some(entry.log_id);
        match entry.payload {
            EntryPayload::Blank => Response::Blank,
            EntryPayload::Normal(command) => {
                let result = applied.state.apply(&command);
                touched(&command, &applied.state, targets);
                audit.extend(result.audit);
                Response::Command(result.result)
            }
            EntryPayload::Membership(m) => {
                let details = format!(
                    "voters={:?} learners={:?}",
                    m.voter_ids().collect::<Vec<_>>(),
                    m.learner_ids().collect::<Vec<_>>()
                );
                audit.push(applied.state.apply_membership(details));
                applied.last_membership = StoredMembership::new(Some(entry.log_id), m);
                Response::Membership
            }
        }
    }

    /// Moves old audit entries to the archive in the background, unless a
    /// snapshot is streaming them right now (then the next apply will).
    fn archive_in_background(&self, head: u64) {
        if !matches!(self.audit.archive_due(head), Ok(Some(_))) {
            return;
        }
        let Ok(guard) = self.audit_guard.clone().try_lock_owned() else {
            return;
        };
        let audit = self.audit.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = audit.archive_if_due(head) {
                tracing::error!(target: "arqonbus::audit", error = %e, "archiving audit entries failed");
            }
            drop(guard);
        });
    }

    /// Makes `tmp` the current snapshot unless a newer one is already there
    /// (a builder that finished after an install): then `tmp` is dropped and
    /// this returns false.
    pub(super) fn promote(&self, tmp: &Path, last: Option<LogId>) -> Result<bool, StorageError> {
        let _g = self.current_guard.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.snapshots.join(CURRENT);
        if let Ok(file) = std::fs::File::open(&current) {
            if let Ok(h) = snapshot::read_header(BufReader::new(file)) {
                if h.meta.last_log_id > last {
                    std::fs::remove_file(tmp).map_err(snap_err)?;
                    return Ok(false);
                }
            }
        }
        self.rename_current(tmp)?;
        Ok(true)
    }

    /// Makes an installed snapshot the current one, whatever was there: the
    /// state is being replaced by it.
    fn replace_current(&self, tmp: &Path) -> Result<(), StorageError> {
        let _g = self.current_guard.lock().unwrap_or_else(|p| p.into_inner());
        self.rename_current(tmp)
    }

    fn rename_current(&self, tmp: &Path) -> Result<(), StorageError> {
        std::fs::rename(tmp, self.snapshots.join(CURRENT)).map_err(snap_err)?;
        crate::durable::sync_dir(&self.snapshots).map_err(snap_err)
    }

    /// The current snapshot file, opened, with the header read from that
    /// very file (so the two always agree).
    pub(super) fn open_current(&self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let path = self.snapshots.join(CURRENT);
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(snap_err(e)),
        };
        let header = snapshot::read_header(BufReader::new(&file)).map_err(snap_err)?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).map_err(snap_err)?;
        Ok(Some(Snapshot {
            meta: header.meta,
            snapshot: Box::new(tokio::fs::File::from_std(file)),
        }))
    }

    pub(super) fn temp_path(&self, kind: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.snapshots
            .join(format!("{kind}-{}-{n}.tmp", std::process::id()))
    }

    /// Removes received snapshot files (a builder's own temporary file may
    /// be in use beside an install, so it is left alone).
    fn remove_received_files(&self) {
        if let Ok(dir) = std::fs::read_dir(&self.snapshots) {
            for f in dir.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if name.starts_with("receive-") && name.ends_with(".tmp") {
                    let _ = std::fs::remove_file(f.path());
                }
            }
        }
    }
}

impl RaftStateMachine<TypeConfig> for StateStore {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        Ok(self.read(|a| (a.last_applied, a.last_membership.clone())))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let (mut audit, mut targets) = (Vec::new(), BTreeSet::new());
        let (responses, head) = {
            let mut applied = self.write_applied();
            let responses: Vec<Response> = entries
                .into_iter()
                .map(|e| self.apply_entry(&mut applied, e, &mut audit, &mut targets))
                .collect();
            let mut batch = sled::Batch::default();
            self.audit.stage(&audit, &mut batch).map_err(io_err)?;
            self.audit.apply(batch).map_err(io_err)?;
            (responses, applied.state.audit.index)
        };
        self.wakeups.wake(&targets);
        self.archive_in_background(head);
        Ok(responses)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        let guard = self.audit_guard.clone().lock_owned().await;
        let copy = self.read(Replica::clone);
        let audit_first = match self.audit.first_index() {
            Ok(first) => first.unwrap_or(0),
            Err(e) => {
                tracing::error!(target: "arqonbus::audit", error = %e, "reading the audit store");
                0
            }
        };
        SnapshotBuilder {
            store: self.clone(),
            copy,
            audit_first,
            _guard: guard,
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, StorageError> {
        let path = self.temp_path("receive");
        let file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(snap_err)?;
        Ok(Box::new(file))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError> {
        let mut source = *snapshot;
        source
            .seek(std::io::SeekFrom::Start(0))
            .await
            .map_err(snap_err)?;
        let path = self.temp_path("install");
        let mut copy = tokio::fs::File::create(&path).await.map_err(snap_err)?;
        tokio::io::copy(&mut source, &mut copy)
            .await
            .map_err(snap_err)?;
        crate::durable::sync_all_async(&copy)
            .await
            .map_err(snap_err)?;
        drop(copy);
        // Check the whole file before it replaces anything.
        let store = self.clone();
        let checked = path.clone();
        let (header, state, batch) = blocking(move || store.read_snapshot_file(&checked)).await?;
        if header.meta.last_log_id != meta.last_log_id {
            let _ = std::fs::remove_file(&path);
            return Err(snap_err(SnapshotError::NotASnapshot(0)));
        }
        // openraft installs a snapshot only to replace this state: it
        // replaces it, and the current snapshot file, whatever they hold.
        self.replace_current(&path)?;
        self.commit_snapshot(&header, state, batch)?;
        self.remove_received_files();
        let bytes = std::fs::metadata(self.snapshots.join(CURRENT))
            .map(|m| m.len())
            .unwrap_or(0);
        tracing::info!(target: "arqonbus::raft", snapshot = %meta.snapshot_id, bytes, "installed snapshot");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        self.open_current()
    }
}

/// Runs file work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(f).await.map_err(snap_err)?
}

#[cfg(test)]
mod tests;
