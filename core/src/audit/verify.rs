//! Checking an audit chain: every hash recomputed, every link followed.
//!
//! The checker takes entries in order from any source (the archive file,
//! the node's database, entries fetched over the network) and names the
//! first index that does not verify.

use crate::audit::entry::{AuditEntry, AuditHead, GENESIS};

/// What a successful check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked.
    pub count: u64,
    /// The first index seen; above 1 when older entries were not supplied,
    /// in which case that entry's `prev_hash` is taken on trust.
    pub first_index: u64,
    /// The last entry checked.
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
    #[error("audit entry 1 must follow the all-zero genesis hash")]
    BadGenesis,
    #[error("audit entry {index}: unreadable: {reason}")]
    Unreadable { index: u64, reason: String },
}

impl VerifyError {
    /// The index of the first entry that failed.
    pub fn index(&self) -> u64 {
        match self {
            VerifyError::BadHash { index }
            | VerifyError::BrokenLink { index }
            | VerifyError::Gap { index, .. }
            | VerifyError::Unreadable { index, .. } => *index,
            VerifyError::BadGenesis => 1,
        }
    }
}

/// An incremental checker, for chains too long to hold in memory.
#[derive(Debug, Default)]
pub struct Verifier {
    head: Option<AuditHead>,
    first_index: u64,
    count: u64,
}

impl Verifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry in order.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), VerifyError> {
        let index = entry.index;
        match self.head {
            None => {
                if index == 1 && entry.prev_hash != GENESIS {
                    return Err(VerifyError::BadGenesis);
                }
                self.first_index = index;
            }
            Some(prev) => {
                if index != prev.index + 1 {
                    return Err(VerifyError::Gap {
                        index,
                        expected: prev.index + 1,
                    });
                }
                if entry.prev_hash != prev.hash {
                    return Err(VerifyError::BrokenLink { index });
                }
            }
        }
        if entry.compute_hash() != entry.hash {
            return Err(VerifyError::BadHash { index });
        }
        self.head = Some(entry.head());
        self.count += 1;
        Ok(())
    }

    pub fn finish(self) -> VerifyReport {
        VerifyReport {
            count: self.count,
            first_index: self.first_index,
            head: self.head.unwrap_or_default(),
        }
    }
}

/// Checks a whole chain given in order.
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
mod tests {
    use super::*;
    use crate::testing::audit_chain as chain;

    #[test]
    fn a_good_chain_verifies_and_reports_its_head() {
        let c = chain(5);
        let r = verify(&c).expect("verifies");
        assert_eq!(r.count, 5);
        assert_eq!(r.first_index, 1);
        assert_eq!(r.head, c[4].head());
        let tail = verify(&c[2..]).expect("a suffix verifies from its anchor");
        assert_eq!(tail.first_index, 3);
    }

    #[test]
    fn each_kind_of_damage_names_its_index() {
        let mut c = chain(5);
        c[2].details = "edited".into();
        assert_eq!(verify(&c), Err(VerifyError::BadHash { index: 3 }));

        let mut c = chain(5);
        c[2].details = "edited".into();
        c[2].hash = c[2].compute_hash();
        assert_eq!(verify(&c), Err(VerifyError::BrokenLink { index: 4 }));

        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify(&c),
            Err(VerifyError::Gap {
                index: 3,
                expected: 2
            })
        );

        let mut c = chain(2);
        c[0].prev_hash = [1; 32];
        c[0].hash = c[0].compute_hash();
        assert_eq!(verify(&c).map_err(|e| e.index()), Err(1));
    }
}
