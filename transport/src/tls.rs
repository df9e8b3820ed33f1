//! TLS configuration for quinn: server and client configs from the PEM
//! files in a certificate directory, always on the explicit ring provider,
//! TLS 1.3 only (QUIC requires it), client certificates required and
//! verified against the cluster CA, and no 0-RTT (its data is replayable).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use quinn::crypto::rustls::{NoInitialCipherSuite, QuicClientConfig, QuicServerConfig};
use quinn::{IdleTimeout, TransportConfig};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

use crate::cert_dir::CertDir;
use crate::identity::{Identity, IdentityError};

pub use arqonbus_proto::{ALPN_CLIENT, ALPN_PEER};

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: no PEM CERTIFICATE block found")]
    NoCertificate { source_name: String },
    #[error("{source_name}: no PEM private key found")]
    NoPrivateKey { source_name: String },
    #[error("{source_name}: invalid PEM: {detail}")]
    Pem { source_name: String, detail: String },
    #[error("{source_name}: the CA certificate is not usable as a trust anchor: {source}")]
    BadCa {
        source_name: String,
        #[source]
        source: rustls::Error,
    },
    #[error("{source_name}: the certificate does not carry an ArqonBus identity: {source}")]
    Identity {
        source_name: String,
        #[source]
        source: IdentityError,
    },
    #[error("cannot build the client-certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("the certificate or key was rejected: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("the TLS configuration is not usable for QUIC: {0}")]
    Quic(#[from] NoInitialCipherSuite),
    #[error("idle timeout {0:?} is out of range for QUIC")]
    IdleTimeout(Duration),
    #[error("keep-alive interval {keep_alive:?} must be shorter than the idle timeout {idle:?}")]
    KeepAliveTooLong {
        keep_alive: Duration,
        idle: Duration,
    },
}

/// QUIC transport timing and limits shared by the server and client
/// configs. The limits are set explicitly, never left to quinn's defaults:
/// they are what one connection may hold of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportTuning {
    /// How often an idle connection sends a keep-alive.
    pub keep_alive_interval: Duration,
    /// How long a silent connection lives; also bounds a dial to a dead peer.
    pub idle_timeout: Duration,
    /// Bidirectional streams the other side may have open at once.
    pub max_streams: u32,
    /// Bytes one stream may have in flight before its reader takes them.
    pub stream_window: u32,
    /// Bytes all streams of one connection may have in flight together.
    pub connection_window: u32,
}

impl Default for TransportTuning {
    fn default() -> Self {
        TransportTuning {
            keep_alive_interval: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(1500),
            max_streams: 64,
            stream_window: 1024 * 1024,
            connection_window: 8 * 1024 * 1024,
        }
    }
}

impl TransportTuning {
    fn transport_config(&self) -> Result<Arc<TransportConfig>, TlsError> {
        if self.keep_alive_interval >= self.idle_timeout {
            return Err(TlsError::KeepAliveTooLong {
                keep_alive: self.keep_alive_interval,
                idle: self.idle_timeout,
            });
        }
        let idle = IdleTimeout::try_from(self.idle_timeout)
            .map_err(|_| TlsError::IdleTimeout(self.idle_timeout))?;
        let mut config = TransportConfig::default();
        config
            .keep_alive_interval(Some(self.keep_alive_interval))
            .max_idle_timeout(Some(idle))
            .max_concurrent_bidi_streams(self.max_streams.into())
            .max_concurrent_uni_streams(0u32.into())
            .stream_receive_window(self.stream_window.into())
            .receive_window(self.connection_window.into())
            .send_window(u64::from(self.connection_window))
            .datagram_receive_buffer_size(None);
        Ok(Arc::new(config))
    }
}

/// The rustls crypto provider every config is built with: ring, explicitly,
/// never the process default.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What one endpoint presents and trusts: the cluster CA, its own
/// certificate chain (leaf first) and private key.
#[derive(Debug)]
pub struct TlsCredentials {
    roots: Arc<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    identity: Identity,
}

impl TlsCredentials {
    /// Loads `DIR/ca.pem`, `DIR/<name>.pem` and `DIR/<name>.key`.
    pub fn from_dir(dir: &Path, name: &str) -> Result<Self, TlsError> {
        let dir = CertDir::new(dir);
        Self::from_files(&dir.ca_cert(), &dir.cert(name), &dir.key(name))
    }

