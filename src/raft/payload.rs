//! How large an append to a follower may be. Peers refuse a message over
//! [`MAX_PEER_MESSAGE`]; an append that would encode larger is not sent,
//! and openraft is told, with `PayloadTooLarge`, how many of its entries
//! fit, so it sends those first. The log store's byte-bounded reads keep
//! appends far below the limit; this is the check that makes it a rule.

use crate::raft::network::PeerCallError;
use crate::raft::peer::{self, PeerRequest, MAX_PEER_MESSAGE};
use crate::raft::{NodeId, TypeConfig};
use openraft::error::PayloadTooLarge;
use openraft::raft::AppendEntriesRequest;

/// Why an append was not sent.
pub(super) enum Oversize {
    /// Too large: send this many entries first.
    Split(PayloadTooLarge),
    /// Cannot be sent at all (not even one entry fits, or no encoding).
    Unsendable(PeerCallError),
}

/// Encodes an append, or says how many of its entries fit under the peer
/// limit.
pub(super) fn encode_append(
    rpc: AppendEntriesRequest<TypeConfig>,
    target: NodeId,
) -> Result<Vec<u8>, Oversize> {
    let kind = "append_entries";
    let req = PeerRequest::AppendEntries(rpc);
    let unsendable = |reason: String| {
        Oversize::Unsendable(PeerCallError::Stream {
            kind,
            target,
            reason,
        })
    };
    let bytes = peer::encode(&req).map_err(|e| unsendable(e.to_string()))?;
    if bytes.len() <= MAX_PEER_MESSAGE {
        return Ok(bytes);
    }
    let PeerRequest::AppendEntries(rpc) = req else {
        return Err(unsendable("not an append".into()));
    };
    // Each entry as it sits in the message (a record without its format byte).
    let sizes = rpc
        .entries
        .iter()
        .map(|e| crate::record::encoded_len(e).map(|n| n - 1))
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|e| unsendable(e.to_string()))?;
    let overhead = bytes.len() - sizes.iter().sum::<usize>();
    match entries_that_fit(&sizes, overhead, MAX_PEER_MESSAGE) {
        0 => Err(Oversize::Unsendable(PeerCallError::EntryTooLarge {
            kind,
            target,
            size: sizes.first().copied().unwrap_or(0) + overhead,
        })),
        n => Err(Oversize::Split(PayloadTooLarge::new_entries_hint(n as u64))),
    }
}

/// How many of the first entries, of these sizes, fit in `limit` with
/// `overhead` bytes besides them.
fn entries_that_fit(sizes: &[usize], overhead: usize, limit: usize) -> usize {
    let mut used = overhead;
    sizes
        .iter()
        .take_while(|&&size| {
            used += size;
            used <= limit
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::{Entry, LogId};
    use arqonbus_core::{Actor, Command, Op, Role};
    use openraft::{CommittedLeaderId, EntryPayload, Vote};

    #[test]
    fn as_many_entries_as_fit_in_the_limit() {
        assert_eq!(entries_that_fit(&[4, 4, 4], 2, 10), 2);
        assert_eq!(entries_that_fit(&[4, 4, 4], 2, 14), 3);
        assert_eq!(entries_that_fit(&[9, 1], 2, 10), 0);
        assert_eq!(entries_that_fit(&[], 2, 10), 0);
    }

    /// An entry of about `mib` MiB.
    fn large(index: u64, mib: usize) -> Entry {
        let command = Command {
            actor: Actor {
                identity: "node-1".into(),
                role: Role::Node,
            },
            at_ms: 1,
            origin: None,
            seal: None,
            op: Op::SecurityEvent {
                identity: "x".into(),
                role: Role::Viewer,
                what: "w".repeat(mib << 20),
            },
        };
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
            payload: EntryPayload::Normal(command),
        }
    }

    fn append(entries: Vec<Entry>) -> AppendEntriesRequest<TypeConfig> {
        AppendEntriesRequest {
            vote: Vote::new_committed(1, 1),
            prev_log_id: None,
            entries,
            leader_commit: None,
        }
    }

    #[test]
    fn an_append_over_the_peer_limit_asks_openraft_to_split_it() {
        // 9 entries of 8 MiB: 72 MiB, over the 64 MiB peers take.
        let entries: Vec<Entry> = (1..=9).map(|i| large(i, 8)).collect();
        match encode_append(append(entries), 2) {
            Err(Oversize::Split(hint)) => assert_eq!(hint.entries_hint(), 7),
            Ok(bytes) => panic!("{} bytes would be sent", bytes.len()),
            Err(Oversize::Unsendable(e)) => panic!("{e}"),
        }
        let bytes = encode_append(append((1..=7).map(|i| large(i, 8)).collect()), 2)
            .ok()
            .expect("7 entries of 8 MiB fit");
        assert!(bytes.len() <= MAX_PEER_MESSAGE);
    }

    #[test]
    fn an_entry_that_cannot_fit_alone_is_not_split_forever() {
        let one = vec![large(1, 65)];
        assert!(matches!(
            encode_append(append(one), 2),
            Err(Oversize::Unsendable(PeerCallError::EntryTooLarge { .. }))
        ));
    }
}
