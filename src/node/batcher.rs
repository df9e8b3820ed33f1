//! Packs concurrent commands into `Batch` log entries.
//!
//! openraft 0.9 flushes each client write as its own entry, so throughput is
//! about one write per fsync. Commands that arrive while earlier ones are in
//! flight are queued and proposed together as one `Batch` entry (up to
//! [`MAX_BATCH`] commands and [`MAX_BATCH_BYTES`]); `apply` answers one
//! result per command, and each caller gets its own. A few entries may be
//! in flight at once.
//!
//! Entry sizes are bounded so replication never stalls on one: a command
//! over [`MAX_COMMAND_BYTES`] is refused before it is proposed, and a batch
//! never grows past [`MAX_BATCH_BYTES`] (a single larger command goes
//! alone). So no entry is over 4 MiB, and an append, which openraft must
//! finish within one heartbeat, carries a bounded amount (`LogStore`).

use crate::raft::{NodeId, Response, TypeConfig};
use crate::record;
use arqonbus_core::{Actor, Command, CommandResult, Op, Outcome, Role};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, Raft};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Most commands in one `Batch` entry.
pub const MAX_BATCH: usize = 64;
/// Most bytes of commands (as the log stores them) in one `Batch` entry.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// The largest command the log takes (PROTOCOL.md §8, `MAX_COMMAND_LEN`).
pub const MAX_COMMAND_BYTES: usize = 4 * 1024 * 1024;
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
    #[error("the command takes {size} bytes in the log, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the command does not encode: {0}")]
    Encode(String),
}

type Reply = oneshot::Sender<Result<CommandResult, WriteError>>;

/// A command waiting to be proposed: its size in the log and its caller.
struct Queued {
    command: Command,
    size: usize,
    reply: Reply,
}

/// The handle callers submit commands through.
#[derive(Clone)]
pub struct Batcher {
    queue: mpsc::Sender<Queued>,
}

impl Batcher {
    /// Starts the batching task for `raft`; `node` is this node's id, the
    /// actor of the `Batch` envelope.
    pub fn start(raft: Raft<TypeConfig>, node: NodeId) -> Batcher {
        let (tx, rx) = mpsc::channel(MAX_BATCH * IN_FLIGHT * 4);
        tokio::spawn(run(raft, node, rx));
        Batcher { queue: tx }
    }

    /// Proposes `command` and waits for what `apply` answered; refuses a
    /// command over [`MAX_COMMAND_BYTES`] before proposing anything.
    pub async fn submit(&self, command: Command) -> Result<CommandResult, WriteError> {
        let size = record::encoded_len(&command).map_err(|e| WriteError::Encode(e.to_string()))?;
        if size > MAX_COMMAND_BYTES {
            return Err(WriteError::TooLarge {
                size,
                limit: MAX_COMMAND_BYTES,
            });
        }
        let (reply, rx) = oneshot::channel();
        self.queue
            .send(Queued {
                command,
                size,
                reply,
            })
            .await
            .map_err(|_| WriteError::Stopped)?;
        rx.await.map_err(|_| WriteError::Stopped)?
    }
}

/// Takes the next batch: `first`, then what is already queued, up to
/// [`MAX_BATCH`] commands and [`MAX_BATCH_BYTES`]. A command that does not
/// fit is handed back to open the next batch.
fn take_batch(first: Queued, rx: &mut mpsc::Receiver<Queued>) -> (Vec<Queued>, Option<Queued>) {
    let mut bytes = first.size;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        let Ok(next) = rx.try_recv() else {
            break;
        };
        if bytes + next.size > MAX_BATCH_BYTES {
            return (batch, Some(next));
        }
        bytes += next.size;
        batch.push(next);
    }
    (batch, None)
}