    /// Loads the CA certificate, the certificate chain and the key from
    /// three PEM files.
    pub fn from_files(ca: &Path, cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| TlsError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let (ca_pem, cert_pem, key_pem) = (read(ca)?, read(cert)?, read(key)?);
        Self::parse(
            (&ca_pem, &ca.display().to_string()),
            (&cert_pem, &cert.display().to_string()),
            (&key_pem, &key.display().to_string()),
        )
    }

    /// Builds credentials from PEM text already in memory.
    pub fn from_pem(ca_pem: &str, cert_pem: &str, key_pem: &str) -> Result<Self, TlsError> {
        Self::parse(
            (ca_pem, "CA certificate"),
            (cert_pem, "certificate"),
            (key_pem, "private key"),
        )
    }

    fn parse(ca: (&str, &str), cert: (&str, &str), key: (&str, &str)) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        for ca_cert in certs_from_pem(ca.0, ca.1)? {
            roots.add(ca_cert).map_err(|source| TlsError::BadCa {
                source_name: ca.1.to_owned(),
                source,
            })?;
        }
        let chain = certs_from_pem(cert.0, cert.1)?;
        let identity = match chain.first() {
            Some(leaf) => Identity::from_der(leaf).map_err(|source| TlsError::Identity {
                source_name: cert.1.to_owned(),
                source,
            })?,
            None => {
                return Err(TlsError::NoCertificate {
                    source_name: cert.1.to_owned(),
                })
            }
        };
        let key = PrivateKeyDer::from_pem_slice(key.0.as_bytes()).map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoPrivateKey {
                source_name: key.1.to_owned(),
            },
            other => TlsError::Pem {
                source_name: key.1.to_owned(),
                detail: other.to_string(),
            },
        })?;
        Ok(TlsCredentials {
            roots: Arc::new(roots),
            chain,
            key,
            identity,
        })
    }

    /// The identity in this endpoint's own certificate.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// A signer for protocol messages with this endpoint's certificate
    /// key, if that key is Ed25519 in PKCS#8 (every key `certs` writes).
    pub fn message_signer(&self) -> Option<super::signing::MessageSigner> {
        match &self.key {
            PrivateKeyDer::Pkcs8(k) => {
                super::signing::MessageSigner::from_pkcs8(k.secret_pkcs8_der()).ok()
            }
            _ => None,
        }
    }
}

fn certs_from_pem(pem: &str, source_name: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            source_name: source_name.to_owned(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            source_name: source_name.to_owned(),
        });
    }
    Ok(certs)
}

/// A server config for a node's endpoint: presents the node certificate,
/// requires a client certificate signed by the cluster CA, offers both
/// [`ALPN_PEER`] and [`ALPN_CLIENT`], never accepts 0-RTT. Which roles an
/// ALPN admits is checked after the handshake (see `authorize_incoming`).
pub fn server_config(
    credentials: &TlsCredentials,
    tuning: &TransportTuning,
) -> Result<quinn::ServerConfig, TlsError> {
    let provider = crypto_provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(credentials.roots.clone(), provider.clone())
            .build()?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(credentials.chain.clone(), credentials.key.clone_key())?;
    tls.alpn_protocols = vec![ALPN_PEER.to_vec(), ALPN_CLIENT.to_vec()];
    tls.max_early_data_size = 0;
    let crypto = QuicServerConfig::try_from(Arc::new(tls))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(tuning.transport_config()?);
    Ok(config)
}

/// A client config that speaks `alpn`, presents `credentials`' certificate
/// and trusts only servers signed by the cluster CA. No 0-RTT.
pub fn client_config(
    credentials: &TlsCredentials,
    alpn: &[u8],
    tuning: &TransportTuning,
) -> Result<quinn::ClientConfig, TlsError> {
    let mut tls = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(credentials.roots.clone())
        .with_client_auth_cert(credentials.chain.clone(), credentials.key.clone_key())?;
    tls.alpn_protocols = vec![alpn.to_vec()];
    tls.enable_early_data = false;
    let crypto = QuicClientConfig::try_from(Arc::new(tls))?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    config.transport_config(tuning.transport_config()?);
    Ok(config)
}
