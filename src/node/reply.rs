//! What a handler answers when it does not answer with data: a `Reject`
//! (an error code and a message), sent as an error frame.

use arqonbus_proto::error::{ErrorCode, ErrorReply};
use arqonbus_proto::Reply;

/// An error code and its message.
pub(super) type Reject = (ErrorCode, String);

/// The error frame of a rejection, fitted to its own limits whatever it
/// quotes.
pub(super) fn error_reply((code, message): Reject) -> Reply {
    Reply::Error(ErrorReply::new(code, &message))
}

/// A fault of this node, not of the request.
pub(super) fn internal() -> ErrorCode {
    ErrorCode::InvalidMessage {
        field: "server".into(),
        reason: "internal error".into(),
    }
}
