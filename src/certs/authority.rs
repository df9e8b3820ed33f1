//! The cluster certificate authority: makes the CA, loads it back from its
//! directory, and signs node and client certificates with Ed25519 keys.
//! A certificate's subject carries the identity: CN = name, O = role.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, ServerName};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::error::CertError;
use super::key;
use super::store::read_text;
use arqonbus_core::Role;
use arqonbus_transport::{CertDir, CA_NAME};
use arqonbus_transport::{Identity, NODE_NAME_PREFIX};

/// How long a new CA is valid: ten years.
pub const CA_VALIDITY: Duration = Duration::days(3650);
/// How long a node or client certificate is valid (never past the CA).
pub const LEAF_VALIDITY: Duration = Duration::days(730);
/// Backdating of `not_before`, so a peer whose clock is a little behind
/// accepts a certificate made just now.
const CLOCK_SKEW: Duration = Duration::hours(1);
/// The start of every ArqonBus cluster CA's common name; a fingerprint of
/// its key follows, so a certificate from another cluster is reported as
/// from an unknown issuer rather than as a bad signature.
pub const CA_COMMON_NAME: &str = "ArqonBus cluster CA";

/// Names and addresses every node certificate is valid for.
pub const DEFAULT_NODE_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

/// A freshly signed certificate and its private key, both PEM.
pub struct IssuedCert {
    pub identity: Identity,
    pub cert_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// The cluster CA: its certificate and the key that signs with it.
pub struct Authority {
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
    not_after: OffsetDateTime,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl Authority {
    /// Makes a new self-signed CA with an Ed25519 key (in memory only).
    pub fn generate() -> Result<Self, CertError> {
        let key = key::generate("the CA")?;
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        let fingerprint = hex::encode(key.public_key_raw().get(..8).unwrap_or_default());
        params.distinguished_name.push(
            DnType::CommonName,
            format!("{CA_COMMON_NAME} {fingerprint}"),
        );
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = now - CLOCK_SKEW;
        params.not_after = now + CA_VALIDITY;
        let not_after = params.not_after;
        let cert = params
            .self_signed(&key)
            .map_err(CertError::generate("self-sign the CA certificate"))?;
        Ok(Authority {
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
            not_after,
        })
    }

    /// Loads the CA from `DIR/ca.pem` and `DIR/ca.key`.
    pub fn load(dir: &CertDir) -> Result<Self, CertError> {
        let (cert_path, key_path) = (dir.ca_cert(), dir.ca_key());
        if !cert_path.exists() || !key_path.exists() {
            return Err(CertError::NoCa(dir.root().to_path_buf()));
        }
        let cert_pem = read_text(&cert_path)?;
        let key_pem = read_text(&key_path)?;
        let bad_pem = |path: &Path, what, detail: String| CertError::BadPem {
            path: path.to_path_buf(),
            what,
            detail,
        };
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|e| bad_pem(&key_path, "private key", e.to_string()))?;
        let cert_der = parse_single_cert_pem(&cert_pem)
            .map_err(|detail| bad_pem(&cert_path, "certificate", detail))?;
        let (_, parsed) = X509Certificate::from_der(&cert_der)
            .map_err(|e| bad_pem(&cert_path, "certificate", e.to_string()))?;
        if !parsed.is_ca() {
            return Err(bad_pem(
                &cert_path,
                "CA certificate",
                "it is not a CA (basic constraints)".into(),
            ));
        }
        if parsed.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(CertError::CaKeyMismatch { path: key_path });
        }
        let not_after = parsed.validity().not_after.to_datetime();
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)
            .map_err(|e| bad_pem(&cert_path, "CA certificate", e.to_string()))?;
        Ok(Authority {
            cert_der,
            cert_pem,
            key_pem,
            issuer,
            not_after,
        })
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The CA certificate, PEM (the contents of `ca.pem`).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA private key, PEM (the contents of `ca.key`).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// Signs a certificate for node `id`: CN `node-<id>`, O `node`, server
    /// and client authentication (a node is a client of its peers), valid
    /// for 127.0.0.1, localhost, `node-<id>` and every name in `hosts`.
    pub fn issue_node(&self, id: u64, hosts: &[String]) -> Result<IssuedCert, CertError> {
        let identity = Identity::node(id);
        let mut names: Vec<String> = DEFAULT_NODE_HOSTS.iter().map(|h| h.to_string()).collect();
        names.push(identity.name.clone());
        for host in hosts {
            if !names.contains(host) {
                names.push(host.clone());
            }
        }
        let sans = names
            .iter()
            .map(|name| san(name))
            .collect::<Result<Vec<_>, _>>()?;
        let ekus = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        self.issue(identity, sans, ekus)
    }

