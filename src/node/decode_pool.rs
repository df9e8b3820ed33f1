//! Decoding off the threads that serve Raft. A frame that takes real work
//! (compressed, or larger than [`INLINE_UP_TO`]) is decoded on tokio's
//! blocking threads, at most `Limits::decoders()` at once on the node; a
//! small plain frame is decoded where it was read. Which connection and
//! identity may decode next is `admission`'s (their decode turns).

use arqonbus_proto::error::CodecError;
use arqonbus_proto::frame::Header;
use arqonbus_proto::Message;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Plain frames up to this many bytes are decoded inline: cheaper than a
/// thread hop, and bounded.
pub const INLINE_UP_TO: usize = 16 * 1024;

/// The node's decoding threads.
#[derive(Clone)]
pub struct DecodePool {
    threads: Arc<Semaphore>,
}

impl DecodePool {
    pub fn new(threads: usize) -> Self {
        DecodePool {
            threads: Arc::new(Semaphore::new(threads.max(1))),
        }
    }

    /// Whether a frame of `frame_len` bytes with `header` goes to the pool.
    pub fn needs_pool(header: &Header, frame_len: usize) -> bool {
        header.compressed() || frame_len > INLINE_UP_TO
    }

    /// Decodes `frame` on a blocking thread once one of the pool's turns
    /// is free; `None` if none is within `wait`. The turn is held by the
    /// thread until it is done, whatever becomes of the caller.
    pub async fn decode(
        &self,
        frame: Vec<u8>,
        wait: Duration,
    ) -> Option<Result<Message, CodecError>> {
        let turn = tokio::time::timeout(wait, self.threads.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        let work = tokio::task::spawn_blocking(move || {
            let decoded = arqonbus_proto::decode(&frame);
            drop(turn);
            decoded
        });
        Some(work.await.unwrap_or_else(|e| {
            Err(CodecError::Body {
                offset: 0,
                reason: format!("decoding stopped: {e}"),
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_proto::frame::FLAG_LZ4;

    #[tokio::test]
    async fn large_or_compressed_frames_go_to_the_pool_and_decode_the_same() {
        let plain = Header {
            version: arqonbus_proto::FRAME_VERSION,
            flags: 0,
            msg_type: 4,
        };
        let packed = Header {
            flags: FLAG_LZ4,
            ..plain
        };
        assert!(!DecodePool::needs_pool(&plain, 100));
        assert!(DecodePool::needs_pool(&plain, INLINE_UP_TO + 1));
        assert!(DecodePool::needs_pool(&packed, 100));
        let (_, msg) = arqonbus_proto::vectors::catalogue().remove(0);
        let frame = arqonbus_proto::encode(&msg).expect("encodes");
        let pool = DecodePool::new(1);
        let wait = Duration::from_secs(5);
        let back = pool.decode(frame.clone(), wait).await.expect("a turn");
        assert_eq!(back.expect("decodes"), msg);
        let busy = pool
            .threads
            .clone()
            .acquire_owned()
            .await
            .expect("the only turn");
        assert!(pool
            .decode(frame, Duration::from_millis(20))
            .await
            .is_none());
        drop(busy);
    }
}
