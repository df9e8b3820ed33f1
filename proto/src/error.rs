//! Errors: the error codes a server sends on the wire ([`ErrorCode`] inside
//! an [`ErrorReply`] frame), and the codec's own error type
//! ([`CodecError`]) with its mapping onto a wire code.
//!
//! The variant order of [`ErrorCode`] is its numeric code on the wire
//! (bincode writes the variant index); never reorder. New codes are added
//! only in the ranges PROTOCOL.md §7.1 reserves, and a receiver treats a
//! code it does not know as `outcome_unknown`.

use serde::{Deserialize, Serialize};

use super::envelope::UnixMillis;
use super::limits::fit_text;

/// One error, as a server sends it. The number is the bincode variant index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// 0: this node is a follower; retry on the leader.
    NotLeader {
        leader_id: Option<u64>,
        /// `host:port` of the leader's client endpoint, when known.
        leader_addr: Option<String>,
    },
    /// 1: no leader is known (an election is under way); retry with backoff.
    NoLeader,
    /// 2: this node leads but has not heard from a majority recently, so it
    /// proposed nothing; safe to retry (on another node).
    NoQuorum,
    /// 3: the connection's certificate is missing or not trusted.
    Unauthenticated,
    /// 4: the identity's role may not do this (for this target system).
    Forbidden,
    /// 5: too many requests from this identity; retry after the given time.
    RateLimited {
        retry_after_ms: u64,
    },
    /// 6: the envelope's sequence number is not above the last accepted.
    Replay {
        last_seq: u64,
    },
    /// 7: the envelope's `sent_at` is too far from the server's clock.
    StaleTimestamp {
        server_time: UnixMillis,
        max_skew_ms: u64,
    },
    /// 8: the frame decoded but a field is wrong, or it did not decode.
    InvalidMessage {
        field: String,
        reason: String,
    },
    /// 9: the frame, or its body once decompressed, is over a limit.
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// 10: the frame version is not one this server speaks.
    UnsupportedVersion {
        received: u8,
        supported: Vec<u8>,
    },
    /// 11: this `proposal_id` was already used for a different proposal.
    Conflict {
        proposal_id: String,
    },
    /// 12: the requested event position is older than the server keeps.
    ResyncRequired {
        target_system: String,
        oldest_seq: u64,
    },
    /// 13: the node cannot say what became of the request: its deadline
    /// passed after it proposed the command, or it failed after that. The
    /// request may have been applied; retry only what is idempotent.
    OutcomeUnknown,
    /// 14, 15: held for replication, idempotence and audit edges (§7.1);
    /// declared because a code is a variant index; never sent.
    Reserved14,
    Reserved15,
    /// 16: no proposal with this id is known (or it is no longer kept).
    UnknownProposal {
        proposal_id: String,
    },
    /// 17: the proposal is not pending approval; `status` says what it is.
    NotPending {
        proposal_id: String,
        status: String,
    },
    /// 18: no identity approves its own proposal.
    SelfApproval {
        proposal_id: String,
    },
    /// 19: this identity has already approved the proposal.
    AlreadyApproved {
        proposal_id: String,
    },
    /// 20: the identity is not an approver under the target's policy.
    NotAnApprover {
        identity: String,
    },
    /// 21: a proposal is pending on the target (its active one); send
    /// again with `force` to abort it.
    ActiveProposal {
        proposal_id: String,
    },
    /// 22: the new constraints make these live parameters (or rules)
    /// illegal; send again with `force`.
    LiveOutOfBounds {
        parameters: Vec<String>,
    },
    /// 23: held for the constraint engine (§7.1); declared because a code
    /// is a variant index; never sent.
    Reserved23,
    /// 24: a pause, resume or promote of a target with no rollout in
    /// progress; nothing changed.
    NoRollout {
        target_system: String,
    },
}

impl ErrorCode {
    /// The snake_case name used in JSON and in logs.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorCode::NotLeader { .. } => "not_leader",
            ErrorCode::NoLeader => "no_leader",
            ErrorCode::NoQuorum => "no_quorum",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited { .. } => "rate_limited",
            ErrorCode::Replay { .. } => "replay",
            ErrorCode::StaleTimestamp { .. } => "stale_timestamp",
            ErrorCode::InvalidMessage { .. } => "invalid_message",
            ErrorCode::TooLarge { .. } => "too_large",
            ErrorCode::UnsupportedVersion { .. } => "unsupported_version",
            ErrorCode::Conflict { .. } => "conflict",
            ErrorCode::ResyncRequired { .. } => "resync_required",
            ErrorCode::OutcomeUnknown => "outcome_unknown",
            ErrorCode::Reserved14 => "reserved_14",
            ErrorCode::Reserved15 => "reserved_15",
            ErrorCode::UnknownProposal { .. } => "unknown_proposal",
            ErrorCode::NotPending { .. } => "not_pending",
            ErrorCode::SelfApproval { .. } => "self_approval",
            ErrorCode::AlreadyApproved { .. } => "already_approved",
            ErrorCode::NotAnApprover { .. } => "not_an_approver",
            ErrorCode::ActiveProposal { .. } => "active_proposal",
            ErrorCode::LiveOutOfBounds { .. } => "live_out_of_bounds",
            ErrorCode::Reserved23 => "reserved_23",
            ErrorCode::NoRollout { .. } => "no_rollout",
        }
    }
}

