//! A FUSE filesystem that loses every write not fsynced when told to: the
//! chaos suite's power-loss nemesis, in the manner of Jepsen's LazyFS.
//!
//! The filesystem keeps two states. The *durable* state lives in a backing
//! directory on the host's disk; the *volatile* state (unsynced writes and
//! namespace changes) lives in memory. Reads see the volatile state. `fsync`
//! and `fdatasync` on a file make its data and size durable; `fsync` on a
//! directory makes its entries durable. A power loss (see
//! [`Handle::power_loss`], or the `crash` command on the control socket)
//! throws the volatile state away. `README.md` beside this crate says what
//! is modelled and how the chaos harness drives it.

pub mod attr;
pub mod control;
mod data;
mod dirsync;
mod durable;
pub mod error;
mod extents;
pub mod fs;
mod handle;
pub mod image;
pub mod mount;
pub mod name;
pub mod namespace;
pub mod state;
pub mod stats;
mod volatile;
mod writeback;

pub use error::Error;
pub use handle::Handle;
pub use mount::{Mount, MountConfig, Unmounter};
pub use state::{PowerLoss, State};
pub use stats::Stats;
