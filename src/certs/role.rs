//! Roles: what a certificate holder is, as the cluster CA wrote it into the
//! certificate subject's O (organization) field, the way Kubernetes client
//! certificates carry their groups.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The role a certificate grants. The CA sets it when it signs; the
/// replicated state may narrow what a role can reach, never widen it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A Raft peer: the only role the peer ALPN accepts.
    Node,
    /// Membership, bindings, backup.
    Admin,
    /// Approve, reject, roll back, set constraints.
    Operator,
    /// Sends telemetry and proposals for its targets.
    Proposer,
    /// A target system: watches assignments, sends telemetry.
    Agent,
    /// Read only.
    Viewer,
}

impl Role {
    /// Every role, in a fixed order (used in error messages and tests).
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

    /// The spelling used in certificates and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Node => "node",
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Proposer => "proposer",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; expected one of node, admin, operator, proposer, agent, viewer")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }

    #[test]
    fn unknown_and_differently_cased_names_are_refused() {
        assert!("root".parse::<Role>().is_err());
        assert!("Node".parse::<Role>().is_err());
        assert!("".parse::<Role>().is_err());
    }
}
