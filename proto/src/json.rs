//! The JSON view: types with the product brief's field names, for
//! `--output json`, for humans and for the golden vectors' `.json` files.
//! They are never put on the wire; [`JsonFrame::from_wire`] and
//! [`JsonFrame::to_wire`] convert, and `to_wire` validates like the decoder.
//!
//! Differences from the brief, on purpose: timestamps are RFC 3339 UTC with
//! at most millisecond precision; impacts are signed numbers in the
//! metric's unit, not strings; there is no `target` (the recipient is the
//! connection); telemetry is sent as `telemetry_batch` of samples.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

use super::codec::Message;
use super::envelope::{Envelope, SigScheme, Signature, UnixMillis};
use super::error::CodecError;
use super::json_operator::{JsonOperatorReply, JsonOperatorRequest};
use super::json_reply::{JsonApproval, JsonErrorCode, JsonEvent, JsonRollback, JsonStatus};
use super::json_rollout::{
    tagged_from_json, tagged_to_json, JsonAssignment, JsonRolloutRequest, JsonRolloutStatus,
    JsonTaggedSample,
};
use super::message::*;
use super::reply::{Reply, Subscribed, TelemetryAck};
use super::rollout::WatchAssignment;
use super::validate;
use arqonbus_core::value::ParamValue;

/// A parameter value as plain JSON: `32`, `0.7`, `"fast"`, `true`.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonParam(pub ParamValue);

impl Serialize for JsonParam {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonParam {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        ParamValue::from_json(&v)
            .map(JsonParam)
            .map_err(serde::de::Error::custom)
    }
}

pub(crate) fn params_to_json(p: &Parameters) -> BTreeMap<String, JsonParam> {
    p.iter()
        .map(|(k, v)| (k.clone(), JsonParam(v.clone())))
        .collect()
}

pub(crate) fn params_from_json(p: &BTreeMap<String, JsonParam>) -> Parameters {
    p.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect()
}

pub(crate) fn time(t: UnixMillis) -> Result<String, CodecError> {
    t.to_rfc3339()
}

pub(crate) fn parse_time(s: &str) -> Result<UnixMillis, CodecError> {
    UnixMillis::parse_rfc3339(s)
}

/// One frame as JSON: the envelope (client messages only) and the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonFrame {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<JsonEnvelope>,
    pub message: JsonMessage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonEnvelope {
    pub session: u64,
    pub seq: u64,
    pub sent_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<JsonSignature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSignature {
    pub scheme: SigScheme,
    /// Lowercase hex.
    pub bytes: String,
}

/// Every message, tagged with `"type"` like the brief's examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JsonMessage {
    TelemetryBatch {
        samples: Vec<JsonTelemetry>,
    },
    Proposal(JsonProposal),
    Subscribe {
        targets: Vec<SubscribeTarget>,
    },
    StatusQuery {
        proposal_id: String,
    },
    /// Tagged again inside with `"action"` (see `json_operator`).
    Operate(JsonOperatorRequest),
    Error {
        error: JsonErrorCode,
        message: String,
    },
    TelemetryAck(TelemetryAck),
    Approval(JsonApproval),
    Status(JsonStatus),
    Rollback(JsonRollback),
    Subscribed(Subscribed),
    Event(JsonEvent),
    /// Tagged again inside with `"result"` (see `json_operator`).
    Operated(JsonOperatorReply),
    /// The constraint engine's request, in its serde form.
    Workflow {
        request: crate::workflow::WorkflowRequest,
    },
    /// The constraint engine's reply, in its serde form.
    Workflowed {
        reply: crate::workflow::WorkflowReply,
    },
    /// Gradual rollouts (see `json_rollout`).
    WatchAssignment {
        target_system: String,
    },
    TaggedTelemetry {
        samples: Vec<JsonTaggedSample>,
    },
    /// Tagged again inside with `"action"`.
    Rollout(JsonRolloutRequest),
    Assignment(JsonAssignment),
    RolloutStatus(JsonRolloutStatus),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_factor: Option<f64>,
}

