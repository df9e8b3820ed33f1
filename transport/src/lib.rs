//! Transport: QUIC (quinn) with mutual TLS (rustls on ring) against the
//! cluster CA, shared by the node and the client library.
//!
//! `cert_dir` is where credentials live, `tls` builds quinn's server and
//! client configs from them, `identity` reads who is at the other end from
//! its certificate (CN = name, O = role), `authorize` decides what an ALPN
//! admits, `resolve` says where to dial a node name, and `frame_io` reads
//! and writes protocol frames on a stream; `codes` are the application
//! error codes a node closes connections and ends streams with. ALPN separates Raft peer traffic
//! ([`ALPN_PEER`], nodes only) from client traffic ([`ALPN_CLIENT`]).

mod authorize;
mod cert_dir;
mod codes;
pub mod frame_io;
mod identity;
mod resolve;
mod signing;
mod tls;

pub use authorize::{
    authorize_incoming, authorize_peer, authorize_server, check_node, check_role, negotiated_alpn,
    peer_identity, refuse, require_role, AuthError, CLOSE_UNAUTHORIZED,
};
pub use cert_dir::{CertDir, CA_NAME};
pub use codes::{CLOSE_BUSY, RESET_DEADLINE, STOP_REFUSED};
pub use identity::{node_name, parse_node_name, Identity, IdentityError, NODE_NAME_PREFIX};
pub use resolve::{locate, parse_resolve, resolve, Overrides};
pub use signing::{
    certificate_key, peer_signing_key, verify_signature, BadSignature, MessageSigner, SIGNATURE_LEN,
};
pub use tls::{
    client_config, crypto_provider, server_config, TlsCredentials, TlsError, TransportTuning,
    ALPN_CLIENT, ALPN_PEER,
};
