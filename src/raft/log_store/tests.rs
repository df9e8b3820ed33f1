//! Sync ordering, shown with an instrumented store: the probe records each
//! write, sync start and sync end, and the append callback records itself.

use super::*;
use openraft::{CommittedLeaderId, EntryPayload};
use std::sync::{Arc, Mutex};

fn entry(index: u64) -> Entry {
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
        payload: EntryPayload::Blank,
    }
}

fn open() -> (tempfile::TempDir, LogStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LogStore::open(&dir.path().join("raft-log")).expect("log store opens");
    (dir, store)
}

#[tokio::test]
async fn the_append_callback_comes_only_after_the_sync_returns() {
    let (_dir, store) = open();
    for batch in [vec![entry(1)], vec![entry(2), entry(3), entry(4)]] {
        let probe = store.probe.clone();
        let seen_at_callback = Arc::new(Mutex::new(Vec::new()));
        let seen = seen_at_callback.clone();
        store
            .append_then(batch, move |result| {
                assert!(result.is_ok(), "sync failed: {result:?}");
                // What had happened by the time the callback ran.
                if let Ok(mut s) = seen.lock() {
                    *s = probe.take();
                }
            })
            .await
            .expect("append succeeds");
        let events = seen_at_callback.lock().expect("lock").clone();
        assert_eq!(
            events,
            ["write", "sync-begin", "sync-end"],
            "the callback ran before the sync had returned"
        );
    }
    let mut reader = store.clone();
    let got = reader.try_get_log_entries(1..5).await.expect("read back");
    assert_eq!(got.len(), 4);
}

#[tokio::test]
async fn the_vote_is_synced_before_save_vote_returns() {
    let (_dir, mut store) = open();
    let vote = Vote::new(3, 2);
    store.save_vote(&vote).await.expect("save vote");
    assert_eq!(
        store.probe.take(),
        ["sync-begin", "sync-end"],
        "save_vote returned without a completed sync"
    );
    assert_eq!(store.read_vote().await.expect("read"), Some(vote));
}

#[tokio::test]
async fn purge_syncs_last_purged_before_deleting() {
    let (_dir, mut store) = open();
    store
        .append_then((1..=5).map(entry), |_| {})
        .await
        .expect("append");
    store.probe.take();
    let purged = LogId::new(CommittedLeaderId::new(1, 1), 3);
    store.purge(purged).await.expect("purge");
    assert_eq!(store.probe.take(), ["sync-begin", "sync-end"]);
    let state = store.get_log_state().await.expect("state");
    assert_eq!(state.last_purged_log_id, Some(purged));
    let mut reader = store.clone();
    let left = reader.try_get_log_entries(0..10).await.expect("read");
    let indexes: Vec<u64> = left.iter().map(|e| e.log_id.index).collect();
    assert_eq!(indexes, [4, 5]);
}
