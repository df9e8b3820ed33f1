//! Snapshots at the store level: built on one node, installed on another,
//! then the rest of the log, gives what applying everything gives.

use super::*;
use arqonbus_core::testing::arb_command;
use arqonbus_core::Command;
use openraft::RaftSnapshotBuilder;
use openraft::{CommittedLeaderId, EntryPayload, Membership};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn entries(commands: &[Command]) -> Vec<Entry> {
    let log_id = |i: usize| LogId::new(CommittedLeaderId::new(1, 1), i as u64 + 1);
    let mut out = vec![Entry {
        log_id: log_id(0),
        payload: EntryPayload::Membership(Membership::new(vec![BTreeSet::from([1, 2, 3])], None)),
    }];
    out.extend(commands.iter().enumerate().map(|(i, c)| Entry {
        log_id: log_id(i + 1),
        payload: if i % 7 == 3 {
            EntryPayload::Blank
        } else {
            EntryPayload::Normal(c.clone())
        },
    }));
    out
}

struct Node {
    _dir: tempfile::TempDir,
    _db: sled::Db,
    sm: StateStore,
}

fn node(retention: Retention) -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sled::open(dir.path().join("db")).expect("sled");
    let sm = StateStore::open(&db, dir.path(), retention).expect("store");
    Node {
        _dir: dir,
        _db: db,
        sm,
    }
}

fn fingerprint(sm: &StateStore) -> (Vec<u8>, Option<LogId>) {
    sm.read(|a| {
        (
            crate::record::encode(&a.state).expect("encodes"),
            a.last_applied,
        )
    })
}

async fn snapshot_then_rest(commands: Vec<Command>, cut: usize, retention: Retention) {
    let all = entries(&commands);
    let cut = cut.min(all.len());
    let mut full = node(retention);
    full.sm.apply(all.clone()).await.expect("apply all");

    let mut leader = node(retention);
    leader
        .sm
        .apply(all[..cut].to_vec())
        .await
        .expect("apply prefix");
    let snap = leader
        .sm
        .get_snapshot_builder()
        .await
        .build_snapshot()
        .await
        .expect("build");

    let mut follower = node(retention);
    let mut receiving = follower.sm.begin_receiving_snapshot().await.expect("begin");
    let mut source = *snap.snapshot;
    tokio::io::copy(&mut source, &mut *receiving)
        .await
        .expect("transfer");
    follower
        .sm
        .install_snapshot(&snap.meta, receiving)
        .await
        .expect("install");
    assert_eq!(fingerprint(&follower.sm), fingerprint(&leader.sm));
    follower
        .sm
        .apply(all[cut..].to_vec())
        .await
        .expect("apply rest");

    assert_eq!(fingerprint(&follower.sm), fingerprint(&full.sm));
    let report = follower
        .sm
        .audit()
        .verify(None)
        .expect("readable")
        .expect("verifies");
    assert_eq!(report.head, full.sm.read(|a| a.state.audit));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn a_snapshot_plus_the_rest_of_the_log_equals_the_whole_log(
        commands in prop::collection::vec(arb_command(), 1..30),
        cut in 0usize..32,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(snapshot_then_rest(commands, cut, Retention::default()));
    }
}

#[tokio::test]
async fn snapshots_stream_many_audit_entries_across_chunks() {
    let commands: Vec<Command> = (0..3000)
        .map(|i| {
            let mut c = arqonbus_core::testing::sample_override(i);
            c.at_ms = i as u64;
            c
        })
        .collect();
    snapshot_then_rest(commands, 2500, Retention::default()).await;
}

#[tokio::test]
async fn a_damaged_snapshot_is_refused_and_changes_nothing() {
    let commands: Vec<Command> = (0..20)
        .map(arqonbus_core::testing::sample_override)
        .collect();
    let mut leader = node(Retention::default());
    leader.sm.apply(entries(&commands)).await.expect("apply");
    let snap = leader
        .sm
        .get_snapshot_builder()
        .await
        .build_snapshot()
        .await
        .expect("build");
    let mut bytes = Vec::new();
    let mut source = *snap.snapshot;
    tokio::io::AsyncReadExt::read_to_end(&mut source, &mut bytes)
        .await
        .expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;

    let mut follower = node(Retention::default());
    let before = fingerprint(&follower.sm);
    let mut receiving = follower.sm.begin_receiving_snapshot().await.expect("begin");
    tokio::io::AsyncWriteExt::write_all(&mut *receiving, &bytes)
        .await
        .expect("write");
    let result = follower.sm.install_snapshot(&snap.meta, receiving).await;
    assert!(result.is_err(), "a damaged snapshot was installed");
    assert_eq!(fingerprint(&follower.sm), before, "state changed");
    assert_eq!(follower.sm.audit().first_index().expect("audit"), None);
}

fn overrides(n: usize) -> Vec<Command> {
    (0..n)
        .map(arqonbus_core::testing::sample_override)
        .collect()
}

async fn build(n: &mut Node) -> openraft::storage::Snapshot<TypeConfig> {
    n.sm.get_snapshot_builder()
        .await
        .build_snapshot()
        .await
        .expect("build")
}

async fn install(n: &mut Node, snap: openraft::storage::Snapshot<TypeConfig>) {
    let mut receiving = n.sm.begin_receiving_snapshot().await.expect("begin");
    let mut source = *snap.snapshot;
    tokio::io::copy(&mut source, &mut *receiving)
        .await
        .expect("transfer");
    n.sm.install_snapshot(&snap.meta, receiving)
        .await
        .expect("install");
}

/// The meta of the current snapshot file, read from the file itself.
fn current_meta(n: &Node) -> SnapshotMeta {
    let path = n.sm.snapshots.join(CURRENT);
    let file = std::fs::File::open(path).expect("a current snapshot");
    snapshot::read_header(BufReader::new(file))
        .expect("header")
        .meta
}

#[tokio::test]
async fn an_installed_snapshot_replaces_the_state_even_below_a_newer_file() {
    let all = entries(&overrides(20));
    let mut source = node(Retention::default());
    source.sm.apply(all[..6].to_vec()).await.expect("apply");
    let older = build(&mut source).await;

    let mut n = node(Retention::default());
    n.sm.apply(all.clone()).await.expect("apply all");
    build(&mut n).await;
    let meta = older.meta.clone();
    install(&mut n, older).await;

    assert_eq!(fingerprint(&n.sm), fingerprint(&source.sm), "not replaced");
    assert_eq!(current_meta(&n).last_log_id, meta.last_log_id);
}

#[tokio::test]
async fn a_build_overtaken_by_an_install_answers_with_the_current_snapshot() {
    let all = entries(&overrides(20));
    let mut n = node(Retention::default());
    n.sm.apply(all[..4].to_vec()).await.expect("apply");
    let mut builder = n.sm.get_snapshot_builder().await;

    let mut ahead = node(Retention::default());
    ahead.sm.apply(all.clone()).await.expect("apply all");
    let newer = build(&mut ahead).await;
    install(&mut n, newer).await;

    let built = builder.build_snapshot().await.expect("build");
    assert_eq!(
        built.meta,
        current_meta(&n),
        "the answer names the file it hands over"
    );
    assert_eq!(built.meta.last_log_id, all.last().map(|e| e.log_id));
}
