//! Gate 5, the signature: a signature that is present is verified with
//! the sender's certificate key over the canonical bytes (PROTOCOL.md
//! §5); a state change without one is refused where signing is required.
//! Last of the gates: it is the costly one (an Ed25519 verification).

use super::GateError;
use arqonbus_proto::{Envelope, Request};
use arqonbus_transport::verify_signature;

/// Verifies the envelope's signature of `request`, if any; requires one
/// when `must_sign`.
pub fn check_signature(
    key: Option<&[u8]>,
    envelope: &Envelope,
    request: &Request,
    must_sign: bool,
) -> Result<(), GateError> {
    let Some(signature) = &envelope.signature else {
        return match must_sign {
            true => Err(GateError::Unsigned("state changes must be signed".into())),
            false => Ok(()),
        };
    };
    let key = key.ok_or(GateError::BadSignature)?;
    let bytes = request
        .signed_bytes(envelope)
        .map_err(|_| GateError::BadSignature)?;
    verify_signature(key, &bytes, &signature.bytes).map_err(|_| GateError::BadSignature)
}
