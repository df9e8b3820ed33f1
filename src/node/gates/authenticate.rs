//! Gate 1, authentication: who sent the request, by the certificate TLS
//! verified, and the key its signatures must verify with. A state change
//! from a certificate whose key cannot sign (not Ed25519) is refused here
//! when signing is required.

use super::GateError;
use arqonbus_transport::Identity;

/// The sender, as the connection's certificate names it.
pub struct Authenticated<'a> {
    pub identity: &'a Identity,
    /// The certificate's Ed25519 public key, if it has one.
    pub key: Option<&'a [u8]>,
}

/// Passes the certificate's identity on; refuses a keyless sender of a
/// state change that must be signed.
pub fn authenticate<'a>(
    identity: &'a Identity,
    key: Option<&'a [u8]>,
    must_sign: bool,
) -> Result<Authenticated<'a>, GateError> {
    if must_sign && key.is_none() {
        return Err(GateError::Unsigned(
            "the certificate's key is not Ed25519, so it cannot sign state changes".into(),
        ));
    }
    Ok(Authenticated { identity, key })
}
