//! The node's side of the audit chain: entries stored in sled by index and
//! old ones moved to an archive file. What each entry says, and how the
//! chain is hashed and verified, is `arqonbus_core::audit`.

pub mod archive;
pub mod store;
