//! The client library: connects to a cluster with an identity, finds and
//! follows the leader, and retries only what is safe to retry.
//!
//! Every connection attempt has a short deadline and, without a known
//! leader, all endpoints are tried at once, so a dead or paused node costs
//! milliseconds. A `not_leader` answer is followed at once; `no_leader`
//! (nothing was proposed) is retried with capped exponential backoff and
//! jitter (the `backoff` crate) within a total bound, and so is
//! `no_quorum` (nothing was proposed); a write whose outcome is unknown
//! (`outcome_unknown`, a connection lost after sending, no answer) is
//! retried only when the server deduplicates it — otherwise the caller
//! decides.

mod assignment;
mod assignment_watch;
pub mod breaker;
mod calls;
pub mod cohort;
mod connection;
mod failure;
pub mod last_known_good;
pub mod session;
mod subscription;
pub mod telemetry_buffer;

pub use assignment::{AssignmentStream, AssignmentUpdate};
pub use assignment_watch::{AssignmentWatch, AssignmentWatchError, EpochGate, WatchOptions};
pub use cohort::{bucket_of, fnv1a64, CohortSplit};
pub use failure::Failure;
pub use session::{
    DegradedReason, Mode, ModeChange, ParameterSet, ParameterSource, ProposerSession, SessionError,
    SessionOptions, SessionStats, TelemetryOutcome,
};
pub use subscription::Subscription;

pub use arqonbus_core::ParamValue;
/// The wire types a proposer or agent handles (proposals, approvals,
/// events), so that embedding the client is one dependency.
pub use arqonbus_proto as proto;
pub use arqonbus_transport::{parse_resolve, TlsCredentials};

use arqonbus_proto::error::{ErrorCode, ErrorReply};
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::{Reply, Request};
use arqonbus_transport::{TransportTuning, ALPN_CLIENT};
use connection::Connections;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How a client connects.
pub struct ClientOptions {
    /// `host:port` of each node's endpoint.
    pub endpoints: Vec<String>,
    pub credentials: TlsCredentials,
    /// Deadline of one connection attempt.
    pub connect_timeout: Duration,
    /// Deadline of one request/answer exchange.
    pub request_timeout: Duration,
    /// Total time a call may spend retrying.
    pub retry_budget: Duration,
    /// A request in flight is given up (outcome unknown) when its node has
    /// sent no packet for this long; keep it above twice the keep-alive
    /// interval (300 ms).
    pub silence_timeout: Duration,
    /// Where to dial a `host:port` instead of looking it up, like curl's
    /// `--resolve`: the certificate is still checked against `host`. For a
    /// cluster whose nodes advertise names the client cannot resolve
    /// (containers: `node1:7100` published on `127.0.0.1:17101`), so that
    /// the endpoints and the leader redirects both reach the right node.
    pub resolve: BTreeMap<String, SocketAddr>,
    /// Sign state changes with the certificate key (PROTOCOL.md §5). On
    /// by default; off only against nodes that do not require signing
    /// (to measure what signing costs).
    pub sign: bool,
}

impl ClientOptions {
    pub fn new(endpoints: Vec<String>, credentials: TlsCredentials) -> Self {
        ClientOptions {
            endpoints,
            credentials,
            connect_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_secs(5),
            retry_budget: Duration::from_secs(10),
            silence_timeout: Duration::from_millis(700),
            resolve: BTreeMap::new(),
            sign: true,
        }
    }
}

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("no endpoints given")]
    NoEndpoints,
    #[error("client setup: {0}")]
    Setup(String),
    #[error("cannot reach any of {endpoints:?}: {last}")]
    Unreachable {
        endpoints: Vec<String>,
        last: String,
    },
    #[error("{endpoint}: {reason}")]
    Connection { endpoint: String, reason: String },
    #[error(
        "{endpoint}: no answer within {timeout:?} (the request may or may not have been applied)"
    )]
    Timeout { endpoint: String, timeout: Duration },
    #[error("server {endpoint} refused: {} ({})", .error.code.name(), .error.message)]
    Server { endpoint: String, error: ErrorReply },
    #[error("{endpoint}: unexpected answer: {reason}")]
    Protocol { endpoint: String, reason: String },
    /// Sent, and no answer this client can read came back: the stream
    /// ended without one, or the error code is one it does not know.
    #[error("{endpoint}: {reason} (the request may or may not have been applied)")]
    Unanswered { endpoint: String, reason: String },
}

impl ClientError {
    /// The server's error code, if the server answered with one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            ClientError::Server { error, .. } => Some(&error.code),
            _ => None,
        }
    }
}

/// Whether a request may be sent again when its outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads, and writes that carry an id the server deduplicates.
    Safe,
    /// Writes without an id: retried only when surely not applied.
    OnlyIfNotSent,
}

/// A connection to a cluster; clones share it.
#[derive(Clone)]
pub struct Client {
    options: Arc<ClientOptions>,
    conns: Arc<Connections>,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Client, ClientError> {
        if options.endpoints.is_empty() {
            return Err(ClientError::NoEndpoints);
        }
        let config = arqonbus_transport::client_config(
            &options.credentials,
            ALPN_CLIENT,
            &TransportTuning::default(),
        )
        .map_err(|e| ClientError::Setup(e.to_string()))?;
        let conns = Connections::new(
            config,
            options.connect_timeout,
            options.request_timeout,
            options.silence_timeout,
            options.resolve.clone(),
            options
                .credentials
                .message_signer()
                .filter(|_| options.sign),
        )?;
        Ok(Client {
            options: Arc::new(options),
            conns: Arc::new(conns),
        })
    }

