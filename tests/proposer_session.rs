//! The proposer session on real node processes: quorum loss (degraded
//! mode, last-known-good from the file, a restarted proposer, recovery and
//! flush), a leader kill (failover, one decision per proposal id), and the
//! circuit breaker against endpoints nobody listens on.

mod common;

use arqonbus_client::last_known_good::LastKnownGood;
use arqonbus_client::{DegradedReason, Mode, ParameterSource, ProposerSession, SessionError};
use arqonbus_proto::reply::{Approval, EventBody};
use arqonbus_testkit::{free_ports, LocalCluster};
use common::proposer::{options, session, wait_mode, SVC};
use common::sessions::{nth, sample};
use common::{exe, one_cluster_at_a_time, wait_for, within, Cluster};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

fn samples(n: usize) -> Vec<arqonbus_proto::message::TelemetrySample> {
    (0..n).map(|i| sample(SVC, i as f64)).collect()
}

/// Waits for the approval event of `id` on the session's stream; returns
/// the approvals seen on the way (by id, counted).
async fn until_event(s: &ProposerSession, id: &str, seen: &mut BTreeMap<String, usize>) {
    loop {
        let e = within(&format!("the event of {id}"), WAIT, s.next_event())
            .await
            .expect("the event stream is open");
        if let EventBody::Approval(a) = &e.body {
            *seen.entry(a.proposal_id.clone()).or_default() += 1;
            if a.proposal_id == id {
                return;
            }
        }
    }
}

#[test]
fn quorum_loss_degrades_to_last_known_good_and_recovers_by_itself() {
    one_cluster_at_a_time(async {
        let mut cluster = Cluster::start().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let lkg = dir.path().join("lkg.json");
        let s = session(&cluster, &lkg);
        wait_mode(&s, "connected", WAIT, |m| *m == Mode::Connected).await;
        let live = s.parameters().await.expect("parameters");
        assert_eq!(live.source, ParameterSource::Cluster);
        let stored = wait_for("the last-known-good file", WAIT, || async {
            LastKnownGood::open(&lkg).ok()?.get(SVC).cloned()
        })
        .await;
        assert!(!stored.is_empty(), "the target has parameters");
        s.propose(nth("q", 0)).await.expect("a decision");
        let sent = s.send_telemetry(samples(10)).await.expect("telemetry");
        assert_eq!(sent.accepted, 10, "{sent:?}");

        // Quorum loss: the leader and one follower stop.
        let leader = cluster.leader(WAIT).await as u64 + 1;
        let follower = leader % 3 + 1;
        cluster.nodes.pause(leader).expect("pause the leader");
        cluster.nodes.pause(follower).expect("pause a follower");
        let took = wait_mode(
            &s,
            "degraded after quorum loss",
            Duration::from_secs(5),
            |m| m.is_degraded(),
        )
        .await;
        println!("quorum loss -> degraded in {} ms", took.as_millis());

        let served = s.parameters().await.expect("last-known-good");
        assert_eq!(served.source, ParameterSource::LastKnownGood);
        assert_eq!(served.values, stored);
        let t = Instant::now();
        match s.propose(nth("q", 1)).await {
            Err(SessionError::Degraded(Mode::Degraded(_))) => {}
            other => panic!("expected a local Degraded refusal, got {other:?}"),
        }
        assert!(
            t.elapsed() < Duration::from_millis(50),
            "refused without network"
        );
        let buffered = s.send_telemetry(samples(150)).await.expect("buffered");
        assert_eq!(buffered.buffered, 150, "{buffered:?}");
        let stats = s.stats();
        assert_eq!((stats.buffered, stats.dropped), (100, 50), "{stats:?}");

        // A proposer restarted while degraded serves the file's values.
        let restarted = session(&cluster, &lkg);
        assert_eq!(restarted.last_known_good(), Some(stored.clone()));
        wait_mode(
            &restarted,
            "the restarted session degraded",
            Duration::from_secs(5),
            |m| m.is_degraded(),
        )
        .await;
        let again = restarted.parameters().await.expect("from the file");
        assert_eq!(
            (again.source, &again.values),
            (ParameterSource::LastKnownGood, &stored)
        );
        drop(restarted);

        // Quorum returns: the session recovers and flushes by itself.
        cluster.nodes.resume(leader).expect("resume");
        cluster.nodes.resume(follower).expect("resume");
        let took = wait_mode(&s, "connected after quorum returns", WAIT, |m| {
            *m == Mode::Connected
        })
        .await;
        println!("quorum back -> connected in {} ms", took.as_millis());
        let stats = wait_for("the buffer flushed", WAIT, || async {
            let st = s.stats();
            (st.buffered == 0 && st.flushed == 100).then_some(st)
        })
        .await;
        assert_eq!(stats.telemetry_accepted, 110, "{stats:?}");
        assert_eq!(stats.dropped, 50, "{stats:?}");

        // The event stream resumed: a new decision arrives on it.
        let decided = within("a proposal after recovery", WAIT, s.propose(nth("q", 2)))
            .await
            .expect("a decision after recovery");
        let mut seen = BTreeMap::new();
        until_event(&s, &decided.proposal_id, &mut seen).await;
        assert_eq!(seen.get("q-0"), Some(&1), "{seen:?}");
    });
}

