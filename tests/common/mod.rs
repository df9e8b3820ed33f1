//! Helpers shared by the cluster tests: a bootstrapped three-node cluster
//! of real processes, one at a time per test binary.

#![allow(dead_code)]

use arqonbus::audit::verify::Verifier;
use arqonbus::audit::AuditHead;
use arqonbus::client::Client;
use arqonbus::local_cluster::LocalCluster;
use arqonbus::proto::operator::{OperatorReply, OperatorRequest};
use arqonbus::proto::{Reply, Request};
use arqonbus::state::constraint_file;
use std::sync::Mutex;
use std::time::Duration;

/// Cluster tests never run two clusters at once on two cores.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs a cluster test on its own runtime, one at a time.
pub fn one_cluster_at_a_time(test: impl std::future::Future<Output = ()>) {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(test);
}

pub const TARGET: &str = "ml-inference-service";
pub const WAIT: Duration = Duration::from_secs(20);

pub fn exe() -> std::path::PathBuf {
    env!("CARGO_BIN_EXE_arqonbus").into()
}

/// Three nodes started, bootstrapped, with the example constraints loaded.
pub async fn three_nodes(dir: &std::path::Path, extra: &[&str]) -> LocalCluster {
    let mut c = LocalCluster::new(&exe(), dir, 3, None, extra).expect("cluster prepared");
    c.start_all().expect("nodes start");
    let admin = c.client("admin").expect("admin client");
    c.wait_until_up(&admin, &c.ids(), WAIT)
        .await
        .expect("nodes up");
    c.bootstrap(&admin).await.expect("cluster init");
    let constraints = constraint_file::parse(
        "examples/constraints.toml",
        include_str!("../../examples/constraints.toml"),
    )
    .expect("example parses");
    let reply = c
        .client("operator")
        .expect("operator client")
        .operate(OperatorRequest::SetConstraints {
            target_system: TARGET.into(),
            constraints,
        })
        .await
        .expect("constraints set");
    assert!(
        matches!(reply, OperatorReply::ConstraintsSet { .. }),
        "{reply:?}"
    );
    c
}

/// Reads node `id`'s own audit chain (its replica) and verifies it.
pub async fn audit_head(c: &LocalCluster, client: &Client, id: u64) -> AuditHead {
    let endpoint = c.endpoint(id).expect("endpoint");
    let mut v = Verifier::new();
    let mut from = 1;
    loop {
        let request = Request::Operate(OperatorRequest::AuditRange {
            from_index: from,
            limit: 1000,
            stale: true,
        });
        let reply = client
            .call_node(&endpoint, &request)
            .await
            .expect("audit range");
        let Reply::Operated(OperatorReply::AuditEntries {
            entries,
            head_index,
        }) = reply
        else {
            panic!("unexpected audit answer from node {id}: {reply:?}");
        };
        for e in &entries {
            v.push(e)
                .unwrap_or_else(|err| panic!("node {id}'s audit chain: {err}"));
        }
        match entries.last() {
            Some(last) if last.index < head_index => from = last.index + 1,
            _ => return v.finish().head,
        }
    }
}

/// The leader's last applied index, to wait for the others to reach.
pub async fn leader_applied(c: &LocalCluster, client: &Client, among: &[u64]) -> u64 {
    let (leader, _) = c
        .wait_for_leader(client, among, 0, WAIT)
        .await
        .expect("a leader");
    c.status(client, leader)
        .await
        .and_then(|s| s.last_applied)
        .expect("leader status")
}
