//! What a client answer means for the history: `ok`, `fail` (definitely not
//! applied) or `info` (unknown). The rules follow the node
//! (`src/node/operate.rs`) and the client (`src/client/mod.rs`):
//!
//! - A reply of the replicated state — `ParametersSet`, or `Refused` (a
//!   compare-and-set mismatch, or any other refusal in `apply`) — is known.
//! - `not_leader`, `no_leader`, `no_quorum` and `forbidden` are answered
//!   before anything is proposed; a connection that could not be opened, or
//!   a request that could not be written, never reached a node. All are
//!   `fail`.
//! - Everything else — a timeout, a connection lost after sending,
//!   `outcome_unknown` (the node's deadline passed after proposing), no
//!   answer, an answer we do not understand — is `info`. A write is never
//!   `fail` on a guess.
//!
//! A proposal is sent with `Retry::Safe`: the client may have sent it more
//! than once before the error it returns, and the last error says nothing
//! about an earlier send that timed out. So only an `approval` (`ok`) and a
//! refusal that any send of it would get — `forbidden`, `conflict`,
//! `invalid_message`, `stale_timestamp`, `too_large`, `unauthenticated`,
//! `unsupported_version`, or a client that never sent anything — are
//! known; everything else, `not_leader` and unreachable nodes included, is
//! `info`, and the workload re-sends the same id.

use crate::recorder::Kind;
use arqonbus_client::ClientError;
use arqonbus_core::value::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::OperatorReply;
use arqonbus_proto::reply::Approval;
use serde_json::{json, Value};

/// A completion to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub kind: Kind,
    /// For a read, the value read (`null`: never written, i.e. 0).
    pub value: Value,
    pub error: Option<String>,
}

fn done(kind: Kind, value: Value, error: Option<String>) -> Classified {
    Classified { kind, value, error }
}

/// Whether an error says the request was definitely not applied.
pub fn definitely_not_applied(e: &ClientError) -> bool {
    match e {
        ClientError::NoEndpoints
        | ClientError::Setup(_)
        | ClientError::Unreachable { .. }
        | ClientError::Connection { .. } => true,
        ClientError::Server { error, .. } => matches!(
            error.code,
            ErrorCode::NotLeader { .. }
                | ErrorCode::NoLeader
                | ErrorCode::NoQuorum
                | ErrorCode::Forbidden
        ),
        ClientError::Timeout { .. }
        | ClientError::Protocol { .. }
        | ClientError::Unanswered { .. } => false,
    }
}

/// A write or compare-and-set's outcome.
pub fn classify_write(reply: Result<OperatorReply, ClientError>) -> Classified {
    match reply {
        Ok(OperatorReply::ParametersSet { .. }) => done(Kind::Ok, Value::Null, None),
        Ok(OperatorReply::Refused { reason, .. }) => done(Kind::Fail, Value::Null, Some(reason)),
        Ok(other) => done(
            Kind::Info,
            Value::Null,
            Some(format!("unexpected answer {other:?}")),
        ),
        Err(e) if definitely_not_applied(&e) => done(Kind::Fail, Value::Null, Some(e.to_string())),
        Err(e) => done(Kind::Info, Value::Null, Some(e.to_string())),
    }
}

/// A read of parameter `param`: its value, 0 shown as `null`.
pub fn classify_read(reply: Result<OperatorReply, ClientError>, param: &str) -> Classified {
    match reply {
        Ok(OperatorReply::Parameters { live, .. }) => match live.get(param) {
            Some(ParamValue::Int(0)) => done(Kind::Ok, Value::Null, None),
            Some(ParamValue::Int(v)) => done(Kind::Ok, json!(v), None),
            other => done(
                Kind::Fail,
                Value::Null,
                Some(format!("parameter {param} is {other:?}, not an int")),
            ),
        },
        Ok(OperatorReply::Refused { reason, .. }) => done(Kind::Fail, Value::Null, Some(reason)),
        Ok(other) => done(
            Kind::Fail,
            Value::Null,
            Some(format!("unexpected answer {other:?}")),
        ),
        Err(e) if definitely_not_applied(&e) => done(Kind::Fail, Value::Null, Some(e.to_string())),
        // A read changes nothing; `info` keeps the process rule simple.
        Err(e) => done(Kind::Info, Value::Null, Some(e.to_string())),
    }
}

