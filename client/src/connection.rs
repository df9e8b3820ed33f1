//! Connections to cluster nodes: cached per endpoint, opened with a short
//! deadline, one request per bidirectional stream.

use super::ClientError;
use arqonbus_proto::envelope::{Envelope, SigScheme, Signature, UnixMillis};
use arqonbus_proto::frame::PREFIX_LEN;
use arqonbus_proto::{convert, CodecError};
use arqonbus_proto::{msg_type, Message, Reply, Request};
use arqonbus_transport::frame_io::read_frame;
use arqonbus_transport::MessageSigner;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

pub(super) struct Connections {
    endpoint: quinn::Endpoint,
    config: quinn::ClientConfig,
    connect_timeout: Duration,
    request_timeout: Duration,
    silence_timeout: Duration,
    resolve: Arc<BTreeMap<String, SocketAddr>>,
    open: Mutex<BTreeMap<String, quinn::Connection>>,
    leader: Mutex<Option<String>>,
    /// Endpoints that failed recently, and when: a redirect to one of them
    /// (a follower that has not yet noticed its leader died) is not followed.
    suspects: Mutex<BTreeMap<String, Instant>>,
    /// This process's session (PROTOCOL.md §5): random, so processes
    /// sharing an identity never collide; `seq` counts up from 1 within it.
    session: u64,
    seq: AtomicU64,
    /// Signs state changes with the certificate key (none: the key is
    /// not Ed25519, and unsigned state changes are refused where
    /// signing is required).
    signer: Option<Arc<MessageSigner>>,
}

/// How long a failed endpoint is not trusted as a redirect target.
const SUSPECT_FOR: Duration = Duration::from_secs(1);

impl Connections {
    pub(super) fn new(
        config: quinn::ClientConfig,
        connect_timeout: Duration,
        request_timeout: Duration,
        silence_timeout: Duration,
        resolve: BTreeMap<String, SocketAddr>,
        signer: Option<MessageSigner>,
    ) -> Result<Self, ClientError> {
        let bind = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        let endpoint =
            quinn::Endpoint::client(bind).map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(Connections {
            endpoint,
            config,
            connect_timeout,
            request_timeout,
            silence_timeout,
            resolve: Arc::new(resolve),
            open: Mutex::default(),
            leader: Mutex::default(),
            suspects: Mutex::default(),
            session: Envelope::random_session(),
            seq: AtomicU64::new(1),
            signer: signer.map(Arc::new),
        })
    }

    pub(super) fn set_leader(&self, leader: Option<String>) {
        if let Ok(mut l) = self.leader.lock() {
            *l = leader;
        }
    }

