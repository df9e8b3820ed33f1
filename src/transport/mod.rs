//! Transport: one QUIC endpoint per node (quinn, rustls on ring), mutual TLS
//! against the cluster CA on every connection. ALPN separates Raft peer
//! traffic ([`ALPN_PEER`], nodes only) from client traffic ([`ALPN_CLIENT`]).

mod authorize;
mod tls;

pub use authorize::{
    authorize_incoming, authorize_peer, authorize_server, check_node, check_role, negotiated_alpn,
    peer_identity, refuse, require_role, AuthError, CLOSE_UNAUTHORIZED,
};
pub use tls::{
    client_config, crypto_provider, server_config, TlsCredentials, TlsError, TransportTuning,
    ALPN_CLIENT, ALPN_PEER,
};
