//! Benchmarks behind `arqonbus bench`: figures are measured here, never in
//! timed unit tests.

pub mod cluster;
pub mod decisions;
pub mod flood;
pub mod gates;
pub mod sessions;
pub mod storage;
pub mod window;
pub mod writes;
