//! Whether a request must be signed: the target's own policy decides
//! (`[security] signing_required` of its constraint file, stored in the
//! replicated state), and the node's setting decides what is about no
//! known target (membership, a target's first constraints).
//!
//! Only state changes are ever required to be signed; reads and telemetry
//! never are (PROTOCOL.md §5).

use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::workflow::WorkflowRequest;
use arqonbus_proto::{convert, Request};

/// What a request is about, for the signing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About<'a> {
    /// A target system, by name.
    Target(&'a str),
    /// A proposal (an approval or a rejection): its target decides.
    Proposal(&'a str),
    /// No target: membership, reads of the cluster.
    Cluster,
}

/// What `request` is about.
pub fn about(request: &Request) -> About<'_> {
    match request {
        Request::Proposal(p) => About::Target(&p.target_system),
        Request::TelemetryBatch(_) => About::Cluster,
        Request::StatusQuery(q) => About::Proposal(&q.proposal_id),
        Request::Subscribe(_) => About::Cluster,
        Request::Operate(op) => match op {
            OperatorRequest::SetConstraints { target_system, .. }
            | OperatorRequest::GetConstraints { target_system, .. }
            | OperatorRequest::SetParameters { target_system, .. }
            | OperatorRequest::GetParameters { target_system, .. } => About::Target(target_system),
            OperatorRequest::ShowProposal { proposal_id, .. } => About::Proposal(proposal_id),
            OperatorRequest::AuditRange { .. }
            | OperatorRequest::NodeStatus
            | OperatorRequest::ClusterInit { .. }
            | OperatorRequest::AddNode { .. }
            | OperatorRequest::RemoveNode { .. }
            | OperatorRequest::ListProposals { .. } => About::Cluster,
        },
        Request::Workflow(w) => match w {
            WorkflowRequest::SetConstraints { target_system, .. }
            | WorkflowRequest::GetConstraints { target_system, .. }
            | WorkflowRequest::SetParameters { target_system, .. }
            | WorkflowRequest::Rollback { target_system, .. } => About::Target(target_system),
            WorkflowRequest::Approve { proposal_id, .. }
            | WorkflowRequest::Reject { proposal_id, .. }
            | WorkflowRequest::ShowProposal { proposal_id, .. } => About::Proposal(proposal_id),
            WorkflowRequest::ListPending { .. } => About::Cluster,
        },
        Request::WatchAssignment(w) => About::Target(&w.target_system),
        Request::TaggedTelemetry(_) => About::Cluster,
        Request::Rollout(r) => About::Target(r.target_system()),
    }
}

/// Whether `request` must carry a valid signature. `stored(about)` is the
/// replicated policy's `signing_required` of what the request is about,
/// `None` when it has none (an unknown target, or no target at all);
/// `node_default` decides then.
pub fn must_sign(
    request: &Request,
    node_default: bool,
    stored: impl Fn(About<'_>) -> Option<bool>,
) -> bool {
    if !convert::changes_state(request) {
        return false;
    }
    match about(request) {
        About::Cluster => node_default,
        about => stored(about).unwrap_or(node_default),
    }
}
