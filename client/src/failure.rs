//! What a failed call says: whether the request may have reached the
//! replicated state, and whether the cluster is out of reach. The one
//! classification both the client's retry loop and the session's breaker
//! and degraded mode use.

use crate::ClientError;
use arqonbus_proto::error::ErrorCode;

/// The meaning of a failure, for retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The request never reached the replicated state: safe to send again.
    NotApplied,
    /// A follower named the leader: send it there.
    Redirect(String),
    /// The request may or may not have been applied: only what the server
    /// deduplicates may be sent again.
    OutcomeUnknown,
    /// Over a rate limit (`rate_limited`): not applied; send again no
    /// sooner than this.
    Later(std::time::Duration),
    /// The cluster answered, and the answer stands (refused, invalid, ...).
    Answered,
}

impl Failure {
    /// The meaning of an error frame.
    pub fn of_code(code: &ErrorCode) -> Failure {
        match code {
            ErrorCode::NotLeader {
                leader_addr: Some(addr),
                ..
            } => Failure::Redirect(addr.clone()),
            ErrorCode::NotLeader { .. } | ErrorCode::NoLeader | ErrorCode::NoQuorum => {
                Failure::NotApplied
            }
            ErrorCode::OutcomeUnknown => Failure::OutcomeUnknown,
            ErrorCode::RateLimited { retry_after_ms } => {
                Failure::Later(std::time::Duration::from_millis(*retry_after_ms))
            }
            _ => Failure::Answered,
        }
    }

    /// The meaning of a failed call.
    pub fn of_error(e: &ClientError) -> Failure {
        match e {
            ClientError::Server { error, .. } => Failure::of_code(&error.code),
            // Failed before the request went out.
            ClientError::Connection { .. } | ClientError::Unreachable { .. } => Failure::NotApplied,
            ClientError::Timeout { .. } | ClientError::Unanswered { .. } => Failure::OutcomeUnknown,
            ClientError::NoEndpoints | ClientError::Setup(_) | ClientError::Protocol { .. } => {
                Failure::Answered
            }
        }
    }

    /// Whether the cluster (a leader) is out of reach, as opposed to an
    /// answer the leader gave.
    pub fn is_unreachable(&self) -> bool {
        !matches!(self, Failure::Answered | Failure::Later(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_proto::error::ErrorReply;
    use std::time::Duration;

    fn server(code: ErrorCode) -> ClientError {
        ClientError::Server {
            endpoint: "n1".into(),
            error: ErrorReply {
                code,
                message: String::new(),
            },
        }
    }

    #[test]
    fn each_failure_says_whether_the_request_may_have_applied() {
        let cases = [
            (server(ErrorCode::NoLeader), Failure::NotApplied),
            (
                server(ErrorCode::NotLeader {
                    leader_id: Some(2),
                    leader_addr: Some("n2:7100".into()),
                }),
                Failure::Redirect("n2:7100".into()),
            ),
            (
                server(ErrorCode::NotLeader {
                    leader_id: None,
                    leader_addr: None,
                }),
                Failure::NotApplied,
            ),
            (server(ErrorCode::NoQuorum), Failure::NotApplied),
            (server(ErrorCode::OutcomeUnknown), Failure::OutcomeUnknown),
            (
                ClientError::Unanswered {
                    endpoint: "n1".into(),
                    reason: "the stream closed without an answer".into(),
                },
                Failure::OutcomeUnknown,
            ),
            (server(ErrorCode::Forbidden), Failure::Answered),
            (
                server(ErrorCode::RateLimited {
                    retry_after_ms: 250,
                }),
                Failure::Later(std::time::Duration::from_millis(250)),
            ),
            (
                ClientError::Connection {
                    endpoint: "n1".into(),
                    reason: "refused".into(),
                },
                Failure::NotApplied,
            ),
            (
                ClientError::Timeout {
                    endpoint: "n1".into(),
                    timeout: Duration::from_secs(1),
                },
                Failure::OutcomeUnknown,
            ),
            (ClientError::NoEndpoints, Failure::Answered),
        ];
        for (error, meaning) in cases {
            assert_eq!(Failure::of_error(&error), meaning, "{error}");
            assert_eq!(
                Failure::of_error(&error).is_unreachable(),
                !matches!(meaning, Failure::Answered | Failure::Later(_))
            );
        }
    }
}
