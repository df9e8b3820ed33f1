//! One segment file of the Raft log: records appended one after another,
//! each `[length: u32 BE][crc32 of payload: u32 BE][payload]`, where the
//! payload is one log entry as a persisted record (`crate::record`). A
//! segment is named by the index of its first entry.
//!
//! Opening scans every record. A record cut short or failing its checksum
//! at the end of the newest segment is the tail of a write that was never
//! acknowledged (a crash during `append`): it is cut off. Anywhere else it
//! is corruption, and the log refuses to open.

use super::WalError;
use crate::durable;
use crate::raft::{Entry, LogId};
use crate::record;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes before each record's payload.
const HEADER: u64 = 8;
/// The largest record a segment accepts (far above any entry we write).
const MAX_RECORD: u32 = 256 * 1024 * 1024;

/// Where one entry sits in its segment.
#[derive(Debug, Clone, Copy)]
pub struct Loc {
    pub log_id: LogId,
    pub offset: u64,
    pub len: u32,
}

/// One open segment.
#[derive(Debug)]
pub struct Segment {
    pub first_index: u64,
    path: PathBuf,
    file: File,
    /// Bytes of complete records.
    len: u64,
    pub locs: Vec<Loc>,
}

/// The file name of the segment whose first entry is `first_index`.
pub fn file_name(first_index: u64) -> String {
    format!("{first_index:020}.wal")
}

/// The first index a segment file name stands for, if it is one.
pub fn parse_name(name: &str) -> Option<u64> {
    name.strip_suffix(".wal")?.parse().ok()
}

impl Segment {
    /// A new, empty segment in `dir`, its directory entry made durable.
    pub fn create(dir: &Path, first_index: u64) -> Result<Segment, WalError> {
        let path = dir.join(file_name(first_index));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(WalError::io(&path))?;
        durable::sync_dir(dir).map_err(WalError::io(dir))?;
        Ok(Segment {
            first_index,
            path,
            file,
            len: 0,
            locs: Vec::new(),
        })
    }

    /// Opens and scans a segment; `newest` allows cutting a torn tail.
    pub fn open(path: &Path, first_index: u64, newest: bool) -> Result<Segment, WalError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(WalError::io(path))?;
        let size = file.metadata().map_err(WalError::io(path))?.len();
        let mut segment = Segment {
            first_index,
            path: path.to_path_buf(),
            file,
            len: 0,
            locs: Vec::new(),
        };
        while segment.len < size {
            match segment.scan_one(size) {
                Ok(loc) => {
                    segment.len = loc.offset + HEADER + u64::from(loc.len);
                    segment.locs.push(loc);
                }
                Err(reason) if newest => {
                    tracing::warn!(target: "arqonbus::raft", segment = %path.display(), offset = segment.len, %reason, "cutting off an unacknowledged torn tail");
                    segment
                        .file
                        .set_len(segment.len)
                        .map_err(WalError::io(path))?;
                    durable::sync_data(&segment.file).map_err(WalError::io(path))?;
                    break;
                }
                Err(reason) => {
                    return Err(WalError::Corrupt {
                        path: path.to_path_buf(),
                        offset: segment.len,
                        reason,
                    })
                }
            }
        }
        Ok(segment)
    }

    /// Reads the record at the scan position and checks it.
    fn scan_one(&self, size: u64) -> Result<Loc, String> {
        let offset = self.len;
        if size - offset < HEADER {
            return Err("a record header cut short".into());
        }
        let mut header = [0u8; HEADER as usize];
        self.file
            .read_exact_at(&mut header, offset)
            .map_err(|e| e.to_string())?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if len > MAX_RECORD || u64::from(len) > size - offset - HEADER {
            return Err(format!("a record of {len} bytes does not fit"));
        }
        let entry = self
            .payload(offset, len, Some(&header[4..]))
            .map_err(|e| e.to_string())?;
        let expected = self.first_index + self.locs.len() as u64;
        if entry.log_id.index != expected {
            return Err(format!(
                "entry {} where entry {expected} belongs",
                entry.log_id.index
            ));
        }
        Ok(Loc {
            log_id: entry.log_id,
            offset,
            len,
        })
    }

    /// Reads and decodes one payload, checking its checksum when given.
    fn payload(&self, offset: u64, len: u32, crc: Option<&[u8]>) -> Result<Entry, WalError> {
        let mut bytes = vec![0u8; len as usize];
        self.file
            .read_exact_at(&mut bytes, offset + HEADER)
            .map_err(WalError::io(&self.path))?;
        let corrupt = |reason: String| WalError::Corrupt {
            path: self.path.clone(),
            offset,
            reason,
        };
        if let Some(crc) = crc {
            if crc32fast::hash(&bytes).to_be_bytes() != crc {
                return Err(corrupt("checksum mismatch".into()));
            }
        }
        record::decode(&bytes).map_err(|e| corrupt(e.to_string()))
    }

    /// The entry at position `i` of this segment.
    pub fn read(&self, i: usize) -> Result<Entry, WalError> {
        let loc = self.locs[i];
        self.payload(loc.offset, loc.len, None)
    }

    /// Appends encoded entries in one write; not yet durable (see `sync`).
    pub fn append(&mut self, entries: &[(LogId, Vec<u8>)]) -> Result<(), WalError> {
        let mut buf = Vec::with_capacity(entries.iter().map(|(_, b)| b.len() + 8).sum());
        let mut locs = Vec::with_capacity(entries.len());
        let mut offset = self.len;
        for (log_id, payload) in entries {
            let len = u32::try_from(payload.len())
                .ok()
                .filter(|l| *l <= MAX_RECORD)
                .ok_or(WalError::TooLarge(payload.len()))?;
            buf.extend_from_slice(&len.to_be_bytes());
            buf.extend_from_slice(&crc32fast::hash(payload).to_be_bytes());
            buf.extend_from_slice(payload);
            locs.push(Loc {
                log_id: *log_id,
                offset,
                len,
            });
            offset += HEADER + u64::from(len);
        }
        self.file
            .write_all_at(&buf, self.len)
            .map_err(WalError::io(&self.path))?;
        self.len = offset;
        self.locs.extend(locs);
        Ok(())
    }

    /// `fdatasync`: everything appended so far is durable.
    pub fn sync(&self) -> Result<(), WalError> {
        durable::sync_data(&self.file).map_err(WalError::io(&self.path))
    }

    /// Drops entries from position `i` on, durably.
    pub fn cut(&mut self, i: usize) -> Result<(), WalError> {
        let at = self.locs.get(i).map_or(self.len, |l| l.offset);
        self.file.set_len(at).map_err(WalError::io(&self.path))?;
        self.sync()?;
        self.locs.truncate(i);
        self.len = at;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of complete records.
    pub fn size(&self) -> u64 {
        self.len
    }

    pub fn last_log_id(&self) -> Option<LogId> {
        self.locs.last().map(|l| l.log_id)
    }
}
