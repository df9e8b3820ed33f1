//! The tamper-evident audit log: a SHA-256 hash chain of every decision.
//!
//! The replicated state decides what each entry says (deterministically, on
//! every replica); the node stores entries in sled by index and moves old
//! ones to an archive file, and anyone can recompute the chain.

pub mod entry;
pub mod store;
pub mod verify;

pub use entry::{AuditEntry, AuditHead, AuditRecord, Hash};
