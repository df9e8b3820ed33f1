//! ArqonBus's pure core: the replicated state machine and every rule it
//! applies, with no IO, no clock and no async runtime.
//!
//! `value` and `constraints` say what a parameter may be, `constraint_file`
//! reads them from TOML or JSON, `command` is what the Raft log carries,
//! `machine` is how a command changes the [`State`], `proposal` how a
//! proposal is decided, `decided` which proposal ids have their answer
//! already, `events` the numbered event stream of each target, `terms` the
//! rollout terms an approval announces, `role` who
//! may do what, `security` the summaries of refused attempts a node
//! reports, `sessions` the clients' sequence numbers replays are checked
//! against, `seal` the signatures state changes carry, `audit` the hash
//! chain every decision is recorded in, and `rollout` the rules a rollout
//! follows (its verdict, and the reservoirs of samples the verdict reads).
//!
//! The node (the `arqonbus` package) stores and replicates this state; it
//! never decides anything itself.

pub mod allowed;
pub mod audit;
pub mod command;
pub mod constraint_file;
pub mod constraints;
pub mod decide;
pub mod decided;
pub mod events;
pub mod machine;
pub mod policy;
pub mod proposal;
pub mod role;
pub mod rollout;
pub mod rules;
pub mod seal;
pub mod security;
pub mod sessions;
pub mod terms;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod value;

pub use command::{Actor, Command, CommandError, CommandResult, Op, Outcome};
pub use machine::{Applied, State, Target};
pub use role::Role;
pub use value::{ParamKind, ParamValue};
