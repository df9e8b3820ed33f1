//! Building a snapshot: a consistent copy of the state taken when the
//! builder is created, streamed to a checksummed file with the audit entries
//! read from sled a chunk at a time, then made the current snapshot.

use super::state_store::{blocking, snap_err, Replica, StateStore};
use crate::audit::store::AuditStore;
use crate::raft::snapshot::{self, Header, SnapshotError};
use crate::raft::{SnapshotMeta, StorageError, TypeConfig};
use arqonbus_core::audit::AuditEntry;
use openraft::storage::Snapshot;
use openraft::RaftSnapshotBuilder;
use std::io::BufWriter;
use std::path::Path;
use std::sync::atomic::Ordering;

/// Audit entries read from sled per step while streaming a snapshot.
const STREAM_CHUNK: usize = 1024;

/// A consistent copy of the state taken when the builder was created.
pub struct SnapshotBuilder {
    pub(super) store: StateStore,
    pub(super) copy: Replica,
    pub(super) audit_first: u64,
    pub(super) _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl StateStore {
    /// Writes a snapshot of `copy` to `path`, streaming audit entries from
    /// `audit_first` to the copy's audit head.
    fn write_snapshot_file(
        &self,
        copy: &Replica,
        audit_first: u64,
        path: &Path,
    ) -> Result<SnapshotMeta, StorageError> {
        let last = copy.last_applied;
        let head = copy.state.audit.index;
        let count = if head >= audit_first && audit_first > 0 {
            head - audit_first + 1
        } else {
            0
        };
        let meta = SnapshotMeta {
            last_log_id: last,
            last_membership: copy.last_membership.clone(),
            snapshot_id: format!(
                "{}-{}-{}",
                last.map(|l| l.leader_id.term).unwrap_or(0),
                last.map(|l| l.index).unwrap_or(0),
                self.counter.fetch_add(1, Ordering::Relaxed)
            ),
        };
        let audit_start = match count {
            0 => None,
            _ => self
                .audit
                .range(audit_first, 1)
                .map_err(snap_err)?
                .first()
                .map(AuditEntry::head),
        };
        let header = Header {
            meta: meta.clone(),
            audit_count: count,
            audit_first: audit_start,
        };
        let file = std::fs::File::create(path).map_err(snap_err)?;
        let entries = AuditChunks {
            audit: &self.audit,
            next: audit_first,
            end: audit_first + count,
            buffer: Vec::new().into_iter(),
        };
        let out = snapshot::write(BufWriter::new(file), &header, &copy.state, entries)
            .map_err(snap_err)?;
        let file = out.into_inner().map_err(|e| snap_err(e.into_error()))?;
        crate::durable::sync_all(&file).map_err(snap_err)?;
        Ok(meta)
    }
}

/// Streams audit entries `next..end` from sled a chunk at a time.
struct AuditChunks<'a> {
    audit: &'a AuditStore,
    next: u64,
    end: u64,
    buffer: std::vec::IntoIter<AuditEntry>,
}

impl Iterator for AuditChunks<'_> {
    type Item = Result<AuditEntry, SnapshotError>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.buffer.next() {
            return Some(Ok(e));
        }
        if self.next >= self.end {
            return None;
        }
        let want = STREAM_CHUNK.min((self.end - self.next) as usize);
        match self.audit.range(self.next, want) {
            Ok(chunk) if !chunk.is_empty() => {
                self.next += chunk.len() as u64;
                self.buffer = chunk.into_iter();
                self.buffer.next().map(Ok)
            }
            Ok(_) => Some(Err(SnapshotError::AuditOrder(self.next))),
            Err(e) => Some(Err(SnapshotError::Io(std::io::Error::other(e)))),
        }
    }
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let path = self.store.temp_path("build");
        let store = self.store.clone();
        let copy = std::mem::take(&mut self.copy);
        let first = self.audit_first;
        let meta = blocking(move || {
            store
                .write_snapshot_file(&copy, first, &path)
                .map(|m| (m, path))
        })
        .await?;
        let (meta, path) = meta;
        if self.store.promote(&path, meta.last_log_id)? {
            tracing::info!(target: "arqonbus::raft", snapshot = %meta.snapshot_id, "built snapshot");
        } else {
            tracing::info!(target: "arqonbus::raft", snapshot = %meta.snapshot_id, "built snapshot superseded by a newer one");
        }
        // What is current now: this one, or the newer one that stays.
        self.store
            .open_current()?
            .ok_or_else(|| snap_err(SnapshotError::NotASnapshot(0)))
    }
}
