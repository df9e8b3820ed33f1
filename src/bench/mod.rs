//! Benchmarks behind `arqonbus bench`: figures are measured here, never in
//! timed unit tests.

pub mod cluster;
pub mod cpu;
pub mod decisions;
pub mod flood;
pub mod gates;
pub mod rollback;
pub mod rollout_failover;
pub mod rollout_load;
pub mod rollout_setup;
pub mod sessions;
pub mod storage;
pub mod window;
pub mod writes;
