//! A FUSE filesystem that loses every write not fsynced when told to: the
//! chaos suite's power-loss nemesis, in the manner of Jepsen's LazyFS.
//!
//! The filesystem keeps two states. The *durable* state lives in a backing
//! directory on the host's disk; the *volatile* state (unsynced writes and
//! namespace changes) lives in memory. Reads see the volatile state. `fsync`
//! and `fdatasync` on a file make its data and size durable; `fsync` on a
//! directory makes its entries durable. A power loss
//! ([`State::power_loss`]) throws the volatile state away.

pub mod attr;
mod data;
mod dirsync;
mod durable;
pub mod error;
mod extents;
pub mod image;
pub mod name;
pub mod namespace;
pub mod state;
pub mod stats;
mod volatile;

pub use error::Error;
pub use state::{PowerLoss, State};
pub use stats::Stats;
