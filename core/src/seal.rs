//! The signature a client's state change carries into the log and the
//! audit chain: the signer's Ed25519 key, the signature, and the exact
//! bytes signed (PROTOCOL.md §5). `apply` verifies it again, whichever
//! node proposed the command, and the audit entry keeps it, so anyone can
//! re-check it offline. Verification is ring's; nothing is hand-made.

use crate::sessions::Origin;
use ring::signature::{UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};

/// The context every signed byte string starts with (PROTOCOL.md §5).
pub const SIGNING_CONTEXT: &[u8] = b"arqonbus-signature-v2\0";
/// Bytes of an Ed25519 public key.
pub const KEY_LEN: usize = 32;
/// Bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// A signed request, as the log and the audit chain keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    /// The signer's Ed25519 public key: the key of the certificate the
    /// serving node saw.
    #[serde(with = "hex_bytes")]
    pub key: Vec<u8>,
    /// The Ed25519 signature.
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
    /// The bytes signed: the context, the frame version and type, the
    /// envelope's session, seq and sent_at, the request's body.
    #[serde(with = "hex_bytes")]
    pub signed: Vec<u8>,
}

/// Why a seal does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the signature does not verify with the signer's key")]
    BadSignature,
    #[error("the signed bytes are not a signed request: {0}")]
    Malformed(&'static str),
    #[error("the signed bytes name another session, seq or sent_at than the command")]
    OtherOrigin,
}

impl Seal {
    /// Checks the signature of the signed bytes with the key.
    pub fn verify(&self) -> Result<(), SealError> {
        if self.key.len() != KEY_LEN || self.signature.len() != SIGNATURE_LEN {
            return Err(SealError::BadSignature);
        }
        UnparsedPublicKey::new(&ED25519, &self.key)
            .verify(&self.signed, &self.signature)
            .map_err(|_| SealError::BadSignature)
    }

    /// The session, seq and sent_at the signed bytes name.
    pub fn origin(&self) -> Result<Origin, SealError> {
        let rest = self
            .signed
            .strip_prefix(SIGNING_CONTEXT)
            .ok_or(SealError::Malformed("no signing context"))?;
        let head = rest
            .get(2..)
            .ok_or(SealError::Malformed("no version and type"))?;
        let ((session, seq, sent_at_ms), _): ((u64, u64, i64), usize) =
            bincode::serde::decode_from_slice(head, bincode::config::standard())
                .map_err(|_| SealError::Malformed("no session, seq and sent_at"))?;
        Ok(Origin {
            session,
            seq,
            sent_at_ms,
        })
    }

    /// Verifies the seal and that it signs the request numbered `origin`.
    pub fn check(&self, origin: Option<&Origin>) -> Result<(), SealError> {
        self.verify()?;
        match origin {
            Some(o) if *o == self.origin()? => Ok(()),
            _ => Err(SealError::OtherOrigin),
        }
    }
}

/// Byte strings travel as lowercase hex in JSON (the audit archive) and
/// as bytes in bincode.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(b))
        } else {
            s.serialize_bytes(b)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            hex::decode(text).map_err(serde::de::Error::custom)
        } else {
            // As one byte string, not a sequence of u8 (a decoder that
            // bounds sequences by their element count must not see one).
            d.deserialize_byte_buf(ByteBuf)
        }
    }

    struct ByteBuf;

    impl<'de> serde::de::Visitor<'de> for ByteBuf {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a byte string")
        }

        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
    }
}

#[cfg(test)]
mod tests;
