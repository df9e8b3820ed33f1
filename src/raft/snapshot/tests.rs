//! The snapshot reader refuses what the writer would never have written:
//! an audit entry whose hash does not match it, entries that do not start
//! where the header says, a snapshot of another format.

use super::*;
use crate::raft::SnapshotMeta;
use arqonbus_core::testing::audit_chain;

/// A snapshot of a state whose chain is `chain`, carrying `carried` of it.
fn bytes(chain: &[AuditEntry], carried: &[AuditEntry], first: Option<AuditHead>) -> Vec<u8> {
    let state = State {
        audit: chain.last().map(AuditEntry::head).unwrap_or_default(),
        ..State::default()
    };
    let header = Header {
        meta: SnapshotMeta::default(),
        audit_count: carried.len() as u64,
        audit_first: first,
    };
    write(Vec::new(), &header, &state, carried.iter().cloned().map(Ok)).expect("writes")
}

fn read_all(bytes: &[u8]) -> Result<u64, SnapshotError> {
    let mut n = 0;
    read(bytes, |_| {
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

#[test]
fn a_snapshot_of_a_retained_suffix_reads_back() {
    let chain = audit_chain(10);
    let first = Some(chain[3].head());
    assert_eq!(
        read_all(&bytes(&chain, &chain[3..], first)).expect("reads"),
        7
    );
    assert_eq!(read_all(&bytes(&[], &[], None)).expect("empty"), 0);
}

#[test]
fn an_entry_whose_hash_does_not_match_it_is_refused() {
    let chain = audit_chain(5);
    let mut carried = chain.clone();
    // Its contents changed, its hash and the links left alone.
    carried[2].details = "edited".into();
    assert!(matches!(
        read_all(&bytes(&chain, &carried, Some(chain[0].head()))),
        Err(SnapshotError::AuditHash(3))
    ));
}

#[test]
fn entries_that_do_not_start_where_the_header_says_are_refused() {
    let chain = audit_chain(6);
    // The header names entry 2; the first entries were taken out.
    assert!(matches!(
        read_all(&bytes(&chain, &chain[3..], Some(chain[1].head()))),
        Err(SnapshotError::AuditStart(4))
    ));
    assert!(matches!(
        read_all(&bytes(&chain, &[], Some(chain[1].head()))),
        Err(SnapshotError::AuditStart(0))
    ));
}

#[test]
fn a_snapshot_of_format_1_is_refused() {
    let chain = audit_chain(2);
    let mut old = bytes(&chain, &chain, Some(chain[0].head()));
    old[7] = 1;
    assert!(matches!(
        read_all(&old),
        Err(SnapshotError::NotASnapshot(1))
    ));
}
