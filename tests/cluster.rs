//! Three real `arqonbus node` processes on loopback: bootstrap, writes
//! through a follower, a leader SIGKILLed, restarts, snapshots, and the
//! audit chain equal on every node. One cluster at a time.

mod common;

use arqonbus_client::ClientError;
use arqonbus_core::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use common::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn set(n: i64) -> OperatorRequest {
    OperatorRequest::SetParameters {
        target_system: TARGET.into(),
        values: BTreeMap::from([("batch_size".to_string(), ParamValue::Int(n))]),
        expected: None,
    }
}

fn get() -> OperatorRequest {
    OperatorRequest::GetParameters {
        target_system: TARGET.into(),
        stale: false,
    }
}

fn live_batch_size(reply: OperatorReply) -> ParamValue {
    match reply {
        OperatorReply::Parameters { live, .. } => live["batch_size"].clone(),
        other => panic!("expected parameters, got {other:?}"),
    }
}

#[test]
fn a_cluster_survives_a_leader_kill_and_a_full_restart() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = three_nodes(dir.path(), &[]).await;
        let admin = c.client("admin").expect("client");
        let (leader, term) = c
            .wait_for_leader(&admin, &c.ids(), 0, WAIT)
            .await
            .expect("leader");

        // A client that only knows a follower is sent on to the leader.
        let follower = c
            .ids()
            .into_iter()
            .find(|&id| id != leader)
            .expect("a follower");
        let via_follower = c
            .client_to("operator", vec![c.endpoint(follower).expect("endpoint")])
            .expect("client");
        let reply = via_follower
            .operate(set(40))
            .await
            .expect("write through a follower");
        assert!(
            matches!(reply, OperatorReply::ParametersSet { .. }),
            "{reply:?}"
        );

        // SIGKILL the leader: a new one is elected and takes writes.
        c.kill(leader).await.expect("kill leader");
        let others: Vec<u64> = c.ids().into_iter().filter(|&id| id != leader).collect();
        let (new_leader, _) = c
            .wait_for_leader(&admin, &others, term, WAIT)
            .await
            .expect("a new leader after the kill");
        assert_ne!(new_leader, leader);
        let operator = c.client("operator").expect("client");
        operator
            .operate(set(41))
            .await
            .expect("write after failover");
        assert_eq!(
            live_batch_size(operator.operate(get()).await.expect("read")),
            ParamValue::Int(41)
        );

        // The killed node comes back and catches up; every chain is the same.
        c.start(leader).expect("restart");
        let applied = leader_applied(&c, &admin, &others).await;
        c.wait_for_applied(&admin, &c.ids(), applied, WAIT)
            .await
            .expect("caught up");
        let heads = [
            audit_head(&c, &admin, 1).await,
            audit_head(&c, &admin, 2).await,
            audit_head(&c, &admin, 3).await,
        ];
        assert!(
            heads[0].index >= 3,
            "the audit chain recorded the writes: {heads:?}"
        );
        assert!(
            heads.iter().all(|h| *h == heads[0]),
            "audit heads differ: {heads:?}"
        );

        // Stop everything cleanly, start again: values and chain intact.
        for id in c.ids() {
            c.stop(id).await.expect("clean stop");
        }
        c.start_all().expect("restart all");
        c.wait_until_up(&admin, &c.ids(), WAIT)
            .await
            .expect("up again");
        let operator = c.client("operator").expect("client");
        assert_eq!(
            live_batch_size(operator.operate(get()).await.expect("read")),
            ParamValue::Int(41)
        );
        for id in c.ids() {
            assert_eq!(
                audit_head(&c, &admin, id).await,
                heads[0],
                "node {id} after restart"
            );
        }
    });
}

