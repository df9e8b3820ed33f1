//! Errors from making, loading and writing certificates.

use std::path::PathBuf;

use arqonbus_core::role::UnknownRole;
use arqonbus_transport::IdentityError;

/// Why a certificate could not be made, loaded or written.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("a cluster CA already exists in {0}; pass --force to replace it (every certificate it signed stops being trusted)")]
    CaExists(PathBuf),
    #[error("{0} already exists; pass --force to overwrite it")]
    FileExists(PathBuf),
    #[error("no cluster CA in {0} (expected ca.pem and ca.key); run `arqonbus certs init` first")]
    NoCa(PathBuf),
    #[error("client name `{0}` is reserved: names starting with `node-` belong to node certificates (use --node N)")]
    ReservedClientName(String),
    #[error(
        "a client certificate cannot have role `node`; issue a node certificate with --node N"
    )]
    ClientWithNodeRole,
    #[error("invalid certificate name `{name}`: {why}")]
    InvalidName { name: String, why: &'static str },
    #[error("invalid node host `{0}`: expected a DNS name or an IP address")]
    InvalidHost(String),
    #[error("expected NAME:ROLE (for example `alice:operator`), got `{0}`")]
    BadClientSpec(String),
    #[error("the number of nodes must be at least 1")]
    NoNodes,
    #[error(transparent)]
    Role(#[from] UnknownRole),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("{path}: the CA key does not belong to the CA certificate")]
    CaKeyMismatch { path: PathBuf },
    #[error("{path}: not a usable {what}: {detail}")]
    BadPem {
        path: PathBuf,
        what: &'static str,
        detail: String,
    },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the key of {what} as PKCS#8 v1: {why}")]
    KeyEncoding { what: String, why: &'static str },
    #[error("cannot {action}: {source}")]
    Generate {
        action: String,
        #[source]
        source: rcgen::Error,
    },
}

impl CertError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        CertError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn generate(action: impl Into<String>) -> impl FnOnce(rcgen::Error) -> Self {
        let action = action.into();
        move |source| CertError::Generate { action, source }
    }
}
