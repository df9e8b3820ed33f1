//! Wire types of the client-to-server requests (bincode 2 via serde).
//!
//! Rules for every wire type: plain structs and externally tagged enums
//! only (no serde `tag`, `untagged`, `flatten`, `skip_serializing_if`,
//! `serde_json::Value`), `BTreeMap` for maps so encodings are canonical,
//! and field order is the encoding order: never reorder a field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::envelope::UnixMillis;
use arqonbus_core::value::ParamValue;

/// Metric name -> value. Well-known names and units: `latency_p99`
/// (milliseconds), `throughput_rps` (requests per second), `error_rate`
/// (fraction of requests, 0..=1), `cost_per_request` (the deployment's cost
/// unit per request); any other name is allowed, in its own unit.
pub type Metrics = BTreeMap<String, f64>;

/// Metric name -> signed change in the metric's own unit (`latency_p99:
/// 15.0` means 15 ms slower, `cost_per_request: -0.0002` cheaper).
pub type Impact = BTreeMap<String, f64>;

/// Parameter name -> typed value.
pub type Parameters = BTreeMap<String, ParamValue>;

/// Which side of a comparison a telemetry sample measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cohort {
    /// 0: traffic running the last-known-good parameters.
    Baseline,
    /// 1: traffic running a proposal's candidate parameters.
    Candidate,
}

/// Where and under what conditions a sample was measured. Every field is
/// optional; `load_factor` is the fraction of capacity in use (>= 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetryContext {
    pub request_class: Option<String>,
    pub hardware: Option<String>,
    pub load_factor: Option<f64>,
}

/// One measurement of one target system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetrySample {
    pub timestamp: UnixMillis,
    /// Informational label of the sender; never used for authorization.
    pub source: String,
    pub target_system: String,
    pub metrics: Metrics,
    /// The parameter values in force while the sample was measured.
    pub parameters: Parameters,
    pub context: TelemetryContext,
    pub cohort: Cohort,
}

/// Request type 0x01: a batch of samples. Answered by `telemetry_ack`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetryBatch {
    pub samples: Vec<TelemetrySample>,
}

/// One proposed parameter change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedChange {
    pub parameter: String,
    /// The value the proposer believes is in force (the server uses its own).
    pub current_value: ParamValue,
    pub proposed_value: ParamValue,
    pub reason: String,
}

/// Request type 0x02: a proposal. Answered by `approval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Unique across the cluster; resending the same proposal returns the
    /// recorded decision, a different one under the same id is `conflict`.
    pub proposal_id: String,
    pub source: String,
    pub target_system: String,
    pub timestamp: UnixMillis,
    pub changes: Vec<ProposedChange>,
    pub expected_impact: Impact,
    /// The proposer's confidence in `expected_impact`, 0..=1.
    pub confidence: f64,
    /// How long the proposer wants the change observed, in seconds (>= 1).
    pub duration_seconds: u64,
}

/// Where to start one target system's event stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeTarget {
    pub target_system: String,
    /// First event number wanted; `None` means only events from now on.
    pub from_seq: Option<u64>,
}

/// Request type 0x03: open the push stream. Answered by `subscribed`, then
/// `event` frames on the same stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscribe {
    pub targets: Vec<SubscribeTarget>,
}

/// Request type 0x04: the current status of one proposal. Answered by
/// `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusQuery {
    pub proposal_id: String,
}

/// Any client-to-server request; the frame's type byte says which.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    TelemetryBatch(TelemetryBatch),
    Proposal(Proposal),
    Subscribe(Subscribe),
    StatusQuery(StatusQuery),
    Operate(super::operator::OperatorRequest),
    Workflow(super::workflow::WorkflowRequest),
    /// 0x30: the assignment push stream (PROTOCOL.md §6.15).
    WatchAssignment(super::rollout::WatchAssignment),
    /// 0x31: telemetry tagged with its assignment epoch.
    TaggedTelemetry(super::rollout::TaggedTelemetry),
    /// 0x32: a rollout's status; pause, resume, promote.
    Rollout(super::rollout::RolloutRequest),
}
