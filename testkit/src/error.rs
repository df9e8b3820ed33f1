//! What can go wrong while running node processes.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    #[error("node processes: {0}")]
    Io(#[from] std::io::Error),
    #[error("node processes: {0}")]
    Client(#[from] arqonbus_client::ClientError),
    #[error("node processes: {0}")]
    Tls(#[from] arqonbus_transport::TlsError),
    #[error("node processes: `{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("node processes: signal {signal} to node {id}: {reason}")]
    Signal {
        id: u64,
        signal: String,
        reason: String,
    },
    #[error("node processes: {what} did not happen within {within:?}")]
    Timeout { what: String, within: Duration },
    #[error("node processes: node {0} is unknown")]
    NoSuchNode(u64),
    #[error("node processes: node {0} is not running")]
    NotRunning(u64),
    #[error("node processes: node {0} is already running")]
    AlreadyRunning(u64),
}

pub type Result<T> = std::result::Result<T, TestkitError>;
