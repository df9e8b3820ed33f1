//! `cluster init` can never make a second cluster: a retry that lands on a
//! member other than the bootstrapping one is sent there, and a node of
//! another cluster is refused in the peer handshake, never taken over.

mod common;

use arqonbus_client::{ClientError, Retry};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::{Member, OperatorReply, OperatorRequest};
use arqonbus_proto::{Reply, Request};
use arqonbus_testkit::LocalCluster;
use common::{one_cluster_at_a_time, started, wait_for, within, WAIT};

fn init(c: &LocalCluster, ids: &[u64]) -> Request {
    let members = ids
        .iter()
        .map(|&id| Member {
            node_id: id,
            addr: c.endpoint(id).expect("endpoint"),
        })
        .collect();
    Request::Operate(OperatorRequest::ClusterInit { members })
}

fn cluster_id(c: &LocalCluster, id: u64) -> Option<String> {
    std::fs::read_to_string(c.data_dir(id).join("cluster-id")).ok()
}

#[test]
fn a_retried_init_on_a_node_not_yet_added_makes_no_second_cluster() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut c, admin) = started(dir.path(), 3, &[]).await;

        // The retry lands on node 3 first: it must not bootstrap itself.
        let request = init(&c, &[1, 2, 3]);
        let endpoint3 = c.endpoint(3).expect("endpoint");
        match admin.call_node(&endpoint3, &request).await {
            Err(ClientError::Server { error, .. }) => assert_eq!(
                error.code,
                ErrorCode::NotLeader {
                    leader_id: Some(1),
                    leader_addr: Some(c.endpoint(1).expect("endpoint")),
                },
                "{}",
                error.message
            ),
            other => panic!("node 3 answered {other:?}"),
        }
        let s3 = c.status(&admin, 3).await.expect("node 3 answers");
        assert!(
            s3.voters.is_empty() && s3.leader_id.is_none(),
            "node 3 made a cluster of its own: {s3:?}"
        );
        assert_eq!(cluster_id(&c, 3), None);

        // A client that follows the redirect forms the one cluster.
        let via3 = c.client_to("admin", vec![endpoint3]).expect("client");
        let reply = within(
            "init through node 3",
            WAIT,
            via3.call(request.clone(), Retry::Safe),
        )
        .await
        .expect("init");
        assert!(
            matches!(reply, Reply::Operated(OperatorReply::Done { .. })),
            "{reply:?}"
        );
        let (leader, _) = c
            .wait_for_leader(&admin, &c.ids(), 0, WAIT)
            .await
            .expect("a leader");
        wait_for("every node to see voters 1, 2, 3", WAIT, || async {
            for id in c.ids() {
                let s = c.status(&admin, id).await?;
                let voters: Vec<u64> = s.voters.iter().map(|m| m.node_id).collect();
                (voters == [1, 2, 3] && s.leader_id == Some(leader)).then_some(())?;
            }
            Some(())
        })
        .await;
        let id = cluster_id(&c, 1).expect("node 1 fixed the cluster id");
        wait_for("every node to keep the cluster id", WAIT, || async {
            c.ids()
                .iter()
                .all(|&n| cluster_id(&c, n).as_ref() == Some(&id))
                .then_some(())
        })
        .await;

        // Retried again, anywhere: nothing changes.
        let again = within("init again", WAIT, via3.call(request, Retry::Safe))
            .await
            .expect("init again");
        match again {
            Reply::Operated(OperatorReply::Done { message }) => {
                assert!(message.contains("already formed"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        c.stop_all().await.expect("stop");
    });
}

#[test]
fn a_node_of_another_cluster_is_refused_not_taken_over() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut c, admin) = started(dir.path(), 4, &[]).await;
        c.bootstrap_members(&admin, &[1, 2, 3]).await.expect("init");
        // Node 4 made a cluster of its own.
        let endpoint4 = c.endpoint(4).expect("endpoint");
        admin
            .call_node(&endpoint4, &init(&c, &[4]))
            .await
            .expect("node 4 alone");
        let (leader, _) = c
            .wait_for_leader(&admin, &[1, 2, 3], 0, WAIT)
            .await
            .expect("a leader");
        let own = cluster_id(&c, 4).expect("node 4's cluster id");
        assert_ne!(Some(&own), cluster_id(&c, 1).as_ref());

        // The first cluster's leader tries to add it: it never answers
        // Raft for that cluster, and keeps its own.
        let add = Request::Operate(OperatorRequest::AddNode {
            member: Member {
                node_id: 4,
                addr: endpoint4.clone(),
            },
        });
        let leader_endpoint = c.endpoint(leader).expect("endpoint");
        let adding = {
            let admin = admin.clone();
            tokio::spawn(async move { admin.call_node(&leader_endpoint, &add).await })
        };
        let log = c.log_path(4);
        wait_for("node 4 to refuse the other cluster", WAIT, || async {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.contains("peer refused").then_some(())
        })
        .await;
        let s4 = c.status(&admin, 4).await.expect("node 4 answers");
        let voters: Vec<u64> = s4.voters.iter().map(|m| m.node_id).collect();
        assert_eq!(voters, [4], "node 4 was taken over: {s4:?}");
        assert_eq!(cluster_id(&c, 4), Some(own));
        adding.abort();
        c.stop_all().await.expect("stop");
    });
}
