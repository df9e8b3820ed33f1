//! The JSON view of the gradual-rollout messages (PROTOCOL.md §6.15; see
//! `json` for the rules): `{"type": "watch_assignment", "target_system":
//! …}`; `tagged_telemetry`'s samples are `{"epoch": 7, "sample": {…}}` with
//! the sample as in `telemetry_batch`; `rollout` is tagged again with
//! `action` (`status`, `pause`, `resume`, `promote`) like `operate`.
//! Parameter values are plain JSON, enums snake_case, and the times of
//! `rollout_status` RFC 3339 under names without `_ms` (`phase_started`,
//! `at`), as audit entries do.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::error::CodecError;
use super::json::{params_from_json, params_to_json, parse_time, time, JsonParam, JsonTelemetry};
use super::reply::RollbackReason;
use super::rollout::{
    Assignment, MetricVerdictView, RecentRollback, RolloutRequest, RolloutStatus, RolloutView,
    TaggedSample, TaggedTelemetry, VerdictClass, VerdictView,
};

/// One sample of `tagged_telemetry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTaggedSample {
    pub epoch: u64,
    pub sample: JsonTelemetry,
}

/// `rollout`, tagged with `action`. `stale` MAY be left out (false).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum JsonRolloutRequest {
    Status {
        target_system: String,
        #[serde(default)]
        stale: bool,
    },
    Pause {
        target_system: String,
        reason: String,
    },
    Resume {
        target_system: String,
        reason: String,
    },
    Promote {
        target_system: String,
        full: bool,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonAssignment {
    pub target_system: String,
    pub epoch: u64,
    pub proposal_id: Option<String>,
    pub phase: String,
    pub share: u8,
    pub baseline: BTreeMap<String, JsonParam>,
    pub candidate: Option<BTreeMap<String, JsonParam>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonRolloutView {
    pub proposal_id: String,
    pub phase: String,
    pub phase_index: u32,
    pub phases: u32,
    pub share: u8,
    pub phase_started: String,
    pub paused: bool,
    pub violations: u32,
    pub observed_impact: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonRecentRollback {
    pub proposal_id: String,
    pub reason: RollbackReason,
    pub triggered_constraint: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonVerdict {
    pub proposal_id: String,
    pub class: VerdictClass,
    pub reason: String,
    pub at: String,
    pub metrics: Vec<MetricVerdictView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonRolloutStatus {
    pub target_system: String,
    pub epoch: u64,
    pub rollout: Option<JsonRolloutView>,
    pub recent_rollbacks: Vec<JsonRecentRollback>,
    pub recent_verdicts: Vec<JsonVerdict>,
}

pub(crate) fn tagged_to_json(t: &TaggedTelemetry) -> Result<Vec<JsonTaggedSample>, CodecError> {
    t.samples
        .iter()
        .map(|s| {
            Ok(JsonTaggedSample {
                epoch: s.epoch,
                sample: JsonTelemetry::from_wire(&s.sample)?,
            })
        })
        .collect()
}

pub(crate) fn tagged_from_json(
    samples: &[JsonTaggedSample],
) -> Result<TaggedTelemetry, CodecError> {
    Ok(TaggedTelemetry {
        samples: samples
            .iter()
            .map(|s| {
                Ok(TaggedSample {
                    epoch: s.epoch,
                    sample: s.sample.to_wire()?,
                })
            })
            .collect::<Result<_, CodecError>>()?,
    })
}

impl JsonRolloutRequest {
    pub fn from_wire(r: &RolloutRequest) -> Self {
        match r.clone() {
            RolloutRequest::Status {
                target_system,
                stale,
            } => JsonRolloutRequest::Status {
                target_system,
                stale,
            },
            RolloutRequest::Pause {
                target_system,
                reason,
            } => JsonRolloutRequest::Pause {
                target_system,
                reason,
            },
            RolloutRequest::Resume {
                target_system,
                reason,
            } => JsonRolloutRequest::Resume {
                target_system,
                reason,
            },
            RolloutRequest::Promote {
                target_system,
                full,
                reason,
            } => JsonRolloutRequest::Promote {
                target_system,
                full,
                reason,
            },
        }
    }

    pub fn to_wire(&self) -> RolloutRequest {
        match self.clone() {
            JsonRolloutRequest::Status {
                target_system,
                stale,
            } => RolloutRequest::Status {
                target_system,
                stale,
            },
            JsonRolloutRequest::Pause {
                target_system,
                reason,
            } => RolloutRequest::Pause {
                target_system,
                reason,
            },
            JsonRolloutRequest::Resume {
                target_system,
                reason,
            } => RolloutRequest::Resume {
                target_system,
                reason,
            },
            JsonRolloutRequest::Promote {
                target_system,
                full,
                reason,
            } => RolloutRequest::Promote {
                target_system,
                full,
                reason,
            },
        }
    }
}

impl JsonAssignment {
    pub fn from_wire(a: &Assignment) -> Self {
        JsonAssignment {
            target_system: a.target_system.clone(),
            epoch: a.epoch,
            proposal_id: a.proposal_id.clone(),
            phase: a.phase.clone(),
            share: a.share,
            baseline: params_to_json(&a.baseline),
            candidate: a.candidate.as_ref().map(params_to_json),
        }
    }

    pub fn to_wire(&self) -> Assignment {
        Assignment {
            target_system: self.target_system.clone(),
            epoch: self.epoch,
            proposal_id: self.proposal_id.clone(),
            phase: self.phase.clone(),
            share: self.share,
            baseline: params_from_json(&self.baseline),
            candidate: self.candidate.as_ref().map(params_from_json),
        }
    }
}

impl JsonRolloutStatus {
    pub fn from_wire(s: &RolloutStatus) -> Result<Self, CodecError> {
        let rollout = match &s.rollout {
            None => None,
            Some(r) => Some(JsonRolloutView {
                proposal_id: r.proposal_id.clone(),
                phase: r.phase.clone(),
                phase_index: r.phase_index,
                phases: r.phases,
                share: r.share,
                phase_started: time(r.phase_started_ms)?,
                paused: r.paused,
                violations: r.violations,
                observed_impact: r.observed_impact.clone(),
            }),
        };
        Ok(JsonRolloutStatus {
            target_system: s.target_system.clone(),
            epoch: s.epoch,
            rollout,
            recent_rollbacks: s
                .recent_rollbacks
                .iter()
                .map(|b| {
                    Ok(JsonRecentRollback {
                        proposal_id: b.proposal_id.clone(),
                        reason: b.reason,
                        triggered_constraint: b.triggered_constraint.clone(),
                        at: time(b.at_ms)?,
                    })
                })
                .collect::<Result<_, CodecError>>()?,
            recent_verdicts: s
                .recent_verdicts
                .iter()
                .map(|v| {
                    Ok(JsonVerdict {
                        proposal_id: v.proposal_id.clone(),
                        class: v.class,
                        reason: v.reason.clone(),
                        at: time(v.at_ms)?,
                        metrics: v.metrics.clone(),
                    })
                })
                .collect::<Result<_, CodecError>>()?,
        })
    }

    pub fn to_wire(&self) -> Result<RolloutStatus, CodecError> {
        let rollout = match &self.rollout {
            None => None,
            Some(r) => Some(RolloutView {
                proposal_id: r.proposal_id.clone(),
                phase: r.phase.clone(),
                phase_index: r.phase_index,
                phases: r.phases,
                share: r.share,
                phase_started_ms: parse_time(&r.phase_started)?,
                paused: r.paused,
                violations: r.violations,
                observed_impact: r.observed_impact.clone(),
            }),
        };
        Ok(RolloutStatus {
            target_system: self.target_system.clone(),
            epoch: self.epoch,
            rollout,
            recent_rollbacks: self
                .recent_rollbacks
                .iter()
                .map(|b| {
                    Ok(RecentRollback {
                        proposal_id: b.proposal_id.clone(),
                        reason: b.reason,
                        triggered_constraint: b.triggered_constraint.clone(),
                        at_ms: parse_time(&b.at)?,
                    })
                })
                .collect::<Result<_, CodecError>>()?,
            recent_verdicts: self
                .recent_verdicts
                .iter()
                .map(|v| {
                    Ok(VerdictView {
                        proposal_id: v.proposal_id.clone(),
                        class: v.class,
                        reason: v.reason.clone(),
                        at_ms: parse_time(&v.at)?,
                        metrics: v.metrics.clone(),
                    })
                })
                .collect::<Result<_, CodecError>>()?,
        })
    }
}
