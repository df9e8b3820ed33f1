//! Ed25519 message signatures with certificate keys (PROTOCOL.md §5): a
//! sender signs the envelope and request with the private key of its
//! certificate; a node verifies with the public key of the certificate the
//! connection presented. All cryptography is ring's; nothing is hand-made.

use quinn::Connection;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use rustls::pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of an Ed25519 public key.
const PUBLIC_KEY_LEN: usize = 32;
/// OID of Ed25519 keys (RFC 8410).
const OID_ED25519: &str = "1.3.101.112";

/// Signs messages with one certificate's private key.
#[derive(Debug)]
pub struct MessageSigner {
    key: Ed25519KeyPair,
}

/// A signature that does not verify (or a key that cannot verify one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the signature does not verify with the sender's certificate key")]
pub struct BadSignature;

impl MessageSigner {
    /// From a PKCS#8 (v1 or v2) Ed25519 private key document.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, BadSignature> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map(|key| MessageSigner { key })
            .map_err(|_| BadSignature)
    }

    /// The 64-byte Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).as_ref().to_vec()
    }

    /// The 32-byte public key that verifies this signer's signatures.
    pub fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }
}

/// Checks an Ed25519 `signature` of `message` against a 32-byte
/// `public_key`.
pub fn verify_signature(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), BadSignature> {
    if public_key.len() != PUBLIC_KEY_LEN || signature.len() != SIGNATURE_LEN {
        return Err(BadSignature);
    }
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .map_err(|_| BadSignature)
}

/// The Ed25519 public key of a DER certificate, if its key is Ed25519.
pub fn certificate_key(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let spki = cert.public_key();
    if spki.algorithm.algorithm.to_id_string() != OID_ED25519 {
        return None;
    }
    let key = spki.subject_public_key.data.to_vec();
    (key.len() == PUBLIC_KEY_LEN).then_some(key)
}

/// The Ed25519 public key of the certificate the peer presented, if any.
pub fn peer_signing_key(conn: &Connection) -> Option<Vec<u8>> {
    let any = conn.peer_identity()?;
    let chain = any.downcast::<Vec<CertificateDer<'static>>>().ok()?;
    certificate_key(chain.first()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_byte_does_not() {
        let rng = ring::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
        let signer = MessageSigner::from_pkcs8(doc.as_ref()).expect("signer");
        let sig = signer.sign(b"set batch_size 32");
        assert_eq!(sig.len(), SIGNATURE_LEN);
        assert_eq!(
            verify_signature(signer.public_key(), b"set batch_size 32", &sig),
            Ok(())
        );
        assert_eq!(
            verify_signature(signer.public_key(), b"set batch_size 64", &sig),
            Err(BadSignature)
        );
        assert_eq!(
            verify_signature(&[0; 31], b"x", &sig),
            Err(BadSignature),
            "a key of the wrong length"
        );
    }
}
