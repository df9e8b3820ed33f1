//! Identity: who is at the other end of a connection, read from the subject
//! of its certificate (CN = name, O = role). A node's name is `node-N`,
//! where N is its Raft node id.

use std::fmt;

use x509_parser::prelude::{FromDer, X509Certificate};

use arqonbus_core::Role;

/// Prefix of every node certificate's name; reserved for nodes.
pub const NODE_NAME_PREFIX: &str = "node-";

/// The name of a certificate holder and the role the CA gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    /// Subject common name: `node-N` for nodes, the client's name otherwise.
    pub name: String,
    /// Subject organization.
    pub role: Role,
}

/// Why a certificate does not carry a usable identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the peer certificate is not valid X.509: {0}")]
    NotX509(String),
    #[error("the certificate subject has no common name (CN): it names no identity")]
    MissingName,
    #[error("the certificate subject has {0} common names (CN); exactly one is expected")]
    SeveralNames(usize),
    #[error("the certificate subject has no organization (O): it carries no role")]
    MissingRole,
    #[error("the certificate subject has {0} organizations (O); exactly one role is expected")]
    SeveralRoles(usize),
    #[error("a certificate subject field is not UTF-8 text")]
    NotText,
    #[error("certificate role `{0}` is not one of node, admin, operator, proposer, agent, viewer")]
    UnknownRole(String),
    #[error("certificate with role `node` is named `{0}`; node certificates are named node-N")]
    BadNodeName(String),
    #[error("certificate named `{name}` has role `{role}`; names starting with `node-` are reserved for role `node`")]
    ReservedName { name: String, role: Role },
}

impl Identity {
    /// The identity of the node with Raft id `id`.
    pub fn node(id: u64) -> Self {
        Identity {
            name: node_name(id),
            role: Role::Node,
        }
    }

    /// Checks that `name` and `role` agree: a node is named `node-N`, and no
    /// other role may use a `node-` name.
    pub fn new(name: impl Into<String>, role: Role) -> Result<Self, IdentityError> {
        let name = name.into();
        match role {
            Role::Node if parse_node_name(&name).is_none() => Err(IdentityError::BadNodeName(name)),
            Role::Node => Ok(Identity { name, role }),
            _ if name.starts_with(NODE_NAME_PREFIX) => {
                Err(IdentityError::ReservedName { name, role })
            }
            _ => Ok(Identity { name, role }),
        }
    }

    /// Reads the identity from a DER-encoded X.509 certificate's subject.
    /// This does not verify the certificate: TLS has done that already.
    pub fn from_der(der: &[u8]) -> Result<Self, IdentityError> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| IdentityError::NotX509(e.to_string()))?;
        let subject = cert.subject();
        let names: Vec<_> = subject.iter_common_name().collect();
        let name = match names.as_slice() {
            [] => return Err(IdentityError::MissingName),
            [one] => one.as_str().map_err(|_| IdentityError::NotText)?,
            many => return Err(IdentityError::SeveralNames(many.len())),
        };
        let roles: Vec<_> = subject.iter_organization().collect();
        let role = match roles.as_slice() {
            [] => return Err(IdentityError::MissingRole),
            [one] => one.as_str().map_err(|_| IdentityError::NotText)?,
            many => return Err(IdentityError::SeveralRoles(many.len())),
        };
        let role = role
            .parse::<Role>()
            .map_err(|_| IdentityError::UnknownRole(role.to_owned()))?;
        Identity::new(name, role)
    }

    /// The Raft node id, if this is a node.
    pub fn node_id(&self) -> Option<u64> {
        match self.role {
            Role::Node => parse_node_name(&self.name),
            _ => None,
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (role {})", self.name, self.role)
    }
}

/// `node-N` for node id `N`.
pub fn node_name(id: u64) -> String {
    format!("{NODE_NAME_PREFIX}{id}")
}

/// The node id in a canonical `node-N` name (`node-7`, not `node-07`).
pub fn parse_node_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(NODE_NAME_PREFIX)?;
    let id = digits.parse::<u64>().ok()?;
    (id.to_string() == digits).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_are_canonical() {
        assert_eq!(parse_node_name("node-3"), Some(3));
        assert_eq!(parse_node_name("node-0"), Some(0));
        assert_eq!(parse_node_name(&node_name(u64::MAX)), Some(u64::MAX));
        for bad in [
            "node-", "node-03", "node-+3", "node-x", "node3", "Node-3", "node--1",
        ] {
            assert_eq!(parse_node_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_and_roles_must_agree() {
        assert_eq!(Identity::node(2).node_id(), Some(2));
        assert!(Identity::new("node-2", Role::Node).is_ok());
        assert!(Identity::new("alice", Role::Operator).is_ok());
        assert_eq!(
            Identity::new("alice", Role::Operator).map(|i| i.node_id()),
            Ok(None)
        );
        assert_eq!(
            Identity::new("alice", Role::Node),
            Err(IdentityError::BadNodeName("alice".into()))
        );
        assert!(matches!(
            Identity::new("node-x", Role::Admin),
            Err(IdentityError::ReservedName { .. })
        ));
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(matches!(
            Identity::from_der(b"not a certificate"),
            Err(IdentityError::NotX509(_))
        ));
    }
}
