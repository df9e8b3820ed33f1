//! The JSON view of `operate` and `operated` (see `json` for the rules).
//! A request is `{"type": "operate", "action": "set_constraints", …}`, a
//! reply `{"type": "operated", "result": "constraints_set", …}`. Constraints
//! read like a constraint file (`{"kind": "int", "min": 1, …}`), parameter
//! values are plain JSON, audit hashes are hex and audit times RFC 3339.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::error::CodecError;
use super::json::{params_from_json, params_to_json, parse_time, time, JsonParam};
use super::json_proposals::JsonProposalSummary;
use super::json_reply::{JsonApproval, JsonStatus};
use super::operator::{Member, NodeStatus, OperatorReply, OperatorRequest};
use super::UnixMillis;
use arqonbus_core::audit::{AuditEntry, Hash};
use arqonbus_core::constraints::{ConstraintSet, ParamConstraint, Violation};
use arqonbus_core::seal::Seal;

/// One parameter's constraint, tagged with its `kind` as in a constraint
/// file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum JsonConstraint {
    Int {
        min: i64,
        max: i64,
        default: i64,
    },
    Float {
        min: f64,
        max: f64,
        default: f64,
    },
    Enum {
        values: Vec<String>,
        default: String,
    },
    Bool {
        default: bool,
    },
}

