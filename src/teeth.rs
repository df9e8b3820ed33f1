//! Deliberate breakage, for showing that the chaos suite has teeth.
//!
//! Compiled in only with `RUSTFLAGS="--cfg arqonbus_teeth"`, which only
//! `chaos/teeth.sh` sets (never a Cargo feature: `--all-features` cannot
//! ship it). Such a build breaks what `ARQONBUS_TEETH` names (a comma
//! separated list), so one build serves every teeth run:
//! - `stale-reads`: linearizable reads skip the leader and quorum check and
//!   are served from any node's local replica;
//! - `no-fsync`: every sync of the storage (`crate::durable`) is skipped.
//!
//! In every other build [`broken`] is `false` and the checks compile away.

/// Whether this teeth build breaks `what`.
#[cfg(arqonbus_teeth)]
pub fn broken(what: &str) -> bool {
    std::env::var("ARQONBUS_TEETH").is_ok_and(|v| v.split(',').any(|w| w.trim() == what))
}

/// Whether this teeth build breaks `what`: never, in this build.
#[cfg(not(arqonbus_teeth))]
pub const fn broken(_what: &str) -> bool {
    false
}
