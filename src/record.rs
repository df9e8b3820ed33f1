//! How we encode what we persist: one format-version byte, then bincode 2
//! (standard config). Bincode has no schema evolution, so the version byte
//! is what lets a later release read today's files and refuse unknown ones.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The version of every record written by this release. 2: a command
/// carries its client's session and sequence number, and the state the
/// replay marks (Security I); a format-1 log is refused by name rather
/// than misread.
pub const FORMAT: u8 = 2;

/// The most a persisted record may decode to (a full state snapshot).
const LIMIT: usize = 1 << 30;

/// Why a persisted record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("record is empty")]
    Empty,
    #[error("record has format {found}, this release reads {FORMAT}")]
    UnknownFormat { found: u8 },
    #[error("cannot encode: {0}")]
    Encode(#[from] bincode::error::EncodeError),
    #[error("cannot decode: {0}")]
    Decode(#[from] bincode::error::DecodeError),
    #[error("record has {0} trailing bytes")]
    Trailing(usize),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<LIMIT>()
}

/// Encodes `value` behind the format byte.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, RecordError> {
    let mut out = vec![FORMAT];
    bincode::serde::encode_into_std_write(value, &mut out, config())?;
    Ok(out)
}

/// Decodes a record written by [`encode`], refusing other formats.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    let (&format, body) = bytes.split_first().ok_or(RecordError::Empty)?;
    if format != FORMAT {
        return Err(RecordError::UnknownFormat { found: format });
    }
    let (value, used) = bincode::serde::decode_from_slice(body, config())?;
    if used != body.len() {
        return Err(RecordError::Trailing(body.len() - used));
    }
    Ok(value)
}

/// The length [`encode`] would give `value`, without building it.
pub fn encoded_len<T: Serialize>(value: &T) -> Result<usize, RecordError> {
    let mut count = Counter(1);
    bincode::serde::encode_into_std_write(value, &mut count, config())?;
    Ok(count.0)
}

/// Counts the bytes written through it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `value` to a stream without the format byte (the stream has its own).
pub fn write_to<T: Serialize, W: std::io::Write>(value: &T, w: &mut W) -> Result<(), RecordError> {
    bincode::serde::encode_into_std_write(value, w, config())?;
    Ok(())
}

/// Reads one value written by [`write_to`].
pub fn read_from<T: DeserializeOwned, R: std::io::Read>(r: &mut R) -> Result<T, RecordError> {
    Ok(bincode::serde::decode_from_std_read(r, config())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_foreign_formats_are_refused() {
        let bytes = encode(&("a", 7u64)).expect("encodes");
        assert_eq!(bytes[0], FORMAT);
        assert_eq!(
            decode::<(String, u64)>(&bytes).expect("decodes"),
            ("a".into(), 7)
        );
        let mut other = bytes.clone();
        other[0] = 9;
        assert!(matches!(
            decode::<(String, u64)>(&other),
            Err(RecordError::UnknownFormat { found: 9 })
        ));
        let mut long = bytes;
        long.push(0);
        assert!(matches!(
            decode::<(String, u64)>(&long),
            Err(RecordError::Trailing(1))
        ));
        assert!(matches!(decode::<u8>(&[]), Err(RecordError::Empty)));
    }

    #[test]
    fn encoded_len_is_the_length_of_the_record() {
        let value = ("a".repeat(300), vec![7u64; 40], Some(-1i64));
        let bytes = encode(&value).expect("encodes");
        assert_eq!(encoded_len(&value).expect("counts"), bytes.len());
    }
}
