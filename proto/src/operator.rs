//! Wire types of operator and admin requests (frame types 0x10 and 0x90):
//! constraints, parameter overrides, the audit log and cluster membership,
//! as the `arqonbus` CLI sends them. The same rules as every wire type apply
//! (see `message`): plain structs, externally tagged enums, ordered maps.

use serde::{Deserialize, Serialize};

use super::envelope::UnixMillis;
use super::message::Parameters;
use super::reply::{Approval, Decision, Status};
use arqonbus_core::audit::AuditEntry;
use arqonbus_core::constraints::{ConstraintSet, Violation};

/// A cluster member: its Raft id and the address it is reached at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub node_id: u64,
    /// `host:port` of the node's QUIC endpoint.
    pub addr: String,
}

/// Request type 0x10: one operator or admin action. Answered by `operated`
/// (0x90) or `error` (0x80).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OperatorRequest {
    /// 0: replace a target system's constraints (operator, admin).
    SetConstraints {
        target_system: String,
        constraints: ConstraintSet,
    },
    /// 1: read a target system's constraints; `stale` reads this node's
    /// replica instead of a linearizable read on the leader.
    GetConstraints { target_system: String, stale: bool },
    /// 2: override parameters, setting live and last-known-good (operator,
    /// admin). With `expected`, only if every listed live value equals it
    /// (compare-and-set).
    SetParameters {
        target_system: String,
        values: Parameters,
        expected: Option<Parameters>,
    },
    /// 3: read a target system's live and last-known-good parameters.
    GetParameters { target_system: String, stale: bool },
    /// 4: audit entries from `from_index` (at most `limit`, capped by the
    /// server at [`MAX_AUDIT_ENTRIES`](super::limits::MAX_AUDIT_ENTRIES)).
    AuditRange {
        from_index: u64,
        limit: u32,
        stale: bool,
    },
    /// 5: this node's own view of the cluster (never forwarded).
    NodeStatus,
    /// 6: bootstrap a cluster of these members once (admin).
    ClusterInit { members: Vec<Member> },
    /// 7: add a node as a learner and promote it once caught up (admin).
    AddNode { member: Member },
    /// 8: remove a node from the membership (admin).
    RemoveNode { node_id: u64 },
    /// 9: the newest decided proposals, of one target system or all, at
    /// most `limit` (capped by the server at
    /// [`MAX_LISTED_PROPOSALS`](super::limits::MAX_LISTED_PROPOSALS)).
    ListProposals {
        target_system: Option<String>,
        limit: u32,
        stale: bool,
    },
    /// 10: one decided proposal: its decision and its status.
    ShowProposal { proposal_id: String, stale: bool },
}

/// One line of a proposal listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalSummary {
    pub proposal_id: String,
    pub target_system: String,
    /// When it was decided.
    pub timestamp: UnixMillis,
    pub decision: Decision,
    /// Changes approved and rejected.
    pub approved: u32,
    pub rejected: u32,
}

/// A node's role in the cluster, as it sees itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    Leader,
    Follower,
    Learner,
    Candidate,
    Shutdown,
}

/// One node's view: itself, and the membership it has applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub node_id: u64,
    /// `host:port` this node says it is reached at (its `advertise`
    /// setting): what `cluster init` records as the member's address.
    pub advertise: String,
    pub role: NodeRole,
    pub term: u64,
    pub leader_id: Option<u64>,
    pub last_log_index: Option<u64>,
    pub last_applied: Option<u64>,
    pub voters: Vec<Member>,
    pub learners: Vec<Member>,
}

/// Reply type 0x90: the answer to an [`OperatorRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OperatorReply {
    /// 0: a target system's constraints.
    Constraints {
        target_system: String,
        version: u64,
        constraints: ConstraintSet,
    },
    /// 1: constraints accepted; `out_of_bounds` lists live parameters the
    /// new constraints no longer allow.
    ConstraintsSet {
        target_system: String,
        version: u64,
        out_of_bounds: Vec<String>,
    },
    /// 2: a target system's parameters.
    Parameters {
        target_system: String,
        live: Parameters,
        last_known_good: Parameters,
    },
    /// 3: an override applied; the values as stored.
    ParametersSet {
        target_system: String,
        values: Parameters,
    },
    /// 4: the replicated state refused the command and changed nothing;
    /// `violations` lists each constraint broken, by name.
    Refused {
        reason: String,
        violations: Vec<Violation>,
    },
    /// 5: audit entries in order; `head_index` is the newest index there is.
    AuditEntries {
        entries: Vec<AuditEntry>,
        head_index: u64,
    },
    /// 6: a node's own view.
    NodeStatus(NodeStatus),
    /// 7: a membership action finished.
    Done { message: String },
    /// 8: decided proposals, newest first.
    Proposals { proposals: Vec<ProposalSummary> },
    /// 9: one proposal's decision and status.
    Proposal { approval: Approval, status: Status },
}
