//! What a handler answers when it does not answer with data: a `Reject`
//! (an error code and a message), sent as an error frame.

use arqonbus_proto::error::{ErrorCode, ErrorReply};
use arqonbus_proto::Reply;

/// An error code and its message.
pub(super) type Reject = (ErrorCode, String);

pub(super) fn error_reply((code, message): Reject) -> Reply {
    Reply::Error(ErrorReply { code, message })
}

/// A fault of this node, not of the request: the client cannot know what
/// became of it (a command may have applied), so it must not take the
/// answer as a refusal of the request itself.
pub(super) fn internal() -> ErrorCode {
    ErrorCode::OutcomeUnknown
}
