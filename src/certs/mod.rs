//! Certificates: the cluster CA, node and client certificates (Ed25519),
//! and the identity (name and role) a certificate carries.
//!
//! `arqonbus certs init` is [`init`]; `arqonbus certs issue` is
//! [`issue_client`] (after [`parse_client_spec`]) or [`issue_node`].

mod authority;
mod error;
mod identity;
mod setup;
mod store;

pub use crate::state::role::{Role, UnknownRole};
pub use authority::{
    validate_name, Authority, IssuedCert, CA_COMMON_NAME, CA_VALIDITY, DEFAULT_NODE_HOSTS,
    LEAF_VALIDITY,
};
pub use error::CertError;
pub use identity::{node_name, parse_node_name, Identity, IdentityError, NODE_NAME_PREFIX};
pub use setup::{
    init, issue_client, issue_node, parse_client_spec, InitOptions, InitReport, WrittenCert,
};
pub use store::{CertDir, CA_NAME};

#[cfg(test)]
mod tests;
