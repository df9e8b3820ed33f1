//! Reading and writing frames on a byte stream (a QUIC stream, or anything
//! `AsyncRead`/`AsyncWrite`). The length prefix is checked before the body
//! is read, so a peer announcing a huge frame costs us 4 bytes, not memory.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use arqonbus_proto::codec::{self, Message};
use arqonbus_proto::error::CodecError;
use arqonbus_proto::frame::{frame_len, PREFIX_LEN};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("stream: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Reads one complete frame (prefix included). `Ok(None)` when the stream
/// ends cleanly before a new frame starts; a stream ending inside a frame is
/// an `UnexpectedEof` I/O error.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Vec<u8>>, ReadError> {
    let mut prefix = [0u8; PREFIX_LEN];
    let mut got = 0;
    while got < PREFIX_LEN {
        let n = r.read(&mut prefix[got..]).await?;
        if n == 0 {
            if got == 0 {
                return Ok(None);
            }
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
        got += n;
    }
    let len = frame_len(prefix)?;
    let mut frame = vec![0u8; PREFIX_LEN + len];
    frame[..PREFIX_LEN].copy_from_slice(&prefix);
    r.read_exact(&mut frame[PREFIX_LEN..]).await?;
    Ok(Some(frame))
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

    #[tokio::test]
    async fn frames_round_trip_over_a_stream_and_oversize_is_refused_early() {
        let msg = Message::Request(
            Envelope {
                seq: 1,
                sent_at: UnixMillis(5),
                signature: None,
            },
            Request::StatusQuery(StatusQuery {
                proposal_id: "p-1".into(),
            }),
        );
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
}
