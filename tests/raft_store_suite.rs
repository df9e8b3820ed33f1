//! openraft's own storage test suite, run against our stores.

use arqonbus::audit::store::Retention;
use arqonbus::raft::storage;
use arqonbus::raft::{LogStore, StateStore, StorageError, TypeConfig};
use openraft::testing::{StoreBuilder, Suite};
use tempfile::TempDir;

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateStore, TempDir> for Builder {
    async fn build(&self) -> Result<(TempDir, LogStore, StateStore), StorageError> {
        let dir = tempfile::tempdir().map_err(|e| openraft::StorageIOError::write(&e))?;
        let s = storage::open(dir.path(), Retention::default())
            .map_err(|e| openraft::StorageIOError::write(&e))?;
        Ok((dir, s.log, s.state))
    }
}

#[test]
fn openraft_storage_suite() {
    if let Err(e) = Suite::test_all(Builder) {
        panic!("openraft's storage suite failed: {e}");
    }
}
