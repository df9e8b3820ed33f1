//! Real `arqonbus node` processes for `arqonbus dev`, the benchmarks, the
//! integration tests and the chaos harness: one launcher for all of them.
//!
//! [`NodeProcesses`] starts, signals and reaps the processes (SIGKILL,
//! SIGSTOP/SIGCONT, SIGTERM), each with its own data directory and log
//! file, optionally behind a command prefix such as `ip netns exec NAME`.
//! [`LocalCluster`] adds certificates, free loopback ports and the
//! questions a test asks a cluster (who leads, has everyone applied this
//! index), and how much memory each node holds (`memory`). Every wait
//! is bounded and says what did not happen. [`RawClient`] and `frames`
//! are a hostile client's tools: any bytes, on either ALPN; `flood`
//! turns them on every node of a cluster at once.

mod cluster;
mod error;
pub mod flood;
pub mod frames;
mod memory;
mod poll;
mod processes;
pub mod raw;

pub use cluster::LocalCluster;
pub use error::TestkitError;
pub use memory::Memory;
pub use poll::{free_ports, poll};
pub use processes::{NodeProcesses, NodeSpec};
pub use raw::{RawClient, RawError};
