//! The ArqonBus node: Raft storage and network (`raft`), serving peers and
//! clients (`node`), the sled store and archive of the audit chain
//! (`audit`), issuing certificates (`certs`), the format of persisted
//! records (`record`), and how changes to files are made durable
//! (`durable`).
//!
//! The rules a node enforces live in `arqonbus-core`; the wire protocol in
//! `arqonbus-proto`; QUIC and TLS in `arqonbus-transport`. The `arqonbus`
//! binary (`src/main.rs`, with `cli/` and `bench/`) is built on this library.

pub mod audit;
pub mod certs;
pub mod durable;
pub mod node;
pub mod raft;
pub mod record;
pub mod teeth;
