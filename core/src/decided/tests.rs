use super::*;
use crate::proposal::Verdict;

fn decided(at_ms: u64, timestamp_ms: i64) -> Decided {
    Decided {
        at_ms,
        target: "svc".into(),
        fingerprint: [0; 32],
        decision: Decision {
            proposal_id: format!("p{at_ms}"),
            target: "svc".into(),
            decided_at_ms: at_ms,
            verdict: Verdict::Approved,
            approved: vec![],
            rejected: vec![],
            duration_seconds: 1,
            event_seq: 0,
            ..Decision::new("", "", 0, 0)
        },
        timestamp_ms,
    }
}

fn small(entries: usize) -> DecidedTable {
    DecidedTable::with_limits(Limits {
        entries,
        bytes: u64::MAX,
    })
}

#[test]
fn the_first_decision_stands() {
    let mut t = DecidedTable::default();
    assert!(t.record("p1", decided(5, 5)));
    assert!(!t.record("p1", decided(6, 6)));
    assert_eq!(t.get("p1").map(|d| d.at_ms), Some(5));
    assert_eq!(t.floor_ms(), None, "nothing forgotten");
}

#[test]
fn past_the_count_the_oldest_timestamp_goes_and_becomes_the_floor() {
    let mut t = small(3);
    // Decided in one order, stamped in another: the stamp decides.
    t.record("b", decided(1, 20));
    t.record("a", decided(2, 10));
    t.record("c", decided(3, 30));
    assert_eq!(t.floor_ms(), None);
    t.record("d", decided(4, 25));
    assert_eq!(t.len(), 3);
    assert!(t.get("a").is_none(), "the oldest proposal timestamp went");
    assert_eq!(t.floor_ms(), Some(10));
    assert_eq!(
        Staleness::check(&t, 10, 100),
        Err(Staleness::Forgotten { floor_ms: 10 })
    );
    assert_eq!(Staleness::check(&t, 11, 100), Ok(()));
    t.record("e", decided(5, 40));
    assert_eq!(t.floor_ms(), Some(20), "b went next");
    let ids: Vec<&str> = t
        .newest(None, 10)
        .iter()
        .map(|d| d.decision.proposal_id.as_str())
        .collect();
    assert_eq!(ids, ["p5", "p4", "p3"], "listing is by decision time");
}

#[test]
fn past_the_byte_budget_entries_go_too() {
    let one = decided(1, 1).weight("p1");
    let mut t = DecidedTable::with_limits(Limits {
        entries: usize::MAX,
        bytes: 2 * one,
    });
    t.record("p1", decided(1, 1));
    t.record("p2", decided(2, 2));
    assert_eq!(t.bytes(), 2 * one);
    t.record("p3", decided(3, 3));
    assert_eq!(t.len(), 2);
    assert_eq!(t.bytes(), 2 * one);
    assert_eq!(t.floor_ms(), Some(1));
}

#[test]
fn a_larger_decision_weighs_more() {
    let mut big = decided(1, 1);
    big.decision.rejected.push(crate::constraints::Violation {
        parameter: "batch_size".into(),
        constraint: "max_batch_size".into(),
        reason: "x".repeat(500),
    });
    assert!(big.weight("p") > decided(1, 1).weight("p") + 500);
}

#[test]
fn the_window_and_the_lead_bound_a_new_timestamp() {
    let t = DecidedTable::default();
    let now = 10 * WINDOW_MS;
    let now_i = now as i64;
    assert_eq!(Staleness::check(&t, now_i - WINDOW_MS as i64, now), Ok(()));
    assert_eq!(
        Staleness::check(&t, now_i - WINDOW_MS as i64 - 1, now),
        Err(Staleness::TooOld)
    );
    assert_eq!(Staleness::check(&t, now_i + AHEAD_MS as i64, now), Ok(()));
    assert_eq!(
        Staleness::check(&t, now_i + AHEAD_MS as i64 + 1, now),
        Err(Staleness::TooNew)
    );
}

#[test]
fn the_table_never_exceeds_its_default_bound() {
    let mut t = DecidedTable::default();
    for i in 0..(MAX_ENTRIES as u64 + 10) {
        t.record(&format!("p{i}"), decided(i, i as i64));
    }
    // Whichever bound comes first holds (with the workflow fields in a
    // decision, the bytes bound comes first for small decisions).
    assert!(t.len() <= MAX_ENTRIES);
    assert!(t.bytes() <= MAX_BYTES);
    let evicted = MAX_ENTRIES as u64 + 10 - t.len() as u64;
    assert!(evicted >= 10);
    assert!(
        t.get(&format!("p{}", evicted - 1)).is_none(),
        "the oldest went first"
    );
    assert!(t.get(&format!("p{evicted}")).is_some());
    assert_eq!(t.floor_ms(), Some(evicted as i64 - 1));
}

fn pending(at_ms: u64, timestamp_ms: i64) -> Decided {
    let mut d = decided(at_ms, timestamp_ms);
    d.decision.verdict = Verdict::PendingApproval;
    d
}

#[test]
fn a_proposal_pending_approval_is_never_evicted() {
    // The pending one has the oldest timestamp: first in eviction order.
    let mut t = small(3);
    t.record("waiting", pending(0, 0));
    for i in 1..=5 {
        t.record(&format!("p{i}"), decided(i, i as i64));
    }
    assert!(t.get("waiting").is_some(), "still there to be approved");
    assert_eq!(t.len(), 3);
    assert!(t.get("p3").is_none() && t.get("p4").is_some());
    assert_eq!(t.floor_ms(), Some(3), "the floor follows what went");
    // Once decided it is evictable like any other, oldest first.
    let mut approved = t.get("waiting").expect("held").decision.clone();
    approved.verdict = Verdict::Approved;
    t.update("waiting", approved);
    t.record("p6", decided(6, 6));
    assert!(t.get("waiting").is_none());
    assert_eq!(t.len(), 3);
    assert_eq!(t.floor_ms(), Some(3), "never lowered");
}

#[test]
fn pending_proposals_alone_may_hold_the_table_over_its_bound() {
    // At most one per target is pending, so this is bounded by targets.
    let mut t = small(1);
    t.record("a", pending(1, 1));
    t.record("b", pending(2, 2));
    assert_eq!(t.len(), 2);
    assert_eq!(t.floor_ms(), None, "nothing was forgotten");
}
