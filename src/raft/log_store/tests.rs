//! Flush ordering, shown with an instrumented store: the probe records each
//! write, flush start and flush end, and the append callback records itself.

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
    let db = sled::open(dir.path().join("db")).expect("sled opens");
    let store = LogStore::open(&db).expect("log store opens");
    (dir, store)
}

#[tokio::test]
async fn the_append_callback_comes_only_after_the_flush_returns() {
    let (_dir, store) = open();
    for batch in [vec![entry(1)], vec![entry(2), entry(3), entry(4)]] {
        let probe = store.probe.clone();
        let seen_at_callback = Arc::new(Mutex::new(Vec::new()));
        let seen = seen_at_callback.clone();
        store
            .append_then(batch, move |result| {
                assert!(result.is_ok(), "flush failed: {result:?}");
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
            ["write", "flush-begin", "flush-end"],
            "the callback ran before the flush had returned"
        );
    }
    let mut reader = store.clone();
    let got = reader.try_get_log_entries(1..5).await.expect("read back");
    assert_eq!(got.len(), 4);
}

#[tokio::test]
async fn the_vote_is_flushed_before_save_vote_returns() {
    let (_dir, mut store) = open();
    let vote = Vote::new(3, 2);
    store.save_vote(&vote).await.expect("save vote");
    assert_eq!(
        store.probe.take(),
        ["flush-begin", "flush-end"],
        "save_vote returned without a completed flush"
    );
    assert_eq!(store.read_vote().await.expect("read"), Some(vote));
}

#[tokio::test]
async fn purge_flushes_last_purged_before_deleting() {
    let (_dir, mut store) = open();
    store
        .append_then((1..=5).map(entry), |_| {})
        .await
        .expect("append");
    store.probe.take();
    let purged = LogId::new(CommittedLeaderId::new(1, 1), 3);
    store.purge(purged).await.expect("purge");
    assert_eq!(store.probe.take(), ["flush-begin", "flush-end"]);
    let state = store.get_log_state().await.expect("state");
    assert_eq!(state.last_purged_log_id, Some(purged));
    let mut reader = store.clone();
    let left = reader.try_get_log_entries(0..10).await.expect("read");
    let indexes: Vec<u64> = left.iter().map(|e| e.log_id.index).collect();
    assert_eq!(indexes, [4, 5]);
}

#[tokio::test]
async fn everything_survives_reopening_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    {
        let db = sled::open(&path).expect("sled opens");
        let mut store = LogStore::open(&db).expect("opens");
        store
            .append_then((1..=3).map(entry), |_| {})
            .await
            .expect("append");
        store.save_vote(&Vote::new(2, 1)).await.expect("vote");
        let committed = Some(LogId::new(CommittedLeaderId::new(1, 1), 2));
        store.save_committed(committed).await.expect("committed");
        store
            .purge(LogId::new(CommittedLeaderId::new(1, 1), 1))
            .await
            .expect("purge");
    }
    let db = sled::open(&path).expect("sled reopens once the old handle is gone");
    let mut store = LogStore::open(&db).expect("opens");
    assert_eq!(
        store.read_vote().await.expect("vote"),
        Some(Vote::new(2, 1))
    );
    assert_eq!(
        store
            .read_committed()
            .await
            .expect("committed")
            .map(|l| l.index),
        Some(2)
    );
    let state = store.get_log_state().await.expect("state");
    assert_eq!(state.last_purged_log_id.map(|l| l.index), Some(1));
    assert_eq!(state.last_log_id.map(|l| l.index), Some(3));
}
