//! The envelope every client message carries (sender sequence number,
//! client timestamp, optional signature), the wire timestamp type, and the
//! exact bytes a signature covers.

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::CodecError;
use super::limits::MAX_TIMESTAMP_MS;

/// A point in time: milliseconds since 1970-01-01T00:00:00Z, leap seconds
/// ignored (Unix time). Valid range 0 ..= [`MAX_TIMESTAMP_MS`] (year 9999).
/// On the wire: a bincode `i64` (zigzag varint). In JSON: RFC 3339 UTC,
/// `2024-01-15T10:30:00Z`, with `.mmm` only when the milliseconds are not 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// The current time, for senders.
    pub fn now() -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis().min(MAX_TIMESTAMP_MS as u128) as i64)
            .unwrap_or(0);
        UnixMillis(ms)
    }

    pub fn is_valid(self) -> bool {
        (0..=MAX_TIMESTAMP_MS).contains(&self.0)
    }

    /// RFC 3339 text, or an error for a timestamp outside the valid range.
    pub fn to_rfc3339(self) -> Result<String, CodecError> {
        if !self.is_valid() {
            return Err(CodecError::invalid("timestamp", "outside 1970..=9999"));
        }
        let t = UNIX_EPOCH + Duration::from_millis(self.0 as u64);
        let text = if self.0 % 1000 == 0 {
            humantime::format_rfc3339_seconds(t).to_string()
        } else {
            humantime::format_rfc3339_millis(t).to_string()
        };
        Ok(text)
    }

    /// Parses RFC 3339 UTC text (`Z` or `+00:00`), at most millisecond
    /// precision.
    pub fn parse_rfc3339(text: &str) -> Result<Self, CodecError> {
        let t = humantime::parse_rfc3339(text)
            .map_err(|e| CodecError::invalid("timestamp", format!("{text:?}: {e}")))?;
        let d = t
            .duration_since(UNIX_EPOCH)
            .map_err(|_| CodecError::invalid("timestamp", "before 1970"))?;
        if d.subsec_nanos() % 1_000_000 != 0 {
            return Err(CodecError::invalid("timestamp", "finer than a millisecond"));
        }
        let ms = i64::try_from(d.as_millis())
            .map_err(|_| CodecError::invalid("timestamp", "out of range"))?;
        let ts = UnixMillis(ms);
        if ts.is_valid() {
            Ok(ts)
        } else {
            Err(CodecError::invalid("timestamp", "after year 9999"))
        }
    }
}

/// The signature algorithm. Only Ed25519 is defined; the key is the one in
/// the sender's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SigScheme {
    /// 0: Ed25519 (RFC 8032), 64-byte signatures.
    Ed25519,
}

/// A signature over [`signed_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub scheme: SigScheme,
    /// At most [`super::limits::MAX_SIGNATURE_LEN`] bytes.
    pub bytes: Vec<u8>,
}

/// The envelope of a client message (version 2). Its bincode encoding is
/// the start of the frame body; the request follows it.
///
/// Replay protection (PROTOCOL.md §5): the pair (`session`, `seq`) is new
/// for every message of an identity. Each client process picks a random
/// `session` when it starts and counts `seq` up from 1 within it, so many
/// processes may share one identity (certificate) without coordinating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The sender process's session: random, fixed for its lifetime.
    pub session: u64,
    /// Within `session`, a new, growing number for every message.
    pub seq: u64,
    /// The client's clock when it sent the message; a server refuses it
    /// further than its allowed skew from its own clock.
    pub sent_at: UnixMillis,
    /// Ed25519 over [`signed_bytes`] with the sender's certificate key;
    /// required for state changes where the target's policy says so.
    pub signature: Option<Signature>,
}

impl Envelope {
    /// A new random session id, for a process (or a one-off sender) that
    /// starts numbering its messages from 1.
    pub fn random_session() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.finish()
    }
}

/// Domain-separation prefix of the signed bytes.
pub const SIGNING_CONTEXT: &[u8] = b"arqonbus-signature-v2\0";

/// The exact bytes a signature covers:
/// `SIGNING_CONTEXT || version (u8) || type (u8) || bincode(session) ||
/// bincode(seq) || bincode(sent_at) || bincode(request body)`, where the
/// request body is the canonical (uncompressed) bincode encoding of the
/// request that follows the envelope in the frame.
pub fn signed_bytes(
    version: u8,
    msg_type: u8,
    envelope: &Envelope,
    body: &[u8],
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(SIGNING_CONTEXT.len() + 2 + 30 + body.len());
    out.extend_from_slice(SIGNING_CONTEXT);
    out.push(version);
    out.push(msg_type);
    let head = super::codec::bincode_encode(&(envelope.session, envelope.seq, envelope.sent_at))?;
    out.extend_from_slice(&head);
    out.extend_from_slice(body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_and_bounds() {
        let t = UnixMillis::parse_rfc3339("2024-01-15T10:30:00Z").unwrap();
        assert_eq!(t, UnixMillis(1_705_314_600_000));
        assert_eq!(t.to_rfc3339().unwrap(), "2024-01-15T10:30:00Z");
        let m = UnixMillis(1_705_314_600_250);
        assert_eq!(m.to_rfc3339().unwrap(), "2024-01-15T10:30:00.250Z");
        assert_eq!(UnixMillis::parse_rfc3339(&m.to_rfc3339().unwrap()), Ok(m));
        assert!(UnixMillis(-1).to_rfc3339().is_err());
        assert!(UnixMillis(MAX_TIMESTAMP_MS + 1).to_rfc3339().is_err());
        assert!(UnixMillis(MAX_TIMESTAMP_MS).to_rfc3339().is_ok());
        assert!(UnixMillis::parse_rfc3339("2024-01-15T10:30:00.0001Z").is_err());
        assert!(UnixMillis::parse_rfc3339("2024-01-15 10:30:00").is_err());
        assert!(UnixMillis::parse_rfc3339("1969-12-31T23:59:59Z").is_err());
    }
}