    /// Signs a client certificate: CN `name`, O `role`, client
    /// authentication only. `node-*` names and the role `node` are refused.
    pub fn issue_client(&self, name: &str, role: Role) -> Result<IssuedCert, CertError> {
        validate_name(name)?;
        if name.starts_with(NODE_NAME_PREFIX) {
            return Err(CertError::ReservedClientName(name.to_owned()));
        }
        if role == Role::Node {
            return Err(CertError::ClientWithNodeRole);
        }
        let identity = Identity::new(name, role)?;
        self.issue(
            identity,
            Vec::new(),
            vec![ExtendedKeyUsagePurpose::ClientAuth],
        )
    }

    fn issue(
        &self,
        identity: Identity,
        sans: Vec<SanType>,
        ekus: Vec<ExtendedKeyUsagePurpose>,
    ) -> Result<IssuedCert, CertError> {
        let what = identity.name.clone();
        let key = key::generate(&what)?;
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, identity.name.as_str());
        params
            .distinguished_name
            .push(DnType::OrganizationName, identity.role.name());
        params.subject_alt_names = sans;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = ekus;
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - CLOCK_SKEW;
        params.not_after = (now + LEAF_VALIDITY).min(self.not_after);
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(CertError::generate(format!(
                "sign the certificate of {what}"
            )))?;
        Ok(IssuedCert {
            identity,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// A name becomes a file name and a subject CN: 1 to 64 ASCII letters,
/// digits, `.`, `_` or `-`, starting with a letter or digit, and not `ca`.
pub fn validate_name(name: &str) -> Result<(), CertError> {
    let invalid = |why| {
        Err(CertError::InvalidName {
            name: name.to_owned(),
            why,
        })
    };
    if name.is_empty() || name.len() > 64 {
        return invalid("it must be 1 to 64 characters long");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return invalid("it must start with a letter or a digit");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return invalid("only ASCII letters, digits, `.`, `_` and `-` are allowed");
    }
    if name == CA_NAME {
        return invalid("`ca` is the name of the CA's own files");
    }
    Ok(())
}

/// An IP address SAN or a DNS name SAN, whichever `host` is.
fn san(host: &str) -> Result<SanType, CertError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    // Only names a dialler could pass as its server name are accepted.
    ServerName::try_from(host).map_err(|_| CertError::InvalidHost(host.to_owned()))?;
    let dns = host
        .to_owned()
        .try_into()
        .map_err(|_| CertError::InvalidHost(host.to_owned()))?;
    Ok(SanType::DnsName(dns))
}

/// The one certificate in a PEM text.
fn parse_single_cert_pem(pem: &str) -> Result<CertificateDer<'static>, String> {
    use rustls::pki_types::pem::PemObject;
    let mut certs = CertificateDer::pem_slice_iter(pem.as_bytes());
    let first = certs
        .next()
        .ok_or_else(|| "no CERTIFICATE block".to_owned())?
        .map_err(|e| e.to_string())?;
    match certs.next() {
        None => Ok(first),
        Some(_) => Err("more than one CERTIFICATE block".to_owned()),
    }
}
