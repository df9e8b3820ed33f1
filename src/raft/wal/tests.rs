//! The write-ahead log on a real directory: what survives reopening, what
//! a torn tail and corruption do, truncation, purging, segment rotation.

use super::*;
use openraft::{CommittedLeaderId, EntryPayload};
use std::os::unix::fs::FileExt;

fn entry(term: u64, index: u64) -> Entry {
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(term, 1), index),
        payload: EntryPayload::Blank,
    }
}

fn indexes(wal: &Wal, from: u64, to: u64) -> Vec<u64> {
    wal.read(from, to)
        .expect("read")
        .iter()
        .map(|e| e.log_id.index)
        .collect()
}

#[test]
fn entries_vote_and_purge_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut wal = Wal::open(dir.path()).expect("open");
        wal.append((1..=5).map(|i| entry(1, i)).collect())
            .expect("append");
        wal.save_vote(&Vote::new(3, 2)).expect("vote");
        wal.purge(LogId::new(CommittedLeaderId::new(1, 1), 2))
            .expect("purge");
        wal.save_committed(Some(LogId::new(CommittedLeaderId::new(1, 1), 4)))
            .expect("committed");
    }
    let wal = Wal::open(dir.path()).expect("reopen");
    assert_eq!(wal.hard_state().vote, Some(Vote::new(3, 2)));
    assert_eq!(wal.hard_state().last_purged.map(|l| l.index), Some(2));
    assert_eq!(wal.committed().map(|l| l.index), Some(4));
    assert_eq!(wal.last_log_id().map(|l| l.index), Some(5));
    assert_eq!(
        indexes(&wal, 0, 100),
        [3, 4, 5],
        "purged entries stay hidden"
    );
}

#[test]
fn a_torn_tail_of_the_newest_segment_is_cut_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = {
        let mut wal = Wal::open(dir.path()).expect("open");
        wal.append((1..=3).map(|i| entry(1, i)).collect())
            .expect("append");
        wal.segment_paths()[0].clone()
    };
    // A crash in the middle of writing entry 4: half a record at the end.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open segment");
    let size = file.metadata().expect("meta").len();
    file.write_all_at(&[0, 0, 0, 40, 1, 2, 3], size)
        .expect("torn write");
    drop(file);
    let mut wal = Wal::open(dir.path()).expect("a torn tail is not corruption");
    assert_eq!(indexes(&wal, 0, 100), [1, 2, 3]);
    wal.append(vec![entry(1, 4)])
        .expect("appending goes on after the cut");
    let wal = Wal::open(dir.path()).expect("reopen");
    assert_eq!(indexes(&wal, 0, 100), [1, 2, 3, 4]);
}

#[test]
fn a_damaged_record_in_an_older_segment_refuses_to_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = {
        let mut wal = Wal::open_with(dir.path(), 1).expect("open");
        for i in 1..=3 {
            wal.append(vec![entry(1, i)]).expect("append");
        }
        assert_eq!(wal.segment_paths().len(), 3, "one segment per entry");
        wal.segment_paths()[0].clone()
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&first)
        .expect("open");
    file.write_all_at(&[0xff], 12).expect("flip a payload byte");
    drop(file);
    let err = Wal::open(dir.path()).expect_err("corruption is refused");
    assert!(matches!(err, WalError::Corrupt { .. }), "{err}");
}

#[test]
fn truncation_removes_conflicting_entries_across_segments_durably() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut wal = Wal::open_with(dir.path(), 30).expect("open");
        for i in 1..=10 {
            wal.append(vec![entry(1, i)]).expect("append");
        }
        assert!(wal.segment_paths().len() > 2, "several segments");
        wal.truncate(4).expect("truncate");
        assert_eq!(wal.last_log_id().map(|l| l.index), Some(3));
        wal.append(vec![entry(2, 4)]).expect("the leader's entry 4");
    }
    let wal = Wal::open(dir.path()).expect("reopen");
    let entries = wal.read(0, 100).expect("read");
    let ids: Vec<(u64, u64)> = entries
        .iter()
        .map(|e| (e.log_id.leader_id.term, e.log_id.index))
        .collect();
    assert_eq!(ids, [(1, 1), (1, 2), (1, 3), (2, 4)]);
}

#[test]
fn entries_out_of_order_within_one_append_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wal = Wal::open(dir.path()).expect("open");
    let err = wal
        .append(vec![entry(1, 1), entry(1, 3)])
        .expect_err("a gap inside one append");
    assert!(
        matches!(
            err,
            WalError::OutOfOrder {
                expected: 2,
                got: 3
            }
        ),
        "{err}"
    );
}

#[test]
fn an_append_over_existing_entries_replaces_them_and_a_gap_starts_a_segment() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut wal = Wal::open(dir.path()).expect("open");
        wal.append((1..=4).map(|i| entry(1, i)).collect())
            .expect("append");
        wal.append(vec![entry(2, 3)]).expect("overwrite from 3");
        wal.append(vec![entry(2, 6)]).expect("a gap");
        assert_eq!(wal.segment_paths().len(), 2);
    }
    let wal = Wal::open(dir.path()).expect("reopen");
    let ids: Vec<(u64, u64)> = wal
        .read(0, 100)
        .expect("read")
        .iter()
        .map(|e| (e.log_id.leader_id.term, e.log_id.index))
        .collect();
    assert_eq!(ids, [(1, 1), (1, 2), (2, 3), (2, 6)]);
}

#[test]
fn purge_deletes_whole_segments_below_the_purged_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wal = Wal::open_with(dir.path(), 1).expect("open");
    for i in 1..=6 {
        wal.append(vec![entry(1, i)]).expect("append");
    }
    wal.purge(LogId::new(CommittedLeaderId::new(1, 1), 4))
        .expect("purge");
    assert_eq!(wal.segment_paths().len(), 2, "segments of 5 and 6 remain");
    assert_eq!(indexes(&wal, 0, 100), [5, 6]);
    wal.purge(LogId::new(CommittedLeaderId::new(1, 1), 6))
        .expect("purge all");
    assert!(wal.segment_paths().is_empty());
    assert_eq!(
        wal.last_log_id().map(|l| l.index),
        Some(6),
        "the purged id stands in"
    );
    wal.append(vec![entry(1, 7)])
        .expect("the log goes on after a full purge");
    assert_eq!(indexes(&wal, 0, 100), [7]);
}

#[test]
fn a_limited_read_stops_at_its_budget_but_always_reads_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wal = Wal::open(dir.path()).expect("open");
    wal.append((1..=6).map(|i| entry(1, i)).collect())
        .expect("append");
    let one = crate::record::encoded_len(&entry(1, 1)).expect("size") as u64;
    let ids = |v: Vec<Entry>| v.iter().map(|e| e.log_id.index).collect::<Vec<_>>();
    let read = |budget| ids(wal.read_limited(2, 7, budget).expect("read"));
    assert_eq!(read(u64::MAX), [2, 3, 4, 5, 6]);
    assert_eq!(read(3 * one), [2, 3, 4]);
    assert_eq!(read(3 * one - 1), [2, 3]);
    assert_eq!(read(1), [2], "the first entry even over the budget");
}
