//! The `certs init` and `certs issue` operations, as the CLI calls them:
//! make or load the CA, sign, and write the files into the directory.

use std::path::{Path, PathBuf};

use super::authority::{Authority, IssuedCert};
use super::error::CertError;
use super::store::{ensure_absent, write_file, Secrecy};
use arqonbus_core::Role;
use arqonbus_transport::{CertDir, Identity};

/// Options of `arqonbus certs init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOptions {
    /// Node certificates `node-1` … `node-<nodes>`.
    pub nodes: u64,
    /// Extra names or addresses every node certificate is valid for.
    pub node_hosts: Vec<String>,
    /// Replace an existing CA and existing certificates.
    pub force: bool,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            nodes: 3,
            node_hosts: Vec::new(),
            force: false,
        }
    }
}

/// A certificate and key written to the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenCert {
    pub identity: Identity,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What `certs init` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    /// Nodes first (by id), then the clients in [`Role::CLIENTS`] order.
    pub issued: Vec<WrittenCert>,
}

/// `certs init`: a new CA in `out`, one certificate per node and one client
/// certificate per client role (named after the role). Refuses to replace
/// an existing CA, or any existing file, unless `force`; it checks before
/// writing anything, so a refusal leaves the directory as it was.
pub fn init(out: &Path, options: &InitOptions) -> Result<InitReport, CertError> {
    if options.nodes == 0 {
        return Err(CertError::NoNodes);
    }
    let dir = CertDir::new(out);
    if dir.has_ca() && !options.force {
        return Err(CertError::CaExists(out.to_path_buf()));
    }
    let authority = Authority::generate()?;
    let mut issued = Vec::new();
    for id in 1..=options.nodes {
        issued.push(authority.issue_node(id, &options.node_hosts)?);
    }
    for role in Role::CLIENTS {
        issued.push(authority.issue_client(role.name(), role)?);
    }
    let targets: Vec<PathBuf> = issued
        .iter()
        .flat_map(|c| [dir.cert(&c.identity.name), dir.key(&c.identity.name)])
        .collect();
    ensure_absent(&targets, options.force)?;

    super::store::create_dir(&dir)?;
    // The key first: a ca.pem without its key would be a CA nobody can use.
    write_file(&dir.ca_key(), authority.key_pem(), Secrecy::Secret)?;
    write_file(&dir.ca_cert(), authority.cert_pem(), Secrecy::Public)?;
    let issued = issued
        .into_iter()
        .map(|cert| write_cert(&dir, cert))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(InitReport {
        ca_cert: dir.ca_cert(),
        ca_key: dir.ca_key(),
        issued,
    })
}

/// `certs issue --client NAME:ROLE`: signs one more client certificate with
/// the CA in `ca_dir` and writes it there.
pub fn issue_client(
    ca_dir: &Path,
    name: &str,
    role: Role,
    force: bool,
) -> Result<WrittenCert, CertError> {
    let dir = CertDir::new(ca_dir);
    let authority = Authority::load(&dir)?;
    let cert = authority.issue_client(name, role)?;
    ensure_absent(&[dir.cert(name), dir.key(name)], force)?;
    write_cert(&dir, cert)
}

/// `certs issue --node N`: signs one more node certificate, valid for the
/// default hosts and `node_hosts`, and writes it into `ca_dir`.
pub fn issue_node(
    ca_dir: &Path,
    id: u64,
    node_hosts: &[String],
    force: bool,
) -> Result<WrittenCert, CertError> {
    let dir = CertDir::new(ca_dir);
    let authority = Authority::load(&dir)?;
    let cert = authority.issue_node(id, node_hosts)?;
    let name = &cert.identity.name;
    ensure_absent(&[dir.cert(name), dir.key(name)], force)?;
    write_cert(&dir, cert)
}

/// Parses the `NAME:ROLE` argument of `certs issue --client`.
pub fn parse_client_spec(spec: &str) -> Result<(String, Role), CertError> {
    let (name, role) = spec
        .split_once(':')
        .ok_or_else(|| CertError::BadClientSpec(spec.to_owned()))?;
    if name.is_empty() || role.is_empty() {
        return Err(CertError::BadClientSpec(spec.to_owned()));
    }
    Ok((name.to_owned(), role.parse()?))
}

fn write_cert(dir: &CertDir, cert: IssuedCert) -> Result<WrittenCert, CertError> {
    let name = &cert.identity.name;
    let (cert_path, key_path) = (dir.cert(name), dir.key(name));
    write_file(&key_path, &cert.key_pem, Secrecy::Secret)?;
    write_file(&cert_path, &cert.cert_pem, Secrecy::Public)?;
    Ok(WrittenCert {
        identity: cert.identity,
        cert: cert_path,
        key: key_path,
    })
}
