//! Where a node keeps the audit chain: recent entries in sled by index, older
//! ones in an append-only archive file.
//!
//! Retention: sled holds at most `keep` entries (default 100,000) plus one
//! `chunk` (default 10,000); when the chain grows past that, the oldest chunk
//! is appended to `audit-archive.jsonl` (one JSON entry per line, fsynced)
//! and only then removed from sled. Memory holds none of it; disk in sled
//! stays bounded, and the archive can be rotated away by the operator once
//! shipped elsewhere. [`AuditStore::verify`] checks archive and sled as one
//! chain.

use crate::record::{self, RecordError};
use arqonbus_core::audit::entry::AuditEntry;
use arqonbus_core::audit::verify::{Verifier, VerifyError, VerifyReport};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

const ARCHIVED_UPTO: &[u8] = b"archived_upto";
/// The archive's file name inside the node's data directory.
pub const ARCHIVE_FILE: &str = "audit-archive.jsonl";

/// How much of the chain stays in sled.
#[derive(Debug, Clone, Copy)]
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
    #[error("audit archive {path}, line {line}: {reason}")]
    BadArchiveLine {
        path: PathBuf,
        line: u64,
        reason: String,
    },
}

/// The audit chain of one node.
#[derive(Clone)]
pub struct AuditStore {
    tree: sled::Tree,
    meta: sled::Tree,
    archive: PathBuf,
    retention: Retention,
}

impl AuditStore {
    pub fn open(db: &sled::Db, dir: &Path, retention: Retention) -> Result<Self, AuditStoreError> {
        Ok(AuditStore {
            tree: db.open_tree("audit")?,
            meta: db.open_tree("audit_meta")?,
            archive: dir.join(ARCHIVE_FILE),
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

    /// Entries from `from` on, at most `limit`: from the archive where they
    /// were moved there, then from sled.
    pub fn read_from(&self, from: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditStoreError> {
        let mut out: Vec<AuditEntry> = Vec::new();
        if from <= self.archived_upto()? {
            for entry in read_archive(&self.archive)? {
                let entry = entry?;
                let next = out.last().map_or(from, |e| e.index + 1);
                if entry.index >= next && out.len() < limit {
                    out.push(entry);
                }
            }
        }
        let next = out.last().map_or(from, |e| e.index + 1);
        if out.len() < limit {
            out.extend(self.range(next, limit - out.len())?);
        }
        Ok(out)
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
        self.append_to_archive(&moving)?;
        let mut batch = sled::Batch::default();
        for e in &moving {
            batch.remove(&e.index.to_be_bytes());
        }
        self.tree.apply_batch(batch)?;
        self.meta.insert(ARCHIVED_UPTO, record::encode(&upto)?)?;
        tracing::info!(target: "arqonbus::audit", first, upto, "archived audit entries");
        Ok(moving.len() as u64)
    }

    fn append_to_archive(&self, entries: &[AuditEntry]) -> Result<(), AuditStoreError> {
        let io_err = |source| AuditStoreError::Archive {
            path: self.archive.clone(),
            source,
        };
        let created = !self.archive.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.archive)
            .map_err(io_err)?;
        let mut text = String::new();
        for e in entries {
            let line = serde_json::to_string(e).map_err(|e| io_err(e.into()))?;
            text.push_str(&line);
            text.push('\n');
        }
        file.write_all(text.as_bytes()).map_err(io_err)?;
        crate::durable::sync_data(&file).map_err(io_err)?;
        match (created, self.archive.parent()) {
            (true, Some(dir)) => crate::durable::sync_dir(dir).map_err(io_err),
            _ => Ok(()),
        }
    }

    /// Checks the archive and then sled as one chain.
    pub fn verify(&self) -> Result<Result<VerifyReport, VerifyError>, AuditStoreError> {
        let mut v = Verifier::new();
        let mut last = 0;
        let mut check = |e: &AuditEntry, v: &mut Verifier| -> Result<(), VerifyError> {
            // An archive write interrupted before sled was trimmed leaves
            // the same entries twice; identical repeats are skipped.
            if e.index <= last {
                return Ok(());
            }
            last = e.index;
            v.push(e)
        };
        for entry in read_archive(&self.archive)? {
            if let Err(err) = check(&entry?, &mut v) {
                return Ok(Err(err));
            }
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

/// Reads an archive file line by line (an absent file is an empty archive).
pub fn read_archive(
    path: &Path,
) -> Result<impl Iterator<Item = Result<AuditEntry, AuditStoreError>>, AuditStoreError> {
    let file = match File::open(path) {
        Ok(f) => Some(BufReader::new(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(AuditStoreError::Archive {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let path = path.to_path_buf();
    Ok(file
        .into_iter()
        .flat_map(|f| f.lines())
        .zip(1u64..)
        .map(move |(line, n)| {
            let line = line.map_err(|source| AuditStoreError::Archive {
                path: path.clone(),
                source,
            })?;
            serde_json::from_str(&line).map_err(|e| AuditStoreError::BadArchiveLine {
                path: path.clone(),
                line: n,
                reason: e.to_string(),
            })
        }))
}

#[cfg(test)]
mod tests;
