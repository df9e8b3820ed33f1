//! The audit archive: older audit entries, one JSON line each
//! (`audit-archive.jsonl`), appended a chunk at a time and synced.
//!
//! Reading a page never parses the whole file: a sparse index keeps the
//! byte offset of every [`INDEX_EVERY`]th entry, so a page costs at most
//! that many lines before it plus its own. The index is built by scanning
//! the file once, and afterwards only what was appended since is scanned.
//! Only complete lines are read: a chunk being appended as a reader comes
//! is not there for it yet. The same entries written twice (an archive
//! write interrupted before sled was trimmed) are read once.

use super::store::AuditStoreError;
use arqonbus_core::audit::entry::AuditEntry;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The archive's file name inside the node's data directory.
pub const ARCHIVE_FILE: &str = "audit-archive.jsonl";
/// One index point per this many entries.
const INDEX_EVERY: u64 = 1000;

/// Where entries start in the file, for what has been scanned so far.
#[derive(Debug, Default)]
struct Index {
    /// Entry index → byte offset of its line (every `INDEX_EVERY`th).
    offsets: BTreeMap<u64, u64>,
    /// Bytes of complete lines scanned.
    scanned: u64,
}

/// Only the index of a line, to scan without building the entry.
#[derive(Deserialize)]
struct IndexOnly {
    index: u64,
}

/// The archive file of one node. Clones share the index.
#[derive(Debug, Clone)]
pub struct Archive {
    path: PathBuf,
    index: Arc<Mutex<Index>>,
    /// Lines parsed so far, by scans and reads (what a page costs).
    lines_parsed: Arc<AtomicU64>,
}

impl Archive {
    pub fn new(dir: &Path) -> Self {
        Archive {
            path: dir.join(ARCHIVE_FILE),
            index: Arc::default(),
            lines_parsed: Arc::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines parsed so far by this archive's reads and scans.
    pub fn lines_parsed(&self) -> u64 {
        self.lines_parsed.load(Ordering::Relaxed)
    }

    fn io_err(&self) -> impl Fn(io::Error) -> AuditStoreError + '_ {
        |source| AuditStoreError::Archive {
            path: self.path.clone(),
            source,
        }
    }

    fn bad_line(&self, offset: u64, reason: String) -> AuditStoreError {
        AuditStoreError::BadArchiveLine {
            path: self.path.clone(),
            offset,
            reason,
        }
    }

    /// Appends `entries` and syncs them (and the directory, when the file
    /// is new) before returning.
    pub fn append(&self, entries: &[AuditEntry]) -> Result<(), AuditStoreError> {
        let created = !self.path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(self.io_err())?;
        let mut text = String::new();
        for e in entries {
            let line = serde_json::to_string(e).map_err(|e| self.io_err()(e.into()))?;
            text.push_str(&line);
            text.push('\n');
        }
        file.write_all(text.as_bytes()).map_err(self.io_err())?;
        crate::durable::sync_data(&file).map_err(self.io_err())?;
        match (created, self.path.parent()) {
            (true, Some(dir)) => crate::durable::sync_dir(dir).map_err(self.io_err()),
            _ => Ok(()),
        }
    }

    /// Entries from `from` on, at most `limit`, in index order.
    pub fn read(&self, from: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditStoreError> {
        let Some(mut file) = self.open()? else {
            return Ok(Vec::new());
        };
        let start = {
            let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
            self.scan(&mut file, &mut index)?;
            index
                .offsets
                .range(..=from)
                .next_back()
                .map_or(0, |(_, &o)| o)
        };
        let mut out: Vec<AuditEntry> = Vec::new();
        self.lines(&mut file, start, |offset, line| {
            let next = out.last().map_or(from, |e| e.index + 1);
            if self.index_of(offset, line)? >= next {
                out.push(self.entry(offset, line)?);
            }
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }

    /// Every entry, in file order (what `verify` reads).
    pub fn all(&self, mut each: impl FnMut(AuditEntry) -> bool) -> Result<(), AuditStoreError> {
        let Some(mut file) = self.open()? else {
            return Ok(());
        };
        self.lines(&mut file, 0, |offset, line| {
            Ok(each(self.entry(offset, line)?))
        })
    }

    fn open(&self) -> Result<Option<File>, AuditStoreError> {
        match File::open(&self.path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io_err()(e)),
        }
    }

    /// Indexes the complete lines appended since the last scan.
    fn scan(&self, file: &mut File, index: &mut Index) -> Result<(), AuditStoreError> {
        let mut end = index.scanned;
        let offsets = &mut index.offsets;
        self.lines(file, index.scanned, |offset, line| {
            let i = self.index_of(offset, line)?;
            if (i - 1) % INDEX_EVERY == 0 {
                offsets.entry(i).or_insert(offset);
            }
            end = offset + line.len() as u64 + 1;
            Ok(true)
        })?;
        index.scanned = end;
        Ok(())
    }

    /// Calls `f` with the offset and text of each complete line from
    /// `start`, until it returns false.
    fn lines(
        &self,
        file: &mut File,
        start: u64,
        mut f: impl FnMut(u64, &[u8]) -> Result<bool, AuditStoreError>,
    ) -> Result<(), AuditStoreError> {
        file.seek(SeekFrom::Start(start)).map_err(self.io_err())?;
        let mut reader = BufReader::new(file);
        let mut offset = start;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(self.io_err())?;
            if n == 0 || line.last() != Some(&b'\n') {
                return Ok(());
            }
            line.pop();
            if !f(offset, &line)? {
                return Ok(());
            }
            offset += n as u64;
        }
    }

    fn index_of(&self, offset: u64, line: &[u8]) -> Result<u64, AuditStoreError> {
        self.lines_parsed.fetch_add(1, Ordering::Relaxed);
        serde_json::from_slice::<IndexOnly>(line)
            .map(|l| l.index)
            .map_err(|e| self.bad_line(offset, e.to_string()))
            .and_then(|i| match i {
                0 => Err(self.bad_line(offset, "entry index 0".into())),
                i => Ok(i),
            })
    }

    fn entry(&self, offset: u64, line: &[u8]) -> Result<AuditEntry, AuditStoreError> {
        serde_json::from_slice(line).map_err(|e| self.bad_line(offset, e.to_string()))
    }
}

#[cfg(test)]
mod tests;
