//! The replicated replay table: marks, the window, expiry in leader time,
//! the bounds; and `apply` refusing a replayed command on every replica.

use super::*;
use crate::machine::State;
use crate::role::Role;
use crate::testing::{cmd, sample_override, signed, spec, with_target};
use crate::{Command, Op, Outcome, ParamValue};

fn origin(session: u64, seq: u64, sent_at_ms: i64) -> Origin {
    Origin {
        session,
        seq,
        sent_at_ms,
    }
}

fn replay(r: Result<(), CommandError>) -> bool {
    matches!(r, Err(CommandError::Replay { .. }))
}

#[test]
fn a_number_at_or_below_the_mark_is_refused_out_of_order_in_the_window_is_not() {
    let mut s = Sessions::default();
    let at = 1_000_000;
    assert!(s.accept("op", &origin(7, 10, at as i64), at).is_ok());
    assert!(replay(s.accept("op", &origin(7, 10, at as i64), at)));
    assert!(s.accept("op", &origin(7, 12, at as i64), at).is_ok());
    assert!(
        s.accept("op", &origin(7, 11, at as i64), at).is_ok(),
        "late, in the window"
    );
    assert!(replay(s.accept("op", &origin(7, 11, at as i64), at)));
    assert!(s.accept("op", &origin(7, 200, at as i64), at).is_ok());
    assert!(
        replay(s.accept("op", &origin(7, 12, at as i64), at)),
        "below the window"
    );
    assert!(
        s.accept("op", &origin(8, 10, at as i64), at).is_ok(),
        "another session"
    );
    assert!(
        s.accept("other", &origin(7, 10, at as i64), at).is_ok(),
        "another identity"
    );
    assert!(s.is_replay("op", &origin(7, 200, 0)));
    assert!(!s.is_replay("op", &origin(7, 201, 0)));
}

#[test]
fn a_sent_at_too_far_from_the_leaders_stamp_is_stale() {
    let mut s = Sessions::default();
    let at = 10_000_000u64;
    let far = at as i64 - MAX_SENT_SKEW_MS as i64 - 1;
    assert!(matches!(
        s.accept("op", &origin(1, 1, far), at),
        Err(CommandError::StaleRequest { .. })
    ));
    assert!(s.is_empty(), "a stale request opens no session");
    assert!(s.accept("op", &origin(1, 1, far + 1), at).is_ok());
}

#[test]
fn idle_sessions_expire_in_leader_time_and_the_table_is_bounded() {
    let mut s = Sessions::default();
    let t0 = 1_000_000u64;
    s.accept("op", &origin(1, 1, t0 as i64), t0).expect("first");
    s.accept("op", &origin(2, 1, t0 as i64), t0 + 10)
        .expect("second");
    s.expire(t0 + SESSION_IDLE_MS);
    assert_eq!(s.len(), 2, "not idle long enough yet");
    s.expire(t0 + SESSION_IDLE_MS + 1);
    assert_eq!(s.len(), 1, "the first is forgotten");
    assert!(s.mark("op", 2).is_some());
    s.expire(t0 + SESSION_IDLE_MS + 11);
    assert!(s.is_empty());

    for n in 0..MAX_SESSIONS_PER_IDENTITY as u64 {
        s.accept("busy", &origin(n, 1, t0 as i64), t0)
            .expect("within the bound");
    }
    assert!(matches!(
        s.accept("busy", &origin(u64::MAX, 1, t0 as i64), t0),
        Err(CommandError::TooManySessions { .. })
    ));
    s.accept("busy", &origin(3, 2, t0 as i64), t0)
        .expect("a live session goes on");
    s.accept("calm", &origin(1, 1, t0 as i64), t0)
        .expect("another identity");
    s.expire(t0 + SESSION_IDLE_MS + 1);
    assert!(s.is_empty());
}

#[test]
fn apply_refuses_a_replayed_command_and_changes_nothing_on_either_replica() {
    let first = signed(sample_override(48), 9, 1, 1);
    let mut later = signed(sample_override(96), 9, 2, 1);
    later.at_ms = first.at_ms + 1;
    let log: Vec<Command> = vec![first.clone(), later, {
        // The first override again (recorded, replayed after a leader
        // change): the leader stamps it anew.
        let mut again = first.clone();
        again.at_ms += 2;
        again
    }];
    let (mut a, mut b) = (with_target(), with_target());
    let mut results = Vec::new();
    for c in &log {
        results.push(a.apply(c).result);
        b.apply(c);
    }
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert_eq!(
        results[2],
        Err(CommandError::Replay {
            session: 9,
            last_seq: 2
        })
    );
    let live = &a.targets[crate::testing::SVC].live;
    assert_eq!(
        live.get("batch_size"),
        Some(&ParamValue::Int(97)),
        "not set back"
    );
    let bytes =
        |s: &State| bincode::serde::encode_to_vec(s, bincode::config::standard()).expect("encodes");
    assert_eq!(bytes(&a), bytes(&b), "both replicas byte for byte");
    assert_eq!(a.sessions.mark("operator", 9).map(|m| m.high), Some(2));
}

#[test]
fn the_exact_resend_of_a_decided_proposal_still_gets_its_decision() {
    let mut s = with_target();
    let p = signed(
        cmd(
            Role::Proposer,
            2,
            Op::Propose {
                proposal: spec("p-1", &[("batch_size", ParamValue::Int(33))]),
            },
        ),
        4,
        1,
        1,
    );
    let decided = s.apply(&p).result;
    let Ok(Outcome::Proposal {
        decision,
        first: true,
    }) = decided
    else {
        panic!("decided: {decided:?}")
    };
    let again = s.apply(&p).result;
    assert_eq!(
        again,
        Ok(Outcome::Proposal {
            decision,
            first: false
        })
    );
    // Another proposal under the same (session, seq) is a replay.
    let other = signed(
        cmd(
            Role::Proposer,
            3,
            Op::Propose {
                proposal: spec("p-2", &[("batch_size", ParamValue::Int(34))]),
            },
        ),
        4,
        1,
        1,
    );
    assert!(matches!(
        s.apply(&other).result,
        Err(CommandError::Replay { .. })
    ));
    assert!(s.decided.get("p-2").is_none());
}