/// Parameter name -> constraint.
pub type JsonConstraints = BTreeMap<String, JsonConstraint>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum JsonOperatorRequest {
    SetConstraints {
        target_system: String,
        constraints: JsonConstraints,
    },
    GetConstraints {
        target_system: String,
        #[serde(default)]
        stale: bool,
    },
    SetParameters {
        target_system: String,
        values: BTreeMap<String, JsonParam>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected: Option<BTreeMap<String, JsonParam>>,
    },
    GetParameters {
        target_system: String,
        #[serde(default)]
        stale: bool,
    },
    AuditRange {
        from_index: u64,
        limit: u32,
        #[serde(default)]
        stale: bool,
    },
    NodeStatus,
    ClusterInit {
        members: Vec<Member>,
    },
    AddNode {
        member: Member,
    },
    RemoveNode {
        node_id: u64,
    },
    ListProposals {
        #[serde(default)]
        target_system: Option<String>,
        limit: u32,
        #[serde(default)]
        stale: bool,
    },
    ShowProposal {
        proposal_id: String,
        #[serde(default)]
        stale: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonAuditEntry {
    pub index: u64,
    /// RFC 3339, like every JSON timestamp (the wire has Unix ms).
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
    /// Lowercase hex.
    pub prev_hash: String,
    /// Lowercase hex.
    pub hash: String,
    /// A signed state change's signature, left out when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<JsonSeal>,
}

/// A [`Seal`] in JSON: its three byte strings as lowercase hex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSeal {
    pub key: String,
    pub signature: String,
    pub signed: String,
}

impl JsonSeal {
    fn from_wire(s: &Seal) -> Self {
        JsonSeal {
            key: hex::encode(&s.key),
            signature: hex::encode(&s.signature),
            signed: hex::encode(&s.signed),
        }
    }

    fn to_wire(&self) -> Result<Seal, CodecError> {
        let bytes = |field: &str, text: &str| {
            hex::decode(text)
                .map_err(|e| CodecError::invalid(format!("seal.{field}"), e.to_string()))
        };
        Ok(Seal {
            key: bytes("key", &self.key)?,
            signature: bytes("signature", &self.signature)?,
            signed: bytes("signed", &self.signed)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case", deny_unknown_fields)]
pub enum JsonOperatorReply {
    Constraints {
        target_system: String,
        version: u64,
        constraints: JsonConstraints,
    },
    ConstraintsSet {
        target_system: String,
        version: u64,
        out_of_bounds: Vec<String>,
    },
    Parameters {
        target_system: String,
        live: BTreeMap<String, JsonParam>,
        last_known_good: BTreeMap<String, JsonParam>,
    },
    ParametersSet {
        target_system: String,
        values: BTreeMap<String, JsonParam>,
    },
    Refused {
        reason: String,
        violations: Vec<Violation>,
    },
    AuditEntries {
        entries: Vec<JsonAuditEntry>,
        head_index: u64,
    },
    NodeStatus(NodeStatus),
    Done {
        message: String,
    },
    Proposals {
        proposals: Vec<JsonProposalSummary>,
    },
    Proposal {
        approval: JsonApproval,
        status: JsonStatus,
    },
}

fn constraints_to_json(c: &ConstraintSet) -> JsonConstraints {
    use JsonConstraint as J;
    use ParamConstraint as W;
    c.parameters
        .iter()
        .map(|(k, v)| {
            let j = match v.clone() {
                W::Int { min, max, default } => J::Int { min, max, default },
                W::Float { min, max, default } => J::Float { min, max, default },
                W::Enum { values, default } => J::Enum { values, default },
                W::Bool { default } => J::Bool { default },
            };
            (k.clone(), j)
        })
        .collect()
}

fn constraints_from_json(c: &JsonConstraints) -> ConstraintSet {
    use JsonConstraint as J;
    use ParamConstraint as W;
    ConstraintSet {
        parameters: c
            .iter()
            .map(|(k, v)| {
                let w = match v.clone() {
                    J::Int { min, max, default } => W::Int { min, max, default },
                    J::Float { min, max, default } => W::Float { min, max, default },
                    J::Enum { values, default } => W::Enum { values, default },
                    J::Bool { default } => W::Bool { default },
                };
                (k.clone(), w)
            })
            .collect(),
    }
}

fn hash_from_hex(f: &str, s: &str) -> Result<Hash, CodecError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|e| CodecError::invalid(f, e.to_string()))?;
    Ok(out)
}

impl JsonAuditEntry {
    pub fn from_wire(e: &AuditEntry) -> Result<Self, CodecError> {
        let ms = i64::try_from(e.at_ms)
            .map_err(|_| CodecError::invalid("at_ms", "timestamp outside 1970..=9999"))?;
        Ok(JsonAuditEntry {
            index: e.index,
            at: time(UnixMillis(ms))?,
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            details: e.details.clone(),
            prev_hash: hex::encode(e.prev_hash),
            hash: hex::encode(e.hash),
            seal: e.seal.as_ref().map(JsonSeal::from_wire),
        })
    }

    pub fn to_wire(&self) -> Result<AuditEntry, CodecError> {
        let at = parse_time(&self.at)?;
        Ok(AuditEntry {
            index: self.index,
            at_ms: u64::try_from(at.0)
                .map_err(|_| CodecError::invalid("at", "timestamp outside 1970..=9999"))?,
            actor: self.actor.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            details: self.details.clone(),
            prev_hash: hash_from_hex("prev_hash", &self.prev_hash)?,
            hash: hash_from_hex("hash", &self.hash)?,
            seal: self.seal.as_ref().map(JsonSeal::to_wire).transpose()?,
        })
    }
}

impl JsonOperatorRequest {
    pub fn from_wire(r: &OperatorRequest) -> Self {
        use JsonOperatorRequest as J;
        use OperatorRequest as W;
        match r.clone() {
            W::SetConstraints {
                target_system,
                constraints,
            } => J::SetConstraints {
                target_system,
                constraints: constraints_to_json(&constraints),
            },
            W::GetConstraints {
                target_system,
                stale,
            } => J::GetConstraints {
                target_system,
                stale,
            },
            W::SetParameters {
                target_system,
                values,
                expected,
            } => J::SetParameters {
                target_system,
                values: params_to_json(&values),
                expected: expected.as_ref().map(params_to_json),
            },
            W::GetParameters {
                target_system,
                stale,
            } => J::GetParameters {
                target_system,
                stale,
            },
            W::AuditRange {
                from_index,
                limit,
                stale,
            } => J::AuditRange {
                from_index,
                limit,
                stale,
            },
            W::NodeStatus => J::NodeStatus,
            W::ClusterInit { members } => J::ClusterInit { members },
            W::AddNode { member } => J::AddNode { member },
            W::RemoveNode { node_id } => J::RemoveNode { node_id },
            W::ListProposals {
                target_system,
                limit,
                stale,
            } => J::ListProposals {
                target_system,
                limit,
                stale,
            },
            W::ShowProposal { proposal_id, stale } => J::ShowProposal { proposal_id, stale },
        }
    }

    pub fn to_wire(&self) -> OperatorRequest {
        use JsonOperatorRequest as J;
        use OperatorRequest as W;
        match self.clone() {
            J::SetConstraints {
                target_system,
                constraints,
            } => W::SetConstraints {
                target_system,
                constraints: constraints_from_json(&constraints),
            },
            J::GetConstraints {
                target_system,
                stale,
            } => W::GetConstraints {
                target_system,
                stale,
            },
            J::SetParameters {
                target_system,
                values,
                expected,
            } => W::SetParameters {
                target_system,
                values: params_from_json(&values),
                expected: expected.as_ref().map(params_from_json),
            },
            J::GetParameters {
                target_system,
                stale,
            } => W::GetParameters {
                target_system,
                stale,
            },
            J::AuditRange {
                from_index,
                limit,
                stale,
            } => W::AuditRange {
                from_index,
                limit,
                stale,
            },
            J::NodeStatus => W::NodeStatus,
            J::ClusterInit { members } => W::ClusterInit { members },
            J::AddNode { member } => W::AddNode { member },
            J::RemoveNode { node_id } => W::RemoveNode { node_id },
            J::ListProposals {
                target_system,
                limit,
                stale,
            } => W::ListProposals {
                target_system,
                limit,
                stale,
            },
            J::ShowProposal { proposal_id, stale } => W::ShowProposal { proposal_id, stale },
        }
    }
}

impl JsonOperatorReply {
    pub fn from_wire(r: &OperatorReply) -> Result<Self, CodecError> {
        use JsonOperatorReply as J;
        use OperatorReply as W;
        Ok(match r.clone() {
            W::Constraints {
                target_system,
                version,
                constraints,
            } => J::Constraints {
                target_system,
                version,
                constraints: constraints_to_json(&constraints),
            },
            W::ConstraintsSet {
                target_system,
                version,
                out_of_bounds,
            } => J::ConstraintsSet {
                target_system,
                version,
                out_of_bounds,
            },
            W::Parameters {
                target_system,
                live,
                last_known_good,
            } => J::Parameters {
                target_system,
                live: params_to_json(&live),
                last_known_good: params_to_json(&last_known_good),
            },
            W::ParametersSet {
                target_system,
                values,
            } => J::ParametersSet {
                target_system,
                values: params_to_json(&values),
            },
            W::Refused { reason, violations } => J::Refused { reason, violations },
            W::AuditEntries {
                entries,
                head_index,
            } => J::AuditEntries {
                entries: entries
                    .iter()
                    .map(JsonAuditEntry::from_wire)
                    .collect::<Result<_, _>>()?,
                head_index,
            },
            W::NodeStatus(s) => J::NodeStatus(s),
            W::Done { message } => J::Done { message },
            W::Proposals { proposals } => J::Proposals {
                proposals: proposals
                    .iter()
                    .map(JsonProposalSummary::from_wire)
                    .collect::<Result<_, _>>()?,
            },
            W::Proposal { approval, status } => J::Proposal {
                approval: JsonApproval::from_wire(&approval)?,
                status: JsonStatus::from_wire(&status)?,
            },
        })
    }

    pub fn to_wire(&self) -> Result<OperatorReply, CodecError> {
        use JsonOperatorReply as J;
        use OperatorReply as W;
        Ok(match self.clone() {
            J::Constraints {
                target_system,
                version,
                constraints,
            } => W::Constraints {
                target_system,
                version,
                constraints: constraints_from_json(&constraints),
            },
            J::ConstraintsSet {
                target_system,
                version,
                out_of_bounds,
            } => W::ConstraintsSet {
                target_system,
                version,
                out_of_bounds,
            },
            J::Parameters {
                target_system,
                live,
                last_known_good,
            } => W::Parameters {
                target_system,
                live: params_from_json(&live),
                last_known_good: params_from_json(&last_known_good),
            },
            J::ParametersSet {
                target_system,
                values,
            } => W::ParametersSet {
                target_system,
                values: params_from_json(&values),
            },
            J::Refused { reason, violations } => W::Refused { reason, violations },
            J::AuditEntries {
                entries,
                head_index,
            } => W::AuditEntries {
                entries: entries
                    .iter()
                    .map(JsonAuditEntry::to_wire)
                    .collect::<Result<_, _>>()?,
                head_index,
            },
            J::NodeStatus(s) => W::NodeStatus(s),
            J::Done { message } => W::Done { message },
            J::Proposals { proposals } => W::Proposals {
                proposals: proposals
                    .iter()
                    .map(JsonProposalSummary::to_wire)
                    .collect::<Result<_, _>>()?,
            },
            J::Proposal { approval, status } => W::Proposal {
                approval: approval.to_wire()?,
                status: status.to_wire()?,
            },
        })
    }
}
