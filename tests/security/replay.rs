//! Attack: the exact bytes of an earlier request sent again, on the same
//! connection and on a new one; and the exact re-send of a decided
//! proposal, which gets its recorded decision back; and a change replayed
//! to a new leader after a failover, which the replicated marks refuse.

use super::*;

#[test]
fn a_replayed_override_is_refused_on_any_connection_and_changes_nothing() {
    security_test(async {
        let s = Suite::start(&[]).await;
        let operator = s.signer("operator");
        let frame = signed(
            &operator,
            envelope(Envelope::random_session(), 1, UnixMillis::now()),
            &set_batch(48),
        );
        let first = s.raw("operator").await;
        let reply = first.exchange(&frame).await.expect("answered");
        assert!(
            matches!(reply, Reply::Operated(_)),
            "applied once: {reply:?}"
        );
        // The operator moves on; the attacker replays the old override.
        s.admin
            .operate(OperatorRequest::SetParameters {
                target_system: TARGET.into(),
                values: [("batch_size".to_string(), ParamValue::Int(96))].into(),
                expected: None,
            })
            .await
            .expect("admin override");
        let again = first.exchange(&frame).await.expect("answered");
        assert!(
            matches!(code(&again), Ok(ErrorCode::Replay { last_seq: 1 })),
            "{again:?}"
        );
        let fresh = s.raw("operator").await;
        let again = fresh.exchange(&frame).await.expect("answered");
        assert!(
            matches!(code(&again), Ok(ErrorCode::Replay { .. })),
            "{again:?}"
        );
        s.good_is_served("good-replay").await;
        assert_eq!(
            s.live().await.get("batch_size"),
            Some(&ParamValue::Int(96)),
            "the replay set nothing back"
        );
        s.summarised("operator", "replay", 2).await;
    });
}

#[test]
fn the_exact_resend_of_a_decided_proposal_gets_its_recorded_decision() {
    security_test(async {
        let s = Suite::start(&[]).await;
        let proposer = s.signer("proposer");
        let p = common::sessions::proposal("resent-1", &[("batch_size", ParamValue::Int(40))]);
        let frame = signed(
            &proposer,
            envelope(Envelope::random_session(), 1, UnixMillis::now()),
            &Request::Proposal(p),
        );
        let raw = s.raw("proposer").await;
        let first = raw.exchange(&frame).await.expect("answered");
        let Reply::Approval(decided) = first else {
            panic!("decided: {first:?}")
        };
        let again = raw.exchange(&frame).await.expect("answered");
        assert_eq!(again, Reply::Approval(decided), "the recorded decision");
        s.good_is_served("good-resent").await;
    });
}

#[test]
fn a_change_replayed_to_a_new_leader_is_refused_by_the_replicated_marks() {
    security_test(async {
        let mut s = Suite::start(&[]).await;
        let operator = s.signer("operator");
        let frame = signed(
            &operator,
            envelope(Envelope::random_session(), 1, UnixMillis::now()),
            &set_batch(48),
        );
        let reply = s.raw("operator").await.exchange(&frame).await;
        let reply = reply.expect("answered");
        assert!(matches!(reply, Reply::Operated(_)), "applied: {reply:?}");
        s.admin
            .operate(OperatorRequest::SetParameters {
                target_system: TARGET.into(),
                values: [("batch_size".to_string(), ParamValue::Int(96))].into(),
                expected: None,
            })
            .await
            .expect("admin override");
        // The leader that saw the override fails; a node whose own replay
        // table never saw it takes over, well within the 30 s window.
        let (old, term) = (s.leader, {
            let status = s.cluster.status(&s.admin, s.leader).await;
            status.map(|st| st.term).expect("the leader's term")
        });
        s.cluster.kill(old).await.expect("leader killed");
        let others: Vec<u64> = s
            .cluster
            .ids()
            .into_iter()
            .filter(|&id| id != old)
            .collect();
        let (new, _) = s
            .cluster
            .wait_for_leader(&s.admin, &others, term, WAIT)
            .await
            .expect("a new leader");
        s.leader = new;
        let again = s.raw("operator").await.exchange(&frame).await;
        let again = again.expect("answered");
        assert!(
            matches!(code(&again), Ok(ErrorCode::Replay { last_seq: 1 })),
            "the new leader's apply refuses it: {again:?}"
        );
        assert_eq!(
            s.live().await.get("batch_size"),
            Some(&ParamValue::Int(96)),
            "the replay set nothing back"
        );
        s.good_is_served("good-replay-failover").await;
    });
}
