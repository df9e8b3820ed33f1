//! Decoding a frame body: exactly (nothing left over), canonically (the
//! one encoding of its value, so a signature covers exactly what was
//! received) and with errors a sender can act on: the byte of the body
//! where decoding stopped and why, in plain words that are ours, not
//! bincode's debug text.

use bincode::de::read::Reader;
use bincode::error::{DecodeError, IntegerType};
use serde::{de::DeserializeOwned, Serialize};

use super::error::CodecError;
use super::limits::MAX_BODY_LEN;

/// Decodes a value that must fill `bytes` exactly and be its canonical
/// encoding (bincode accepts non-minimal varints; we do not), within
/// `budget` bytes of decoded memory (`crate::bounded`).
pub(crate) fn decode_exact<T: Serialize + DeserializeOwned>(
    bytes: &[u8],
    budget: usize,
) -> Result<T, CodecError> {
    let (value, used) = match super::bounded::decode::<T>(bytes, budget) {
        Ok(decoded) => decoded,
        // A bound crossed: the bounded decoder names it.
        Err(e) if !matches!(e, CodecError::Body { .. }) => return Err(e),
        // bincode itself stopped: read again, position-aware, to say where
        // and why in plain words. Nothing was over a bound up to there.
        Err(_) => return Err(where_it_stops::<T>(bytes)),
    };
    if used != bytes.len() {
        return Err(CodecError::BodyTrailing {
            end: used,
            len: bytes.len(),
        });
    }
    canonical(&value, bytes)?;
    Ok(value)
}

/// The byte where plain bincode stops on `bytes`, and why. Its claim
/// limit is the smallest of a few sizes that holds the whole body: no
/// honest length can be longer than the body, and a lying one is refused
/// before anything is allocated for it.
fn where_it_stops<T: DeserializeOwned>(bytes: &[u8]) -> CodecError {
    match bytes.len() {
        n if n <= 64 * 1024 => stops_within::<T, { 64 * 1024 }>(bytes),
        n if n <= 1024 * 1024 => stops_within::<T, { 1024 * 1024 }>(bytes),
        n if n <= 4 * 1024 * 1024 => stops_within::<T, { 4 * 1024 * 1024 }>(bytes),
        _ => stops_within::<T, MAX_BODY_LEN>(bytes),
    }
}

fn stops_within<T: DeserializeOwned, const LIMIT: usize>(bytes: &[u8]) -> CodecError {
    let config = bincode::config::standard().with_limit::<LIMIT>();
    let mut cursor = Cursor { bytes, at: 0 };
    match bincode::serde::decode_from_reader::<T, _, _>(&mut cursor, config) {
        Err(DecodeError::LimitExceeded) => CodecError::Body {
            offset: cursor.at,
            reason: "a length is longer than the rest of the body".into(),
        },
        Err(e) => CodecError::Body {
            offset: cursor.at,
            reason: plain(&e),
        },
        Ok(_) => CodecError::Body {
            offset: cursor.at,
            reason: "the body does not decode as this message type".into(),
        },
    }
}

/// Re-encodes `value` into a buffer of exactly the input's size (no
/// reallocation; anything longer fails to fit, which is itself
/// non-canonical) and names the first byte that differs.
fn canonical<T: Serialize>(value: &T, bytes: &[u8]) -> Result<(), CodecError> {
    let mut again = vec![0u8; bytes.len()];
    let written = bincode::serde::encode_into_slice(value, &mut again, bincode::config::standard());
    match written {
        Ok(n) if n == bytes.len() && again == bytes => Ok(()),
        _ => Err(CodecError::NonCanonical {
            offset: again
                .iter()
                .zip(bytes)
                .position(|(a, b)| a != b)
                .unwrap_or(bytes.len()),
        }),
    }
}