#[test]
fn a_lagging_follower_is_caught_up_by_a_snapshot_in_several_chunks() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let chunk = 1024;
        let mut c = three_nodes(
            dir.path(),
            &[
                "--snapshot-every",
                "20",
                "--snapshot-chunk-bytes",
                &chunk.to_string(),
            ],
        )
        .await;
        let admin = c.client("admin").expect("client");
        let (leader, _) = c
            .wait_for_leader(&admin, &c.ids(), 0, WAIT)
            .await
            .expect("leader");
        let lagging = c
            .ids()
            .into_iter()
            .find(|&id| id != leader)
            .expect("a follower");
        c.stop(lagging).await.expect("stop follower");

        let operator = c.client("operator").expect("client");
        for n in 1..=120 {
            operator
                .operate(set(n))
                .await
                .expect("write while a follower is down");
        }
        c.start(lagging).expect("restart follower");
        let applied = leader_applied(&c, &admin, &[leader]).await;
        c.wait_for_applied(&admin, &[lagging], applied, WAIT)
            .await
            .expect("the follower caught up");

        let log = std::fs::read_to_string(c.log_path(lagging)).expect("node log");
        let installed = log
            .lines()
            .find(|l| l.contains("installed snapshot"))
            .unwrap_or_else(|| {
                panic!("node {lagging} did not install a snapshot; its log:\n{log}")
            });
        let bytes: u64 = installed
            .split("bytes=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no size in {installed:?}"));
        assert!(
            bytes > chunk,
            "the snapshot ({bytes} bytes) fitted in one chunk of {chunk}"
        );
        assert_eq!(
            audit_head(&c, &admin, lagging).await,
            audit_head(&c, &admin, leader).await
        );
    });
}

/// Drops UDP between one port and others, both ways, until dropped.
struct Partition {
    rules: Vec<Vec<String>>,
}

impl Partition {
    fn cut(port: u16, from: &[u16]) -> Partition {
        let mut rules = Vec::new();
        for &other in from {
            for (s, d) in [(port, other), (other, port)] {
                rules.push(vec![
                    "INPUT".into(),
                    "-p".into(),
                    "udp".into(),
                    "-s".into(),
                    "127.0.0.1".into(),
                    "--sport".into(),
                    s.to_string(),
                    "--dport".into(),
                    d.to_string(),
                    "-j".into(),
                    "DROP".into(),
                ]);
            }
        }
        for r in &rules {
            let status = std::process::Command::new("iptables")
                .arg("-I")
                .args(r)
                .status()
                .expect("iptables runs (install it, and run as root)");
            assert!(status.success(), "iptables -I {r:?} failed");
        }
        Partition { rules }
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        for r in &self.rules {
            let _ = std::process::Command::new("iptables")
                .arg("-D")
                .args(r)
                .status();
        }
    }
}

fn port(endpoint: &str) -> u16 {
    endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("endpoint has a port")
}

#[test]
fn a_leader_cut_off_from_the_majority_answers_no_quorum_and_the_majority_goes_on() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = three_nodes(dir.path(), &[]).await;
        let admin = c.client("admin").expect("client");
        let (leader, term) = c
            .wait_for_leader(&admin, &c.ids(), 0, WAIT)
            .await
            .expect("leader");
        let others: Vec<u64> = c.ids().into_iter().filter(|&id| id != leader).collect();
        let other_ports: Vec<u16> = others
            .iter()
            .map(|&id| port(&c.endpoint(id).expect("endpoint")))
            .collect();
        let leader_endpoint = c.endpoint(leader).expect("endpoint");
        let partition = Partition::cut(port(&leader_endpoint), &other_ports);

        let old_side = c
            .client_to("operator", vec![leader_endpoint.clone()])
            .expect("client");
        let started = Instant::now();
        let err = loop {
            match old_side
                .call_node(&leader_endpoint, &arqonbus_proto::Request::Operate(set(7)))
                .await
            {
                // Proposed before the cut was seen: its deadline passes
                // with the outcome unknown. Then nothing more is proposed.
                Err(e) if matches!(e.code(), Some(ErrorCode::OutcomeUnknown)) => {}
                Err(e) => break e,
                Ok(reply) if started.elapsed() < Duration::from_secs(3) => {
                    // Within the first heartbeat windows the cut is not yet seen.
                    let _ = reply;
                }
                Ok(reply) => panic!("the cut-off leader still accepted a write: {reply:?}"),
            }
        };
        let elapsed = started.elapsed();
        assert!(
            matches!(err.code(), Some(ErrorCode::NoQuorum)),
            "expected no_quorum from the cut-off leader, got {err}"
        );
        assert!(
            elapsed < Duration::from_secs(8),
            "the refusal took {elapsed:?}"
        );

        let (new_leader, _) = c
            .wait_for_leader(&admin, &others, term, WAIT)
            .await
            .expect("majority elects");
        let majority = c
            .client_to(
                "operator",
                others
                    .iter()
                    .map(|&id| c.endpoint(id).expect("endpoint"))
                    .collect(),
            )
            .expect("client");
        majority
            .operate(set(8))
            .await
            .expect("the majority serves writes");
        assert!(others.contains(&new_leader));

        drop(partition);
        let applied = leader_applied(&c, &admin, &others).await;
        c.wait_for_applied(&admin, &c.ids(), applied, WAIT)
            .await
            .expect("healed");
    });
}

