//! Helpers shared by the cluster tests: a bootstrapped three-node cluster
//! of real processes, one at a time per test binary.

#![allow(dead_code)]

pub mod agent;
pub mod proposer;
pub mod sessions;

use arqonbus_client::Client;
use arqonbus_client::ClientOptions;
use arqonbus_core::audit::verify::Verifier;
use arqonbus_core::audit::AuditHead;
use arqonbus_core::constraint_file;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::NodeRole;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::{Reply, Request};
use arqonbus_testkit::{LocalCluster, RawClient};
use arqonbus_transport::TlsCredentials;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// `n` nodes started and answering, not bootstrapped, with an admin client.
pub async fn started(dir: &std::path::Path, n: u64, extra: &[&str]) -> (LocalCluster, Client) {
    let mut c = LocalCluster::new(&exe(), dir, n, None)
        .await
        .expect("cluster prepared")
        .with_args(extra);
    c.start_all().expect("nodes start");
    let admin = c.client("admin").expect("admin client");
    c.wait_until_up(&admin, &c.ids(), WAIT)
        .await
        .expect("nodes up");
    (c, admin)
}

/// Three nodes started, bootstrapped, with the example constraints loaded.
pub async fn three_nodes(dir: &std::path::Path, extra: &[&str]) -> LocalCluster {
    let (c, admin) = started(dir, 3, extra).await;
    c.bootstrap(&admin).await.expect("cluster init");
    let constraints = constraint_file::parse(
        "examples/constraints.toml",
        include_str!("../../examples/constraints.toml"),
    )
    .expect("example parses");
    // Setting the same constraints again is harmless, so an outcome_unknown
    // (a loaded machine missing the request deadline) is retried.
    let operator = c.client("operator").expect("operator client");
    let mut tries = 0;
    let reply = loop {
        tries += 1;
        let set = OperatorRequest::SetConstraints {
            target_system: TARGET.into(),
            constraints: constraints.clone(),
        };
        match operator.operate(set).await {
            Ok(reply) => break reply,
            Err(e) if tries < 3 && matches!(e.code(), Some(ErrorCode::OutcomeUnknown)) => continue,
            Err(e) => panic!("constraints set: {e}"),
        }
    };
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

/// Serializes the async cluster tests within one test binary.
pub static CLUSTER_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits for `cond` to return `Some`, polling, at most `bound`.
pub async fn wait_for<T, F, Fut>(what: &str, bound: Duration, mut cond: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = cond().await {
            return v;
        }
        assert!(
            start.elapsed() < bound,
            "timed out after {bound:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `fut` with a deadline, panicking with `what` when it passes.
pub async fn within<T>(what: &str, bound: Duration, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(bound, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {bound:?}: {what}"),
    }
}

/// Three bootstrapped nodes addressed by 0-based index, for the sessions
/// tests (a thin view of [`LocalCluster`]).
pub struct Cluster {
    pub nodes: LocalCluster,
    pub endpoints: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Three nodes, bootstrapped, with the example constraints; returns
    /// once every node knows the leader.
    pub async fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let nodes = three_nodes(dir.path(), &[]).await;
        let endpoints = nodes.endpoints();
        let cluster = Cluster {
            nodes,
            endpoints,
            _dir: dir,
        };
        cluster.leader(Duration::from_secs(30)).await;
        cluster
    }

    pub fn certs(&self) -> PathBuf {
        self.nodes.cert_dir()
    }

    /// A client of every endpoint; a request to a SIGKILLed node gets no
    /// answer and no close, so its wait is bounded shorter than usual.
    pub fn client(&self, user: &str) -> Client {
        let creds = TlsCredentials::from_dir(&self.certs(), user).expect("client certificate");
        let mut options = ClientOptions::new(self.endpoints.clone(), creds);
        options.request_timeout = Duration::from_secs(3);
        options.retry_budget = Duration::from_secs(20);
        Client::new(options).expect("client")
    }

    /// The index (0-based) of the leader every live node agrees on.
    pub async fn leader(&self, bound: Duration) -> usize {
        let admin = self.client("admin");
        wait_for("one leader known to every live node", bound, || {
            let admin = admin.clone();
            async move {
                let mut seen = None;
                for id in self.nodes.ids() {
                    if !self.nodes.is_running(id) {
                        continue;
                    }
                    let s = self.nodes.status(&admin, id).await?;
                    let leader = s.leader_id?;
                    if seen.is_some_and(|l| l != leader) {
                        return None;
                    }
                    seen = Some(leader);
                    if s.role == NodeRole::Leader && leader != s.node_id {
                        return None;
                    }
                }
                let leader = seen?;
                self.nodes.is_running(leader).then_some(leader as usize - 1)
            }
        })
        .await
    }

    /// SIGKILLs node `idx` (0-based) and reaps it.
    pub async fn kill(&mut self, idx: usize) {
        self.nodes.kill(idx as u64 + 1).await.expect("kill");
    }

    pub fn is_alive(&self, idx: usize) -> bool {
        self.nodes.is_running(idx as u64 + 1)
    }

    /// The node's log, for failure messages.
    pub fn log(&self, idx: usize) -> String {
        std::fs::read_to_string(self.nodes.log_path(idx as u64 + 1)).unwrap_or_default()
    }
}

/// A raw QUIC connection on the client ALPN, for sending arbitrary bytes
/// (testkit's [`RawClient`], failing the test where it fails).
pub struct Raw(pub RawClient);

impl Raw {
    pub async fn connect(certs: &Path, user: &str, addr: &str) -> Raw {
        match RawClient::connect(certs, user, addr).await {
            Ok(c) => Raw(c),
            Err(e) => panic!("raw connection as {user} to {addr}: {e}"),
        }
    }

    /// Writes `bytes` on a new stream, finishes, and decodes the answer.
    pub async fn exchange(&self, bytes: &[u8]) -> Reply {
        match self.0.exchange(bytes).await {
            Ok(r) => r,
            Err(e) => panic!("no answer on the raw stream: {e}"),
        }
    }
}
