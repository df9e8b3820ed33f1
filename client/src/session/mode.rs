//! The session's modes and the events that announce a change of mode.

use std::fmt;
use std::time::{Duration, SystemTime};

/// Why a session is degraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DegradedReason {
    /// No leader answered for at least this long.
    NoLeader { silent_for: Duration },
    /// The circuit breaker opened after failures in a row.
    BreakerOpen,
}

impl fmt::Display for DegradedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DegradedReason::NoLeader { silent_for } => {
                write!(f, "no leader answered for {} ms", silent_for.as_millis())
            }
            DegradedReason::BreakerOpen => write!(f, "the circuit breaker opened"),
        }
    }
}

/// What a session does with the calls it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No leader has answered yet; calls go to the cluster.
    Connecting,
    /// A leader answers; calls go to the cluster.
    Connected,
    /// Cut off: parameters come from the last-known-good file, proposals
    /// are refused locally, telemetry is buffered. Left by itself when a
    /// leader answers the background probe.
    Degraded(DegradedReason),
}

impl Mode {
    pub fn is_degraded(&self) -> bool {
        matches!(self, Mode::Degraded(_))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Mode::Connecting => "connecting",
            Mode::Connected => "connected",
            Mode::Degraded(_) => "degraded",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Degraded(reason) => write!(f, "degraded ({reason})"),
            other => f.write_str(other.name()),
        }
    }
}

/// One change of mode, as broadcast by the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeChange {
    pub from: Mode,
    pub to: Mode,
    pub at: SystemTime,
    pub reason: String,
}
