//! A request's deadline, and what its passing tells the client: nothing
//! was proposed yet (`no_quorum`: safe to send again), or a command was
//! handed to Raft and may still be applied (`outcome_unknown`: send again
//! only what is idempotent).
//!
//! A handler says "proposed" through [`mark_proposed`] just before it
//! hands a command to the batcher or a membership change to openraft; the
//! mark lives in a task-local of the request's own task, so a background
//! task (a security event) never marks a request.

use super::reply::error_reply;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::Reply;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

tokio::task_local! {
    static PROPOSED: Arc<AtomicBool>;
}

/// Records that the current request has proposed something.
pub(super) fn mark_proposed() {
    let _ = PROPOSED.try_with(|p| p.store(true, Ordering::SeqCst));
}

/// Runs `handler` under `deadline`; past it, answers with the code that
/// says whether anything had been proposed.
pub(super) async fn within(deadline: Duration, handler: impl Future<Output = Reply>) -> Reply {
    let proposed = Arc::new(AtomicBool::new(false));
    let run = PROPOSED.scope(proposed.clone(), handler);
    match tokio::time::timeout(deadline, run).await {
        Ok(reply) => reply,
        Err(_) => error_reply(expired(proposed.load(Ordering::SeqCst), deadline)),
    }
}

/// The error a request gets when its deadline passes.
fn expired(proposed: bool, deadline: Duration) -> (ErrorCode, String) {
    if proposed {
        (
            ErrorCode::OutcomeUnknown,
            format!("no answer within {deadline:?} after proposing; the command may still apply"),
        )
    } else {
        (
            ErrorCode::NoQuorum,
            format!("no answer within {deadline:?}; nothing was proposed"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(reply: Reply) -> ErrorCode {
        match reply {
            Reply::Error(e) => e.code,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_deadline_before_proposing_is_no_quorum() {
        let reply = within(Duration::from_millis(10), std::future::pending()).await;
        assert_eq!(code(reply), ErrorCode::NoQuorum);
    }

    #[tokio::test]
    async fn a_deadline_after_proposing_is_outcome_unknown() {
        let handler = async {
            mark_proposed();
            std::future::pending::<Reply>().await
        };
        let reply = within(Duration::from_millis(10), handler).await;
        assert_eq!(code(reply), ErrorCode::OutcomeUnknown);
    }

    #[tokio::test]
    async fn another_task_does_not_mark_the_request() {
        let handler = async {
            let _ = tokio::spawn(async { mark_proposed() }).await;
            std::future::pending::<Reply>().await
        };
        let reply = within(Duration::from_millis(10), handler).await;
        assert_eq!(code(reply), ErrorCode::NoQuorum);
    }
}
