//! Gate 3, authorization: the sender's role must allow the request, by
//! the one permission table (`core::role`).

use super::GateError;
use arqonbus_proto::limits::clip;
use arqonbus_proto::{convert, Request};
use arqonbus_transport::Identity;

/// Refuses what `identity`'s role may not do.
pub fn authorize(identity: &Identity, request: &Request) -> Result<(), GateError> {
    if identity.role.may(convert::permission(request)) {
        return Ok(());
    }
    Err(GateError::Forbidden(format!(
        "{} (role {}) may not {}",
        clip(&identity.name, 64),
        identity.role,
        convert::action(request)
    )))
}
