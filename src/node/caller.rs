//! Who is on the other end of a client connection: the identity its
//! certificate names, its remote address, and what the connection holds
//! of the node (`admission`). Handlers get it with every request.

use super::admission::Connection;
use super::security::Kind;
use super::Node;
use arqonbus_transport::Identity;
use std::net::SocketAddr;

pub(super) struct Caller {
    pub identity: Identity,
    pub remote: SocketAddr,
    pub conn: Connection,
    /// The Ed25519 key of the connection's certificate: what the
    /// caller's signatures must verify with.
    pub key: Option<Vec<u8>>,
}

impl Caller {
    /// Counts a refused attempt of this caller's in the security table.
    pub fn refused(&self, node: &Node, kind: Kind) {
        node.security.record(&self.identity.name, kind, self.remote);
    }
}