/// Proposes until a decision comes, re-sending the same proposal (same id)
/// after every failure.
async fn decide(s: &ProposerSession, n: i64) -> Approval {
    let start = Instant::now();
    loop {
        match s.propose(nth("f", n)).await {
            Ok(a) => return a,
            Err(e) => {
                assert!(start.elapsed() < WAIT, "no decision for f-{n}: {e}");
                let mut mode = s.watch_mode();
                let _ = within("not degraded", WAIT, mode.wait_for(|m| !m.is_degraded())).await;
            }
        }
    }
}

#[test]
fn a_leader_kill_is_followed_and_each_proposal_gets_one_decision() {
    one_cluster_at_a_time(async {
        let mut cluster = Cluster::start().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let s = session(&cluster, &dir.path().join("lkg.json"));
        wait_mode(&s, "connected", WAIT, |m| *m == Mode::Connected).await;
        let mut changes = s.mode_changes();
        let mut decided = BTreeMap::new();
        for n in 0..10 {
            decided.insert(n, decide(&s, n).await);
        }
        let leader = cluster.leader(WAIT).await;
        let killed = Instant::now();
        cluster.kill(leader).await;
        let first = decide(&s, 10).await;
        let to_first = killed.elapsed();
        decided.insert(10, first);
        for n in 11..20 {
            decided.insert(n, decide(&s, n).await);
        }
        let mut degraded_for = Duration::ZERO;
        let mut entered = None;
        while let Ok(c) = changes.try_recv() {
            match (c.to.is_degraded(), entered) {
                (true, None) => entered = Some(c.at),
                (false, Some(at)) => {
                    degraded_for += c.at.duration_since(at).unwrap_or_default();
                    entered = None;
                }
                _ => {}
            }
        }
        assert!(entered.is_none(), "still degraded: {:?}", s.mode());
        println!(
            "leader kill: first decision after {} ms, degraded for {} ms",
            to_first.as_millis(),
            degraded_for.as_millis()
        );
        assert!(
            degraded_for <= Duration::from_secs(2),
            "degraded for {degraded_for:?}"
        );

        // Re-sent with the same ids: the recorded decisions, nothing new.
        for (n, first) in &decided {
            let again = decide(&s, *n).await;
            assert_eq!(
                (
                    &again.decision,
                    &again.approved_changes,
                    &again.rejected_changes
                ),
                (
                    &first.decision,
                    &first.approved_changes,
                    &first.rejected_changes
                ),
                "f-{n}"
            );
        }
        let marker = decide(&s, 100).await;
        let mut seen = BTreeMap::new();
        until_event(&s, &marker.proposal_id, &mut seen).await;
        for n in decided.keys() {
            assert_eq!(seen.get(&format!("f-{n}")), Some(&1), "f-{n}: {seen:?}");
        }
    });
}

#[test]
fn failures_open_the_breaker_and_later_calls_fail_fast_without_network() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        // Certificates only; no node runs, and nobody listens on the port.
        let certs = LocalCluster::new(&exe(), dir.path(), 3, None)
            .await
            .expect("certificates");
        let endpoint = format!("127.0.0.1:{}", free_ports(1).expect("port")[0]);
        let mut o = options(
            &certs.cert_dir(),
            vec![endpoint],
            &dir.path().join("lkg.json"),
        );
        o.client.connect_timeout = Duration::from_millis(100);
        o.client.retry_budget = Duration::from_millis(150);
        o.degraded_after = Duration::from_secs(3600);
        o.breaker.failure_threshold = 3;
        o.breaker.open_for = Duration::from_secs(3600);
        let s = ProposerSession::connect(o).expect("session");
        let mut changes = s.mode_changes();
        let mut tries = 0;
        loop {
            tries += 1;
            assert!(tries <= 3, "the breaker did not open after 3 failures");
            match s.propose(nth("b", tries)).await {
                Err(SessionError::Client(_)) => {}
                Err(SessionError::Degraded(_)) => break,
                other => panic!("expected a failure, got {other:?}"),
            }
        }
        let open = Mode::Degraded(DegradedReason::BreakerOpen);
        assert_eq!(s.mode(), open);
        let change = within("the mode change", Duration::from_secs(1), changes.recv())
            .await
            .expect("a mode change");
        assert_eq!(change.to, open);

        let sent = s.stats().calls_sent;
        let t = Instant::now();
        for n in 0..100 {
            match s.propose(nth("fast", n)).await {
                Err(SessionError::Degraded(m)) => assert_eq!(m, open),
                other => panic!("expected a local refusal, got {other:?}"),
            }
        }
        let took = t.elapsed();
        let buffered = s.send_telemetry(samples(5)).await.expect("buffered");
        assert_eq!(buffered.buffered, 5);
        let stats = s.stats();
        assert_eq!(stats.calls_sent, sent, "no call reached the network");
        assert!(stats.refused_locally >= 101, "{stats:?}");
        assert!(
            took < Duration::from_millis(100),
            "100 refusals took {took:?}"
        );
    });
}
