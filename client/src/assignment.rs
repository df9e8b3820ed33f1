//! The assignment push stream on the agent side (PROTOCOL.md §6.15):
//! `watch_assignment` on one node, then `assignment` frames with growing
//! epochs and, before an assignment a rollback produced, that `rollback`.
//! Also the agent's other calls: tagged telemetry and the `rollout`
//! request. This is the raw stream: it ends with its node. The watcher
//! that moves to another node and keeps the last assignment is
//! [`AssignmentWatch`](crate::AssignmentWatch).

use super::{Client, ClientError, Retry};
use arqonbus_proto::reply::{Rollback, TelemetryAck};
use arqonbus_proto::rollout::{
    Assignment, RolloutRequest, RolloutStatus, TaggedSample, TaggedTelemetry, WatchAssignment,
};
use arqonbus_proto::{Reply, Request};
use arqonbus_transport::frame_io::read_frame;

/// One frame of the assignment stream.
#[derive(Debug, Clone, PartialEq)]
pub enum AssignmentUpdate {
    /// The target's assignment as of its epoch; replaces the previous.
    Assignment(Assignment),
    /// A rollback; the assignment it produced comes next.
    Rollback(Rollback),
}

/// An open assignment stream on one node.
pub struct AssignmentStream {
    endpoint: String,
    /// The first frame, read when the stream opened.
    first: Option<AssignmentUpdate>,
    _send: quinn::SendStream,
    recv: quinn::RecvStream,
}

impl AssignmentStream {
    /// The node serving this stream.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn next_reply(&mut self) -> Result<Option<Reply>, ClientError> {
        let frame = read_frame(&mut self.recv)
            .await
            .map_err(|e| ClientError::Connection {
                endpoint: self.endpoint.clone(),
                reason: e.to_string(),
            })?;
        let Some(frame) = frame else {
            return Ok(None);
        };
        arqonbus_proto::decode_reply(&frame)
            .map(Some)
            .map_err(|e| ClientError::Protocol {
                endpoint: self.endpoint.clone(),
                reason: e.to_string(),
            })
    }

    /// The next frame; `Ok(None)` when the server finished the stream, an
    /// error when it ended it with one or the connection was lost.
    pub async fn next(&mut self) -> Result<Option<AssignmentUpdate>, ClientError> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        let reply = self.next_reply().await?;
        self.update(reply)
    }

    fn update(&self, reply: Option<Reply>) -> Result<Option<AssignmentUpdate>, ClientError> {
        match reply {
            None => Ok(None),
            Some(Reply::Assignment(a)) => Ok(Some(AssignmentUpdate::Assignment(a))),
            Some(Reply::Rollback(r)) => Ok(Some(AssignmentUpdate::Rollback(r))),
            Some(Reply::Error(error)) => Err(ClientError::Server {
                endpoint: self.endpoint.clone(),
                error,
            }),
            Some(other) => Err(ClientError::Protocol {
                endpoint: self.endpoint.clone(),
                reason: format!(
                    "expected an assignment or a rollback, got type 0x{:02x}",
                    other.msg_type()
                ),
            }),
        }
    }
}

fn unexpected(expected: &str, reply: &Reply) -> ClientError {
    ClientError::Protocol {
        endpoint: String::new(),
        reason: format!("expected {expected}, got type 0x{:02x}", reply.msg_type()),
    }
}

impl Client {
    /// Opens the assignment stream of `target` on the first node that
    /// answers (the leader if known); returns once its first frame (the
    /// current assignment, or the rollback before it) has arrived, so an
    /// unknown target is an error here.
    pub async fn watch_assignment(&self, target: &str) -> Result<AssignmentStream, ClientError> {
        let endpoint = self.conns.pick(&self.options.endpoints).await?;
        self.watch_assignment_at(&endpoint, target).await
    }

    /// Opens the assignment stream of `target` on one given node.
    pub async fn watch_assignment_at(
        &self,
        endpoint: &str,
        target: &str,
    ) -> Result<AssignmentStream, ClientError> {
        let request = Request::WatchAssignment(WatchAssignment {
            target_system: target.to_string(),
        });
        let (mut send, recv) = match self.conns.open(endpoint, &request).await {
            Ok(s) => s,
            Err(e) => {
                self.conns.forget(endpoint);
                return Err(e);
            }
        };
        // Nothing more is sent (§6.15 lets the client finish). Nodes of
        // this release also wait for the end of a watch_assignment frame's
        // stream before serving it, unlike subscribe's.
        let _ = send.finish();
        let mut stream = AssignmentStream {
            endpoint: endpoint.to_string(),
            first: None,
            _send: send,
            recv,
        };
        let first = tokio::time::timeout(self.options.request_timeout, stream.next_reply())
            .await
            .map_err(|_| ClientError::Timeout {
                endpoint: endpoint.to_string(),
                timeout: self.options.request_timeout,
            })?;
        let first = match first {
            Ok(f) => f,
            Err(e) => {
                self.conns.forget(endpoint);
                return Err(e);
            }
        };
        match stream.update(first)? {
            Some(update) => {
                stream.first = Some(update);
                Ok(stream)
            }
            None => Err(ClientError::Protocol {
                endpoint: endpoint.to_string(),
                reason: "the stream closed without an assignment".into(),
            }),
        }
    }

    /// Sends samples tagged with their assignment epoch (at most 1024) to
    /// the leader. Not retried once sent: a lost ack would count the
    /// samples twice. A sample of another epoch than the target's current
    /// one counts in `rejected`.
    pub async fn send_tagged(
        &self,
        samples: Vec<TaggedSample>,
    ) -> Result<TelemetryAck, ClientError> {
        let request = Request::TaggedTelemetry(TaggedTelemetry { samples });
        match self.call(request, Retry::OnlyIfNotSent).await? {
            Reply::TelemetryAck(a) => Ok(a),
            other => Err(unexpected("a telemetry_ack", &other)),
        }
    }

    /// A `rollout` request: the status (a read, retried anywhere), or a
    /// pause, resume or promote (retried only when surely not sent: a
    /// promote sent twice would skip a phase). A target without a rollout
    /// in progress is the server's `no_rollout`.
    pub async fn rollout(&self, request: RolloutRequest) -> Result<RolloutStatus, ClientError> {
        let retry = match request {
            RolloutRequest::Status { .. } => Retry::Safe,
            _ => Retry::OnlyIfNotSent,
        };
        match self.call(Request::Rollout(request), retry).await? {
            Reply::RolloutStatus(s) => Ok(s),
            other => Err(unexpected("a rollout_status", &other)),
        }
    }

    /// Drops `endpoint`'s connection after a failure (the next pick dials
    /// afresh and does not come back to it at once).
    pub(crate) fn forget(&self, endpoint: &str) {
        self.conns.forget(endpoint);
    }
}
