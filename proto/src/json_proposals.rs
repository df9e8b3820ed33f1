//! The JSON view of the proposal listing in `operated` (`proposals`): a
//! summary per proposal with an RFC 3339 `timestamp`, like every JSON time.

use serde::{Deserialize, Serialize};

use super::error::CodecError;
use super::json::{parse_time, time};
use super::operator::ProposalSummary;
use super::reply::Decision;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonProposalSummary {
    pub proposal_id: String,
    pub target_system: String,
    pub timestamp: String,
    pub decision: Decision,
    pub approved: u32,
    pub rejected: u32,
}

impl JsonProposalSummary {
    pub fn from_wire(p: &ProposalSummary) -> Result<Self, CodecError> {
        Ok(JsonProposalSummary {
            proposal_id: p.proposal_id.clone(),
            target_system: p.target_system.clone(),
            timestamp: time(p.timestamp)?,
            decision: p.decision,
            approved: p.approved,
            rejected: p.rejected,
        })
    }

    pub fn to_wire(&self) -> Result<ProposalSummary, CodecError> {
        Ok(ProposalSummary {
            proposal_id: self.proposal_id.clone(),
            target_system: self.target_system.clone(),
            timestamp: parse_time(&self.timestamp)?,
            decision: self.decision,
            approved: self.approved,
            rejected: self.rejected,
        })
    }
}
