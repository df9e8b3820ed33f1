//! ArqonBus: the safety coordinator between an optimizer that proposes
//! parameter changes and the live system that runs them.

pub mod proto;
pub mod state;
