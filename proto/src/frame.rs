//! Framing: the length prefix, the 3-byte header (version, flags, type),
//! optional LZ4 block compression of the body, and the size limits.
//!
//! ```text
//! u32 LE  length   bytes after this field (3 ..= MAX_FRAME_LEN)
//! u8      version  frame version (1)
//! u8      flags    bit 0: body is LZ4-compressed; bits 1-7 reserved, 0
//! u8      type     message type
//! [u32 LE raw_len] only when compressed: body length once decompressed
//! ...     body     bincode body, or an LZ4 block (no LZ4 frame header)
//! ```

use super::error::CodecError;
use super::limits::{max_body_len, COMPRESS_THRESHOLD, MAX_BODY_LEN, MAX_FRAME_LEN};

/// Flag bit: the body is an LZ4 block preceded by its decompressed length.
pub const FLAG_LZ4: u8 = 0x01;
/// Bytes of the length prefix.
pub const PREFIX_LEN: usize = 4;
/// Bytes of version, flags and type.
pub const HEADER_LEN: usize = 3;
/// Bytes of `raw_len`, after the header of a compressed frame.
pub const RAW_LEN_LEN: usize = 4;
/// LZ4 never produces more than 255 output bytes per input byte; a larger
/// declared size is a lie and is refused before anything is allocated.
const LZ4_MAX_RATIO: usize = 255;

/// The header of a frame, read before the body is touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub flags: u8,
    pub msg_type: u8,
}

impl Header {
    pub fn compressed(&self) -> bool {
        self.flags & FLAG_LZ4 != 0
    }
}

/// Reads the length prefix of a frame arriving on a stream and checks it,
/// so that a reader never allocates for a frame over the limit.
pub fn frame_len(prefix: [u8; PREFIX_LEN]) -> Result<usize, CodecError> {
    let len = u32::from_le_bytes(prefix) as usize;
    if len > MAX_FRAME_LEN {
        return Err(CodecError::FrameTooLarge {
            len,
            limit: MAX_FRAME_LEN,
        });
    }
    if len < HEADER_LEN {
        return Err(CodecError::Truncated {
            needed: HEADER_LEN,
            have: len,
        });
    }
    Ok(len)
}

/// Splits one complete frame (prefix included) into its header and its
/// payload (the bytes after the header, still compressed if flagged).
/// Refuses short input, trailing bytes, an oversized length and reserved
/// flags. The version is returned, not judged: see `codec`.
pub fn split(frame: &[u8]) -> Result<(Header, &[u8]), CodecError> {
    let prefix: [u8; PREFIX_LEN] = match frame.get(..PREFIX_LEN) {
        Some(p) => [p[0], p[1], p[2], p[3]],
        None => {
            return Err(CodecError::Truncated {
                needed: PREFIX_LEN,
                have: frame.len(),
            })
        }
    };
    let len = frame_len(prefix)?;
    let rest = &frame[PREFIX_LEN..];
    if rest.len() < len {
        return Err(CodecError::Truncated {
            needed: PREFIX_LEN + len,
            have: frame.len(),
        });
    }
    if rest.len() > len {
        return Err(CodecError::TrailingBytes {
            extra: rest.len() - len,
        });
    }
    let header = Header {
        version: rest[0],
        flags: rest[1],
        msg_type: rest[2],
    };
    if header.flags & !FLAG_LZ4 != 0 {
        return Err(CodecError::ReservedFlags(header.flags & !FLAG_LZ4));
    }
    Ok((header, &rest[HEADER_LEN..]))
}

/// The length a frame's body will have once decompressed, from what its
/// first bytes declare (`len`: the length prefix; `raw_len`: for a
/// compressed frame, the 4 bytes after the header), checked against its
/// type's limit ([`max_body_len`]) and against what LZ4 can expand to,
/// before the body is read or anything allocated.
pub fn declared_body_len(
    header: &Header,
    len: usize,
    raw_len: Option<usize>,
) -> Result<usize, CodecError> {
    let limit = max_body_len(header.msg_type);
    let payload = len.saturating_sub(HEADER_LEN);
    let size = match (header.compressed(), raw_len) {
        (false, _) => payload,
        (true, Some(size)) => size,
        (true, None) => {
            return Err(CodecError::Truncated {
                needed: 4,
                have: payload,
            })
        }
    };
    if size > limit {
        return Err(CodecError::BodyTooLarge { len: size, limit });
    }
    let block = payload.saturating_sub(RAW_LEN_LEN);
    if header.compressed() && size > block.saturating_mul(LZ4_MAX_RATIO) {
        return Err(CodecError::Decompress(format!(
            "{block} compressed bytes cannot hold {size} bytes"
        )));
    }
    Ok(size)
}

