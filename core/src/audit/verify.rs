//! Checking an audit chain: every hash recomputed, every link followed,
//! every signature a signed entry keeps verified again, from a known
//! start.
//!
//! The checker takes entries in order from any source (the archive file,
//! the node's database, entries fetched over the network) and names the
//! first index that does not verify. It starts at genesis (entry 1 follows
//! the all-zero hash) or at a checkpoint, an entry whose index and hash
//! are known from elsewhere (an earlier verification's head): nothing is
//! taken on trust. Entries that are not there at the start are reported
//! as a gap, never skipped.

use crate::audit::entry::{AuditEntry, AuditHead, Hash, GENESIS};

/// What a successful check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked.
    pub count: u64,
    /// The first index checked: 1, or the one after the checkpoint.
    pub first_index: u64,
    /// The last entry checked (the start when none was).
    pub head: AuditHead,
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("audit entry {index}: its hash does not match its contents")]
    BadHash { index: u64 },
    #[error("audit entry {index}: prev_hash does not match entry {}", .index - 1)]
    BrokenLink { index: u64 },
    #[error(
        "audit entry {index}: expected index {expected} (an entry is missing or out of order)"
    )]
    Gap { index: u64, expected: u64 },
    #[error("gap {from}..{to}: these entries are not there to check")]
    Missing { from: u64, to: u64 },
    #[error("audit entry 1 must follow the all-zero genesis hash")]
    BadGenesis,
    #[error("audit entry {index} does not have the checkpoint's hash")]
    NotTheCheckpoint { index: u64 },
    #[error("audit entry {index}: unreadable: {reason}")]
    Unreadable { index: u64, reason: String },
    #[error("audit entry {index}: its signature does not verify: {reason}")]
    BadSignature { index: u64, reason: String },
}

impl VerifyError {
    /// The index of the first entry that failed.
    pub fn index(&self) -> u64 {
        match self {
            VerifyError::BadHash { index }
            | VerifyError::BrokenLink { index }
            | VerifyError::Gap { index, .. }
            | VerifyError::NotTheCheckpoint { index }
            | VerifyError::Unreadable { index, .. }
            | VerifyError::BadSignature { index, .. } => *index,
            VerifyError::Missing { from, .. } => *from,
            VerifyError::BadGenesis => 1,
        }
    }
}

/// An incremental checker, for chains too long to hold in memory.
#[derive(Debug)]
pub struct Verifier {
    /// The last entry known good: the start, then each entry checked.
    head: AuditHead,
    first_index: u64,
    count: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A checker that starts at genesis: the first entry must be 1.
    pub fn new() -> Self {
        Self::from_checkpoint(AuditHead::default())
    }

    /// A checker that starts after `checkpoint`: entries up to its index
    /// are passed over (the checkpoint's own must have its hash), and the
    /// next must follow it.
    pub fn from_checkpoint(checkpoint: AuditHead) -> Self {
        Verifier {
            head: checkpoint,
            first_index: checkpoint.index + 1,
            count: 0,
        }
    }

    /// Checks the next entry in order.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), VerifyError> {
        let index = entry.index;
        let expected = self.head.index + 1;
        if self.count == 0 && index < expected {
            return self.pass_over(entry);
        }
        if index != expected {
            return Err(match self.count {
                0 => VerifyError::Missing {
                    from: expected,
                    to: index.saturating_sub(1),
                },
                _ => VerifyError::Gap { index, expected },
            });
        }
        if entry.prev_hash != self.head.hash {
            return Err(match index {
                1 => VerifyError::BadGenesis,
                _ => VerifyError::BrokenLink { index },
            });
        }
        if entry.compute_hash() != entry.hash {
            return Err(VerifyError::BadHash { index });
        }
        if let Some(seal) = &entry.seal {
            seal.verify().map_err(|e| VerifyError::BadSignature {
                index,
                reason: e.to_string(),
            })?;
        }
        self.head = entry.head();
        self.count += 1;
        Ok(())
    }

    /// An entry at or before the start: the checkpoint's own must be it.
    fn pass_over(&self, entry: &AuditEntry) -> Result<(), VerifyError> {
        if entry.index != self.head.index {
            return Ok(());
        }
        if entry.hash != self.head.hash || entry.compute_hash() != entry.hash {
            return Err(VerifyError::NotTheCheckpoint { index: entry.index });
        }
        Ok(())
    }

    /// The next index this checker wants.
    pub fn next_index(&self) -> u64 {
        self.head.index + 1
    }

    pub fn finish(self) -> VerifyReport {
        VerifyReport {
            count: self.count,
            first_index: self.first_index,
            head: self.head,
        }
    }
}

/// A checkpoint as `INDEX:HASH` (the hash as 64 hex digits).
pub fn parse_checkpoint(text: &str) -> Result<AuditHead, String> {
    let (index, hash) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not INDEX:HASH"))?;
    let index: u64 = index
        .parse()
        .map_err(|_| format!("`{index}` is not an entry index"))?;
    let mut bytes: Hash = GENESIS;
    hex::decode_to_slice(hash, &mut bytes)
        .map_err(|_| format!("`{hash}` is not a hash of 64 hex digits"))?;
    Ok(AuditHead { index, hash: bytes })
}

/// Checks a whole chain given in order, from genesis.
pub fn verify<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<VerifyReport, VerifyError> {
    let mut v = Verifier::new();
    for e in entries {
        v.push(e)?;
    }
    Ok(v.finish())
}

#[cfg(test)]
mod tests;
