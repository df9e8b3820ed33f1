//! Roles and what each may do. A role comes from the client certificate
//! (its subject O); it is checked before a command is proposed and again in
//! `apply`, so a forged or stale command cannot slip through a replica.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Who a certificate says its holder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A Raft peer.
    Node,
    /// Membership, bindings, backup; everything an operator may do.
    Admin,
    /// Sets constraints and parameters, approves, rolls back.
    Operator,
    /// Sends telemetry and proposals for its targets.
    Proposer,
    /// A target system: watches its assignment, sends telemetry.
    Agent,
    /// Reads.
    Viewer,
}

/// The operations a role may be allowed. [`Role::may`] is the one table
/// of who may do what: the node checks a request against it before
/// proposing, and `apply` checks the command against it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Set constraints, override parameters.
    Configure,
    /// Change the cluster's membership.
    Membership,
    /// Read state and the audit log.
    Read,
    /// Submit proposals.
    Propose,
    /// Send telemetry.
    Telemetry,
    /// Record a security event a node saw (nodes only).
    RecordSecurityEvent,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Node,
        Role::Admin,
        Role::Operator,
        Role::Proposer,
        Role::Agent,
        Role::Viewer,
    ];

    /// The client roles `certs init` issues one certificate for each.
    pub const CLIENTS: [Role; 5] = [
        Role::Admin,
        Role::Operator,
        Role::Proposer,
        Role::Agent,
        Role::Viewer,
    ];

    /// The spelling used in certificates, files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Node => "node",
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Proposer => "proposer",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    pub fn may(self, permission: Permission) -> bool {
        match permission {
            Permission::Configure => matches!(self, Role::Admin | Role::Operator),
            Permission::Membership => self == Role::Admin,
            Permission::Read => true,
            Permission::Propose => matches!(self, Role::Admin | Role::Proposer),
            Permission::Telemetry => matches!(self, Role::Admin | Role::Proposer | Role::Agent),
            Permission::RecordSecurityEvent => self == Role::Node,
        }
    }
}

impl Role {
    /// Whether this role may watch the decisions of `target` (a push
    /// stream, `subscribe`). The rule: every role that may read may watch
    /// every target, for decisions carry no secrets. The node asks once per
    /// target of a subscription, so narrowing it to the targets bound to an
    /// identity (a later issue) changes this function only.
    pub fn may_watch(self, _target: &str) -> bool {
        self.may(Permission::Read)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A role name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (expected node, admin, operator, proposer, agent or viewer)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for r in Role::ALL {
            assert_eq!(r.name().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_operators_and_admins_configure_and_only_admins_change_membership() {
        let configure: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.may(Permission::Configure))
            .collect();
        assert_eq!(configure, [Role::Admin, Role::Operator]);
        let membership: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.may(Permission::Membership))
            .collect();
        assert_eq!(membership, [Role::Admin]);
        assert!(Role::ALL.into_iter().all(|r| r.may(Permission::Read)));
        let propose: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.may(Permission::Propose))
            .collect();
        assert_eq!(propose, [Role::Admin, Role::Proposer]);
        let telemetry: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.may(Permission::Telemetry))
            .collect();
        assert_eq!(telemetry, [Role::Admin, Role::Proposer, Role::Agent]);
        let record: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.may(Permission::RecordSecurityEvent))
            .collect();
        assert_eq!(record, [Role::Node]);
        assert!(Role::ALL.into_iter().all(|r| r.may_watch("any-target")));
    }
}