    /// Drops `endpoint`'s connection after a failure and suspects it.
    pub(super) fn forget(&self, endpoint: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(endpoint);
        }
        if let Ok(mut s) = self.suspects.lock() {
            s.insert(endpoint.to_string(), Instant::now());
        }
        if let Ok(mut l) = self.leader.lock() {
            if l.as_deref() == Some(endpoint) {
                *l = None;
            }
        }
    }

    /// Whether `endpoint` failed within the last [`SUSPECT_FOR`].
    pub(super) fn is_suspect(&self, endpoint: &str) -> bool {
        self.suspects
            .lock()
            .ok()
            .and_then(|s| s.get(endpoint).map(|at| at.elapsed() < SUSPECT_FOR))
            .unwrap_or(false)
    }

    fn cached(&self, endpoint: &str) -> Option<quinn::Connection> {
        let open = self.open.lock().ok()?;
        open.get(endpoint)
            .filter(|c| c.close_reason().is_none())
            .cloned()
    }

    /// The leader if known, else the first endpoint that accepts a
    /// connection, all tried at once. A cached connection is not taken as
    /// a sign of life: a killed node's connection looks open until a
    /// request on it times out, so after a failover every endpoint is
    /// dialled and the first to answer wins.
    pub(super) async fn pick(&self, endpoints: &[String]) -> Result<String, ClientError> {
        let leader = self.leader.lock().ok().and_then(|l| l.clone());
        if let Some(leader) = leader {
            return Ok(leader);
        }
        let mut attempts = JoinSet::new();
        for e in endpoints {
            let (endpoint, config, deadline, resolve) = (
                self.endpoint.clone(),
                self.config.clone(),
                self.connect_timeout,
                self.resolve.clone(),
            );
            let e = e.clone();
            attempts.spawn(async move {
                let conn = dial(&endpoint, config, &e, &resolve, deadline).await;
                (e, conn)
            });
        }
        let mut last = String::from("no attempt finished");
        while let Some(done) = attempts.join_next().await {
            match done {
                Ok((e, Ok(conn))) => {
                    if let Ok(mut open) = self.open.lock() {
                        open.insert(e.clone(), conn);
                    }
                    if let Ok(mut s) = self.suspects.lock() {
                        s.remove(&e);
                    }
                    return Ok(e);
                }
                Ok((_, Err(err))) => last = err.to_string(),
                Err(join) => last = join.to_string(),
            }
        }
        Err(ClientError::Unreachable {
            endpoints: endpoints.to_vec(),
            last,
        })
    }

    async fn connection(&self, endpoint: &str) -> Result<quinn::Connection, ClientError> {
        if let Some(conn) = self.cached(endpoint) {
            return Ok(conn);
        }
        let conn = dial(
            &self.endpoint,
            self.config.clone(),
            endpoint,
            &self.resolve,
            self.connect_timeout,
        )
        .await?;
        if let Ok(mut open) = self.open.lock() {
            open.insert(endpoint.to_string(), conn.clone());
        }
        if let Ok(mut s) = self.suspects.lock() {
            s.remove(endpoint);
        }
        Ok(conn)
    }

    /// Opens a fresh stream on `endpoint`'s connection and sends `request`
    /// in a new envelope.
    pub(super) async fn open(
        &self,
        endpoint: &str,
        request: &Request,
    ) -> Result<(quinn::SendStream, quinn::RecvStream), ClientError> {
        let conn = self.connection(endpoint).await?;
        let envelope = self.envelope(request).map_err(|e| ClientError::Protocol {
            endpoint: endpoint.to_string(),
            reason: e.to_string(),
        })?;
        let frame =
            arqonbus_proto::encode(&Message::Request(envelope, request.clone())).map_err(|e| {
                ClientError::Protocol {
                    endpoint: endpoint.to_string(),
                    reason: e.to_string(),
                }
            })?;
        let lost = |reason: String| ClientError::Connection {
            endpoint: endpoint.to_string(),
            reason,
        };
        let (mut send, recv) = conn.open_bi().await.map_err(|e| lost(e.to_string()))?;
        send.write_all(&frame)
            .await
            .map_err(|e| lost(e.to_string()))?;
        Ok((send, recv))
    }

    /// A new envelope for `request`: the next number of this session, the
    /// clock, and a signature when it changes state.
    fn envelope(&self, request: &Request) -> Result<Envelope, CodecError> {
        let mut envelope = Envelope {
            session: self.session,
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            sent_at: UnixMillis::now(),
            signature: None,
        };
        if let Some(signer) = self
            .signer
            .as_ref()
            .filter(|_| convert::changes_state(request))
        {
            let bytes = signer.sign(&request.signed_bytes(&envelope)?);
            envelope.signature = Some(Signature {
                scheme: SigScheme::Ed25519,
                bytes,
            });
        }
        Ok(envelope)
    }

    /// One request and its reply, on a fresh stream of `endpoint`'s connection.
    pub(super) async fn exchange(
        &self,
        endpoint: &str,
        request: &Request,
    ) -> Result<Reply, ClientError> {
        let timeout = timeout_for(request, self.request_timeout);
        let (mut send, mut recv) = self.open(endpoint, request).await?;
        let _ = send.finish();
        let conn = self.cached(endpoint);
        let answer = tokio::select! {
            a = tokio::time::timeout(timeout, read_frame(&mut recv)) => a,
            () = peer_silent(conn.clone(), self.silence_timeout) => {
                // A killed or paused node sends nothing, not even a close:
                // give up on it now instead of at the idle timeout.
                if let Some(conn) = &conn {
                    conn.close(0u32.into(), b"peer silent");
                }
                self.forget(endpoint);
                return Err(ClientError::Timeout {
                    endpoint: format!("{endpoint} (silent for {:?})", self.silence_timeout),
                    timeout: self.silence_timeout,
                });
            }
        };
        match answer {
            Err(_) => Err(ClientError::Timeout {
                endpoint: endpoint.to_string(),
                timeout,
            }),
            // Sent, then lost: the outcome is unknown, like a timeout.
            Ok(Err(e)) => Err(ClientError::Timeout {
                endpoint: format!("{endpoint} ({e})"),
                timeout,
            }),
            Ok(Ok(None)) => Err(ClientError::Unanswered {
                endpoint: endpoint.to_string(),
                reason: "the stream closed without an answer".into(),
            }),
            Ok(Ok(Some(frame))) => reply_of(endpoint, &frame),
        }
    }
}

