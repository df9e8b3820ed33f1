//! The gates every decoded request passes before it is dispatched, in one
//! order (PROTOCOL.md §5, SECURITY.md): authentication, rate limits (before
//! anything costly), authorization, staleness and replay, then the
//! signature. Each gate is a module of its own and refuses with one
//! variant of [`GateError`]; a refusal is counted in the node's security
//! table (one summary per interval, never an entry per request).

mod authenticate;
mod authorize;
mod freshness;
pub mod rate;
pub mod replay;
pub mod settings;
mod signature;
pub mod signing;

pub use authenticate::authenticate;
pub use authorize::authorize;
pub use freshness::check_fresh;
pub use signature::check_signature;

use super::reply::Reject;
use super::security::Kind;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::{Envelope, Request, UnixMillis};
use arqonbus_transport::Identity;
use rate::RateLimits;
use replay::ReplayTable;
use settings::SecuritySettings;
use signing::About;
use std::time::{Duration, Instant};

/// Why a gate refused a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GateError {
    /// Authentication or signature: a state change without a signature
    /// where one is required, or from a key that cannot sign.
    #[error("unsigned: {0}")]
    Unsigned(String),
    #[error("the signature does not verify with the sender's certificate key")]
    BadSignature,
    #[error("over the rate limit; retry after {0:?}")]
    RateLimited(Duration),
    #[error("{0}")]
    Forbidden(String),
    #[error("sent_at is {skew_ms} ms from the server clock (allowed {max_skew_ms} ms)")]
    Stale {
        server_time: UnixMillis,
        skew_ms: i64,
        max_skew_ms: u64,
    },
    #[error("session {session:#x}: sequence number at or below {last_seq} already accepted")]
    Replay { session: u64, last_seq: u64 },
}

impl GateError {
    /// The security table's kind for this refusal.
    pub fn kind(&self) -> Kind {
        match self {
            GateError::Unsigned(_) | GateError::BadSignature => Kind::BadSignature,
            GateError::RateLimited(_) => Kind::RateLimited,
            GateError::Forbidden(_) => Kind::Forbidden,
            GateError::Stale { .. } => Kind::Stale,
            GateError::Replay { .. } => Kind::Replay,
        }
    }

    /// The wire error.
    pub fn reject(&self) -> Reject {
        let code = match self {
            GateError::Unsigned(_) | GateError::BadSignature => ErrorCode::Unauthenticated,
            GateError::RateLimited(wait) => ErrorCode::RateLimited {
                retry_after_ms: wait.as_millis().max(1) as u64,
            },
            GateError::Forbidden(_) => ErrorCode::Forbidden,
            GateError::Stale {
                server_time,
                max_skew_ms,
                ..
            } => ErrorCode::StaleTimestamp {
                server_time: *server_time,
                max_skew_ms: *max_skew_ms,
            },
            GateError::Replay { last_seq, .. } => ErrorCode::Replay {
                last_seq: *last_seq,
            },
        };
        let message = match self {
            GateError::Stale { skew_ms, .. } if *skew_ms < 0 => format!(
                "{self}: the client clock is {} ms behind",
                skew_ms.unsigned_abs()
            ),
            GateError::Stale { skew_ms, .. } => {
                format!("{self}: the client clock is {skew_ms} ms ahead")
            }
            other => other.to_string(),
        };
        (code, message)
    }
}

/// What passed the gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passed {
    /// A new request.
    Fresh,
    /// The exact re-send of a proposal: answered with its recorded
    /// decision, never decided again.
    Resent,
}

/// The state the gates keep on one node.
pub struct Gates {
    pub settings: SecuritySettings,
    pub rate: RateLimits,
    pub replay: ReplayTable,
}

impl Gates {
    pub fn new(settings: SecuritySettings) -> Self {
        Gates {
            rate: RateLimits::new(&settings),
            replay: ReplayTable::new(settings.max_skew()),
            settings,
        }
    }

    /// Runs every gate in order. `decided(id)`: whether a proposal id has
    /// a recorded decision (an exact re-send of one passes as
    /// [`Passed::Resent`]). `signing(about)`: the replicated
    /// `signing_required` of the target a request is about, if it has one
    /// ([`signing::must_sign`]).
    pub fn check(
        &self,
        identity: &Identity,
        key: Option<&[u8]>,
        envelope: &Envelope,
        request: &Request,
        decided: impl Fn(&str) -> bool,
        signing: impl Fn(About<'_>) -> Option<bool>,
    ) -> Result<Passed, GateError> {
        // Asked of the replicated state only when it matters: a keyless
        // certificate, or an unsigned request past authorization. A flood
        // of signed or forbidden requests never takes the state's lock.
        let must_sign = || signing::must_sign(request, self.settings.signing_required, &signing);
        let who = authenticate(identity, key, key.is_none() && must_sign())?;
        let (class, units) = rate::class(request);
        self.rate
            .take(&who.identity.name, who.identity.role, class, units)?;
        authorize(who.identity, request)?;
        check_fresh(
            envelope.sent_at,
            UnixMillis::now(),
            self.settings.max_skew(),
        )?;
        let replayed = self.replay.accept(
            &who.identity.name,
            envelope.session,
            envelope.seq,
            Instant::now(),
        );
        let unsigned_must_sign = envelope.signature.is_none() && must_sign();
        check_signature(who.key, envelope, request, unsigned_must_sign)?;
        match (replayed, request) {
            (Ok(()), _) => Ok(Passed::Fresh),
            (Err(GateError::Replay { .. }), Request::Proposal(p)) if decided(&p.proposal_id) => {
                Ok(Passed::Resent)
            }
            (Err(e), _) => Err(e),
        }
    }

    /// Drops limiter and replay state of senders not seen recently.
    pub fn forget_idle(&self) {
        self.rate.forget_idle();
        self.replay.forget_idle(Instant::now());
    }
}

#[cfg(test)]
mod tests;
