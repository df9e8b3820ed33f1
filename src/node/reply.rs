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

/// A fault of this node, not of the request: the client cannot know what
/// became of it (a command may have applied), so it must not take the
/// answer as a refusal of the request itself.
pub(super) fn internal() -> ErrorCode {
    ErrorCode::OutcomeUnknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_client::Failure;

    #[test]
    fn a_fault_of_the_node_is_never_read_as_a_refusal_of_the_request() {
        // The command may have applied: the client must not drop it as
        // refused, nor re-send what is not idempotent.
        assert_eq!(Failure::of_code(&internal()), Failure::OutcomeUnknown);
    }
}