/// Why bincode stopped, in words that do not depend on its version.
fn plain(error: &DecodeError) -> String {
    match error {
        DecodeError::UnexpectedEnd { .. } => "the body ends inside a value".into(),
        DecodeError::LimitExceeded => {
            format!("a length is over the decoding limit of {MAX_BODY_LEN} bytes")
        }
        DecodeError::InvalidIntegerType {
            found: IntegerType::Reserved,
            ..
        } => "a varint starts with the reserved byte ff".into(),
        DecodeError::InvalidIntegerType { .. } => {
            "a varint's marker announces a wider integer than its field holds".into()
        }
        DecodeError::UnexpectedVariant {
            type_name: "Option<T>",
            found,
            ..
        } => format!("an option tag is {found}; only 0 (none) and 1 (some) are defined"),
        DecodeError::UnexpectedVariant { found, .. } => {
            format!("variant index {found} is not defined")
        }
        // serde's derive reports an enum variant index it does not know
        // through a custom error, the only one our types can raise.
        DecodeError::OtherString(_) => {
            "an enum's variant index is not one this protocol version defines".into()
        }
        DecodeError::Utf8 { .. } => "a string is not valid UTF-8".into(),
        DecodeError::InvalidBooleanValue(v) => {
            format!("a bool is {v}; only 0 (false) and 1 (true) are defined")
        }
        DecodeError::OutsideUsizeRange(n) => format!("a length of {n} is out of range"),
        _ => "the body does not decode as this message type".into(),
    }
}

/// A reader over the body that remembers how far decoding got.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader for Cursor<'_> {
    fn read(&mut self, out: &mut [u8]) -> Result<(), DecodeError> {
        let wanted = self.at.saturating_add(out.len());
        match self.bytes.get(self.at..wanted) {
            Some(slice) => {
                out.copy_from_slice(slice);
                self.at = wanted;
                Ok(())
            }
            None => Err(DecodeError::UnexpectedEnd {
                additional: wanted - self.bytes.len(),
            }),
        }
    }

    fn peek_read(&mut self, n: usize) -> Option<&[u8]> {
        self.bytes.get(self.at..self.at.checked_add(n)?)
    }

    fn consume(&mut self, n: usize) {
        self.at = self.at.saturating_add(n).min(self.bytes.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_error<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> (usize, String) {
        match decode_exact::<T>(bytes, usize::MAX) {
            Err(CodecError::Body { offset, reason }) => (offset, reason),
            other => panic!("expected a body error, got {:?}", other.err()),
        }
    }

    #[test]
    fn errors_say_where_and_why_in_plain_words() {
        assert_eq!(
            decode_exact::<(u8, String)>(&[7, 2, b'h', b'i'], usize::MAX),
            Ok((7, "hi".into()))
        );
        let (at, why) = body_error::<(u8, String)>(&[7, 3, b'h', b'i']);
        assert_eq!((at, why.as_str()), (2, "the body ends inside a value"));
        let (at, why) = body_error::<(u8, String)>(&[7, 2, 0xff, b'i']);
        assert_eq!((at, why.as_str()), (4, "a string is not valid UTF-8"));
        let (at, why) = body_error::<(u8, bool)>(&[7, 2]);
        assert_eq!(
            (at, why.as_str()),
            (2, "a bool is 2; only 0 (false) and 1 (true) are defined")
        );
        let (_, why) = body_error::<Option<u8>>(&[3]);
        assert_eq!(
            why,
            "an option tag is 3; only 0 (none) and 1 (some) are defined"
        );
        let (_, why) = body_error::<u64>(&[0xff]);
        assert_eq!(why, "a varint starts with the reserved byte ff");
        let (_, why) = body_error::<u16>(&[0xfc, 1, 0, 1, 0]);
        assert_eq!(
            why,
            "a varint's marker announces a wider integer than its field holds"
        );
    }

    #[test]
    fn leftovers_and_long_forms_are_refused_with_their_offset() {
        assert_eq!(
            decode_exact::<u8>(&[1, 2, 3], usize::MAX),
            Err(CodecError::BodyTrailing { end: 1, len: 3 })
        );
        assert_eq!(
            decode_exact::<(u8, u64)>(&[1, 0xfb, 5, 0], usize::MAX),
            Err(CodecError::NonCanonical { offset: 1 })
        );
    }
}
