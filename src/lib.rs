//! ArqonBus: the safety coordinator between an optimizer that proposes
//! parameter changes and the live system that runs them.

pub mod audit;
pub mod bench;
pub mod certs;
pub mod cli;
pub mod client;
pub mod codec;
pub mod local_cluster;
pub mod logging;
pub mod node;
pub mod proto;
pub mod raft;
pub mod state;
pub mod transport;