/// The length of a frame's body once decompressed, and the LZ4 block when
/// it is compressed, checked as [`declared_body_len`] does.
pub fn body_len<'a>(
    header: &Header,
    payload: &'a [u8],
) -> Result<(usize, Option<&'a [u8]>), CodecError> {
    let raw_len = payload
        .get(..RAW_LEN_LEN)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize);
    let size = declared_body_len(header, payload.len() + HEADER_LEN, raw_len)?;
    match header.compressed() {
        true => Ok((size, payload.get(RAW_LEN_LEN..))),
        false => Ok((size, None)),
    }
}

/// The body of a frame, decompressed if its header says so, with the
/// decompressed size checked against its type's limit before allocating.
pub fn body(header: &Header, payload: &[u8]) -> Result<Vec<u8>, CodecError> {
    let (size, block) = match body_len(header, payload)? {
        (_, None) => return Ok(payload.to_vec()),
        (size, Some(block)) => (size, block),
    };
    let mut out = vec![0u8; size];
    let n = lz4_flex::block::decompress_into(block, &mut out)
        .map_err(|_| CodecError::Decompress("the LZ4 block is invalid".into()))?;
    if n != size {
        return Err(CodecError::Decompress(format!(
            "declared {size} bytes, got {n}"
        )));
    }
    Ok(out)
}

/// Builds one frame. With `compress`, a body of at least
/// [`COMPRESS_THRESHOLD`] bytes is sent LZ4-compressed when that is smaller.
pub fn assemble(
    version: u8,
    msg_type: u8,
    body: &[u8],
    compress: bool,
) -> Result<Vec<u8>, CodecError> {
    if body.len() > MAX_BODY_LEN {
        return Err(CodecError::BodyTooLarge {
            len: body.len(),
            limit: MAX_BODY_LEN,
        });
    }
    let packed = if compress && body.len() >= COMPRESS_THRESHOLD {
        let block = lz4_flex::block::compress(body);
        (block.len() + 4 < body.len()).then_some(block)
    } else {
        None
    };
    let (flags, extra) = match &packed {
        Some(block) => (FLAG_LZ4, 4 + block.len()),
        None => (0, body.len()),
    };
    let len = HEADER_LEN + extra;
    if len > MAX_FRAME_LEN {
        return Err(CodecError::FrameTooLarge {
            len,
            limit: MAX_FRAME_LEN,
        });
    }
    let mut out = Vec::with_capacity(PREFIX_LEN + len);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&[version, flags, msg_type]);
    match packed {
        Some(block) => {
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(&block);
        }
        None => out.extend_from_slice(body),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_body_round_trips_and_small_bodies_stay_plain() {
        let big = vec![7u8; COMPRESS_THRESHOLD * 2];
        let f = assemble(1, 2, &big, true).unwrap();
        let (h, p) = split(&f).unwrap();
        assert!(h.compressed());
        assert!(f.len() < big.len() / 10);
        assert_eq!(body(&h, p).unwrap(), big);
        let small = assemble(1, 2, b"abc", true).unwrap();
        assert_eq!(small, [6, 0, 0, 0, 1, 0, 2, b'a', b'b', b'c']);
    }

    #[test]
    fn length_prefix_is_checked_before_reading() {
        let over = ((MAX_FRAME_LEN + 1) as u32).to_le_bytes();
        assert!(matches!(
            frame_len(over),
            Err(CodecError::FrameTooLarge { .. })
        ));
        assert_eq!(frame_len([3, 0, 0, 0]), Ok(3));
        assert!(matches!(
            frame_len([2, 0, 0, 0]),
            Err(CodecError::Truncated { .. })
        ));
    }
}
