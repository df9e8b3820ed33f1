//! The Raft log on disk: a write-ahead log of segment files, plus the hard
//! state (vote, last purged id) in a file of its own. Built for the one
//! promise everything else relies on: an entry is durable (`fdatasync`)
//! before `append` returns, and a vote before `save_vote` returns.
//!
//! `append` writes all of a call's entries in one `write` and covers them
//! with one `fdatasync` (group commit: openraft hands over every entry that
//! arrived while the previous append ran, and the node's batcher packs
//! concurrent commands into one entry above that). A segment is closed at
//! [`SEGMENT_BYTES`] and a new one started; creating a segment syncs the
//! directory. `truncate` cuts a segment and removes later ones durably;
//! `purge` records the purged id durably before it deletes whole segments
//! below it (entries of a partly purged segment stay on disk, hidden).
//!
//! The index of every entry (its log id and place) is kept in memory: a
//! few dozen bytes per entry, bounded by the snapshot interval.

mod meta;
mod segment;

pub use meta::HardState;

use crate::durable;
use crate::raft::{Entry, LogId, Vote};
use crate::record::{self, RecordError};
use meta::MetaFiles;
use segment::Segment;
use std::path::{Path, PathBuf};

/// A segment is closed once it holds this many bytes.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Why the log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("raft log {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("raft log {path} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("raft log: {0}")]
    Record(#[from] RecordError),
    #[error("raft log: an entry of {0} bytes is too large to write")]
    TooLarge(usize),
    #[error("raft log: entry {got} appended where {expected} belongs")]
    OutOfOrder { expected: u64, got: u64 },
}

impl WalError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: &Path) -> impl Fn(std::io::Error) -> WalError + '_ {
        move |source| WalError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The log of one node.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    segment_bytes: u64,
    segments: Vec<Segment>,
    meta: MetaFiles,
    hard: HardState,
    #[cfg(test)]
    pub(crate) probe: crate::raft::log_store::probe::Probe,
}

impl Wal {
    /// Opens the log in `dir` (created, durably, when missing) and scans it.
    pub fn open(dir: &Path) -> Result<Wal, WalError> {
        Wal::open_with(dir, SEGMENT_BYTES)
    }

    /// [`Wal::open`] with segments closed at `segment_bytes`.
    pub fn open_with(dir: &Path, segment_bytes: u64) -> Result<Wal, WalError> {
        durable::create_dir_all(dir).map_err(WalError::io(dir))?;
        let meta = MetaFiles::new(dir);
        let hard = meta.load()?;
        let mut firsts: Vec<u64> = std::fs::read_dir(dir)
            .map_err(WalError::io(dir))?
            .flatten()
            .filter_map(|e| segment::parse_name(&e.file_name().to_string_lossy()))
            .collect();
        firsts.sort_unstable();
        let mut segments = Vec::with_capacity(firsts.len());
        for (i, first) in firsts.iter().enumerate() {
            let path = dir.join(segment::file_name(*first));
            segments.push(Segment::open(&path, *first, i + 1 == firsts.len())?);
        }
        let wal = Wal {
            dir: dir.to_path_buf(),
            segment_bytes,
            segments,
            meta,
            hard,
            #[cfg(test)]
            probe: Default::default(),
        };
        wal.check_continuity()?;
        Ok(wal)
    }

    /// Each segment must start after the previous one ends.
    fn check_continuity(&self) -> Result<(), WalError> {
        for pair in self.segments.windows(2) {
            let next = pair[0].first_index + pair[0].locs.len() as u64;
            if pair[1].first_index < next {
                return Err(WalError::Corrupt {
                    path: pair[1].path().to_path_buf(),
                    offset: 0,
                    reason: format!(
                        "starts at entry {}, after entry {}",
                        pair[1].first_index,
                        next.saturating_sub(1)
                    ),
                });
            }
        }
        Ok(())
    }

    pub fn hard_state(&self) -> &HardState {
        &self.hard
    }

    /// The first index still readable (above the purged ones).
    fn first_readable(&self) -> u64 {
        self.hard.last_purged.map_or(0, |l| l.index + 1)
    }

    /// The last entry's id, or the purged id when no entry is left.
    pub fn last_log_id(&self) -> Option<LogId> {
        self.segments
            .iter()
            .rev()
            .find_map(Segment::last_log_id)
            .filter(|l| l.index >= self.first_readable())
            .or(self.hard.last_purged)
    }

    /// Appends entries and syncs them: durable when this returns.
    ///
    /// Entries at or below the last one replace it and what follows (an
    /// implicit truncate; openraft truncates first itself). Entries that
    /// leave a gap after the last one start a new segment: openraft never
    /// does that, but its storage suite treats the log as a map.
    pub fn append(&mut self, entries: Vec<Entry>) -> Result<(), WalError> {
        let Some(first) = entries.first().map(|e| e.log_id.index) else {
            return Ok(());
        };
        if entries
            .windows(2)
            .any(|w| w[1].log_id.index != w[0].log_id.index + 1)
        {
            return Err(WalError::OutOfOrder {
                expected: first + 1,
                got: entries[1].log_id.index,
            });
        }
        if self.next_index().is_some_and(|n| first < n) {
            self.truncate(first)?;
        }
        let encoded = entries
            .iter()
            .map(|e| Ok((e.log_id, record::encode(e)?)))
            .collect::<Result<Vec<_>, WalError>>()?;
        self.writable_segment(first)?.append(&encoded)?;
        #[cfg(test)]
        self.probe.record("write");
        #[cfg(test)]
        self.probe.record("sync-begin");
        self.current()?.sync()?;
        #[cfg(test)]
        self.probe.record("sync-end");
        Ok(())
    }

