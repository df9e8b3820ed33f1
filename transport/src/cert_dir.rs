//! The certificate directory: where `ca.pem`, `ca.key`, `<name>.pem` and
//! `<name>.key` live. Reading is here, since clients and nodes both load
//! their credentials from it; writing is the node package's `certs`.

use std::path::{Path, PathBuf};

/// Base name of the CA files (`ca.pem`, `ca.key`); no certificate may use it.
pub const CA_NAME: &str = "ca";

/// A directory of PEM files: the cluster CA and the certificates it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertDir {
    root: PathBuf,
}

impl CertDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        CertDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/ca.pem`: the CA certificate every node and client trusts.
    pub fn ca_cert(&self) -> PathBuf {
        self.cert(CA_NAME)
    }

    /// `DIR/ca.key`: the CA's private key; only `certs` commands read it.
    pub fn ca_key(&self) -> PathBuf {
        self.key(CA_NAME)
    }

    /// `DIR/<name>.pem`.
    pub fn cert(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.pem"))
    }

    /// `DIR/<name>.key`.
    pub fn key(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.key"))
    }

    /// Whether either CA file is present.
    pub fn has_ca(&self) -> bool {
        self.ca_cert().exists() || self.ca_key().exists()
    }
}
