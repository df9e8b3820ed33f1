//! A raw QUIC client on either ALPN, for hostile tests and the flood
//! bench: it sends whatever bytes it is given, whole, in pieces or not at
//! all, and reads what the server answers, each step with a deadline.

use arqonbus_proto::{Message, Reply};
use arqonbus_transport::frame_io::read_frame;
use arqonbus_transport::{TlsCredentials, TransportTuning};
use std::path::Path;
use std::time::Duration;

/// How long a connection attempt may take.
const CONNECT_DEADLINE: Duration = Duration::from_secs(5);
/// How long an answer may take by default (a server's frame deadline is
/// 10 s; a little more).
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(15);

/// What went wrong on a raw connection.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("raw client: {0}")]
    Setup(String),
    #[error("raw client: connecting: {0}")]
    Connect(String),
    #[error("raw client: stream: {0}")]
    Stream(String),
    #[error("raw client: no answer within {0:?}")]
    Timeout(Duration),
    #[error("raw client: the stream ended without an answer")]
    NoAnswer,
    #[error("raw client: the answer does not decode: {0}")]
    Decode(String),
}

/// One QUIC connection with `user`'s certificate.
pub struct RawClient {
    _endpoint: quinn::Endpoint,
    pub conn: quinn::Connection,
}

impl RawClient {
    /// Connects to `addr` on the client ALPN.
    pub async fn connect(certs: &Path, user: &str, addr: &str) -> Result<Self, RawError> {
        Self::connect_alpn(certs, user, addr, arqonbus_proto::ALPN_CLIENT).await
    }

    /// Connects to `addr` speaking `alpn` (the peer ALPN needs a node's
    /// certificate).
    pub async fn connect_alpn(
        certs: &Path,
        user: &str,
        addr: &str,
        alpn: &[u8],
    ) -> Result<Self, RawError> {
        let setup = |e: &dyn std::fmt::Display| RawError::Setup(e.to_string());
        let creds = TlsCredentials::from_dir(certs, user).map_err(|e| setup(&e))?;
        let config = arqonbus_transport::client_config(&creds, alpn, &TransportTuning::default())
            .map_err(|e| setup(&e))?;
        let endpoint =
            quinn::Endpoint::client(([127, 0, 0, 1], 0).into()).map_err(|e| setup(&e))?;
        let (host, sock) = arqonbus_transport::resolve(addr)
            .await
            .map_err(RawError::Connect)?;
        let connecting = endpoint
            .connect_with(config, sock, &host)
            .map_err(|e| RawError::Connect(e.to_string()))?;
        let conn = tokio::time::timeout(CONNECT_DEADLINE, connecting)
            .await
            .map_err(|_| RawError::Timeout(CONNECT_DEADLINE))?
            .map_err(|e| RawError::Connect(e.to_string()))?;
        Ok(RawClient {
            _endpoint: endpoint,
            conn,
        })
    }

    /// Writes `bytes` on a new stream, finishes, and decodes the answer.
    pub async fn exchange(&self, bytes: &[u8]) -> Result<Reply, RawError> {
        let (mut send, mut recv) = self.open().await?;
        // The server may stop reading early (too large, forbidden): fine.
        let _ = send.write_all(bytes).await;
        let _ = send.finish();
        answer(&mut recv, ANSWER_DEADLINE).await
    }

    /// Opens a bidirectional stream.
    pub async fn open(&self) -> Result<(quinn::SendStream, quinn::RecvStream), RawError> {
        self.conn
            .open_bi()
            .await
            .map_err(|e| RawError::Stream(e.to_string()))
    }
}

/// Reads and decodes one reply frame within `within`.
pub async fn answer(recv: &mut quinn::RecvStream, within: Duration) -> Result<Reply, RawError> {
    let frame = tokio::time::timeout(within, read_frame(recv))
        .await
        .map_err(|_| RawError::Timeout(within))?
        .map_err(|e| RawError::Stream(e.to_string()))?
        .ok_or(RawError::NoAnswer)?;
    match arqonbus_proto::decode(&frame) {
        Ok(Message::Reply(r)) => Ok(r),
        Ok(other) => Err(RawError::Decode(format!("not a reply: {other:?}"))),
        Err(e) => Err(RawError::Decode(e.to_string())),
    }
}