/// The brief's telemetry message (without `type`), plus `cohort`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTelemetry {
    pub timestamp: String,
    pub source: String,
    pub target_system: String,
    pub metrics: BTreeMap<String, f64>,
    pub parameters: BTreeMap<String, JsonParam>,
    pub context: JsonContext,
    pub cohort: Cohort,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonChange {
    pub parameter: String,
    pub current_value: JsonParam,
    pub proposed_value: JsonParam,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonProposal {
    pub timestamp: String,
    pub source: String,
    pub target_system: String,
    pub proposal_id: String,
    pub changes: Vec<JsonChange>,
    pub expected_impact: BTreeMap<String, f64>,
    pub confidence: f64,
    pub duration_seconds: u64,
}

impl JsonTelemetry {
    pub fn from_wire(s: &TelemetrySample) -> Result<Self, CodecError> {
        Ok(JsonTelemetry {
            timestamp: time(s.timestamp)?,
            source: s.source.clone(),
            target_system: s.target_system.clone(),
            metrics: s.metrics.clone(),
            parameters: params_to_json(&s.parameters),
            context: JsonContext {
                request_class: s.context.request_class.clone(),
                hardware: s.context.hardware.clone(),
                load_factor: s.context.load_factor,
            },
            cohort: s.cohort,
        })
    }

    pub fn to_wire(&self) -> Result<TelemetrySample, CodecError> {
        Ok(TelemetrySample {
            timestamp: parse_time(&self.timestamp)?,
            source: self.source.clone(),
            target_system: self.target_system.clone(),
            metrics: self.metrics.clone(),
            parameters: params_from_json(&self.parameters),
            context: TelemetryContext {
                request_class: self.context.request_class.clone(),
                hardware: self.context.hardware.clone(),
                load_factor: self.context.load_factor,
            },
            cohort: self.cohort,
        })
    }
}

impl JsonProposal {
    pub fn from_wire(p: &Proposal) -> Result<Self, CodecError> {
        Ok(JsonProposal {
            timestamp: time(p.timestamp)?,
            source: p.source.clone(),
            target_system: p.target_system.clone(),
            proposal_id: p.proposal_id.clone(),
            changes: p
                .changes
                .iter()
                .map(|c| JsonChange {
                    parameter: c.parameter.clone(),
                    current_value: JsonParam(c.current_value.clone()),
                    proposed_value: JsonParam(c.proposed_value.clone()),
                    reason: c.reason.clone(),
                })
                .collect(),
            expected_impact: p.expected_impact.clone(),
            confidence: p.confidence,
            duration_seconds: p.duration_seconds,
        })
    }

    pub fn to_wire(&self) -> Result<Proposal, CodecError> {
        Ok(Proposal {
            proposal_id: self.proposal_id.clone(),
            source: self.source.clone(),
            target_system: self.target_system.clone(),
            timestamp: parse_time(&self.timestamp)?,
            changes: self
                .changes
                .iter()
                .map(|c| ProposedChange {
                    parameter: c.parameter.clone(),
                    current_value: c.current_value.0.clone(),
                    proposed_value: c.proposed_value.0.clone(),
                    reason: c.reason.clone(),
                })
                .collect(),
            expected_impact: self.expected_impact.clone(),
            confidence: self.confidence,
            duration_seconds: self.duration_seconds,
        })
    }
}

impl JsonFrame {
    /// The JSON view of a message (fails only on an out-of-range timestamp).
    pub fn from_wire(msg: &Message) -> Result<Self, CodecError> {
        let (envelope, message) = match msg {
            Message::Request(env, req) => {
                let e = JsonEnvelope {
                    session: env.session,
                    seq: env.seq,
                    sent_at: time(env.sent_at)?,
                    signature: env.signature.as_ref().map(|s| JsonSignature {
                        scheme: s.scheme,
                        bytes: hex::encode(&s.bytes),
                    }),
                };
                let m = match req {
                    Request::TelemetryBatch(b) => JsonMessage::TelemetryBatch {
                        samples: b
                            .samples
                            .iter()
                            .map(JsonTelemetry::from_wire)
                            .collect::<Result<_, _>>()?,
                    },
                    Request::Proposal(p) => JsonMessage::Proposal(JsonProposal::from_wire(p)?),
                    Request::Subscribe(s) => JsonMessage::Subscribe {
                        targets: s.targets.clone(),
                    },
                    Request::StatusQuery(q) => JsonMessage::StatusQuery {
                        proposal_id: q.proposal_id.clone(),
                    },
                    Request::Operate(o) => JsonMessage::Operate(JsonOperatorRequest::from_wire(o)),
                    Request::Workflow(w) => JsonMessage::Workflow { request: w.clone() },
                    Request::WatchAssignment(w) => JsonMessage::WatchAssignment {
                        target_system: w.target_system.clone(),
                    },
                    Request::TaggedTelemetry(t) => JsonMessage::TaggedTelemetry {
                        samples: tagged_to_json(t)?,
                    },
                    Request::Rollout(r) => JsonMessage::Rollout(JsonRolloutRequest::from_wire(r)),
                };
                (Some(e), m)
            }
            Message::Reply(r) => (None, super::json_reply::reply_to_json(r)?),
        };
        Ok(JsonFrame { envelope, message })
    }

    /// The wire message this JSON describes, validated like a decoded one.
    pub fn to_wire(&self) -> Result<Message, CodecError> {
        let req = |r: Request| -> Result<Message, CodecError> {
            let e = self
                .envelope
                .as_ref()
                .ok_or_else(|| CodecError::invalid("envelope", "missing on a request"))?;
            let signature = match &e.signature {
                None => None,
                Some(s) => Some(Signature {
                    scheme: s.scheme,
                    bytes: hex::decode(&s.bytes)
                        .map_err(|err| CodecError::invalid("signature", err.to_string()))?,
                }),
            };
            let env = Envelope {
                session: e.session,
                seq: e.seq,
                sent_at: parse_time(&e.sent_at)?,
                signature,
            };
            Ok(Message::Request(env, r))
        };
        let msg = match &self.message {
            JsonMessage::TelemetryBatch { samples } => {
                req(Request::TelemetryBatch(TelemetryBatch {
                    samples: samples
                        .iter()
                        .map(JsonTelemetry::to_wire)
                        .collect::<Result<_, _>>()?,
                }))?
            }
            JsonMessage::Proposal(p) => req(Request::Proposal(p.to_wire()?))?,
            JsonMessage::Subscribe { targets } => req(Request::Subscribe(Subscribe {
                targets: targets.clone(),
            }))?,
            JsonMessage::StatusQuery { proposal_id } => req(Request::StatusQuery(StatusQuery {
                proposal_id: proposal_id.clone(),
            }))?,
            JsonMessage::Operate(o) => req(Request::Operate(o.to_wire()))?,
            JsonMessage::Workflow { request } => req(Request::Workflow(request.clone()))?,
            JsonMessage::WatchAssignment { target_system } => {
                req(Request::WatchAssignment(WatchAssignment {
                    target_system: target_system.clone(),
                }))?
            }
            JsonMessage::TaggedTelemetry { samples } => {
                req(Request::TaggedTelemetry(tagged_from_json(samples)?))?
            }
            JsonMessage::Rollout(r) => req(Request::Rollout(r.to_wire()))?,
            other => {
                if self.envelope.is_some() {
                    return Err(CodecError::invalid("envelope", "present on a reply"));
                }
                Message::Reply(super::json_reply::reply_from_json(other)?)
            }
        };
        validate::message(&msg)?;
        Ok(msg)
    }
}

/// Convenience for a server reply shown on its own (`--output json`).
pub fn reply_json(r: &Reply) -> Result<JsonMessage, CodecError> {
    super::json_reply::reply_to_json(r)
}
