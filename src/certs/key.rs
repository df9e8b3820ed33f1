//! The private keys `certs` writes: Ed25519 in PKCS#8 **v1** (RFC 8410
//! §7: a version 0, the algorithm, the 32-byte seed; no public key).
//!
//! ring, behind rcgen, generates PKCS#8 v2 documents (RFC 5958, with the
//! public key appended), which OpenSSL 3.0 and Python's `cryptography`
//! refuse. So a new key is re-encoded as v1 before it is used or written.
//! ring reads both forms through `Ed25519KeyPair::from_pkcs8_maybe_unchecked`,
//! which is how rcgen (`KeyPair::from_pem`) and rustls 0.23's ring provider
//! (`sign::any_eddsa_type`) load a key, so key files written as v2 by
//! earlier releases keep loading.

use rcgen::{KeyPair, PKCS_ED25519};
use rustls::pki_types::PrivatePkcs8KeyDer;

use super::error::CertError;

/// Bytes of an Ed25519 seed (the private key itself).
const SEED_LEN: usize = 32;

/// A PKCS#8 v1 Ed25519 key up to its seed (RFC 8410 §10.3):
/// `SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING {
/// OCTET STRING (32 bytes) } }`.
pub(crate) const V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The same up to the seed in ring's v2 document, which then carries the
/// public key as `[1] IMPLICIT BIT STRING` (`81 21 00` and 32 bytes).
pub(crate) const V2_PREFIX: [u8; 16] = [
    0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The public-key field that ends ring's v2 document, before the key.
pub(crate) const V2_PUBLIC_KEY_TAG: [u8; 3] = [0x81, 0x21, 0x00];

/// A new Ed25519 key pair whose serialized form (`serialize_pem`) is
/// PKCS#8 v1.
pub(crate) fn generate(what: &str) -> Result<KeyPair, CertError> {
    let generated = KeyPair::generate_for(&PKCS_ED25519)
        .map_err(CertError::generate(format!("generate a key for {what}")))?;
    let seed = seed_of_v2(generated.serialized_der()).ok_or_else(|| CertError::KeyEncoding {
        what: what.to_owned(),
        why: "ring's PKCS#8 document does not have the expected v2 layout",
    })?;
    let v1 = KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(v1_document(seed)),
        &PKCS_ED25519,
    )
    .map_err(CertError::generate(format!("re-read the key of {what}")))?;
    if v1.public_key_raw() != generated.public_key_raw() {
        return Err(CertError::KeyEncoding {
            what: what.to_owned(),
            why: "the PKCS#8 v1 form derives another public key",
        });
    }
    Ok(v1)
}

/// The PKCS#8 v1 document of an Ed25519 seed.
pub(crate) fn v1_document(seed: &[u8; SEED_LEN]) -> Vec<u8> {
    [&V1_PREFIX[..], seed].concat()
}

/// The seed in a v2 document laid out exactly as ring writes it.
fn seed_of_v2(der: &[u8]) -> Option<&[u8; SEED_LEN]> {
    let rest = der.strip_prefix(&V2_PREFIX[..])?;
    let (seed, rest) = rest.split_at_checked(SEED_LEN)?;
    let public = rest.strip_prefix(&V2_PUBLIC_KEY_TAG[..])?;
    (public.len() == SEED_LEN).then_some(())?;
    seed.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_exactly_a_v1_document_of_its_seed() {
        let key = generate("a test").expect("key");
        let der = key.serialized_der();
        assert_eq!(der.len(), V1_PREFIX.len() + SEED_LEN);
        assert!(der.starts_with(&V1_PREFIX), "{der:02x?}");
        assert!(key
            .serialize_pem()
            .starts_with("-----BEGIN PRIVATE KEY-----"));
    }

    #[test]
    fn only_rings_own_v2_layout_gives_a_seed() {
        let generated = KeyPair::generate_for(&PKCS_ED25519).expect("key");
        let der = generated.serialized_der();
        assert!(seed_of_v2(der).is_some(), "{der:02x?}");
        assert!(seed_of_v2(&der[..der.len() - 1]).is_none());
        assert!(seed_of_v2(&[der, &[0]].concat()).is_none());
        assert!(seed_of_v2(&v1_document(&[7; SEED_LEN])).is_none());
    }
}