/// A proposal's outcome: the kind and, unless `ok`, the error.
pub fn classify_propose(reply: &Result<Approval, ClientError>) -> (Kind, Option<String>) {
    let known_refusal = |e: &ClientError| match e {
        ClientError::NoEndpoints | ClientError::Setup(_) => true,
        ClientError::Server { error, .. } => matches!(
            error.code,
            ErrorCode::Forbidden
                | ErrorCode::Conflict { .. }
                | ErrorCode::InvalidMessage { .. }
                | ErrorCode::StaleTimestamp { .. }
                | ErrorCode::TooLarge { .. }
                | ErrorCode::Unauthenticated
                | ErrorCode::UnsupportedVersion { .. }
        ),
        _ => false,
    };
    match reply {
        Ok(_) => (Kind::Ok, None),
        Err(e) if known_refusal(e) => (Kind::Fail, Some(e.to_string())),
        Err(e) => (Kind::Info, Some(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_proto::error::ErrorReply;
    use std::collections::BTreeMap;
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
    fn an_unknown_outcome_is_never_fail() {
        let timeout = ClientError::Timeout {
            endpoint: "n1".into(),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(classify_write(Err(timeout)).kind, Kind::Info);
        assert_eq!(
            classify_write(Err(server(ErrorCode::OutcomeUnknown))).kind,
            Kind::Info
        );
        let lost = ClientError::Unanswered {
            endpoint: "n1".into(),
            reason: "the stream closed without an answer".into(),
        };
        assert_eq!(classify_write(Err(lost)).kind, Kind::Info);
        let garbled = ClientError::Protocol {
            endpoint: "n1".into(),
            reason: "body does not decode".into(),
        };
        assert_eq!(classify_write(Err(garbled)).kind, Kind::Info);
    }

    #[test]
    fn answers_before_proposing_are_fail() {
        let not_leader = server(ErrorCode::NotLeader {
            leader_id: Some(2),
            leader_addr: None,
        });
        assert_eq!(classify_write(Err(not_leader)).kind, Kind::Fail);
        assert_eq!(
            classify_write(Err(server(ErrorCode::NoLeader))).kind,
            Kind::Fail
        );
        assert_eq!(
            classify_write(Err(server(ErrorCode::NoQuorum))).kind,
            Kind::Fail,
            "no_quorum: nothing was proposed"
        );
        let refused = OperatorReply::Refused {
            reason: "expected".into(),
            violations: Vec::new(),
        };
        assert_eq!(classify_write(Ok(refused)).kind, Kind::Fail);
    }

    #[test]
    fn a_proposal_is_fail_only_when_no_send_could_apply() {
        let kind = |e: ClientError| classify_propose(&Err(e)).0;
        assert_eq!(kind(server(ErrorCode::OutcomeUnknown)), Kind::Info);
        assert_eq!(kind(server(ErrorCode::NoQuorum)), Kind::Info);
        // A retried call's last error hides an earlier send that timed out.
        assert_eq!(kind(server(ErrorCode::NoLeader)), Kind::Info);
        let unreachable = ClientError::Unreachable {
            endpoints: vec!["n1".into()],
            last: "refused".into(),
        };
        assert_eq!(kind(unreachable), Kind::Info);
        let conflict = server(ErrorCode::Conflict {
            proposal_id: "p-1".into(),
        });
        assert_eq!(kind(conflict), Kind::Fail);
        assert_eq!(kind(server(ErrorCode::Forbidden)), Kind::Fail);
    }

    #[test]
    fn a_read_of_zero_is_null() {
        let reply = |v| {
            Ok(OperatorReply::Parameters {
                target_system: "t".into(),
                live: BTreeMap::from([("k1".to_string(), ParamValue::Int(v))]),
                last_known_good: BTreeMap::new(),
            })
        };
        assert_eq!(classify_read(reply(0), "k1").value, Value::Null);
        assert_eq!(classify_read(reply(7), "k1").value, json!(7));
        assert_eq!(classify_read(reply(7), "k2").kind, Kind::Fail);
    }
}
