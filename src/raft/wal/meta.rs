//! The log's hard state: the vote and the last purged log id, in one small
//! file (`meta`) replaced atomically and durably on every change, so a
//! node that loses power never forgets a vote it gave. The committed log
//! id is a hint openraft can re-learn; it goes in a file of its own
//! (`committed`), written without a sync.

use super::WalError;
use crate::durable;
use crate::raft::{LogId, Vote};
use crate::record;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What must survive power loss besides the entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HardState {
    pub vote: Option<Vote>,
    pub last_purged: Option<LogId>,
}

/// The files of the hard state and the committed hint.
#[derive(Debug)]
pub struct MetaFiles {
    meta: PathBuf,
    committed: PathBuf,
}

impl MetaFiles {
    pub fn new(dir: &Path) -> MetaFiles {
        MetaFiles {
            meta: dir.join("meta"),
            committed: dir.join("committed"),
        }
    }

    /// The hard state written last, or the default when there is none.
    pub fn load(&self) -> Result<HardState, WalError> {
        match std::fs::read(&self.meta) {
            Ok(bytes) => record::decode(&bytes).map_err(|e| WalError::Corrupt {
                path: self.meta.clone(),
                offset: 0,
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HardState::default()),
            Err(e) => Err(WalError::io(&self.meta)(e)),
        }
    }

    /// Replaces the hard state; durable when this returns.
    pub fn store(&self, state: &HardState) -> Result<(), WalError> {
        let bytes = record::encode(state)?;
        durable::write_atomic(&self.meta, &bytes).map_err(WalError::io(&self.meta))
    }

    /// The committed hint, if one was written and reads back whole.
    pub fn load_committed(&self) -> Option<LogId> {
        let bytes = std::fs::read(&self.committed).ok()?;
        record::decode::<Option<LogId>>(&bytes).ok().flatten()
    }

    /// Writes the committed hint without syncing (losing it is safe).
    pub fn store_committed(&self, committed: Option<LogId>) -> Result<(), WalError> {
        let bytes = record::encode(&committed)?;
        std::fs::write(&self.committed, bytes).map_err(WalError::io(&self.committed))
    }
}