async fn run(raft: Raft<TypeConfig>, node: NodeId, mut rx: mpsc::Receiver<Queued>) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut carried = None;
    loop {
        let first = match carried.take() {
            Some(q) => q,
            None => match rx.recv().await {
                Some(q) => q,
                None => return,
            },
        };
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (batch, rest) = take_batch(first, &mut rx);
        carried = rest;
        let raft = raft.clone();
        tokio::spawn(async move {
            propose(&raft, node, batch).await;
            drop(permit);
        });
    }
}

async fn propose(raft: &Raft<TypeConfig>, node: NodeId, mut batch: Vec<Queued>) {
    if batch.len() == 1 {
        let Some(Queued { command, reply, .. }) = batch.pop() else {
            return;
        };
        let result = write(raft, command).await.and_then(|r| match r {
            Response::Command(result) => Ok(result),
            other => Err(WriteError::Raft(format!("unexpected response {other:?}"))),
        });
        let _ = reply.send(result);
        return;
    }
    let (commands, replies): (Vec<Command>, Vec<Reply>) =
        batch.into_iter().map(|q| (q.command, q.reply)).unzip();
    let at_ms = commands.iter().map(|c| c.at_ms).max().unwrap_or(0);
    let envelope = Command {
        actor: Actor {
            identity: arqonbus_transport::node_name(node),
            role: Role::Node,
        },
        at_ms,
        origin: None,
        seal: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_core::Op;

    fn queued(size: usize) -> (Queued, oneshot::Receiver<Result<CommandResult, WriteError>>) {
        let (reply, rx) = oneshot::channel();
        let command = Command {
            actor: Actor {
                identity: "operator".into(),
                role: Role::Operator,
            },
            at_ms: 1,
            origin: None,
            seal: None,
            op: Op::SecurityEvent {
                identity: "x".into(),
                role: Role::Viewer,
                what: String::new(),
            },
        };
        (
            Queued {
                command,
                size,
                reply,
            },
            rx,
        )
    }

    #[test]
    fn a_batch_stops_before_its_byte_budget_and_carries_the_rest() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut keep = Vec::new();
        for size in [400 * 1024, 400 * 1024, 300 * 1024, 10] {
            let (q, r) = queued(size);
            keep.push(r);
            tx.try_send(q).expect("queued");
        }
        let (first, r) = queued(100 * 1024);
        keep.push(r);
        let (batch, rest) = take_batch(first, &mut rx);
        let sizes: Vec<usize> = batch.iter().map(|q| q.size).collect();
        assert_eq!(sizes, [100 * 1024, 400 * 1024, 400 * 1024]);
        assert!(sizes.iter().sum::<usize>() <= MAX_BATCH_BYTES);
        let rest = rest.expect("the next one opens the next batch");
        assert_eq!(rest.size, 300 * 1024);
        let (next, none) = take_batch(rest, &mut rx);
        assert_eq!(
            next.iter().map(|q| q.size).collect::<Vec<_>>(),
            [300 * 1024, 10]
        );
        assert!(none.is_none());
    }

    #[test]
    fn a_command_larger_than_the_budget_goes_alone() {
        let (tx, mut rx) = mpsc::channel(4);
        let (q, _r1) = queued(10);
        tx.try_send(q).expect("queued");
        let (big, _r2) = queued(MAX_BATCH_BYTES + 1);
        let (batch, rest) = take_batch(big, &mut rx);
        assert_eq!(batch.len(), 1);
        assert_eq!(rest.map(|q| q.size), Some(10));
    }

    #[test]
    fn a_batch_holds_at_most_max_batch_commands() {
        let (tx, mut rx) = mpsc::channel(MAX_BATCH * 2);
        let mut keep = Vec::new();
        for _ in 0..MAX_BATCH + 5 {
            let (q, r) = queued(1);
            keep.push(r);
            tx.try_send(q).expect("queued");
        }
        let (first, _r) = queued(1);
        let (batch, rest) = take_batch(first, &mut rx);
        assert_eq!(batch.len(), MAX_BATCH);
        assert!(rest.is_none());
    }
}
