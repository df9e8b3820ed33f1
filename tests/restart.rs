//! A one-node Raft on our stores, restarted in the same process: everything
//! acknowledged before the restart is there after it, recovered from the
//! last snapshot plus the log after it.

// openraft's RPC error types are large; the network trait requires them.
#![allow(clippy::result_large_err)]

use arqonbus::audit::store::Retention;
use arqonbus::raft::storage::{self, Storage};
use arqonbus::raft::{NodeId, StateStore, TypeConfig};
use arqonbus_core::constraint_file;
use arqonbus_core::{Actor, Command, Op, ParamValue, Role};
use openraft::error::{InstallSnapshotError, RPCError, RaftError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, Config, Raft};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A single node never sends; any attempt is reported unreachable.
struct NoPeers;

type RpcResult<T, E = RaftError<NodeId>> = Result<T, RPCError<NodeId, BasicNode, E>>;

fn unreachable<T, E: std::error::Error>() -> RpcResult<T, E> {
    let err = std::io::Error::other("single-node test has no peers");
    Err(RPCError::Unreachable(Unreachable::new(&err)))
}

impl RaftNetwork<TypeConfig> for NoPeers {
    async fn append_entries(
        &mut self,
        _: AppendEntriesRequest<TypeConfig>,
        _: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>> {
        unreachable()
    }
    async fn install_snapshot(
        &mut self,
        _: InstallSnapshotRequest<TypeConfig>,
        _: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>> {
        unreachable()
    }
    async fn vote(
        &mut self,
        _: VoteRequest<NodeId>,
        _: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>> {
        unreachable()
    }
}

impl RaftNetworkFactory<TypeConfig> for NoPeers {
    type Network = NoPeers;
    async fn new_client(&mut self, _: NodeId, _: &BasicNode) -> NoPeers {
        NoPeers
    }
}

const WAIT: Duration = Duration::from_secs(20);

/// Opens the stores once openraft's tasks have let go of them: after
/// `shutdown` returns, its state machine worker may still be dropping its
/// handle, and sled refuses a second open while one is held.
async fn reopen(dir: &Path) -> Storage {
    let start = std::time::Instant::now();
    loop {
        match storage::open(dir, Retention::default()) {
            Ok(s) => return s,
            Err(e) if start.elapsed() > Duration::from_secs(5) => {
                panic!("the stores were still held 5 s after shutdown: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn start(dir: &Path) -> (Raft<TypeConfig>, StateStore, sled::Db) {
    let Storage { log, state: sm, db } = reopen(dir).await;
    let config = Config {
        heartbeat_interval: 100,
        election_timeout_min: 300,
        election_timeout_max: 600,
        // Purge the log up to each snapshot, so a restart needs the snapshot.
        max_in_snapshot_log_to_keep: 0,
        purge_batch_size: 1,
        ..Default::default()
    };
    let config = Arc::new(config.validate().expect("valid config"));
    let raft = Raft::new(1, config, NoPeers, log, sm.clone())
        .await
        .expect("raft starts");
    (raft, sm, db)
}

fn command(at_ms: u64, op: Op) -> Command {
    Command {
        actor: Actor {
            identity: "operator".into(),
            role: Role::Operator,
        },
        at_ms,
        origin: None,
        seal: None,
        op,
    }
}

fn set_batch(n: i64) -> Op {
    Op::SetParameters {
        target: "svc".into(),
        values: BTreeMap::from([("batch_size".to_string(), ParamValue::Int(n))]),
        expected: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_and_audit_survive_a_restart_from_snapshot_plus_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let constraints = constraint_file::parse(
        "examples/constraints.toml",
        include_str!("../examples/constraints.toml"),
    )
    .expect("example parses");

    let (before_state, before_applied) = {
        let (raft, sm, _db) = start(dir.path()).await;
        raft.initialize(BTreeSet::from([1]))
            .await
            .expect("initialize");
        raft.wait(Some(WAIT))
            .current_leader(1, "node 1 becomes leader")
            .await
            .expect("leader elected");
        raft.client_write(command(
            1,
            Op::SetConstraints {
                target: "svc".into(),
                constraints,
            },
        ))
        .await
        .expect("constraints written");
        for n in 1..=5 {
            raft.client_write(command(n as u64 + 1, set_batch(n)))
                .await
                .expect("write");
        }
        raft.trigger().snapshot().await.expect("trigger snapshot");
        let applied = raft.metrics().borrow().last_applied;
        raft.wait(Some(WAIT))
            .metrics(|m| m.snapshot >= applied, "a snapshot covering the writes")
            .await
            .expect("snapshot built");
        for n in 6..=8 {
            raft.client_write(command(n as u64 + 1, set_batch(n)))
                .await
                .expect("write after snapshot");
        }
        let applied = raft.metrics().borrow().last_applied;
        raft.shutdown().await.expect("shutdown");
        (sm.read(|a| a.state.clone()), applied)
    };
    assert_eq!(
        before_state.targets["svc"].live["batch_size"],
        ParamValue::Int(8)
    );

    {
        // The state machine alone, before Raft replays anything: the snapshot.
        let Storage { log, state: sm, .. } = reopen(dir.path()).await;
        let restored = sm.read(|a| a.last_applied);
        assert!(
            restored.is_some() && restored < before_applied,
            "the state machine should load the snapshot ({restored:?}), from before the last write ({before_applied:?})"
        );
        let mut log = log;
        let purged = openraft::storage::RaftLogStorage::get_log_state(&mut log)
            .await
            .expect("log state")
            .last_purged_log_id;
        assert!(purged.is_some(), "the log before the snapshot was purged");
    }
    let (raft, sm, _db) = start(dir.path()).await;
    raft.wait(Some(WAIT))
        .applied_index_at_least(
            before_applied.map(|l| l.index),
            "log replayed after restart",
        )
        .await
        .expect("replay finished");
    let after = sm.read(|a| a.state.clone());
    assert_eq!(after, before_state, "state after restart differs");
    let report = sm
        .audit()
        .verify(None)
        .expect("audit readable")
        .expect("audit verifies");
    assert_eq!(report.head, after.audit, "audit head after restart");
    raft.shutdown().await.expect("shutdown");
}
