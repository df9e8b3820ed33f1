//! Who is on the other end of a QUIC connection, and whether they may be
//! there: the peer's identity from its certificate, the role an ALPN admits,
//! and the node id a dialler meant to reach.

use std::fmt;

use quinn::crypto::rustls::HandshakeData;
use quinn::{Connection, VarInt};
use rustls::pki_types::CertificateDer;

use crate::identity::{node_name, Identity, IdentityError};
use arqonbus_core::Role;
use arqonbus_proto::{ALPN_CLIENT, ALPN_PEER};

/// Application close code for a connection refused after the handshake.
pub const CLOSE_UNAUTHORIZED: VarInt = VarInt::from_u32(0x41);

/// Why a connection's peer is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the peer presented no certificate")]
    NoCertificate,
    #[error("the peer certificate has no ArqonBus identity: {0}")]
    Identity(#[from] IdentityError),
    #[error("certificate role is `{}`, {context} accepts only {}", .identity.role, AllowedRoles(.allowed))]
    WrongRole {
        identity: Identity,
        allowed: Vec<Role>,
        context: &'static str,
    },
    #[error("certificate names {} but {} was dialled", .identity.name, node_name(*.dialled))]
    WrongNode { identity: Identity, dialled: u64 },
    #[error("the server's certificate is for {0}, not a node of the cluster")]
    ServerNotNode(Identity),
    #[error("the connection negotiated no ArqonBus ALPN protocol ({0})")]
    UnknownAlpn(String),
}

struct AllowedRoles<'a>(&'a [Role]);

impl fmt::Display for AllowedRoles<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, role) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{role}`")?;
        }
        Ok(())
    }
}

/// The identity in the peer's leaf certificate. TLS has verified the chain
/// against the cluster CA before this is reachable.
pub fn peer_identity(conn: &Connection) -> Result<Identity, AuthError> {
    let any = conn.peer_identity().ok_or(AuthError::NoCertificate)?;
    let chain = any
        .downcast::<Vec<CertificateDer<'static>>>()
        .map_err(|_| AuthError::NoCertificate)?;
    let leaf = chain.first().ok_or(AuthError::NoCertificate)?;
    Ok(Identity::from_der(leaf)?)
}

/// The ALPN protocol the handshake settled on.
pub fn negotiated_alpn(conn: &Connection) -> Option<Vec<u8>> {
    conn.handshake_data()?
        .downcast::<HandshakeData>()
        .ok()?
        .protocol
}

/// The peer's identity, if its role is one of `allowed`.
pub fn require_role(conn: &Connection, allowed: &[Role]) -> Result<Identity, AuthError> {
    let context = match negotiated_alpn(conn).as_deref() {
        Some(ALPN_PEER) => "the peer port",
        Some(ALPN_CLIENT) => "the client port",
        _ => "this connection",
    };
    check_role(peer_identity(conn)?, allowed, context)
}

/// Server side: the peer ALPN admits only `node` certificates; the client
/// ALPN admits every role (what a role may do is checked per request).
pub fn authorize_incoming(conn: &Connection) -> Result<Identity, AuthError> {
    match negotiated_alpn(conn).as_deref() {
        Some(ALPN_PEER) => check_role(peer_identity(conn)?, &[Role::Node], "the peer port"),
        Some(ALPN_CLIENT) => peer_identity(conn),
        other => Err(AuthError::UnknownAlpn(
            other
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_else(|| "none".to_owned()),
        )),
    }
}

/// Dialler side of a peer connection: the server must be the node we meant
/// to reach (a stale address must not put us in touch with another node).
pub fn authorize_peer(conn: &Connection, expected_node_id: u64) -> Result<Identity, AuthError> {
    check_node(peer_identity(conn)?, expected_node_id)
}

/// Dialler side of a client connection: the server must be a cluster node.
pub fn authorize_server(conn: &Connection) -> Result<Identity, AuthError> {
    let identity = peer_identity(conn)?;
    match identity.role {
        Role::Node => Ok(identity),
        _ => Err(AuthError::ServerNotNode(identity)),
    }
}

/// `identity` if its role is one of `allowed`; `context` names what refuses.
pub fn check_role(
    identity: Identity,
    allowed: &[Role],
    context: &'static str,
) -> Result<Identity, AuthError> {
    if allowed.contains(&identity.role) {
        Ok(identity)
    } else {
        Err(AuthError::WrongRole {
            identity,
            allowed: allowed.to_vec(),
            context,
        })
    }
}

/// `identity` if it is the node `expected_node_id`.
pub fn check_node(identity: Identity, expected_node_id: u64) -> Result<Identity, AuthError> {
    match identity.node_id() {
        Some(id) if id == expected_node_id => Ok(identity),
        Some(_) => Err(AuthError::WrongNode {
            identity,
            dialled: expected_node_id,
        }),
        None => Err(AuthError::WrongRole {
            identity,
            allowed: vec![Role::Node],
            context: "a peer connection",
        }),
    }
}

/// Closes `conn` with [`CLOSE_UNAUTHORIZED`] and the reason as text, so the
/// other side sees why (its next stream operation fails with it).
pub fn refuse(conn: &Connection, error: &AuthError) {
    let reason = error.to_string();
    let mut end = reason.len().min(512);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    conn.close(CLOSE_UNAUTHORIZED, &reason.as_bytes()[..end]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_and_node_checks_explain_themselves() {
        let operator = Identity::new("alice", Role::Operator).map_err(AuthError::from);
        let err = operator.and_then(|id| check_role(id, &[Role::Node], "the peer port"));
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("certificate role is `operator`, the peer port accepts only `node`".to_owned())
        );
        let err = check_node(Identity::node(2), 3).map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("certificate names node-2 but node-3 was dialled".to_owned())
        );
        assert_eq!(check_node(Identity::node(3), 3), Ok(Identity::node(3)));
    }
}
