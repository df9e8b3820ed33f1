//! The JSON view of server replies and events (see `json` for the rules).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::error::{CodecError, ErrorCode, ErrorReply};
use super::json::{params_from_json, params_to_json, parse_time, time, JsonMessage, JsonParam};
use super::json_operator::JsonOperatorReply;
use super::json_rollout::{JsonAssignment, JsonRolloutStatus};
use super::reply::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonApprovedChange {
    pub parameter: String,
    pub approved_value: JsonParam,
    pub rollout_schedule: RolloutSchedule,
    pub max_change_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonApproval {
    pub timestamp: String,
    pub source: String,
    pub target_system: String,
    pub proposal_id: String,
    pub decision: Decision,
    pub approved_changes: Vec<JsonApprovedChange>,
    pub rejected_changes: Vec<RejectedChange>,
    pub enforcement_mode: EnforcementMode,
    pub rollback_timeout: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonStatus {
    pub timestamp: String,
    pub source: String,
    pub target_system: String,
    pub proposal_id: String,
    pub status: ProposalStatus,
    pub progress: Progress,
    pub observed_impact: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonRollback {
    pub timestamp: String,
    pub source: String,
    pub target_system: String,
    pub proposal_id: String,
    pub reason: RollbackReason,
    pub triggered_constraint: Option<String>,
    pub triggered_value: Option<f64>,
    pub allowed_value: Option<f64>,
    pub rollback_action: RollbackAction,
    pub parameters_to_restore: BTreeMap<String, JsonParam>,
}

/// An event's body, tagged with `"type"` like the replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JsonEventBody {
    Approval(JsonApproval),
    Status(JsonStatus),
    Rollback(JsonRollback),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonEvent {
    pub target_system: String,
    pub seq: u64,
    pub event: JsonEventBody,
}

/// An error code with its details, tagged with `"code"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum JsonErrorCode {
    NotLeader {
        leader_id: Option<u64>,
        leader_addr: Option<String>,
    },
    NoLeader,
    NoQuorum,
    Unauthenticated,
    Forbidden,
    RateLimited {
        retry_after_ms: u64,
    },
    Replay {
        last_seq: u64,
    },
    StaleTimestamp {
        server_time: String,
        max_skew_ms: u64,
    },
    InvalidMessage {
        field: String,
        reason: String,
    },
    TooLarge {
        size: u64,
        limit: u64,
    },
    UnsupportedVersion {
        received: u8,
        supported: Vec<u8>,
    },
    Conflict {
        proposal_id: String,
    },
    ResyncRequired {
        target_system: String,
        oldest_seq: u64,
    },
    OutcomeUnknown,
    Reserved14,
    Reserved15,
    UnknownProposal {
        proposal_id: String,
    },
    NotPending {
        proposal_id: String,
        status: String,
    },
    SelfApproval {
        proposal_id: String,
    },
    AlreadyApproved {
        proposal_id: String,
    },
    NotAnApprover {
        identity: String,
    },
    ActiveProposal {
        proposal_id: String,
    },
    LiveOutOfBounds {
        parameters: Vec<String>,
    },
    Reserved23,
    NoRollout {
        target_system: String,
    },
}

/// The constraint engine's codes (16-22), the rollouts' (24) and the
/// reserved 14, 15 and 23 have the same shape in JSON and on the wire.
macro_rules! same_shape {
    ($from:ident, $to:ident, $c:expr) => {
        match $c {
            $from::Reserved14 => Some($to::Reserved14),
            $from::Reserved15 => Some($to::Reserved15),
            $from::UnknownProposal { proposal_id } => Some($to::UnknownProposal { proposal_id }),
            $from::NotPending {
                proposal_id,
                status,
            } => Some($to::NotPending {
                proposal_id,
                status,
            }),
            $from::SelfApproval { proposal_id } => Some($to::SelfApproval { proposal_id }),
            $from::AlreadyApproved { proposal_id } => Some($to::AlreadyApproved { proposal_id }),
            $from::NotAnApprover { identity } => Some($to::NotAnApprover { identity }),
            $from::ActiveProposal { proposal_id } => Some($to::ActiveProposal { proposal_id }),
            $from::LiveOutOfBounds { parameters } => Some($to::LiveOutOfBounds { parameters }),
            $from::Reserved23 => Some($to::Reserved23),
            $from::NoRollout { target_system } => Some($to::NoRollout { target_system }),
            _ => None,
        }
    };
}

impl JsonErrorCode {
    pub fn from_wire(c: &ErrorCode) -> Result<Self, CodecError> {
        use ErrorCode as W;
        use JsonErrorCode as J;
        if let Some(j) = same_shape!(W, J, c.clone()) {
            return Ok(j);
        }
        Ok(match c.clone() {
            W::NotLeader {
                leader_id,
                leader_addr,
            } => J::NotLeader {
                leader_id,
                leader_addr,
            },
            W::NoLeader => J::NoLeader,
            W::NoQuorum => J::NoQuorum,
            W::OutcomeUnknown => J::OutcomeUnknown,
            W::Unauthenticated => J::Unauthenticated,
            W::Forbidden => J::Forbidden,
            W::RateLimited { retry_after_ms } => J::RateLimited { retry_after_ms },
            W::Replay { last_seq } => J::Replay { last_seq },
            W::StaleTimestamp {
                server_time,
                max_skew_ms,
            } => J::StaleTimestamp {
                server_time: time(server_time)?,
                max_skew_ms,
            },
            W::InvalidMessage { field, reason } => J::InvalidMessage { field, reason },
            W::TooLarge { size, limit } => J::TooLarge { size, limit },
            W::UnsupportedVersion {
                received,
                supported,
            } => J::UnsupportedVersion {
                received,
                supported,
            },
            W::Conflict { proposal_id } => J::Conflict { proposal_id },
            W::ResyncRequired {
                target_system,
                oldest_seq,
            } => J::ResyncRequired {
                target_system,
                oldest_seq,
            },
            _ => {
                return Err(CodecError::invalid(
                    "error",
                    "the codes of the same shape are handled above",
                ))
            }
        })
    }

    pub fn to_wire(&self) -> Result<ErrorCode, CodecError> {
        use ErrorCode as W;
        use JsonErrorCode as J;
        if let Some(w) = same_shape!(J, W, self.clone()) {
            return Ok(w);
        }
        Ok(match self.clone() {
            J::NotLeader {
                leader_id,
                leader_addr,
            } => W::NotLeader {
                leader_id,
                leader_addr,
            },
            J::NoLeader => W::NoLeader,
            J::NoQuorum => W::NoQuorum,
            J::OutcomeUnknown => W::OutcomeUnknown,
            J::Unauthenticated => W::Unauthenticated,
            J::Forbidden => W::Forbidden,
            J::RateLimited { retry_after_ms } => W::RateLimited { retry_after_ms },
            J::Replay { last_seq } => W::Replay { last_seq },
            J::StaleTimestamp {
                server_time,
                max_skew_ms,
            } => W::StaleTimestamp {
                server_time: parse_time(&server_time)?,
                max_skew_ms,
            },
            J::InvalidMessage { field, reason } => W::InvalidMessage { field, reason },
            J::TooLarge { size, limit } => W::TooLarge { size, limit },
            J::UnsupportedVersion {
                received,
                supported,
            } => W::UnsupportedVersion {
                received,
                supported,
            },
            J::Conflict { proposal_id } => W::Conflict { proposal_id },
            J::ResyncRequired {
                target_system,
                oldest_seq,
            } => W::ResyncRequired {
                target_system,
                oldest_seq,
            },
            _ => {
                return Err(CodecError::invalid(
                    "error",
                    "the codes of the same shape are handled above",
                ))
            }
        })
    }
}

impl JsonApproval {
    pub fn from_wire(a: &Approval) -> Result<Self, CodecError> {
        Ok(JsonApproval {
            timestamp: time(a.timestamp)?,
            source: a.source.clone(),
            target_system: a.target_system.clone(),
            proposal_id: a.proposal_id.clone(),
            decision: a.decision,
            approved_changes: a
                .approved_changes
                .iter()
                .map(|c| JsonApprovedChange {
                    parameter: c.parameter.clone(),
                    approved_value: JsonParam(c.approved_value.clone()),
                    rollout_schedule: c.rollout_schedule,
                    max_change_rate: c.max_change_rate,
                })
                .collect(),
            rejected_changes: a.rejected_changes.clone(),
            enforcement_mode: a.enforcement_mode,
            rollback_timeout: a.rollback_timeout,
        })
    }

    pub fn to_wire(&self) -> Result<Approval, CodecError> {
        Ok(Approval {
            proposal_id: self.proposal_id.clone(),
            target_system: self.target_system.clone(),
            source: self.source.clone(),
            timestamp: parse_time(&self.timestamp)?,
            decision: self.decision,
            approved_changes: self
                .approved_changes
                .iter()
                .map(|c| ApprovedChange {
                    parameter: c.parameter.clone(),
                    approved_value: c.approved_value.0.clone(),
                    rollout_schedule: c.rollout_schedule,
                    max_change_rate: c.max_change_rate,
                })
                .collect(),
            rejected_changes: self.rejected_changes.clone(),
            enforcement_mode: self.enforcement_mode,
            rollback_timeout: self.rollback_timeout,
        })
    }
}

impl JsonStatus {
    pub fn from_wire(s: &Status) -> Result<Self, CodecError> {
        Ok(JsonStatus {
            timestamp: time(s.timestamp)?,
            source: s.source.clone(),
            target_system: s.target_system.clone(),
            proposal_id: s.proposal_id.clone(),
            status: s.status,
            progress: s.progress.clone(),
            observed_impact: s.observed_impact.clone(),
        })
    }

    pub fn to_wire(&self) -> Result<Status, CodecError> {
        Ok(Status {
            proposal_id: self.proposal_id.clone(),
            target_system: self.target_system.clone(),
            source: self.source.clone(),
            timestamp: parse_time(&self.timestamp)?,
            status: self.status,
            progress: self.progress.clone(),
            observed_impact: self.observed_impact.clone(),
        })
    }
}

impl JsonRollback {
    pub fn from_wire(b: &Rollback) -> Result<Self, CodecError> {
        Ok(JsonRollback {
            timestamp: time(b.timestamp)?,
            source: b.source.clone(),
            target_system: b.target_system.clone(),
            proposal_id: b.proposal_id.clone(),
            reason: b.reason,
            triggered_constraint: b.triggered_constraint.clone(),
            triggered_value: b.triggered_value,
            allowed_value: b.allowed_value,
            rollback_action: b.rollback_action,
            parameters_to_restore: params_to_json(&b.parameters_to_restore),
        })
    }

    pub fn to_wire(&self) -> Result<Rollback, CodecError> {
        Ok(Rollback {
            proposal_id: self.proposal_id.clone(),
            target_system: self.target_system.clone(),
            source: self.source.clone(),
            timestamp: parse_time(&self.timestamp)?,
            reason: self.reason,
            triggered_constraint: self.triggered_constraint.clone(),
            triggered_value: self.triggered_value,
            allowed_value: self.allowed_value,
            rollback_action: self.rollback_action,
            parameters_to_restore: params_from_json(&self.parameters_to_restore),
        })
    }
}

pub(crate) fn reply_to_json(r: &Reply) -> Result<JsonMessage, CodecError> {
    Ok(match r {
        Reply::Error(e) => JsonMessage::Error {
            error: JsonErrorCode::from_wire(&e.code)?,
            message: e.message.clone(),
        },
        Reply::TelemetryAck(a) => JsonMessage::TelemetryAck(*a),
        Reply::Approval(a) => JsonMessage::Approval(JsonApproval::from_wire(a)?),
        Reply::Status(s) => JsonMessage::Status(JsonStatus::from_wire(s)?),
        Reply::Rollback(b) => JsonMessage::Rollback(JsonRollback::from_wire(b)?),
        Reply::Subscribed(s) => JsonMessage::Subscribed(s.clone()),
        Reply::Event(e) => JsonMessage::Event(JsonEvent {
            target_system: e.target_system.clone(),
            seq: e.seq,
            event: match &e.body {
                EventBody::Approval(a) => JsonEventBody::Approval(JsonApproval::from_wire(a)?),
                EventBody::Status(s) => JsonEventBody::Status(JsonStatus::from_wire(s)?),
                EventBody::Rollback(b) => JsonEventBody::Rollback(JsonRollback::from_wire(b)?),
            },
        }),
        Reply::Operated(o) => JsonMessage::Operated(JsonOperatorReply::from_wire(o)?),
        Reply::Workflowed(w) => JsonMessage::Workflowed { reply: w.clone() },
        Reply::Assignment(a) => JsonMessage::Assignment(JsonAssignment::from_wire(a)),
        Reply::RolloutStatus(s) => JsonMessage::RolloutStatus(JsonRolloutStatus::from_wire(s)?),
    })
}

/// `m` must be a reply variant; requests are handled by `JsonFrame`.
pub(crate) fn reply_from_json(m: &JsonMessage) -> Result<Reply, CodecError> {
    Ok(match m {
        JsonMessage::Error { error, message } => Reply::Error(ErrorReply {
            code: error.to_wire()?,
            message: message.clone(),
        }),
        JsonMessage::TelemetryAck(a) => Reply::TelemetryAck(*a),
        JsonMessage::Approval(a) => Reply::Approval(a.to_wire()?),
        JsonMessage::Status(s) => Reply::Status(s.to_wire()?),
        JsonMessage::Rollback(b) => Reply::Rollback(b.to_wire()?),
        JsonMessage::Subscribed(s) => Reply::Subscribed(s.clone()),
        JsonMessage::Event(e) => Reply::Event(Event {
            target_system: e.target_system.clone(),
            seq: e.seq,
            body: match &e.event {
                JsonEventBody::Approval(a) => EventBody::Approval(a.to_wire()?),
                JsonEventBody::Status(s) => EventBody::Status(s.to_wire()?),
                JsonEventBody::Rollback(b) => EventBody::Rollback(b.to_wire()?),
            },
        }),
        JsonMessage::Operated(o) => Reply::Operated(o.to_wire()?),
        JsonMessage::Workflowed { reply } => Reply::Workflowed(reply.clone()),
        JsonMessage::Assignment(a) => Reply::Assignment(a.to_wire()),
        JsonMessage::RolloutStatus(s) => Reply::RolloutStatus(s.to_wire()?),
        _ => return Err(CodecError::invalid("envelope", "missing on a request")),
    })
}