/// The `error` frame: a code with its details and a message for humans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorReply {
    /// An error frame that fits its own limits whatever it quotes: every
    /// text is cleaned and cut to `MAX_TEXT_LEN` (`limits::fit_text`).
    pub fn new(code: ErrorCode, message: &str) -> Self {
        ErrorReply {
            code: code.fitted(),
            message: fit_text(message),
        }
    }
}

impl ErrorCode {
    /// The same code with its free-text fields fitted to their limits.
    pub fn fitted(self) -> Self {
        match self {
            ErrorCode::InvalidMessage { field, reason } => ErrorCode::InvalidMessage {
                field: fit_text(&field),
                reason: fit_text(&reason),
            },
            other => other,
        }
    }
}

/// Why a frame could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodecError {
    #[error("frame truncated: {needed} bytes needed, {have} present")]
    Truncated { needed: usize, have: usize },
    #[error("{extra} bytes after the end of the frame")]
    TrailingBytes { extra: usize },
    #[error("frame of {len} bytes is over the limit of {limit}")]
    FrameTooLarge { len: usize, limit: usize },
    #[error("body of {len} bytes once decompressed is over the limit of {limit}")]
    BodyTooLarge { len: usize, limit: usize },
    #[error("decoded, the message would take over {limit} bytes of memory ({len} counted so far)")]
    DecodedTooLarge { len: usize, limit: usize },
    #[error("frame version {0} is not supported")]
    UnknownVersion(u8),
    #[error("message type 0x{0:02x} is unknown")]
    UnknownType(u8),
    #[error("message type 0x{0:02x} is a reply; a server takes requests (0x01-0x7f)")]
    ReplyToServer(u8),
    #[error("message type 0x{0:02x} is a request; a server sends replies (0x80-0xff)")]
    RequestFromServer(u8),
    #[error("reserved flag bits 0x{0:02x} are set")]
    ReservedFlags(u8),
    #[error("compressed body is invalid: {0}")]
    Decompress(String),
    #[error("body does not decode (stopped at byte {offset}): {reason}")]
    Body { offset: usize, reason: String },
    #[error("the message ends at byte {end} of the {len}-byte body")]
    BodyTrailing { end: usize, len: usize },
    #[error("body is not in canonical encoding (from byte {offset})")]
    NonCanonical { offset: usize },
    #[error("{field} is not a finite number")]
    NonFinite { field: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("cannot encode: {0}")]
    Encode(String),
}

impl CodecError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CodecError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The error frame a server answers with when a frame fails to decode;
    /// it always fits the frame's limits.
    pub fn reply(&self) -> ErrorReply {
        ErrorReply::new(self.to_wire(), &self.to_string())
    }

    /// The error code a server answers with when a frame fails to decode,
    /// its texts fitted to their limits.
    pub fn to_wire(&self) -> ErrorCode {
        self.wire_code().fitted()
    }

    fn wire_code(&self) -> ErrorCode {
        match self {
            CodecError::FrameTooLarge { len, limit }
            | CodecError::BodyTooLarge { len, limit }
            | CodecError::DecodedTooLarge { len, limit } => ErrorCode::TooLarge {
                size: *len as u64,
                limit: *limit as u64,
            },
            CodecError::UnknownVersion(v) => ErrorCode::UnsupportedVersion {
                received: *v,
                supported: super::SUPPORTED_VERSIONS.to_vec(),
            },
            CodecError::NonFinite { field } | CodecError::Invalid { field, .. } => {
                ErrorCode::InvalidMessage {
                    field: field.clone(),
                    reason: self.to_string(),
                }
            }
            CodecError::UnknownType(_)
            | CodecError::ReplyToServer(_)
            | CodecError::RequestFromServer(_) => ErrorCode::InvalidMessage {
                field: "type".into(),
                reason: self.to_string(),
            },
            CodecError::Body { .. }
            | CodecError::BodyTrailing { .. }
            | CodecError::NonCanonical { .. } => ErrorCode::InvalidMessage {
                field: "body".into(),
                reason: self.to_string(),
            },
            CodecError::ReservedFlags(_) => ErrorCode::InvalidMessage {
                field: "flags".into(),
                reason: self.to_string(),
            },
            _ => ErrorCode::InvalidMessage {
                field: "frame".into(),
                reason: self.to_string(),
            },
        }
    }
}
