//! Hostile clients against three real nodes: each bound of issue 13 ("no
//! authenticated client can stall, bloat or flood a node") has its test
//! here, written as an outsider would attack, each failing without the
//! bound. Pass or fail never rests on a timing margin: the tests assert
//! on elections (terms), error codes, counts, audit entries and memory,
//! and print latencies as figures.

#[path = "../common/mod.rs"]
mod common;

mod connections;
mod decompression;
mod memory;
mod reads;
mod replies;
mod security;
mod subscriptions;

use arqonbus_client::Client;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::Reply;
use arqonbus_testkit::{LocalCluster, RawClient};
use common::{three_nodes, WAIT};
use std::collections::BTreeMap;

/// A bootstrapped cluster with the example constraints, and who leads.
pub struct Hostile {
    pub cluster: LocalCluster,
    pub admin: Client,
    pub leader: u64,
    pub follower: u64,
    _dir: tempfile::TempDir,
}

impl Hostile {
    /// Three nodes started with `extra` arguments each.
    pub async fn start(extra: &[&str]) -> Hostile {
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = three_nodes(dir.path(), extra).await;
        let admin = cluster.client("admin").expect("admin client");
        let (leader, _) = cluster
            .wait_for_leader(&admin, &cluster.ids(), 0, WAIT)
            .await
            .expect("a leader");
        let follower = cluster
            .ids()
            .into_iter()
            .find(|&id| id != leader)
            .expect("a follower");
        Hostile {
            cluster,
            admin,
            leader,
            follower,
            _dir: dir,
        }
    }

    /// A raw connection as `user` to node `id`.
    pub async fn raw(&self, user: &str, id: u64) -> RawClient {
        let addr = self.cluster.endpoint(id).expect("endpoint");
        match RawClient::connect(&self.cluster.cert_dir(), user, &addr).await {
            Ok(c) => c,
            Err(e) => panic!("raw connection as {user} to node {id}: {e}"),
        }
    }

    /// Each node's current term, by its own word.
    pub async fn terms(&self) -> BTreeMap<u64, u64> {
        let mut out = BTreeMap::new();
        for id in self.cluster.ids() {
            let status = self.cluster.status(&self.admin, id).await;
            let status = status.unwrap_or_else(|| panic!("node {id} answers its status"));
            out.insert(id, status.term);
        }
        out
    }

    /// Fails unless every node is in the term it was in before and the
    /// leader is the same.
    pub async fn assert_no_election(&self, before: &BTreeMap<u64, u64>) {
        let after = self.terms().await;
        assert_eq!(
            &after, before,
            "an election happened (terms before and after)"
        );
        let leader = self.cluster.leader(&self.admin, &self.cluster.ids()).await;
        assert_eq!(leader.map(|l| l.0), Some(self.leader), "the leader changed");
    }

    /// Node `id`'s log, for failure messages and line checks.
    pub fn log(&self, id: u64) -> String {
        std::fs::read_to_string(self.cluster.log_path(id)).unwrap_or_default()
    }
}

/// The error code of an error frame, or a description of anything else.
pub fn code(reply: &Reply) -> Result<&ErrorCode, String> {
    match reply {
        Reply::Error(e) => Ok(&e.code),
        other => Err(format!("{other:?}")),
    }
}

/// Runs a hostile test on its own runtime, one cluster at a time.
pub fn hostile_test(test: impl std::future::Future<Output = ()>) {
    common::one_cluster_at_a_time(test)
}
