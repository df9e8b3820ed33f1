//! ArqonBus: the safety coordinator between an optimizer that proposes
//! parameter changes and the live system that runs them.

pub mod certs;
pub mod state;
pub mod transport;