    /// The index the next entry must have, when there are entries.
    fn next_index(&self) -> Option<u64> {
        let last = self.segments.last()?;
        Some(last.first_index + last.locs.len() as u64)
    }

    fn current(&mut self) -> Result<&mut Segment, WalError> {
        self.segments.last_mut().ok_or(WalError::OutOfOrder {
            expected: 0,
            got: 0,
        })
    }

    /// The newest segment, or a new one when it is full, when `first` does
    /// not follow its last entry, or when none exists.
    fn writable_segment(&mut self, first: u64) -> Result<&mut Segment, WalError> {
        let follows = self.next_index() == Some(first);
        let full = !follows
            || self
                .segments
                .last()
                .is_none_or(|s| s.size() >= self.segment_bytes);
        if full {
            let segment = Segment::create(&self.dir, first)?;
            self.segments.push(segment);
        }
        self.current()
    }

    /// Entries with indexes in `[from, to)` that are still readable.
    pub fn read(&self, from: u64, to: u64) -> Result<Vec<Entry>, WalError> {
        self.read_limited(from, to, u64::MAX)
    }

    /// Entries `from..to` in order, stopping before the one that would take
    /// the records read past `budget` bytes (the first is always read).
    pub fn read_limited(&self, from: u64, to: u64, budget: u64) -> Result<Vec<Entry>, WalError> {
        let from = from.max(self.first_readable());
        let mut out = Vec::new();
        let mut used = 0u64;
        for s in &self.segments {
            let end = s.first_index + s.locs.len() as u64;
            if end <= from || s.first_index >= to {
                continue;
            }
            let lo = from.saturating_sub(s.first_index) as usize;
            let hi = (to.min(end) - s.first_index) as usize;
            for i in lo..hi {
                used += u64::from(s.locs[i].len);
                if used > budget && !out.is_empty() {
                    return Ok(out);
                }
                out.push(s.read(i)?);
            }
        }
        Ok(out)
    }

    /// Removes entries from `index` on (they conflict with the leader's),
    /// durably, before any later append.
    pub fn truncate(&mut self, index: u64) -> Result<(), WalError> {
        let mut removed = false;
        while let Some(last) = self.segments.last() {
            if last.first_index < index {
                break;
            }
            let path = last.path().to_path_buf();
            std::fs::remove_file(&path).map_err(WalError::io(&path))?;
            self.segments.pop();
            removed = true;
        }
        if removed {
            durable::sync_dir(&self.dir).map_err(WalError::io(&self.dir))?;
        }
        if let Some(last) = self.segments.last_mut() {
            let keep = index.saturating_sub(last.first_index) as usize;
            if keep < last.locs.len() {
                last.cut(keep)?;
            }
        }
        Ok(())
    }

    /// Records `upto` as purged (durably), then deletes whole segments at
    /// or below it.
    pub fn purge(&mut self, upto: LogId) -> Result<(), WalError> {
        let mut hard = self.hard.clone();
        hard.last_purged = Some(upto);
        #[cfg(test)]
        self.probe.record("sync-begin");
        self.meta.store(&hard)?;
        #[cfg(test)]
        self.probe.record("sync-end");
        self.hard = hard;
        let mut removed = false;
        while let Some(first) = self.segments.first() {
            let end = first.first_index + first.locs.len() as u64;
            if end > upto.index + 1 {
                break;
            }
            let path = first.path().to_path_buf();
            std::fs::remove_file(&path).map_err(WalError::io(&path))?;
            self.segments.remove(0);
            removed = true;
        }
        if removed {
            durable::sync_dir(&self.dir).map_err(WalError::io(&self.dir))?;
        }
        Ok(())
    }

    /// Records the vote; durable when this returns.
    pub fn save_vote(&mut self, vote: &Vote) -> Result<(), WalError> {
        let mut hard = self.hard.clone();
        hard.vote = Some(*vote);
        #[cfg(test)]
        self.probe.record("sync-begin");
        self.meta.store(&hard)?;
        #[cfg(test)]
        self.probe.record("sync-end");
        self.hard = hard;
        Ok(())
    }

    pub fn committed(&self) -> Option<LogId> {
        self.meta.load_committed()
    }

    pub fn save_committed(&self, committed: Option<LogId>) -> Result<(), WalError> {
        self.meta.store_committed(committed)
    }

    /// The segment files, oldest first (for tests and inspection).
    pub fn segment_paths(&self) -> Vec<PathBuf> {
        self.segments
            .iter()
            .map(|s| s.path().to_path_buf())
            .collect()
    }
}

#[cfg(test)]
mod tests;