    pub fn endpoints(&self) -> &[String] {
        &self.options.endpoints
    }

    /// Sends `request` to the leader, following redirects and retrying as
    /// `retry` allows.
    pub async fn call(&self, request: Request, retry: Retry) -> Result<Reply, ClientError> {
        let mut backoff = backoff::ExponentialBackoffBuilder::new()
            .with_initial_interval(Duration::from_millis(50))
            .with_max_interval(Duration::from_millis(1000))
            .with_max_elapsed_time(Some(self.options.retry_budget))
            .build();
        loop {
            let endpoint = self.conns.pick(&self.options.endpoints).await?;
            let outcome = self.conns.exchange(&endpoint, &request).await;
            let failure = match &outcome {
                Ok(Reply::Error(e)) => Failure::of_code(&e.code),
                Ok(_) => {
                    self.conns.set_leader(Some(endpoint.clone()));
                    return outcome;
                }
                Err(e) => Failure::of_error(e),
            };
            // A transport failure condemns the connection; an error frame
            // says this node does not lead.
            let forget = |conns: &Connections| match outcome.is_err() {
                true => conns.forget(&endpoint),
                false => conns.set_leader(None),
            };
            let mut at_least = Duration::ZERO;
            let again = match failure {
                // Honour the server's retry-after, within the budget.
                Failure::Later(after) => {
                    at_least = after;
                    true
                }
                Failure::Redirect(addr) if !self.conns.is_suspect(&addr) => {
                    self.conns.set_leader(Some(addr));
                    true
                }
                Failure::Redirect(_) | Failure::NotApplied => {
                    forget(&self.conns);
                    true
                }
                Failure::OutcomeUnknown => {
                    forget(&self.conns);
                    retry == Retry::Safe
                }
                Failure::Answered => false,
            };
            let wait = if again {
                backoff::backoff::Backoff::next_backoff(&mut backoff).map(|d| d.max(at_least))
            } else {
                None
            };
            match (wait, outcome) {
                (Some(d), _) => {
                    tracing::debug!(target: "arqonbus::client", endpoint = %endpoint, wait_ms = d.as_millis() as u64, "retrying");
                    tokio::time::sleep(d).await;
                }
                (None, Ok(Reply::Error(error))) => {
                    return Err(ClientError::Server { endpoint, error })
                }
                (None, other) => return other,
            }
        }
    }

    /// Sends `request` to one node only, with no redirect or retry. A
    /// connection that failed or timed out is dropped from the cache, so
    /// the next call dials afresh (a restarted node is reached at once
    /// instead of through the dead connection, timing out again).
    pub async fn call_node(&self, endpoint: &str, request: &Request) -> Result<Reply, ClientError> {
        let reply = self.conns.exchange(endpoint, request).await;
        if matches!(
            reply,
            Err(ClientError::Timeout { .. } | ClientError::Connection { .. })
        ) {
            self.conns.forget(endpoint);
        }
        match reply? {
            Reply::Error(error) => Err(ClientError::Server {
                endpoint: endpoint.to_string(),
                error,
            }),
            reply => Ok(reply),
        }
    }

    /// An operator request, answered by an `operated` reply.
    pub async fn operate(&self, op: OperatorRequest) -> Result<OperatorReply, ClientError> {
        let retry = match op {
            OperatorRequest::SetConstraints { .. }
            | OperatorRequest::SetParameters { .. }
            | OperatorRequest::AddNode { .. }
            | OperatorRequest::RemoveNode { .. } => Retry::OnlyIfNotSent,
            _ => Retry::Safe,
        };
        operated(self.call(Request::Operate(op), retry).await?)
    }
}

impl Client {
    /// A constraint-engine request (`workflow`), answered by `workflowed`.
    /// Reads retry anywhere; writes only if not sent (an approval sent
    /// twice is `already_approved`).
    pub async fn workflow(
        &self,
        request: arqonbus_proto::workflow::WorkflowRequest,
    ) -> Result<arqonbus_proto::workflow::WorkflowReply, ClientError> {
        use arqonbus_proto::workflow::WorkflowRequest as W;
        let retry = match request {
            W::GetConstraints { .. } | W::ListPending { .. } | W::ShowProposal { .. } => {
                Retry::Safe
            }
            _ => Retry::OnlyIfNotSent,
        };
        match self.call(Request::Workflow(request), retry).await? {
            Reply::Workflowed(r) => Ok(r),
            other => Err(ClientError::Protocol {
                endpoint: String::new(),
                reason: format!(
                    "expected a workflowed reply, got type 0x{:02x}",
                    other.msg_type()
                ),
            }),
        }
    }
}

/// Unwraps an `operated` reply.
pub fn operated(reply: Reply) -> Result<OperatorReply, ClientError> {
    match reply {
        Reply::Operated(r) => Ok(r),
        other => Err(ClientError::Protocol {
            endpoint: String::new(),
            reason: format!(
                "expected an operated reply, got type 0x{:02x}",
                other.msg_type()
            ),
        }),
    }
}
