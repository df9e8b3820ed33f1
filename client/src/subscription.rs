//! The push stream on the client side: subscribe on any node, then read
//! numbered events. To resume elsewhere (another node, after a failure),
//! subscribe again with `from_seq` = the last `seq` processed + 1; the
//! cluster numbers events identically on every node, so nothing is missed
//! or repeated. (Automatic resumption belongs to the resilient client.)

use super::{Client, ClientError};
use arqonbus_proto::message::{Subscribe, SubscribeTarget};
use arqonbus_proto::reply::{Event, StreamPosition};
use arqonbus_proto::{Reply, Request};
use arqonbus_transport::frame_io::read_frame;

/// An open push stream.
pub struct Subscription {
    endpoint: String,
    streams: Vec<StreamPosition>,
    _send: quinn::SendStream,
    recv: quinn::RecvStream,
}

impl Subscription {
    /// The node serving this stream.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The next event number of each stream when it opened.
    pub fn streams(&self) -> &[StreamPosition] {
        &self.streams
    }

    /// The next frame as a reply; `None` when the server finished.
    async fn next_reply(&mut self) -> Result<Option<Reply>, ClientError> {
        let err = |reason: String| ClientError::Connection {
            endpoint: self.endpoint.clone(),
            reason,
        };
        let Some(frame) = read_frame(&mut self.recv)
            .await
            .map_err(|e| err(e.to_string()))?
        else {
            return Ok(None);
        };
        arqonbus_proto::decode_reply(&frame)
            .map(Some)
            .map_err(|e| ClientError::Protocol {
                endpoint: self.endpoint.clone(),
                reason: e.to_string(),
            })
    }

    /// The next event; `Ok(None)` when the server ended the stream, an
    /// error (for example `resync_required`) when it ended it with one.
    pub async fn next(&mut self) -> Result<Option<Event>, ClientError> {
        match self.next_reply().await? {
            None => Ok(None),
            Some(Reply::Event(e)) => Ok(Some(e)),
            Some(Reply::Error(error)) => Err(ClientError::Server {
                endpoint: self.endpoint.clone(),
                error,
            }),
            Some(other) => Err(ClientError::Protocol {
                endpoint: self.endpoint.clone(),
                reason: format!("expected an event, got type 0x{:02x}", other.msg_type()),
            }),
        }
    }
}

impl Client {
    /// Subscribes on the first node that answers (the leader if known).
    pub async fn subscribe(
        &self,
        targets: Vec<SubscribeTarget>,
    ) -> Result<Subscription, ClientError> {
        let endpoint = self.conns.pick(&self.options.endpoints).await?;
        self.subscribe_at(&endpoint, targets).await
    }

    /// Subscribes on one given node, leader or not.
    pub async fn subscribe_at(
        &self,
        endpoint: &str,
        targets: Vec<SubscribeTarget>,
    ) -> Result<Subscription, ClientError> {
        let request = Request::Subscribe(Subscribe { targets });
        let (send, recv) = match self.conns.open(endpoint, &request).await {
            Ok(s) => s,
            Err(e) => {
                self.conns.forget(endpoint);
                return Err(e);
            }
        };
        let mut sub = Subscription {
            endpoint: endpoint.to_string(),
            streams: Vec::new(),
            _send: send,
            recv,
        };
        let first = tokio::time::timeout(self.options.request_timeout, sub.next_reply())
            .await
            .map_err(|_| ClientError::Timeout {
                endpoint: endpoint.to_string(),
                timeout: self.options.request_timeout,
            })??;
        match first {
            Some(Reply::Subscribed(s)) => {
                sub.streams = s.streams;
                Ok(sub)
            }
            Some(Reply::Error(error)) => Err(ClientError::Server {
                endpoint: endpoint.to_string(),
                error,
            }),
            Some(other) => Err(ClientError::Protocol {
                endpoint: endpoint.to_string(),
                reason: format!("expected subscribed, got type 0x{:02x}", other.msg_type()),
            }),
            None => Err(ClientError::Protocol {
                endpoint: endpoint.to_string(),
                reason: "the stream closed without an answer".into(),
            }),
        }
    }
}
