//! The tamper-evident audit log: a SHA-256 hash chain of every decision.
//!
//! The replicated state decides what each entry says (deterministically, on
//! every replica); the node stores entries and moves old ones to an archive
//! file; anyone can recompute the chain with [`verify`].

pub mod entry;
pub mod hash_input;
pub mod verify;

pub use entry::{AuditEntry, AuditHead, AuditRecord, Hash, GENESIS};
pub use verify::{Verifier, VerifyError, VerifyReport};
