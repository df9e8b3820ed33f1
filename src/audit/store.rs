//! Where a node keeps the audit chain: recent entries in sled by index, older
//! ones in an append-only archive file.
//!
//! Retention: sled holds at most `keep` entries (default 100,000) plus one
//! `chunk` (default 10,000); when the chain grows past that, the oldest chunk
//! is appended to the archive (`archive.rs`: one JSON entry per line,
//! synced) and only then removed from sled. Memory holds none of it; disk in
//! sled stays bounded, and the archive can be rotated away by the operator
//! once shipped elsewhere. [`AuditStore::verify`] checks archive and sled as
//! one chain, from genesis or a checkpoint.
//!
//! Reads need no lock against archiving: sled is read first, and whatever
//! it no longer holds was written to the archive before it left sled.

use super::archive::Archive;
use crate::record::{self, RecordError};
use arqonbus_core::audit::entry::{AuditEntry, AuditHead};
use arqonbus_core::audit::verify::{Verifier, VerifyError, VerifyReport};
use std::io;
use std::path::{Path, PathBuf};

pub use super::archive::ARCHIVE_FILE;

const ARCHIVED_UPTO: &[u8] = b"archived_upto";

/// How much of the chain stays in sled (`audit` in the node's config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub keep: u64,
    pub chunk: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            keep: 100_000,
            chunk: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditStoreError {
    #[error("audit store: {0}")]
    Sled(#[from] sled::Error),
    #[error("audit store: {0}")]
    Record(#[from] RecordError),
    #[error("audit archive {path}: {source}")]
    Archive { path: PathBuf, source: io::Error },
    #[error("audit archive {path}, at byte {offset}: {reason}")]
    BadArchiveLine {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
}

/// The audit chain of one node.
#[derive(Clone)]
pub struct AuditStore {
    tree: sled::Tree,
    meta: sled::Tree,
    archive: Archive,
    retention: Retention,
}

impl AuditStore {
    pub fn open(db: &sled::Db, dir: &Path, retention: Retention) -> Result<Self, AuditStoreError> {
        Ok(AuditStore {
            tree: db.open_tree("audit")?,
            meta: db.open_tree("audit_meta")?,
            archive: Archive::new(dir),
            retention,
        })
    }

    /// The last index moved to the archive (0 when none).
    pub fn archived_upto(&self) -> Result<u64, AuditStoreError> {
        Ok(match self.meta.get(ARCHIVED_UPTO)? {
            Some(bytes) => record::decode(&bytes)?,
            None => 0,
        })
    }

    /// Adds entries to a batch, skipping those already archived. The caller
    /// applies the batch, so entries land atomically with what goes with them.
    pub fn stage(
        &self,
        entries: &[AuditEntry],
        batch: &mut sled::Batch,
    ) -> Result<(), AuditStoreError> {
        let archived = self.archived_upto()?;
        for e in entries.iter().filter(|e| e.index > archived) {
            batch.insert(&e.index.to_be_bytes(), record::encode(e)?);
        }
        Ok(())
    }

    pub fn apply(&self, batch: sled::Batch) -> Result<(), AuditStoreError> {
        Ok(self.tree.apply_batch(batch)?)
    }

    /// The first index still in sled.
    pub fn first_index(&self) -> Result<Option<u64>, AuditStoreError> {
        match self.tree.first()? {
            Some((_, bytes)) => Ok(Some(record::decode::<AuditEntry>(&bytes)?.index)),
            None => Ok(None),
        }
    }

    /// Entries in sled from `from`, at most `limit`, in order.
    pub fn range(&self, from: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditStoreError> {
        self.tree
            .range(from.to_be_bytes()..)
            .take(limit)
            .map(|item| Ok(record::decode(&item?.1)?))
            .collect()
    }

    /// Entries from `from` (0 reads as 1) up to `upto`, at most `limit`,
    /// consecutive: from sled, or from the archive for what sled no longer
    /// holds. A node that lacks entries (it installed a snapshot) answers
    /// with those it has after `from`; a hole ends the answer before it.
    pub fn read_from(
        &self,
        from: u64,
        limit: usize,
        upto: u64,
    ) -> Result<Vec<AuditEntry>, AuditStoreError> {
        let from = from.max(1);
        if from > upto {
            return Ok(Vec::new());
        }
        let limit = limit.min(usize::try_from(upto - from + 1).unwrap_or(usize::MAX));
        let mut out = self.range(from, limit)?;
        if out.first().is_none_or(|e| e.index != from) {
            out = self.archive.read(from, limit)?;
            let next = out.last().map_or(from, |e| e.index + 1);
            if out.len() < limit {
                out.extend(self.range(next, limit - out.len())?);
            }
        }
        let mut end = out.len();
        for (i, pair) in out.windows(2).enumerate() {
            if pair[1].index != pair[0].index + 1 {
                end = i + 1;
                break;
            }
        }
        out.truncate(end);
        out.retain(|e| e.index <= upto);
        Ok(out)
    }

    /// Lines of the archive parsed so far (what archive reads cost).
    pub fn archive_lines_parsed(&self) -> u64 {
        self.archive.lines_parsed()
    }

    /// The last `n` entries in sled, oldest first.
    pub fn tail(&self, n: usize) -> Result<Vec<AuditEntry>, AuditStoreError> {
        let mut out: Vec<AuditEntry> = self
            .tree
            .iter()
            .rev()
            .take(n)
            .map(|item| Ok(record::decode(&item?.1)?))
            .collect::<Result<_, AuditStoreError>>()?;
        out.reverse();
        Ok(out)
    }

    /// The first index in sled when a chunk is due to move, else `None`.
    pub fn archive_due(&self, head: u64) -> Result<Option<u64>, AuditStoreError> {
        let Some(first) = self.first_index()? else {
            return Ok(None);
        };
        let held = head.saturating_sub(first) + 1;
        Ok((held > self.retention.keep + self.retention.chunk).then_some(first))
    }

    /// Moves the oldest chunk to the archive when sled holds more than
    /// `keep + chunk` entries up to `head`. Returns how many moved.
    pub fn archive_if_due(&self, head: u64) -> Result<u64, AuditStoreError> {
        let Some(first) = self.archive_due(head)? else {
            return Ok(0);
        };
        let upto = first + self.retention.chunk - 1;
        let moving = self.range(first, self.retention.chunk as usize)?;
        self.archive.append(&moving)?;
        let mut batch = sled::Batch::default();
        for e in &moving {
            batch.remove(&e.index.to_be_bytes());
        }
        self.tree.apply_batch(batch)?;
        self.meta.insert(ARCHIVED_UPTO, record::encode(&upto)?)?;
        tracing::info!(target: "arqonbus::audit", first, upto, "archived audit entries");
        Ok(moving.len() as u64)
    }

    /// Checks the archive and then sled as one chain, from genesis or from
    /// `checkpoint`.
    pub fn verify(
        &self,
        checkpoint: Option<AuditHead>,
    ) -> Result<Result<VerifyReport, VerifyError>, AuditStoreError> {
        let mut v = checkpoint.map_or_else(Verifier::new, Verifier::from_checkpoint);
        let mut last = 0;
        let mut failed = None;
        let mut check = |e: &AuditEntry, v: &mut Verifier| -> Result<(), VerifyError> {
            // An archive write interrupted before sled was trimmed leaves
            // the same entries twice; identical repeats are skipped.
            if e.index <= last {
                return Ok(());
            }
            last = e.index;
            v.push(e)
        };
        self.archive.all(|entry| match check(&entry, &mut v) {
            Ok(()) => true,
            Err(err) => {
                failed = Some(err);
                false
            }
        })?;
        if let Some(err) = failed {
            return Ok(Err(err));
        }
        for item in self.tree.iter() {
            let (key, bytes) = item?;
            let entry = match record::decode::<AuditEntry>(&bytes) {
                Ok(e) => e,
                Err(err) => {
                    let index = key.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
                    return Ok(Err(VerifyError::Unreadable {
                        index,
                        reason: err.to_string(),
                    }));
                }
            };
            if let Err(err) = check(&entry, &mut v) {
                return Ok(Err(err));
            }
        }
        Ok(Ok(v.finish()))
    }
}

#[cfg(test)]
mod tests;
