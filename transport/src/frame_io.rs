//! Reading and writing frames on a byte stream (a QUIC stream, or anything
//! `AsyncRead`/`AsyncWrite`). The head of a frame (length prefix, header
//! and, when compressed, the declared body length) is read and checked
//! before the body, so a peer announcing a huge frame costs us its head,
//! not memory, and a server can refuse a frame from its head alone.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use arqonbus_proto::codec::{self, Message};
use arqonbus_proto::error::CodecError;
use arqonbus_proto::frame::{
    declared_body_len, frame_len, Header, FLAG_LZ4, HEADER_LEN, PREFIX_LEN, RAW_LEN_LEN,
};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("stream: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// The head of a frame: what its first bytes say, and those bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameHead {
    /// The length prefix: bytes after it.
    pub len: usize,
    pub header: Header,
    /// The body's length once decompressed (the payload's when plain),
    /// already checked against the type's limit.
    pub body_len: usize,
    read: Vec<u8>,
}

impl FrameHead {
    /// Bytes the whole frame takes, prefix included.
    pub fn frame_len(&self) -> usize {
        PREFIX_LEN + self.len
    }
}

/// Reads `buf.len()` bytes; `Ok(false)` if the stream ended before the
/// first of them, an `UnexpectedEof` error if it ended inside.
async fn fill<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> Result<bool, ReadError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]).await? {
            0 if got == 0 => return Ok(false),
            0 => return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into()),
            n => got += n,
        }
    }
    Ok(true)
}

fn eof() -> ReadError {
    std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into()
}

/// Reads and checks the head of a frame: length prefix (at most
/// `MAX_FRAME_LEN`), header (no reserved flags), and for a compressed
/// frame its declared body length (within the type's limit and what LZ4
/// can expand to). `Ok(None)` when the stream ends cleanly before a frame
/// starts. The version and type are returned, not judged.
pub async fn read_head<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<FrameHead>, ReadError> {
    let mut prefix = [0u8; PREFIX_LEN];
    if !fill(r, &mut prefix).await? {
        return Ok(None);
    }
    let len = frame_len(prefix)?;
    let mut head = [0u8; HEADER_LEN];
    if !fill(r, &mut head).await? {
        return Err(eof());
    }
    let header = Header {
        version: head[0],
        flags: head[1],
        msg_type: head[2],
    };
    if header.flags & !FLAG_LZ4 != 0 {
        return Err(CodecError::ReservedFlags(header.flags & !FLAG_LZ4).into());
    }
    let mut read = prefix.to_vec();
    read.extend_from_slice(&head);
    let mut raw_len = None;
    if header.compressed() && len >= HEADER_LEN + RAW_LEN_LEN {
        let mut raw = [0u8; RAW_LEN_LEN];
        if !fill(r, &mut raw).await? {
            return Err(eof());
        }
        read.extend_from_slice(&raw);
        raw_len = Some(u32::from_le_bytes(raw) as usize);
    }
    let body_len = declared_body_len(&header, len, raw_len)?;
    Ok(Some(FrameHead {
        len,
        header,
        body_len,
        read,
    }))
}

/// Reads the rest of the frame whose head was read; returns the whole
/// frame, prefix included.
pub async fn read_rest<R: AsyncRead + Unpin>(
    r: &mut R,
    head: FrameHead,
) -> Result<Vec<u8>, ReadError> {
    let mut frame = head.read;
    let have = frame.len();
    frame.resize(head.len + PREFIX_LEN, 0);
    r.read_exact(&mut frame[have..]).await?;
    Ok(frame)
}

/// Succeeds if the stream ends here; one frame per stream, so anything
/// more is `TrailingBytes` (counting at most what one read returned).
pub async fn read_end<R: AsyncRead + Unpin>(r: &mut R) -> Result<(), ReadError> {
    let mut probe = [0u8; 64];
    match r.read(&mut probe).await? {
        0 => Ok(()),
        extra => Err(CodecError::TrailingBytes { extra }.into()),
    }
}

/// Reads one complete frame (prefix included). `Ok(None)` when the stream
/// ends cleanly before a new frame starts; a stream ending inside a frame
/// is an `UnexpectedEof` I/O error.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Vec<u8>>, ReadError> {
    match read_head(r).await? {
        Some(head) => Ok(Some(read_rest(r, head).await?)),
        None => Ok(None),
    }
}

/// Reads and decodes one message; `Ok(None)` at a clean end of stream.
pub async fn read_message<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Message>, ReadError> {
    match read_frame(r).await? {
        Some(f) => Ok(Some(codec::decode(&f)?)),
        None => Ok(None),
    }
}

/// Encodes and writes one message.
pub async fn write_message<W: AsyncWrite + Unpin>(
    w: &mut W,
    msg: &Message,
) -> Result<(), ReadError> {
    let frame = codec::encode(msg)?;
    w.write_all(&frame).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_proto::message::{Request, StatusQuery};
    use arqonbus_proto::{Envelope, UnixMillis};

    fn status_query() -> Message {
        Message::Request(
            Envelope {
                session: 1,
                seq: 1,
                sent_at: UnixMillis(5),
                signature: None,
            },
            Request::StatusQuery(StatusQuery {
                proposal_id: "p-1".into(),
            }),
        )
    }

    #[tokio::test]
    async fn frames_round_trip_over_a_stream_and_oversize_is_refused_early() {
        let msg = status_query();
        let (mut a, mut b) = tokio::io::duplex(1024);
        write_message(&mut a, &msg).await.unwrap();
        write_message(&mut a, &msg).await.unwrap();
        drop(a);
        assert_eq!(read_message(&mut b).await.unwrap(), Some(msg.clone()));
        assert_eq!(read_message(&mut b).await.unwrap(), Some(msg));
        assert!(read_message(&mut b).await.unwrap().is_none());

        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&u32::MAX.to_le_bytes()).await.unwrap();
        let err = read_frame(&mut b).await.unwrap_err();
        assert!(matches!(
            err,
            ReadError::Codec(CodecError::FrameTooLarge { .. })
        ));

        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&[9, 0]).await.unwrap();
        drop(a);
        let err = read_frame(&mut b).await.unwrap_err();
        assert!(matches!(err, ReadError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof));
    }

    #[tokio::test]
    async fn a_head_is_judged_before_the_body_and_the_end_is_checked() {
        use arqonbus_proto::limits::max_body_len;
        use arqonbus_proto::msg_type;
        // A compressed status query declaring 1 MiB: over its type's limit,
        // refused from 11 bytes though the block is never sent.
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&100u32.to_le_bytes()).await.unwrap();
        a.write_all(&[1, FLAG_LZ4, msg_type::STATUS_QUERY])
            .await
            .unwrap();
        a.write_all(&(1u32 << 20).to_le_bytes()).await.unwrap();
        let limit = max_body_len(msg_type::STATUS_QUERY);
        assert!(matches!(
            read_head(&mut b).await,
            Err(ReadError::Codec(CodecError::BodyTooLarge { limit: l, .. })) if l == limit
        ));

        let msg = status_query();
        let frame = codec::encode(&msg).unwrap();
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(&frame).await.unwrap();
        a.write_all(&[0, 0]).await.unwrap();
        drop(a);
        let head = read_head(&mut b).await.unwrap().expect("a head");
        assert_eq!(
            (head.frame_len(), head.body_len),
            (frame.len(), frame.len() - 7)
        );
        assert_eq!(read_rest(&mut b, head).await.unwrap(), frame);
        assert!(matches!(
            read_end(&mut b).await,
            Err(ReadError::Codec(CodecError::TrailingBytes { extra: 2 }))
        ));
    }
}
