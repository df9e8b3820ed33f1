//! Real `arqonbus node` processes for `arqonbus dev`, the benchmarks, the
//! integration tests and the chaos harness: one launcher for all of them.
//!
//! [`NodeProcesses`] starts, signals and reaps the processes (SIGKILL,
//! SIGSTOP/SIGCONT, SIGTERM), each with its own data directory and log
//! file, optionally behind a command prefix such as `ip netns exec NAME`.
//! [`LocalCluster`] adds certificates, free loopback ports and the
//! questions a test asks a cluster (who leads, has everyone applied this
//! index). Every wait is bounded and says what did not happen.

mod cluster;
mod error;
mod poll;
mod processes;

pub use cluster::LocalCluster;
pub use error::TestkitError;
pub use poll::{free_ports, poll};
pub use processes::{NodeProcesses, NodeSpec};
