//! Packs concurrent commands into `Batch` log entries.
//!
//! openraft 0.9 flushes each client write as its own entry, so throughput is
//! about one write per fsync. Commands that arrive while earlier ones are in
//! flight are queued and proposed together as one `Batch` entry (up to
//! [`MAX_BATCH`]); `apply` answers one result per command, and each caller
//! gets its own. A few entries may be in flight at once.

use crate::raft::{NodeId, Response, TypeConfig};
use arqonbus_core::{Actor, Command, CommandResult, Op, Outcome, Role};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, Raft};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Most commands in one `Batch` entry.
pub const MAX_BATCH: usize = 64;
/// Entries proposed concurrently.
const IN_FLIGHT: usize = 4;

/// Why a write did not produce a result from `apply`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("not the leader (leader: {leader:?})")]
    NotLeader {
        leader: Option<NodeId>,
        addr: Option<String>,
    },
    #[error("raft: {0}")]
    Raft(String),
    #[error("the batcher has stopped")]
    Stopped,
}

type Reply = oneshot::Sender<Result<CommandResult, WriteError>>;

/// The handle callers submit commands through.
#[derive(Clone)]
pub struct Batcher {
    queue: mpsc::Sender<(Command, Reply)>,
}

impl Batcher {
    /// Starts the batching task for `raft`; `node` is this node's id, the
    /// actor of the `Batch` envelope.
    pub fn start(raft: Raft<TypeConfig>, node: NodeId) -> Batcher {
        let (tx, rx) = mpsc::channel(MAX_BATCH * IN_FLIGHT * 4);
        tokio::spawn(run(raft, node, rx));
        Batcher { queue: tx }
    }

    /// Proposes `command` and waits for what `apply` answered.
    pub async fn submit(&self, command: Command) -> Result<CommandResult, WriteError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((command, tx))
            .await
            .map_err(|_| WriteError::Stopped)?;
        rx.await.map_err(|_| WriteError::Stopped)?
    }
}

async fn run(raft: Raft<TypeConfig>, node: NodeId, mut rx: mpsc::Receiver<(Command, Reply)>) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let raft = raft.clone();
        tokio::spawn(async move {
            propose(&raft, node, batch).await;
            drop(permit);
        });
    }
}

async fn propose(raft: &Raft<TypeConfig>, node: NodeId, mut batch: Vec<(Command, Reply)>) {
    if batch.len() == 1 {
        let Some((command, reply)) = batch.pop() else {
            return;
        };
        let result = write(raft, command).await.and_then(|r| match r {
            Response::Command(result) => Ok(result),
            other => Err(WriteError::Raft(format!("unexpected response {other:?}"))),
        });
        let _ = reply.send(result);
        return;
    }
    let (commands, replies): (Vec<Command>, Vec<Reply>) = batch.into_iter().unzip();
    let at_ms = commands.iter().map(|c| c.at_ms).max().unwrap_or(0);
    let envelope = Command {
        actor: Actor {
            identity: arqonbus_transport::node_name(node),
            role: Role::Node,
        },
        at_ms,
        op: Op::Batch(commands),
    };
    match write(raft, envelope).await {
        Ok(Response::Command(Ok(Outcome::Batch(results)))) if results.len() == replies.len() => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Ok(other) => {
            let e = WriteError::Raft(format!("unexpected batch response {other:?}"));
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

async fn write(raft: &Raft<TypeConfig>, command: Command) -> Result<Response, WriteError> {
    match raft.client_write(command).await {
        Ok(r) => Ok(r.data),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
            Err(WriteError::NotLeader {
                leader: f.leader_id,
                addr: f.leader_node.map(|n: BasicNode| n.addr),
            })
        }
        Err(e) => Err(WriteError::Raft(e.to_string())),
    }
}
