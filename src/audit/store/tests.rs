use super::*;
use crate::audit::archive::Archive;
use arqonbus_core::testing::audit_chain as chain;

fn open(dir: &Path) -> (sled::Db, AuditStore) {
    let db = sled::open(dir.join("db")).expect("sled opens");
    let store = AuditStore::open(&db, dir, Retention { keep: 10, chunk: 5 }).expect("store opens");
    (db, store)
}

fn put(store: &AuditStore, entries: &[AuditEntry]) {
    let mut batch = sled::Batch::default();
    store.stage(entries, &mut batch).expect("stage");
    store.apply(batch).expect("apply");
}

/// Applies entries one by one, archiving as a node does after each apply.
fn put_archiving(store: &AuditStore, entries: &[AuditEntry]) {
    for e in entries {
        put(store, std::slice::from_ref(e));
        store.archive_if_due(e.index).expect("archive");
    }
}

#[test]
fn old_entries_move_to_the_archive_and_the_chain_still_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, store) = open(dir.path());
    let c = chain(37);
    put_archiving(&store, &c);
    // Keep 10 + chunk 5: a chunk moves whenever sled would hold 16, at
    // heads 16, 21, 26, 31 and 36, leaving 26..=37 (12 entries) in sled.
    assert_eq!(store.archived_upto().expect("meta"), 25);
    assert_eq!(store.first_index().expect("first"), Some(26));
    let mut archived = Vec::new();
    Archive::new(dir.path())
        .all(|e| {
            archived.push(e);
            true
        })
        .expect("archive reads");
    assert_eq!(archived, c[..25].to_vec());
    let report = store.verify(None).expect("readable").expect("verifies");
    assert_eq!(report.count, 37);
    assert_eq!(report.first_index, 1);
    assert_eq!(report.head, c[36].head());
    // Re-staging archived entries (a replay after restart) does not bring them back.
    put(&store, &c[..5]);
    assert_eq!(store.first_index().expect("first"), Some(26));
}

#[test]
fn a_corrupted_entry_is_named_by_index_in_sled_and_in_the_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, store) = open(dir.path());
    let c = chain(20);
    put(&store, &c);
    store.archive_if_due(20).expect("archive");
    assert_eq!(store.archived_upto().expect("meta"), 5);

    let mut bad = c[11].clone();
    bad.details = "batch_size=999".into();
    let tree = db.open_tree("audit").expect("tree");
    tree.insert(12u64.to_be_bytes(), record::encode(&bad).expect("enc"))
        .expect("insert");
    let err = store
        .verify(None)
        .expect("readable")
        .expect_err("damage found");
    assert_eq!(err.index(), 12);

    tree.insert(12u64.to_be_bytes(), vec![1, 2, 3])
        .expect("insert");
    let err = store
        .verify(None)
        .expect("readable")
        .expect_err("garbage found");
    assert_eq!(err.index(), 12);
    tree.insert(12u64.to_be_bytes(), record::encode(&c[11]).expect("enc"))
        .expect("insert");
    assert!(store.verify(None).expect("readable").is_ok());

    let path = dir.path().join(ARCHIVE_FILE);
    let text = std::fs::read_to_string(&path).expect("archive");
    std::fs::write(&path, text.replacen("batch_size=3", "batch_size=4", 1)).expect("write");
    let err = store
        .verify(None)
        .expect("readable")
        .expect_err("archive damage found");
    assert_eq!(err.index(), 3);
}

#[test]
fn an_archive_written_twice_after_a_crash_still_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, store) = open(dir.path());
    let c = chain(16);
    put(&store, &c);
    // As if a crash came between the archive's fsync and trimming sled.
    Archive::new(dir.path()).append(&c[..5]).expect("archive");
    let report = store.verify(None).expect("readable").expect("verifies");
    assert_eq!(report.count, 16);
    store.archive_if_due(16).expect("archive");
    assert_eq!(
        store
            .verify(None)
            .expect("readable")
            .expect("verifies")
            .count,
        16
    );
}

#[test]
fn a_page_is_consecutive_never_past_the_head_and_spans_archive_and_sled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, store) = open(dir.path());
    let c = chain(37);
    put_archiving(&store, &c);
    let ids = |v: Vec<AuditEntry>| v.iter().map(|e| e.index).collect::<Vec<_>>();
    // 1..=25 archived, 26..=37 in sled.
    assert_eq!(ids(store.read_from(0, 3, 37).expect("read")), [1, 2, 3]);
    assert_eq!(
        ids(store.read_from(23, 5, 37).expect("read")),
        [23, 24, 25, 26, 27]
    );
    assert_eq!(
        ids(store.read_from(30, 100, 33).expect("read")),
        [30, 31, 32, 33],
        "nothing past the head read first, though sled has more"
    );
    assert!(store.read_from(34, 10, 33).expect("read").is_empty());
}

#[test]
fn a_node_that_lacks_entries_answers_with_those_it_has_up_to_a_hole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, store) = open(dir.path());
    let c = chain(12);
    // Caught up by a snapshot carrying 5..=8, then applied 10..=12 (9 lost).
    put(&store, &c[4..8]);
    put(&store, &c[9..]);
    let ids = |v: Vec<AuditEntry>| v.iter().map(|e| e.index).collect::<Vec<_>>();
    assert_eq!(
        ids(store.read_from(1, 100, 12).expect("read")),
        [5, 6, 7, 8]
    );
    assert_eq!(
        ids(store.read_from(9, 100, 12).expect("read")),
        [10, 11, 12]
    );
    let err = store.verify(None).expect("readable").expect_err("a gap");
    assert_eq!(err, VerifyError::Missing { from: 1, to: 4 });
    let from_8 = store
        .verify(Some(c[7].head()))
        .expect("readable")
        .expect_err("9 is missing");
    assert_eq!(from_8, VerifyError::Missing { from: 9, to: 9 });
}

#[test]
fn deleting_the_first_archived_entries_is_a_gap_from_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, store) = open(dir.path());
    let c = chain(20);
    put(&store, &c);
    store.archive_if_due(20).expect("archive");
    let path = dir.path().join(ARCHIVE_FILE);
    let text = std::fs::read_to_string(&path).expect("archive");
    let rest: Vec<&str> = text.lines().skip(2).collect();
    std::fs::write(&path, rest.join("\n") + "\n").expect("write");
    let err = store.verify(None).expect("readable").expect_err("a gap");
    assert_eq!(err, VerifyError::Missing { from: 1, to: 2 });
    let from_2 = store.verify(Some(c[1].head())).expect("readable");
    assert_eq!(
        from_2.map(|r| (r.first_index, r.head)),
        Ok((3, c[19].head()))
    );
}
