//! Issuing certificates: the cluster CA, node and client certificates
//! (Ed25519, rcgen). Reading them, and the identity (name and role) a
//! certificate carries, is `arqonbus_transport`'s.
//!
//! `arqonbus certs init` is [`init`]; `arqonbus certs issue` is
//! [`issue_client`] (after [`parse_client_spec`]) or [`issue_node`].

mod authority;
mod error;
mod key;
mod setup;
mod store;

pub use authority::{
    validate_name, Authority, IssuedCert, CA_COMMON_NAME, CA_VALIDITY, DEFAULT_NODE_HOSTS,
    LEAF_VALIDITY,
};
pub use error::CertError;
pub use setup::{
    init, issue_client, issue_node, parse_client_spec, InitOptions, InitReport, WrittenCert,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_keys;