/// The reply a frame carries, or what its failing to decode means.
fn reply_of(endpoint: &str, frame: &[u8]) -> Result<Reply, ClientError> {
    let protocol = |reason: String| ClientError::Protocol {
        endpoint: endpoint.to_string(),
        reason,
    };
    match arqonbus_proto::decode_reply(frame) {
        Ok(reply) => Ok(reply),
        // An error code this release does not know (PROTOCOL.md §7.1):
        // whatever it says, the outcome is unknown here.
        Err(e) if frame.get(PREFIX_LEN + 2) == Some(&msg_type::ERROR) => {
            Err(ClientError::Unanswered {
                endpoint: endpoint.to_string(),
                reason: format!("an error this client cannot read: {e}"),
            })
        }
        Err(e) => Err(protocol(e.to_string())),
    }
}

/// Membership changes wait for learners to catch up on the server (up to a
/// minute); everything else gets the configured timeout.
fn timeout_for(request: &Request, normal: Duration) -> Duration {
    use arqonbus_proto::operator::OperatorRequest as Op;
    match request {
        Request::Operate(Op::ClusterInit { .. } | Op::AddNode { .. } | Op::RemoveNode { .. }) => {
            Duration::from_secs(65)
        }
        _ => normal,
    }
}

/// Returns once `conn` has received no datagram for `silence`. A live
/// node answers our keep-alives (every 300 ms) at once, so silence means it
/// is dead, paused or cut off; never returns without a connection.
async fn peer_silent(conn: Option<quinn::Connection>, silence: Duration) {
    let Some(conn) = conn else {
        return std::future::pending().await;
    };
    let tick = (silence / 4).max(Duration::from_millis(10));
    let mut seen = conn.stats().udp_rx.datagrams;
    let mut quiet_since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(tick).await;
        let now = conn.stats().udp_rx.datagrams;
        if now != seen {
            seen = now;
            quiet_since = tokio::time::Instant::now();
        } else if quiet_since.elapsed() >= silence {
            return;
        }
    }
}

/// Opens a connection with a deadline and checks the server is a node.
async fn dial(
    endpoint: &quinn::Endpoint,
    config: quinn::ClientConfig,
    addr: &str,
    overrides: &BTreeMap<String, SocketAddr>,
    deadline: Duration,
) -> Result<quinn::Connection, ClientError> {
    let err = |reason: String| ClientError::Connection {
        endpoint: addr.to_string(),
        reason,
    };
    let (host, sock) = arqonbus_transport::locate(addr, overrides)
        .await
        .map_err(err)?;
    let connecting = endpoint
        .connect_with(config, sock, &host)
        .map_err(|e| err(e.to_string()))?;
    let conn = tokio::time::timeout(deadline, connecting)
        .await
        .map_err(|_| err(format!("no connection within {deadline:?}")))?
        .map_err(|e| err(e.to_string()))?;
    arqonbus_transport::authorize_server(&conn).map_err(|e| err(e.to_string()))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_proto::error::{ErrorCode, ErrorReply};

    #[test]
    fn an_error_code_this_client_does_not_know_is_an_unknown_outcome() {
        let known = Reply::Error(ErrorReply {
            code: ErrorCode::OutcomeUnknown,
            message: "m".into(),
        });
        let mut frame = arqonbus_proto::encode(&Message::Reply(known.clone())).expect("encodes");
        assert_eq!(reply_of("n1", &frame).expect("decodes"), known);
        // The code is the first body byte: make it one from a later release.
        frame[PREFIX_LEN + 3] = 60;
        assert!(matches!(
            reply_of("n1", &frame),
            Err(ClientError::Unanswered { .. })
        ));
    }
}
