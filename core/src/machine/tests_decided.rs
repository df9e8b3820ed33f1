//! The decided table in `apply`: a proposal id is never decided twice,
//! whatever the table had to forget and whatever the leaders' clocks say.

use super::*;
use crate::decided::{DecidedTable, Limits, WINDOW_MS};
use crate::proposal::ProposalSpec;
use crate::role::Role;
use crate::testing::{cmd, spec, with_target};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Honest time in these tests: 2024-01-15, in Unix milliseconds.
const NOW: u64 = 1_705_314_600_000;
const DAY: u64 = 24 * 60 * 60 * 1000;

fn with_table(entries: usize) -> State {
    State {
        decided: DecidedTable::with_limits(Limits {
            entries,
            bytes: u64::MAX,
        }),
        ..with_target()
    }
}

/// Proposal `n`, made at `timestamp_ms`: each id has one content and one
/// timestamp, so sending it again is a retry.
fn proposal(n: u32, timestamp_ms: i64) -> ProposalSpec {
    let mut p = spec(&format!("p{n}"), &[("batch_size", ParamValue::Int(48))]);
    p.timestamp_ms = timestamp_ms;
    p
}

fn propose(s: &mut State, at_ms: u64, p: &ProposalSpec) -> CommandResult {
    let op = Op::Propose {
        proposal: p.clone(),
    };
    s.apply(&cmd(Role::Proposer, at_ms, op)).result
}

#[test]
fn an_evicted_id_sent_again_is_stale_not_decided_again() {
    let mut s = with_table(2);
    let first = proposal(1, NOW as i64);
    assert!(matches!(
        propose(&mut s, NOW, &first),
        Ok(Outcome::Proposal { first: true, .. })
    ));
    propose(&mut s, NOW + 1, &proposal(2, NOW as i64 + 1)).expect("decided");
    propose(&mut s, NOW + 2, &proposal(3, NOW as i64 + 2)).expect("decided");
    assert!(s.decided.get("p1").is_none(), "p1 was forgotten");
    // Long before the window: busy, not old.
    let again = propose(&mut s, NOW + 3, &first);
    assert!(
        matches!(again, Err(CommandError::StaleProposal { .. })),
        "{again:?}"
    );
}

#[test]
fn a_leader_days_ahead_forgets_nothing() {
    let mut s = with_table(100);
    for n in 0..50 {
        propose(&mut s, NOW + u64::from(n), &proposal(n, NOW as i64)).expect("decided");
    }
    let ahead = NOW + 3 * DAY;
    for n in 50..60 {
        propose(&mut s, ahead, &proposal(n, ahead as i64)).expect("decided");
    }
    assert_eq!(s.decided.len(), 60);
    assert_eq!(s.decided.floor_ms(), None);
    // Back on an honest leader, every retry still gets its decision.
    for n in 0..50 {
        assert!(matches!(
            propose(&mut s, NOW + 100, &proposal(n, NOW as i64)),
            Ok(Outcome::Proposal { first: false, .. })
        ));
    }
}

/// One step of a history: proposal `id` (sent again or for the first
/// time) on a leader whose clock is `skew` off honest time.
#[derive(Debug, Clone)]
struct Step {
    id: u32,
    elapsed_ms: u64,
    skew: i64,
}

fn arb_step() -> impl Strategy<Value = Step> {
    let skew = prop_oneof![
        4 => Just(0i64),
        1 => -(3 * DAY as i64)..(3 * DAY as i64),
        1 => Just(10 * WINDOW_MS as i64),
    ];
    (0u32..24, 0u64..120_000, skew).prop_map(|(id, elapsed_ms, skew)| Step {
        id,
        elapsed_ms,
        skew,
    })
}

proptest! {
    #[test]
    fn no_proposal_id_is_ever_decided_twice(
        entries in 1usize..8,
        steps in prop::collection::vec(arb_step(), 1..120),
    ) {
        let mut s = with_table(entries);
        let mut honest = NOW;
        // Each id is made once, at the honest time of its first send.
        let mut made: BTreeMap<u32, i64> = BTreeMap::new();
        let mut decided: BTreeMap<u32, crate::proposal::Decision> = BTreeMap::new();
        for step in steps {
            honest += step.elapsed_ms;
            let stamp = *made.entry(step.id).or_insert(honest as i64);
            let at_ms = honest.saturating_add_signed(step.skew);
            match propose(&mut s, at_ms, &proposal(step.id, stamp)) {
                Ok(Outcome::Proposal { decision, first: true }) => {
                    prop_assert!(
                        decided.insert(step.id, decision).is_none(),
                        "p{} was decided twice", step.id
                    );
                }
                Ok(Outcome::Proposal { decision, first: false }) => {
                    prop_assert_eq!(Some(&decision), decided.get(&step.id));
                }
                Err(CommandError::StaleProposal { .. } | CommandError::FutureProposal { .. }) => {}
                other => prop_assert!(false, "unexpected {:?}", other),
            }
            prop_assert!(s.decided.len() <= entries);
        }
    }

    #[test]
    fn a_leader_clock_forgets_nothing_below_the_bounds(
        honest in 1u32..40,
        ahead in 1u32..40,
        jump in 1u64..(30 * DAY),
    ) {
        let mut s = with_table(100);
        for n in 0..honest {
            propose(&mut s, NOW, &proposal(n, NOW as i64)).expect("decided");
        }
        for n in 0..ahead {
            let at = NOW + jump;
            let _ = propose(&mut s, at, &proposal(1000 + n, at as i64));
        }
        for n in 0..honest {
            let id = format!("p{n}");
            prop_assert!(s.decided.get(&id).is_some(), "{} was forgotten", id);
        }
        prop_assert_eq!(s.decided.floor_ms(), None);
    }
}
