use super::*;
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

#[test]
fn old_entries_move_to_the_archive_and_the_chain_still_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, store) = open(dir.path());
    let c = chain(37);
    for e in &c {
        put(&store, std::slice::from_ref(e));
        store.archive_if_due(e.index).expect("archive");
    }
    // Keep 10 + chunk 5: a chunk moves whenever sled would hold 16, at
    // heads 16, 21, 26, 31 and 36, leaving 26..=37 (12 entries) in sled.
    assert_eq!(store.archived_upto().expect("meta"), 25);
    assert_eq!(store.first_index().expect("first"), Some(26));
    let archived: Vec<_> = read_archive(&dir.path().join(ARCHIVE_FILE))
        .expect("archive opens")
        .collect::<Result<_, _>>()
        .expect("archive reads");
    assert_eq!(archived, c[..25].to_vec());
    let report = store.verify().expect("readable").expect("verifies");
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
    let err = store.verify().expect("readable").expect_err("damage found");
    assert_eq!(err.index(), 12);

    tree.insert(12u64.to_be_bytes(), vec![1, 2, 3])
        .expect("insert");
    let err = store
        .verify()
        .expect("readable")
        .expect_err("garbage found");
    assert_eq!(err.index(), 12);
    tree.insert(12u64.to_be_bytes(), record::encode(&c[11]).expect("enc"))
        .expect("insert");
    assert!(store.verify().expect("readable").is_ok());

    let path = dir.path().join(ARCHIVE_FILE);
    let text = std::fs::read_to_string(&path).expect("archive");
    std::fs::write(&path, text.replacen("batch_size=3", "batch_size=4", 1)).expect("write");
    let err = store
        .verify()
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
    store.append_to_archive(&c[..5]).expect("archive");
    let report = store.verify().expect("readable").expect("verifies");
    assert_eq!(report.count, 16);
    store.archive_if_due(16).expect("archive");
    assert_eq!(
        store.verify().expect("readable").expect("verifies").count,
        16
    );
}
