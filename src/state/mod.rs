//! The replicated state machine: pure, deterministic logic with no IO.

pub mod value;
