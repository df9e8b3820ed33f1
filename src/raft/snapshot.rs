//! Snapshot files: the state and the audit chain at one log position.
//!
//! Layout: the magic `ARQSNAP`, the format byte ([`FORMAT`]), then bincode
//! values in order — a [`Header`] (Raft metadata, the audit entry count and
//! the first retained entry's index and hash), the [`State`], each audit
//! entry — and last the SHA-256 of everything before it, so a torn or
//! corrupted file is refused rather than installed. The reader checks each
//! entry's own hash, the links between entries, that the first is the one
//! the header names and the last the state's audit head. The file is
//! written and read as a stream; audit entries never sit in memory all at
//! once on the writing side.
//!
//! A snapshot carries the audit entries its node still held, not always
//! from entry 1 (older ones may be in the archive): a node that installs
//! it holds the chain from the header's first entry on, and says so.

use crate::raft::SnapshotMeta;
use crate::record::{self, RecordError};
use arqonbus_core::audit::{AuditEntry, AuditHead};
use arqonbus_core::State;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};

const MAGIC: &[u8; 7] = b"ARQSNAP";
/// The snapshot format this release writes and reads (2: the header names
/// the first retained audit entry; 1 did not. 3: the state holds the
/// replicated replay marks. 4: each target holds its rollout, assignment
/// epoch and recent rollbacks and verdicts).
pub const FORMAT: u8 = 4;

/// What precedes the state in a snapshot file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub meta: SnapshotMeta,
    pub audit_count: u64,
    /// The first audit entry the file carries (none when it carries none).
    pub audit_first: Option<AuditHead>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot io: {0}")]
    Io(#[from] io::Error),
    #[error("snapshot encoding: {0}")]
    Record(#[from] RecordError),
    #[error(
        "not a snapshot file of format {FORMAT} (bad magic, or format {0} of another release)"
    )]
    NotASnapshot(u8),
    #[error("snapshot audit entry {0}: its hash does not match its contents")]
    AuditHash(u64),
    #[error("snapshot audit entries do not start where its header says (entry {0})")]
    AuditStart(u64),
    #[error("snapshot checksum does not match: the file is damaged or incomplete")]
    Checksum,
    #[error("snapshot audit entries are not a contiguous chain at index {0}")]
    AuditOrder(u64),
}

/// Checks one audit entry read from a snapshot against its own hash, the
/// one before it, and (the first) the header.
fn check_entry(
    header: &Header,
    prev: Option<&AuditEntry>,
    entry: &AuditEntry,
) -> Result<(), SnapshotError> {
    if entry.compute_hash() != entry.hash {
        return Err(SnapshotError::AuditHash(entry.index));
    }
    match prev {
        None if header.audit_first != Some(entry.head()) => {
            Err(SnapshotError::AuditStart(entry.index))
        }
        Some(p) if entry.index != p.index + 1 || entry.prev_hash != p.hash => {
            Err(SnapshotError::AuditOrder(entry.index))
        }
        _ => Ok(()),
    }
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Streams a snapshot to `out`; `audit` yields exactly `header.audit_count` entries.
pub fn write<W: Write>(
    out: W,
    header: &Header,
    state: &State,
    audit: impl Iterator<Item = Result<AuditEntry, SnapshotError>>,
) -> Result<W, SnapshotError> {
    let mut w = Hashing {
        inner: out,
        hasher: Sha256::new(),
    };
    w.write_all(MAGIC)?;
    w.write_all(&[FORMAT])?;
    record::write_to(header, &mut w)?;
    record::write_to(state, &mut w)?;
    let mut written = 0;
    for entry in audit {
        record::write_to(&entry?, &mut w)?;
        written += 1;
    }
    if written != header.audit_count {
        return Err(SnapshotError::AuditOrder(written));
    }
    let digest: [u8; 32] = w.hasher.finalize().into();
    let mut out = w.inner;
    out.write_all(&digest)?;
    out.flush()?;
    Ok(out)
}

/// Reads only the header (for `get_current_snapshot`).
pub fn read_header<R: Read>(mut input: R) -> Result<Header, SnapshotError> {
    read_magic(&mut input)?;
    Ok(record::read_from(&mut input)?)
}

fn read_magic<R: Read>(input: &mut R) -> Result<(), SnapshotError> {
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic)?;
    if &magic[..7] != MAGIC || magic[7] != FORMAT {
        return Err(SnapshotError::NotASnapshot(magic[7]));
    }
    Ok(())
}

/// Reads a whole snapshot, handing each audit entry to `on_entry` as it is
/// read; checks the chain links and the checksum before returning the state.
/// The caller must not commit what `on_entry` staged unless this succeeds.
pub fn read<R: Read>(
    input: R,
    mut on_entry: impl FnMut(AuditEntry) -> Result<(), SnapshotError>,
) -> Result<(Header, State), SnapshotError> {
    let mut r = Hashing {
        inner: input,
        hasher: Sha256::new(),
    };
    read_magic(&mut r)?;
    let header: Header = record::read_from(&mut r)?;
    let state: State = record::read_from(&mut r)?;
    let mut prev: Option<AuditEntry> = None;
    for _ in 0..header.audit_count {
        let entry: AuditEntry = record::read_from(&mut r)?;
        check_entry(&header, prev.as_ref(), &entry)?;
        prev = Some(entry.clone());
        on_entry(entry)?;
    }
    match &prev {
        Some(last) if last.head() != state.audit => {
            return Err(SnapshotError::AuditOrder(last.index))
        }
        None if header.audit_first.is_some() => return Err(SnapshotError::AuditStart(0)),
        _ => {}
    }
    let digest: [u8; 32] = r.hasher.finalize().into();
    let mut stored = [0u8; 32];
    r.inner.read_exact(&mut stored)?;
    if digest != stored {
        return Err(SnapshotError::Checksum);
    }
    Ok((header, state))
}

#[cfg(test)]
mod tests;
