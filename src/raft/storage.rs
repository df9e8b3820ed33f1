//! A node's data directory and how it is opened:
//!
//! ```text
//! DATA/raft-log/          the Raft log and vote (`wal`): the source of truth
//! DATA/audit.db/          sled: the audit chain's recent entries
//! DATA/audit-archive.jsonl  older audit entries
//! DATA/snapshots/         the last snapshot file
//! DATA/cluster-id         the cluster this node belongs to (`cluster_id`)
//! ```
//!
//! Only the log, the vote and snapshot files must survive power loss on
//! their own: the state and the audit tree are rebuilt from the last
//! snapshot plus the log on every start. sled is opened with segments of
//! 8 MiB, so no audit entry (at most a few hundred KiB) is ever stored as
//! a separate blob file, which sled never syncs; its own log recovers to a
//! consistent earlier point after a power loss, and the replay fills in
//! the rest. Its files are synced, with their directories, once at open.
//!
//! sled's exclusive lock on `audit.db` keeps a second process off the
//! whole directory: it is taken before the log is opened.
//!
//! A directory written by an earlier release (the log in sled, under
//! `DATA/db`) is refused with a message, never silently started empty.

use crate::audit::store::Retention;
use crate::durable;
use crate::raft::{LogStore, StateStore};
use std::path::{Path, PathBuf};

/// sled's segment size for the audit database (blob threshold = 1/16).
const SLED_SEGMENT_BYTES: usize = 8 * 1024 * 1024;

/// Why a data directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StorageOpenError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Log(#[from] crate::raft::wal::WalError),
    #[error("audit database: {0}")]
    Sled(#[from] sled::Error),
    #[error("state: {0}")]
    State(#[from] crate::raft::StorageError),
    #[error(
        "{0} was written by an earlier release (its Raft log is in sled, under db/); this release keeps the log in raft-log/. Start the node on an empty directory (remove it from the cluster first and add it back under a new id)"
    )]
    OldLayout(PathBuf),
}

/// The stores of one node, and the sled database they share.
pub struct Storage {
    pub log: LogStore,
    pub state: StateStore,
    pub db: sled::Db,
}

/// Where a data directory keeps its audit database.
pub fn audit_db_path(data: &Path) -> PathBuf {
    data.join("audit.db")
}

/// Opens (creating, durably, what is missing) the stores in `data`.
pub fn open(data: &Path, retention: Retention) -> Result<Storage, StorageOpenError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StorageOpenError::Io { path, source }
    };
    let log_dir = data.join("raft-log");
    if data.join("db").exists() && !log_dir.exists() {
        return Err(StorageOpenError::OldLayout(data.to_path_buf()));
    }
    durable::create_dir_all(data).map_err(io(data))?;
    // sled takes an exclusive lock on its files: opened first, it keeps a
    // second process off the whole directory, the log included.
    let db = open_audit_db(&audit_db_path(data))?;
    let log = LogStore::open(&log_dir)?;
    let state = StateStore::open(&db, data, retention)?;
    Ok(Storage { log, state, db })
}

/// Opens sled with large segments and makes its files durable once.
pub fn open_audit_db(path: &Path) -> Result<sled::Db, StorageOpenError> {
    let db = sled::Config::new()
        .path(path)
        .segment_size(SLED_SEGMENT_BYTES)
        .open()?;
    sync_tree(path).map_err(|source| StorageOpenError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(db)
}

/// Syncs every file and directory under `dir`, and `dir` in its parent.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            durable::sync_all(&std::fs::File::open(&path)?)?;
        }
    }
    durable::sync_dir(dir)?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => durable::sync_dir(parent),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_of_an_earlier_release_is_refused_not_started_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("db")).expect("old db dir");
        let err = open(dir.path(), Retention::default())
            .err()
            .expect("refused");
        assert!(matches!(err, StorageOpenError::OldLayout(_)), "{err}");
        assert!(!dir.path().join("raft-log").exists(), "nothing was created");
    }

    #[test]
    fn a_new_directory_gets_the_layout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("node-1");
        let storage = open(&data, Retention::default()).expect("opens");
        drop(storage);
        for part in ["raft-log", "audit.db", "snapshots"] {
            assert!(data.join(part).is_dir(), "{part} is missing");
        }
    }
}
