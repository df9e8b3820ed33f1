//! The replicated state machine: pure, deterministic logic with no IO.
//!
//! `value` and `constraints` say what a parameter may be, `command` what the
//! log carries, `machine` how a command changes the state, `proposal` how a
//! proposal is decided, `decided` which proposal ids have their answer
//! already, `events` the numbered event stream of each target.

pub mod command;
pub mod constraint_file;
pub mod constraints;
pub mod decided;
pub mod events;
pub mod machine;
pub mod proposal;
pub mod role;
pub mod value;

pub use command::{Actor, Command, CommandError, CommandResult, Op, Outcome};
pub use machine::{Applied, State, Target};
pub use role::Role;
pub use value::{ParamKind, ParamValue};
