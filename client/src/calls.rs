//! The proposer's and agent's calls: proposals, telemetry, status. Basic
//! versions on top of [`Client::call`]; the resilient client (circuit
//! breaker, degraded mode, telemetry buffer) is
//! [`ProposerSession`](super::ProposerSession).

use super::{Client, ClientError, Retry};
use arqonbus_proto::message::{Proposal, StatusQuery, TelemetryBatch, TelemetrySample};
use arqonbus_proto::reply::{Approval, Status, TelemetryAck};
use arqonbus_proto::{Reply, Request};

fn unexpected(expected: &str, reply: &Reply) -> ClientError {
    ClientError::Protocol {
        endpoint: String::new(),
        reason: format!("expected {expected}, got type 0x{:02x}", reply.msg_type()),
    }
}

impl Client {
    /// Submits a proposal and returns the decision. Safe to retry: the
    /// server deduplicates by `proposal_id`, so a retry after an unknown
    /// outcome returns the recorded decision (a different proposal under
    /// the same id is refused with `conflict`).
    pub async fn propose(&self, proposal: Proposal) -> Result<Approval, ClientError> {
        match self.call(Request::Proposal(proposal), Retry::Safe).await? {
            Reply::Approval(a) => Ok(a),
            other => Err(unexpected("an approval", &other)),
        }
    }

    /// Sends one batch of samples (at most 1024) to the leader. Not retried
    /// once sent: a lost ack would count the samples twice.
    pub async fn send_telemetry(
        &self,
        samples: Vec<TelemetrySample>,
    ) -> Result<TelemetryAck, ClientError> {
        let request = Request::TelemetryBatch(TelemetryBatch { samples });
        match self.call(request, Retry::OnlyIfNotSent).await? {
            Reply::TelemetryAck(a) => Ok(a),
            other => Err(unexpected("a telemetry_ack", &other)),
        }
    }

    /// The status of a decided proposal (a linearizable read on the leader).
    pub async fn status(&self, proposal_id: &str) -> Result<Status, ClientError> {
        let request = Request::StatusQuery(StatusQuery {
            proposal_id: proposal_id.to_string(),
        });
        match self.call(request, Retry::Safe).await? {
            Reply::Status(s) => Ok(s),
            other => Err(unexpected("a status", &other)),
        }
    }
}