#[test]
fn refused_and_forbidden_writes_change_nothing_and_a_foreign_ca_is_refused() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = three_nodes(dir.path(), &[]).await;
        let operator = c.client("operator").expect("client");
        operator.operate(set(64)).await.expect("write");

        match operator.operate(set(999)).await.expect("answered") {
            OperatorReply::Refused { violations, .. } => {
                assert_eq!(violations[0].constraint, "max_batch_size")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let unknown = OperatorRequest::SetParameters {
            target_system: "no-such-target".into(),
            values: BTreeMap::from([("batch_size".to_string(), ParamValue::Int(1))]),
            expected: None,
        };
        match operator.operate(unknown).await.expect("answered") {
            OperatorReply::Refused { reason, .. } => {
                assert!(reason.contains("unknown target"), "{reason}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let viewer = c.client("viewer").expect("client");
        match viewer.operate(set(2)).await {
            Err(ClientError::Server { error, .. }) => assert_eq!(error.code, ErrorCode::Forbidden),
            other => panic!("a viewer wrote: {other:?}"),
        }
        assert_eq!(
            live_batch_size(operator.operate(get()).await.expect("read")),
            ParamValue::Int(64)
        );

        // A certificate from another CA never gets an answer.
        let other = tempfile::tempdir().expect("tempdir");
        arqonbus::certs::init(
            other.path(),
            &arqonbus::certs::InitOptions {
                nodes: 1,
                node_hosts: Vec::new(),
                force: false,
            },
        )
        .expect("second CA");
        let creds =
            arqonbus_transport::TlsCredentials::from_dir(other.path(), "operator").expect("creds");
        let mut options = arqonbus_client::ClientOptions::new(c.endpoints(), creds);
        options.retry_budget = Duration::from_secs(1);
        let stranger = arqonbus_client::Client::new(options).expect("client");
        let err = stranger
            .operate(get())
            .await
            .expect_err("a foreign CA was let in");
        let text = err.to_string();
        assert!(
            text.contains("UnknownIssuer")
                || text.contains("certificate")
                || text.contains("cannot reach"),
            "unexpected error: {text}"
        );
    });
}

#[test]
fn a_node_is_added_as_a_learner_promoted_and_removed_again() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = arqonbus_testkit::LocalCluster::new(&exe(), dir.path(), 4, None)
            .await
            .expect("four nodes prepared");
        for id in 1..=3 {
            c.start(id).expect("start");
        }
        let admin = c
            .client_to(
                "admin",
                (1..=3)
                    .map(|id| c.endpoint(id).expect("endpoint"))
                    .collect(),
            )
            .expect("client");
        c.wait_until_up(&admin, &[1, 2, 3], WAIT).await.expect("up");
        c.bootstrap_members(&admin, &[1, 2, 3])
            .await
            .expect("bootstrap three");
        c.start(4).expect("start node 4");
        c.wait_until_up(&admin, &[4], WAIT)
            .await
            .expect("node 4 up");

        let addr = c.endpoint(4).expect("endpoint");
        let reply = admin
            .operate(OperatorRequest::AddNode {
                member: arqonbus_proto::operator::Member { node_id: 4, addr },
            })
            .await
            .expect("add node 4");
        assert!(matches!(reply, OperatorReply::Done { .. }), "{reply:?}");
        let status = c.status(&admin, 4).await.expect("node 4 answers");
        let voters: Vec<u64> = status.voters.iter().map(|m| m.node_id).collect();
        assert_eq!(voters, [1, 2, 3, 4], "node 4 was promoted");

        let viewer = c.client("viewer").expect("client");
        match viewer
            .operate(OperatorRequest::RemoveNode { node_id: 4 })
            .await
        {
            Err(ClientError::Server { error, .. }) => assert_eq!(error.code, ErrorCode::Forbidden),
            other => panic!("a viewer changed the membership: {other:?}"),
        }
        let reply = admin
            .operate(OperatorRequest::RemoveNode { node_id: 4 })
            .await
            .expect("remove node 4");
        assert!(matches!(reply, OperatorReply::Done { .. }), "{reply:?}");
        let (leader, _) = c
            .wait_for_leader(&admin, &[1, 2, 3], 0, WAIT)
            .await
            .expect("leader");
        let status = c.status(&admin, leader).await.expect("leader answers");
        let voters: Vec<u64> = status.voters.iter().map(|m| m.node_id).collect();
        assert_eq!(voters, [1, 2, 3]);
        assert!(status.learners.is_empty(), "{status:?}");
    });
}
